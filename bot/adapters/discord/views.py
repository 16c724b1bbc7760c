"""Persistent components: dynamic items whose custom_id *is* the core's action id.

Nothing is kept in memory between a message and a click: after a restart discord.py matches
the custom_id against these templates (built from `actions.ID_PATTERN`) and rebuilds the item,
so every old button still works.

- `ActionButton`: custom_id = action (`lesson:7:deep:3`, `quiz:12:0:a:B`, `live:4:2:a:true`…).
- `ChoiceSelect`: `m|` + action; the chosen values go to the core beside the action.
- `FormButton`: `t|` + action; opens a modal (`modal_for`) whose custom_id is `f|` + action, and
  the submitted text goes to the core beside the action (`DiscordAdapter.on_modal_submit`).

Discord's limits for components live here; `render.py` builds messages from these items.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar, runtime_checkable

import discord

from bot.core import actions
from bot.core.replies import Choices, Reply

BUTTONS_PER_ROW = 5
ROWS = 5
SELECT_OPTIONS_MAX = 25
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
#: A menu's and a form's custom_id: a two-character marker, then the action id (≤ 100 in all).
MENU = "m|"
BUTTON_FORM = "t|"
FORM = "f|"
ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])
STYLES = {"primary": discord.ButtonStyle.primary, "secondary": discord.ButtonStyle.secondary,
          "success": discord.ButtonStyle.success, "danger": discord.ButtonStyle.danger}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ActionHandler(Protocol):
    """What the items need of the Discord adapter (`client.DiscordAdapter`)."""

    async def on_action(self, interaction: discord.Interaction, action: str, typed: str | None = None) -> None: ...


@runtime_checkable
class _WithAdapter(Protocol):
    """The companion's client (`client.CompanionClient`, which imports this module) carries its adapter."""

    adapter: ActionHandler


def _adapter(interaction: discord.Interaction) -> ActionHandler:
    client = interaction.client
    if not isinstance(client, _WithAdapter):
        raise TypeError(f"components of the companion need its client, not {type(client).__name__}")
    return client.adapter


def _matched(item: discord.ui.Item[Any], kind: type[ItemT]) -> ItemT:
    """The component whose custom_id matched a template: always of the kind the template is
    written on, since no other kind's custom_id has that shape."""
    if not isinstance(item, kind):
        raise TypeError(f"a {type(item).__name__} matched the template of a {kind.__name__}")
    return item


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=rf"(?P<action>{actions.ID_PATTERN})"):
    def __init__(self, action: str, label: str = "…", style: discord.ButtonStyle = discord.ButtonStyle.secondary):
        super().__init__(discord.ui.Button(label=label[:80] or "…", style=style, custom_id=action))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /) -> ActionButton:
        button = _matched(item, discord.ui.Button)
        return cls(match["action"], button.label or "…", button.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _adapter(interaction).on_action(interaction, self.action)


class ChoiceSelect(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=rf"m\|(?P<action>{actions.ID_PATTERN})"):
    def __init__(self, choices: Choices | None = None, *, select: discord.ui.Select[discord.ui.View] | None = None, action: str = ""):
        if select is None:
            assert choices is not None
            options = [discord.SelectOption(label=label[:100], value=value[:100]) for label, value in choices.options[:SELECT_OPTIONS_MAX]]
            select = discord.ui.Select(custom_id=MENU + choices.action, placeholder=choices.placeholder[:150], options=options,
                                       min_values=max(0, min(choices.min_values, len(options))),
                                       max_values=max(1, min(choices.max_values, len(options))))
            action = choices.action
        super().__init__(select)
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /) -> ChoiceSelect:
        sent = _matched(item, discord.ui.Select)
        select: discord.ui.Select[discord.ui.View] = discord.ui.Select(custom_id=sent.custom_id, placeholder=sent.placeholder, options=sent.options,
                                                                       min_values=sent.min_values, max_values=sent.max_values)
        return cls(select=select, action=match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _adapter(interaction).on_action(interaction, self.action, ",".join(self.item.values))


class FormButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=rf"t\|(?P<action>{actions.ID_PATTERN})"):
    def __init__(self, action: str, label: str = "✍️ Your answer"):
        super().__init__(discord.ui.Button(label=label[:80], style=discord.ButtonStyle.primary, custom_id=BUTTON_FORM + action))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /) -> FormButton:
        return cls(match["action"], _matched(item, discord.ui.Button).label or "✍️ Your answer")

    async def callback(self, interaction: discord.Interaction) -> None:
        label = (self.item.label or "Your answer").removeprefix("✍️ ")
        modal = modal_for(self.action, label, max_length=actions.typed_limit(self.action))  # a demonstration is longer than an answer
        await interaction.response.send_modal(modal)
        modal.stop()  # not kept in memory: the submit is handled by its custom_id, even after a restart


DYNAMIC_ITEMS = (ActionButton, ChoiceSelect, FormButton)


def build_view(reply: Reply) -> discord.ui.View | None:
    """Buttons 5 to a row, at most 5 rows (a menu takes a row of its own); every item is a
    dynamic item whose custom_id is the core's action id, so it works after a restart.

    A reply without components gets no view at all: a View costs a random id, a future and a
    walk of its class on creation, which an acknowledgement such as "answer recorded" (a class
    presses at once) need not pay."""
    if not (reply.buttons or reply.choices is not None or reply.text_input is not None):
        return None
    view = discord.ui.View(timeout=None)
    rows_for_buttons = ROWS - (1 if reply.choices else 0)
    buttons: list[ActionButton | FormButton] = []
    if reply.text_input is not None and len(reply.text_input.action) <= actions.MAX_ACTION_ID - len(BUTTON_FORM):
        buttons.append(FormButton(reply.text_input.action, "✍️ " + reply.text_input.label))
    buttons += [ActionButton(b.action, b.label, STYLES.get(b.style, discord.ButtonStyle.secondary)) for b in reply.buttons]
    buttons = buttons[: rows_for_buttons * BUTTONS_PER_ROW]
    for i, item in enumerate(buttons):
        item.item.row = i // BUTTONS_PER_ROW
        view.add_item(item)
    if reply.choices is not None and len(reply.choices.action) <= actions.MAX_ACTION_ID - len(MENU):
        select = ChoiceSelect(reply.choices)
        select.item.row = min(ROWS - 1, (len(buttons) + BUTTONS_PER_ROW - 1) // BUTTONS_PER_ROW)
        view.add_item(select)
    return view if view.children else None


def modal_for(action: str, label: str, placeholder: str = "", max_length: int = 200) -> discord.ui.Modal:
    """The form behind a FormButton: its custom_id carries the action, so a submit after a
    restart still lands (submits are handled in `on_interaction`, not by this object)."""
    modal = discord.ui.Modal(title=clip("Your answer", MODAL_TITLE_MAX), custom_id=(FORM + action)[:100], timeout=None)
    modal.add_item(discord.ui.TextInput(label=clip(label, TEXT_INPUT_LABEL_MAX), placeholder=clip(placeholder, 100) or None,
                                        max_length=min(max_length, TEXT_INPUT_MAX), custom_id="answer",
                                        style=discord.TextStyle.paragraph if actions.takes_paragraphs(action) else discord.TextStyle.short))
    return modal

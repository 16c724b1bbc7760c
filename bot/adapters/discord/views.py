"""Components as plain payloads: each custom_id *is* the core's action id, routed by `pressed`.

Nothing is kept in memory between a message and a click, and discord.py keeps nothing either:
a `Components` view is never stored in its ViewStore (it is not dispatchable to discord.py), so
no click makes discord.py rebuild the clicked message's view (`View.from_message`, which a
`DynamicItem` costs on every click: 122 µs for a live question's six buttons). Every component
interaction reaches `CompanionClient.on_interaction`, which reads its custom_id here, so a
button sent before a restart works as one sent a second ago.

- a button: custom_id = action (`lesson:7:deep:3`, `quiz:12:0:a:B`, `live:4:2:a:true`…);
- a menu: `m|` + action; the chosen values go to the core beside the action;
- a form button: `t|` + action; opens a modal (`modal_for`) whose custom_id is `f|` + action,
  and the submitted text goes to the core beside the action (`DiscordAdapter.on_modal_submit`).

Discord's limits for components live here; `render.py` builds messages with `build_view`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot.core import actions
from bot.core.replies import Reply, clip

BUTTONS_PER_ROW = 5
ROWS = 5
SELECT_OPTIONS_MAX = 25
BUTTON_LABEL_MAX = 80
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
#: A menu's and a form's custom_id: a two-character marker, then the action id (≤ 100 in all).
MENU = "m|"
BUTTON_FORM = "t|"
FORM = "f|"
FORM_LABEL = "✍️ "
#: Discord's component types and button styles, as its API numbers them.
ACTION_ROW, BUTTON, SELECT = 1, 2, 3
STYLES = {"primary": 1, "secondary": 2, "success": 3, "danger": 4}
#: Every custom_id this app writes: an optional marker, then an action id of `actions.ID_PATTERN`.
CUSTOM_ID = re.compile(rf"(?P<marker>{re.escape(MENU)}|{re.escape(BUTTON_FORM)})?(?P<action>{actions.ID_PATTERN})")


class Components(discord.ui.View):
    """A message's components, sent as Discord's payload and never kept by discord.py. It keeps
    a view that is not finished (an interaction's answer) or that `is_dispatchable` (a message),
    giving one sent privately a 15-minute timer, and when a `DynamicItem` matches a click it
    rebuilds the clicked message's whole view. This one is finished from the start and
    dispatches nothing: clicks on it go to `CompanionClient.on_interaction`, whatever process
    sent the message."""

    def __init__(self, rows: list[dict[str, Any]]):
        super().__init__(timeout=None)
        self.rows = rows

    def is_finished(self) -> bool:
        return True

    def is_dispatchable(self) -> bool:
        return False

    def to_components(self) -> list[dict[str, Any]]:
        return self.rows


def _button(label: str, custom_id: str, style: int) -> dict[str, Any]:
    return {"type": BUTTON, "style": style, "label": clip(label, BUTTON_LABEL_MAX) or "…", "custom_id": custom_id}


def build_view(reply: Reply) -> Components | None:
    """Buttons 5 to a row, at most 5 rows (a menu takes a row of its own), each custom_id the
    core's action id. A reply without components gets no view at all: an acknowledgement such
    as "answer recorded" (a class presses at once) need not pay for one."""
    buttons: list[dict[str, Any]] = []
    if reply.text_input is not None and len(reply.text_input.action) <= actions.MAX_ACTION_ID - len(BUTTON_FORM):
        buttons.append(_button(FORM_LABEL + reply.text_input.label, BUTTON_FORM + reply.text_input.action, STYLES["primary"]))
    buttons += [_button(b.label, b.action, STYLES.get(b.style, STYLES["secondary"])) for b in reply.buttons]
    choices = reply.choices if reply.choices is not None and len(reply.choices.action) <= actions.MAX_ACTION_ID - len(MENU) else None
    buttons = buttons[: (ROWS - (1 if choices else 0)) * BUTTONS_PER_ROW]
    rows = [{"type": ACTION_ROW, "components": buttons[i:i + BUTTONS_PER_ROW]} for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    if choices is not None:
        options = [{"label": label[:100], "value": value[:100]} for label, value in choices.options[:SELECT_OPTIONS_MAX]]
        rows.append({"type": ACTION_ROW, "components": [{
            "type": SELECT, "custom_id": MENU + choices.action, "placeholder": choices.placeholder[:150], "options": options,
            "min_values": max(0, min(choices.min_values, len(options))), "max_values": max(1, min(choices.max_values, len(options)))}]})
    return Components(rows) if rows else None


@dataclass(frozen=True, slots=True)
class Pressed:
    """A component interaction read from its payload: the action id, what was chosen in a menu
    (its values joined by commas), or that a form button was pressed (its modal opens)."""

    action: str
    chosen: str | None = None
    opens_form: bool = False


def pressed(data: Mapping[str, Any]) -> Pressed | None:
    """What a click asks for, or None for a custom_id this app could not have written (or a
    menu without a list of values): the payload comes from outside and is checked here; the
    action id itself is then the core's to judge (`actions.parse`)."""
    custom_id = data.get("custom_id")
    match = CUSTOM_ID.fullmatch(custom_id) if isinstance(custom_id, str) else None
    if match is None:
        return None
    marker, action = match["marker"], match["action"]
    if marker == MENU:
        values = data.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        return Pressed(action, chosen=",".join(values))
    return Pressed(action, opens_form=marker == BUTTON_FORM)


def form_label(message: discord.Message | None, custom_id: str) -> str:
    """The label of the form button `custom_id` on the clicked message (the modal's field is
    named after it), without its ✍️."""
    def walk(components):
        for c in components:
            yield c
            yield from walk(getattr(c, "children", None) or [])

    label = next((getattr(c, "label", None) for c in walk(message.components if message else [])
                  if getattr(c, "custom_id", None) == custom_id), None)
    return (label or "Your answer").removeprefix(FORM_LABEL)


def modal_for(action: str, label: str, placeholder: str = "", max_length: int = 200) -> discord.ui.Modal:
    """The form behind a form button: its custom_id carries the action, so a submit after a
    restart still lands (submits are handled in `on_interaction`, not by this object)."""
    modal = discord.ui.Modal(title=clip("Your answer", MODAL_TITLE_MAX), custom_id=(FORM + action)[:100], timeout=None)
    modal.add_item(discord.ui.TextInput(label=clip(label, TEXT_INPUT_LABEL_MAX), placeholder=clip(placeholder, 100) or None,
                                        max_length=min(max_length, TEXT_INPUT_MAX), custom_id="answer",
                                        style=discord.TextStyle.paragraph if actions.takes_paragraphs(action) else discord.TextStyle.short))
    return modal

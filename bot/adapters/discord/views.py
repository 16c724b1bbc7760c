"""Persistent components: dynamic items whose custom_id *is* the core's action id.

Nothing is kept in memory between a message and a click: after a restart discord.py matches
the custom_id against these templates and rebuilds the item, so every old button still works.

- `ActionButton`: custom_id = action (`lesson:7:deep:3`, `quiz:12:0:a:B`, `live:4:2:a:true`…).
- `ChoiceSelect`: `m|` + action; the chosen values are joined with commas and appended.
- `FormButton`: `t|` + action; opens a modal whose custom_id is `f|` + action, and the
  submitted text is appended after the action (handled in `DiscordAdapter.on_interaction`).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.core import actions
from bot.core.replies import Choices

ACTION_KINDS = "|".join(actions.KINDS)
SELECT_OPTIONS_MAX = 25


def _adapter(interaction: discord.Interaction) -> Any:
    return interaction.client.adapter  # type: ignore[attr-defined]


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"(?P<action>(?:{ACTION_KINDS}):[^|]{{1,98}})"):
    def __init__(self, action: str, label: str = "…", style: discord.ButtonStyle = discord.ButtonStyle.secondary):
        super().__init__(discord.ui.Button(label=label[:80] or "…", style=style, custom_id=action))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls(match["action"], item.label or "…", item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _adapter(interaction).on_action(interaction, self.action)


class ChoiceSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"m\|(?P<action>.{1,98})"):
    def __init__(self, choices: Choices | None = None, *, select: discord.ui.Select | None = None, action: str = ""):
        if select is None:
            assert choices is not None
            options = [discord.SelectOption(label=label[:100], value=value[:100]) for label, value in choices.options[:SELECT_OPTIONS_MAX]]
            select = discord.ui.Select(custom_id=f"m|{choices.action}", placeholder=choices.placeholder[:150], options=options,
                                       min_values=max(0, min(choices.min_values, len(options))),
                                       max_values=max(1, min(choices.max_values, len(options))))
            action = choices.action
        super().__init__(select)
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Select, match, /):
        select = discord.ui.Select(custom_id=item.custom_id, placeholder=item.placeholder, options=item.options,
                                   min_values=item.min_values, max_values=item.max_values)
        return cls(select=select, action=match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _adapter(interaction).on_action(interaction, self.action, ",".join(self.item.values))


class FormButton(discord.ui.DynamicItem[discord.ui.Button], template=r"t\|(?P<action>.{1,98})"):
    def __init__(self, action: str, label: str = "✍️ Your answer"):
        super().__init__(discord.ui.Button(label=label[:80], style=discord.ButtonStyle.primary, custom_id=f"t|{action}"))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match, /):
        return cls(match["action"], item.label or "✍️ Your answer")

    async def callback(self, interaction: discord.Interaction) -> None:
        from .render import modal_for

        label = (self.item.label or "Your answer").removeprefix("✍️ ")
        modal = modal_for(self.action, label)
        await interaction.response.send_modal(modal)
        modal.stop()  # not kept in memory: the submit is handled by its custom_id, even after a restart


DYNAMIC_ITEMS = (ActionButton, ChoiceSelect, FormButton)

"""A `Reply` as Discord message arguments: an embed, a view of persistent components, a file.

Discord's limits live here, in one place. Anything the bot sends carries
`AllowedMentions.none()`: replies echo user text (answers, names, chat), and nothing the bot
says is meant to ping anyone. No Markdown link whose label names another address (a
display name `[http://good.example](http://evil.example)` in live standings) is rendered as a
link: `safety.defuse_markdown_links` shows its label and target side by side.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import discord

from bot.core.replies import Reply

from ..safety import defuse_markdown_links
from .views import ActionButton, ChoiceSelect, FormButton

CONTENT_MAX = 2000
EMBED_DESCRIPTION_MAX = 4096
EMBED_TITLE_MAX = 256
BUTTONS_PER_ROW = 5
ROWS = 5
SELECT_OPTIONS_MAX = 25
SELECT_LABEL_MAX = 100
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX = 4000

NO_MENTIONS = discord.AllowedMentions.none()

COLOURS = {
    "error": 0xE74C3C, "lesson": 0x3498DB, "question": 0xF1C40F, "summary": 0x2ECC71, "live-question": 0xE67E22,
    "live-closed": 0x9B59B6, "live-ended": 0x1ABC9C, "progress": 0x2ECC71, "leaderboard": 0xF39C12,
    "assistant": 0x95A5A6, "hint": 0xF1C40F,
}
STYLES = {"primary": discord.ButtonStyle.primary, "secondary": discord.ButtonStyle.secondary,
          "success": discord.ButtonStyle.success, "danger": discord.ButtonStyle.danger}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def discord_time(moment: datetime, style: str = "R") -> str:
    """A timestamp every client shows in its own time zone (`<t:1700000000:R>` → "in 30 seconds")."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def build_view(reply: Reply) -> discord.ui.View | None:
    """Buttons 5 to a row, at most 5 rows (a menu takes a row of its own); every item is a
    dynamic item whose custom_id is the core's action id, so it works after a restart."""
    view = discord.ui.View(timeout=None)
    rows_for_buttons = ROWS - (1 if reply.choices else 0)
    buttons: list[discord.ui.Item] = []
    if reply.text_input is not None and len(reply.text_input.action) <= 98:
        buttons.append(FormButton(reply.text_input.action, "✍️ " + reply.text_input.label))
    buttons += [ActionButton(b.action, b.label, STYLES.get(b.style, discord.ButtonStyle.secondary)) for b in reply.buttons]
    buttons = buttons[: rows_for_buttons * BUTTONS_PER_ROW]
    for i, item in enumerate(buttons):
        item.item.row = i // BUTTONS_PER_ROW
        view.add_item(item)
    if reply.choices is not None and len(reply.choices.action) <= 98:
        select = ChoiceSelect(reply.choices)
        select.item.row = min(ROWS - 1, (len(buttons) + BUTTONS_PER_ROW - 1) // BUTTONS_PER_ROW)
        view.add_item(select)
    return view if view.children else None


def message_kwargs(reply: Reply, *, closes_at: datetime | None = None, with_view: bool = True) -> dict[str, Any]:
    """Keyword arguments for `send_message` / `send` / `edit_message`: embed, view, file, no mentions."""
    text = reply.text
    if closes_at is not None:
        text += f"\n⏰ Closes {discord_time(closes_at)}."
    # Discord renders `[label](url)` in embeds: a label that names another address is shown as text.
    description = clip(defuse_markdown_links(clip(text, EMBED_DESCRIPTION_MAX)), EMBED_DESCRIPTION_MAX)
    embed = discord.Embed(description=description, colour=COLOURS.get(reply.kind, 0x5865F2))
    if reply.title:
        embed.title = clip(reply.title, EMBED_TITLE_MAX)
    if reply.page is not None:
        embed.set_footer(text=f"Page {reply.page.number}/{reply.page.total}")
    kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": NO_MENTIONS}
    if with_view:
        view = build_view(reply)
        kwargs["view"] = view if view is not None else discord.utils.MISSING
    if reply.file is not None:
        kwargs["file"] = discord.File(io.BytesIO(reply.file.content), filename=reply.file.filename)
    return kwargs


def modal_for(action: str, label: str, placeholder: str = "", max_length: int = 200) -> discord.ui.Modal:
    """The form behind a FormButton: its custom_id carries the action, so a submit after a
    restart still lands (submits are handled in `on_interaction`, not by this object)."""
    modal = discord.ui.Modal(title=clip("Your answer", MODAL_TITLE_MAX), custom_id=f"f|{action}"[:100], timeout=None)
    modal.add_item(discord.ui.TextInput(label=clip(label, TEXT_INPUT_LABEL_MAX), placeholder=clip(placeholder, 100) or None,
                                        max_length=min(max_length, TEXT_INPUT_MAX), custom_id="answer"))
    return modal

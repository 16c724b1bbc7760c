"""A `Reply` as Discord message arguments: an embed, a view of persistent components, a file.

Discord's limits for messages live here (those for components in `views.py`). Anything the
bot sends carries `AllowedMentions.none()`: replies echo user text (answers, names, chat), and nothing the bot
says is meant to ping anyone. No Markdown link whose label names another address (a
display name `[http://good.example](http://evil.example)` in live standings) is rendered as a
link: `safety.defuse_markdown_links` shows its label and target side by side.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import discord

from bot.core.replies import Reply, clip

from ..safety import defuse_markdown_links
from .views import build_view

CONTENT_MAX = 2000
EMBED_DESCRIPTION_MAX = 4096
EMBED_TITLE_MAX = 256

NO_MENTIONS = discord.AllowedMentions.none()

COLOURS = {
    "error": 0xE74C3C, "lesson": 0x3498DB, "question": 0xF1C40F, "summary": 0x2ECC71, "live-question": 0xE67E22,
    "live-closed": 0x9B59B6, "live-ended": 0x1ABC9C, "progress": 0x2ECC71, "leaderboard": 0xF39C12,
    "assistant": 0x95A5A6, "hint": 0xF1C40F,
}


def discord_time(moment: datetime, style: str = "R") -> str:
    """A timestamp every client shows in its own time zone (`<t:1700000000:R>` → "in 30 seconds")."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def message_kwargs(reply: Reply, *, closes_at: datetime | None = None, with_view: bool = True) -> dict[str, Any]:
    """Keyword arguments for `send_message` / `send`: embed, view, files (an image's description is its alt
    text), no mentions. Edits take the files as `attachments` (`client._replacing`)."""
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
    if reply.files:
        kwargs["files"] = [discord.File(io.BytesIO(f.content), filename=f.filename, description=f.description[:1024] or None)
                           for f in reply.files]
    return kwargs


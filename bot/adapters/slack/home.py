"""The App Home tab: the student's progress dashboard and "continue where you left off".

Published with `views.publish` when the student opens the tab (`app_home_opened`) and again
after they press one of its buttons. The buttons are the core's own actions, so they keep
working after a restart like every other button.
"""

from __future__ import annotations

from typing import Any

from bot.core import actions
from bot.core.replies import Button, Reply
from bot.core.users import Actor

from .blocks import MAX_BLOCKS_VIEW, home_view, plain, reply_blocks
from .mrkdwn import escape


async def build_home(core, actor: Actor) -> dict[str, Any]:
    position = await core.last_position(actor)
    progress = await core.progress(actor)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(core.course.title, 150)}]
    if position is not None:
        chapter = core.course.chapter(position.chapter)
        title = chapter.title if chapter else f"Chapter {position.chapter}"
        where = f"*Continue where you left off:* chapter {position.chapter} — {escape(title)}, {position.depth} depth, page {position.page}."
        first = position.chapter
    else:
        where = "*Start here:* open the first lesson, at the depth that suits you."
        first = core.course.chapters[0].number
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": where}})
    start = Reply(text="", buttons=[
        Button("📖 Continue reading", actions.ContinueReading().format(), "primary"),
        Button(f"📝 Quiz on chapter {first}", actions.QuizStart(first).format()),
        Button("🧠 Review", actions.ReviewStart().format()),
    ])
    blocks += [b for b in reply_blocks(start) if b["type"] == "actions"]
    blocks.append({"type": "divider"})
    progress.buttons = []  # the Home has its own buttons above
    blocks += reply_blocks(progress, max_blocks=MAX_BLOCKS_VIEW - len(blocks) - 1)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "Type `/companion help` anywhere, or message me in the Messages tab."}]})
    return home_view(blocks)

"""The lab's menu, each student's streak, and the class's contributor leaderboard.

Like the quizzes' leaderboard, it belongs to one server or workspace. A contribution is a
demonstration written, an instruction proposed, a ranking sent or a live lab vote; the streak
counts consecutive days with at least one (today, or up to yesterday, as for the quizzes).
"""

from __future__ import annotations

import sqlite3

from .. import actions
from ..context import CoreContext
from ..progress import streak
from ..replies import Button, Reply, quote_user_text
from ..users import Actor, find_user
from .pool import lab_chapter, scope_of
from .tasks import propose_form

SHOWN = 10
#: Every contribution of the class: (user, when) rows of what students wrote, proposed, ranked and voted.
_CONTRIBUTIONS = ("SELECT user_pk, created_at AS at FROM lab_demonstrations WHERE scope = ?"
                  " UNION ALL SELECT user_pk, created_at FROM lab_instructions WHERE scope = ?"
                  " UNION ALL SELECT user_pk, ranked_at FROM lab_rankings WHERE scope = ? AND status = 'done'"
                  " UNION ALL SELECT user_pk, created_at FROM lab_pairs WHERE scope = ? AND session_id IS NOT NULL")


def _board(conn: sqlite3.Connection, scope: str) -> list[tuple[str, int]]:
    rows = conn.execute(f"SELECT u.display_name, COUNT(*) AS n FROM ({_CONTRIBUTIONS}) c JOIN users u ON u.id = c.user_pk"
                        " GROUP BY u.id, u.display_name ORDER BY n DESC, u.display_name LIMIT ?", (scope,) * 4 + (SHOWN,)).fetchall()
    return [(name, count) for name, count in rows]


def _mine(conn: sqlite3.Connection, scope: str, actor: Actor) -> tuple[list[str], tuple[int, int, int]]:
    """The days the actor contributed, and the class's totals (demonstrations, comparisons, contributors)."""
    user = find_user(conn, actor.platform, actor.user_id)
    days = []
    if user is not None:
        days = sorted({row[0][:10] for row in conn.execute(f"SELECT at FROM ({_CONTRIBUTIONS}) c WHERE c.user_pk = ?", (scope,) * 4 + (user["id"],))})
    totals = conn.execute("SELECT (SELECT COUNT(*) FROM lab_demonstrations WHERE scope = ? AND status = 'pool'),"
                          " (SELECT COUNT(*) FROM lab_pairs WHERE scope = ?),"
                          f" (SELECT COUNT(DISTINCT user_pk) FROM ({_CONTRIBUTIONS}) c)", (scope, scope) + (scope,) * 4).fetchone()
    return days, (totals[0], totals[1], totals[2])


async def menu(ctx: CoreContext, actor: Actor) -> Reply:
    """`/lab`: what the lab is, where the student and the class stand, and the tasks as buttons."""
    scope = scope_of(actor)
    chapter = lab_chapter(ctx)
    days, (demos, pairs, people) = await ctx.store.read(_mine, scope, actor)
    run = streak(days, ctx.clock.now().date())
    text = (f"🧪 **The RLHF lab** (Chapter {chapter.number}: {chapter.title})\n\n"
            "Do what InstructGPT's people did, as a class:\n"
            "1. **Write** demonstrations: the responses an assistant should give (supervised fine-tuning data).\n"
            "2. **Rank** responses, best first: each ranking of k responses gives k(k−1)/2 comparisons, and the class's "
            "**reward model** is refitted on them as they arrive.\n"
            "3. **See** phase 3: `/lab optimize PROMPT` picks the response the reward model likes best, held back by a "
            "KL-style penalty, as PPO does by training.\n\n"
            f"Your lab streak: **{run} day{'s' * (run != 1)}** ({len(days)} active day{'s' * (len(days) != 1)}). "
            f"This class: {demos} demonstration{'s' * (demos != 1)}, {pairs} comparison{'s' * (pairs != 1)}, "
            f"{people} contributor{'s' * (people != 1)}.\n\n"
            "Also: `/lab propose TEXT`, `/lab score PROMPT ||| RESPONSE`, `/lab live` (the whole channel votes), `/lab board`.")
    return Reply(title="RLHF lab", text=text, kind="lab", text_input=propose_form(ctx),
                 buttons=[Button("✍️ Write", actions.LabWriteStart().format(), "primary"),
                          Button("🏅 Rank", actions.LabRankStart().format(), "primary"),
                          Button("🔎 Check a demonstration", actions.LabFlagStart().format()),
                          Button("🧠 Reward model", actions.LabRewardShow().format()),
                          Button("🏆 Contributors", actions.LabBoardShow().format())])


async def board(ctx: CoreContext, actor: Actor) -> Reply:
    """The class's top contributors, for the channel."""
    rows = await ctx.store.read(_board, scope_of(actor))
    if not rows:
        return Reply(title="Lab contributors", text="No contributions yet. Be the first: `/lab write` or `/lab rank`.",
                     kind="leaderboard", ephemeral=False)
    medals = ["🥇", "🥈", "🥉"]
    lines = [f"{medals[i] if i < 3 else f'{i + 1}.'} **{quote_user_text(name)}** — {count} contribution{'s' * (count != 1)}"
             for i, (name, count) in enumerate(rows)]
    lines.append("\n_A contribution: a demonstration, a proposed instruction, a ranking or a live lab vote._")
    return Reply(title="Lab contributors", text="\n".join(lines), kind="leaderboard", ephemeral=False)

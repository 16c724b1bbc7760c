"""A user's own data: export all of it as JSON, or delete all of it ("forget me").

Every table about a person references `users.id` with ON DELETE CASCADE (live sessions they
started keep running for the others, with the starter set to NULL), so deleting the user row
really removes every row about them. `USER_TABLES` lists what the export covers; a test checks
that it names every table with a user column, so a new table cannot be forgotten.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from . import actions
from .context import CoreContext
from .replies import Attachment, Button, Reply
from .users import Actor, find_user

#: table → SQL selecting the user's rows (parameter: users.id)
USER_TABLES = {
    "memberships": "SELECT guild FROM memberships WHERE user_pk = ?",
    "reading_positions": "SELECT chapter, depth, page, updated_at FROM reading_positions WHERE user_pk = ?",
    "pages_read": "SELECT chapter, depth, page, first_read_at FROM pages_read WHERE user_pk = ? ORDER BY chapter, depth, page",
    "activity_days": "SELECT day FROM activity_days WHERE user_pk = ? ORDER BY day",
    "quiz_attempts": "SELECT id, chapter, kind, depth, seed, question_keys, questions, position, correct, status, started_at, finished_at, pruned_before FROM quiz_attempts WHERE user_pk = ? ORDER BY id",
    "quiz_answers": "SELECT a.* FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id WHERE t.user_pk = ? ORDER BY a.attempt_id, a.position",
    "quiz_hints": "SELECT h.* FROM quiz_hints h JOIN quiz_attempts t ON t.id = h.attempt_id WHERE t.user_pk = ?",
    "quiz_attempt_masks": "SELECT m.* FROM quiz_attempt_masks m JOIN quiz_attempts t ON t.id = m.attempt_id WHERE t.user_pk = ? ORDER BY m.attempt_id, m.word",
    "review_cards": "SELECT question_key, due, state, step, stability, difficulty, last_review, reviews, fsrs_version FROM review_cards WHERE user_pk = ? ORDER BY due",
    "live_sessions_started": "SELECT id, platform, guild, channel, chapter, started_at, ended_at, end_reason FROM live_sessions WHERE starter_pk = ?",
    "live_answers": "SELECT session_id, question_index, answer, correct, points, answered_at FROM live_answers WHERE user_pk = ? ORDER BY session_id, question_index",
    "conversation_turns": "SELECT role, mode, text, created_at FROM conversation_turns WHERE user_pk = ? ORDER BY id",
    "chat_modes": "SELECT mode, updated_at FROM chat_modes WHERE user_pk = ?",
    # the RLHF lab: what they proposed, wrote, ranked (with the responses they saw) and flagged, and the pairs they yielded
    "lab_instructions": "SELECT id, scope, chapter, text, created_at FROM lab_instructions WHERE user_pk = ? ORDER BY id",
    "lab_demonstrations": "SELECT id, scope, chapter, instruction, response, status, created_at FROM lab_demonstrations WHERE user_pk = ? ORDER BY id",
    "lab_rankings": "SELECT id, scope, chapter, prompt, tags, status, created_at, ranked_at FROM lab_rankings WHERE user_pk = ? ORDER BY id",
    "lab_ranking_items": "SELECT i.ranking_id, i.slot, i.source, i.text, i.rank FROM lab_ranking_items i JOIN lab_rankings r ON r.id = i.ranking_id"
                         " WHERE r.user_pk = ? ORDER BY i.ranking_id, i.slot",
    "lab_pairs": "SELECT prompt, chosen, rejected, ranking_id, session_id, created_at FROM lab_pairs WHERE user_pk = ? ORDER BY id",
    "lab_flags": "SELECT demonstration_id, reason, created_at, decision, reviewed_at FROM lab_flags WHERE user_pk = ?",
}


def _export(conn: sqlite3.Connection, actor: Actor) -> dict[str, Any] | None:
    user = find_user(conn, actor.platform, actor.user_id)
    if user is None:
        return None
    data: dict[str, Any] = {"user": {k: v for k, v in dict(user).items() if k != "id"}}
    for table, sql in USER_TABLES.items():
        data[table] = [dict(row) for row in conn.execute(sql, (user["id"],))]
    return data


async def export(ctx: CoreContext, actor: Actor) -> Reply:
    ctx.require_rate("export", actor)
    data = await ctx.store.read(_export, actor)
    if data is None:
        return Reply(text="I hold no data about you.", ephemeral=True)
    data["exported_at"] = ctx.clock.now().isoformat()
    data["about"] = f"Everything {ctx.course.title} companion stores about you. Delete it with /forget-me."
    body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    rows = sum(len(v) for v in data.values() if isinstance(v, list))
    return Reply(text=f"📦 Here is everything I store about you ({rows} records).", ephemeral=True, kind="export",
                 files=[Attachment(f"my-data-{actor.platform}-{re.sub(r'[^A-Za-z0-9_.-]', '_', actor.user_id)[:40]}.json", body)])


def confirm_forget() -> Reply:
    return Reply(
        text="⚠️ This deletes **all** your progress, quiz attempts, review queue, live quiz answers, chats with the assistant and "
             "lab work (demonstrations, rankings, votes, flags; your class's reward model is refitted without them). It cannot be undone.",
        buttons=[Button("Delete everything", actions.ForgetConfirm().format(), "danger"), Button("Cancel", actions.ForgetCancel().format())],
        ephemeral=True, kind="confirm",
    )


def _forget(conn, actor: Actor) -> None:
    conn.execute("DELETE FROM users WHERE platform = ? AND user_id = ?", (actor.platform, actor.user_id))


async def forget(ctx: CoreContext, actor: Actor) -> Reply:
    await ctx.store.run(_forget, actor)
    return Reply(text="🗑 Done: everything I stored about you is deleted. If you come back, you start fresh.", ephemeral=True)

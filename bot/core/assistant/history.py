"""The assistant's memory in SQLite: each user's recent turns and chat mode.

Reading what a reply needs (mode, the previous turn, preferred depth) is one transaction and
recording the exchange is another, each one hop to the database thread. The history is capped
per user at COMPANION_HISTORY_TURNS exchanges; older turns are deleted as new ones arrive.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..clock import iso
from ..users import Actor, find_user, touch_user
from .turns import Turn

MODES = ("assistant", "base")


@dataclass(frozen=True)
class Context:
    mode: str
    last: Turn
    depth: str


def read_context(conn: sqlite3.Connection, actor: Actor) -> Context:
    user = find_user(conn, actor.platform, actor.user_id)
    if user is None:
        return Context("assistant", Turn(), "shallow")
    row = conn.execute("SELECT mode FROM chat_modes WHERE user_pk = ?", (user["id"],)).fetchone()
    last = conn.execute("SELECT text, meta FROM conversation_turns WHERE user_pk = ? AND role = 'assistant'"
                        " AND mode = 'assistant' ORDER BY id DESC LIMIT 1", (user["id"],)).fetchone()
    turn = Turn(json.loads(last["meta"] or "{}"), last["text"]) if last else Turn()
    return Context(row["mode"] if row else "assistant", turn, user["preferred_depth"])


def record(conn: sqlite3.Connection, actor: Actor, now: datetime, mode: str, said: str, answered: str,
           meta: dict | None, cap: int) -> None:
    """Store one exchange and trim the user's history to `cap` exchanges (0 keeps nothing)."""
    if cap <= 0:
        return
    user_pk = touch_user(conn, actor, now)
    stamp = iso(now)
    conn.execute("INSERT INTO conversation_turns(user_pk, role, mode, text, meta, created_at) VALUES (?, 'user', ?, ?, NULL, ?)",
                 (user_pk, mode, said, stamp))
    conn.execute("INSERT INTO conversation_turns(user_pk, role, mode, text, meta, created_at) VALUES (?, 'assistant', ?, ?, ?, ?)",
                 (user_pk, mode, answered, json.dumps(meta, ensure_ascii=False) if meta else None, stamp))
    conn.execute("DELETE FROM conversation_turns WHERE user_pk = ? AND id <= (SELECT id FROM conversation_turns"
                 " WHERE user_pk = ? ORDER BY id DESC LIMIT 1 OFFSET ?)", (user_pk, user_pk, 2 * cap))


def set_mode(conn: sqlite3.Connection, actor: Actor, now: datetime, mode: str) -> None:
    user_pk = touch_user(conn, actor, now)
    conn.execute("INSERT INTO chat_modes(user_pk, mode, updated_at) VALUES (?, ?, ?) ON CONFLICT(user_pk)"
                 " DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at", (user_pk, mode, iso(now)))


def recent(conn: sqlite3.Connection, actor: Actor, limit: int) -> list[tuple[str, str]]:
    """The last `limit` messages (role, text), oldest first, for a real model's context."""
    user = find_user(conn, actor.platform, actor.user_id)
    if user is None or limit <= 0:
        return []
    rows = conn.execute("SELECT role, text FROM conversation_turns WHERE user_pk = ? AND mode = 'assistant'"
                        " ORDER BY id DESC LIMIT ?", (user["id"], limit)).fetchall()
    return [(r["role"], r["text"]) for r in reversed(rows)]

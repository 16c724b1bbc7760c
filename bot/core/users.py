"""Who is acting, and where: the platform-neutral identity every core call receives.

A user is `(platform, user_id)`; a place is `(platform, guild, channel)`. Adapters fill in
`is_instructor` from what the platform says on the server side (Discord's Manage Server
permission, a Slack workspace admin); the core also honours COMPANION_INSTRUCTORS.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .clock import iso
from .inputs import clean_input, is_blank
from .replies import quote_user_text

MAX_NAME = 64


@dataclass(frozen=True)
class Actor:
    platform: str
    user_id: str
    display_name: str
    guild: str | None = None  # guild / workspace; None in a DM
    channel: str | None = None
    is_instructor: bool = False

    @property
    def place(self) -> tuple[str, str, str]:
        return (self.platform, self.guild or "dm", self.channel or f"dm:{self.user_id}")


def clean_name(name: str) -> str:
    """A display name safe to show anywhere: one line, bounded, no mention syntax."""
    name = " ".join(clean_input(name or "").split())[:MAX_NAME]
    return quote_user_text(name if not is_blank(name) else "someone")


class SeenUsers:
    """The activity days and guilds this process has already found recorded, so that a person who
    keeps clicking (a live quiz: one click per question, a class at once) costs one read per
    click instead of three statements.

    Only rows found already there are remembered (an insert that wrote nothing): a row this
    transaction wrote itself might still be rolled back, and a remembered row must be in the
    database. Entries are keyed by the user's row as this transaction reads it (id and creation
    time), so a person who was forgotten (`/forget-me`) and came back is a new row with nothing
    remembered, even if SQLite gives the new row the old id. Bounded: past `limit` entries it
    starts again from empty, which costs one insert per person and day, not correctness."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._known: set[tuple[int, str, str]] = set()

    def known(self, user: tuple[int, str], fact: str) -> bool:
        return (*user, fact) in self._known

    def found(self, user: tuple[int, str], fact: str) -> None:
        if len(self._known) >= self.limit:
            self._known = set()
        self._known.add((*user, fact))


def touch_user(conn: sqlite3.Connection, actor: Actor, now: datetime, seen: SeenUsers | None = None) -> int:
    """The user's row id, creating the user if new; records the day's activity and the guild.

    Every click of every person comes through here, so it writes only what changed: a read finds
    the row, and the display name is rewritten only when the person renamed themselves (an
    unconditional upsert would rewrite the row, a page of the log, on every click). The day and
    the guild are `ON CONFLICT DO NOTHING` inserts, which write nothing once they are there; with
    `seen`, those this process already found there are not even tried again."""
    name = clean_name(actor.display_name)
    row = conn.execute("SELECT id, display_name, created_at FROM users WHERE platform = ? AND user_id = ?",
                       (actor.platform, actor.user_id)).fetchone()
    if row is None:  # new; or created meanwhile by another process, whose row then gets this name
        row = conn.execute(
            "INSERT INTO users(platform, user_id, display_name, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(platform, user_id) DO UPDATE SET display_name = excluded.display_name"
            " RETURNING id, display_name, created_at",
            (actor.platform, actor.user_id, name, iso(now)),
        ).fetchone()
    elif row[1] != name:
        conn.execute("UPDATE users SET display_name = ? WHERE id = ?", (name, row[0]))
    user_pk, user = row[0], (row[0], row[2])
    facts = [("INSERT INTO activity_days(user_pk, day) VALUES (?, ?) ON CONFLICT DO NOTHING", now.date().isoformat())]
    if actor.guild:
        facts.append(("INSERT INTO memberships(user_pk, guild) VALUES (?, ?) ON CONFLICT DO NOTHING", f"{actor.platform}:{actor.guild}"))
    for sql, fact in facts:
        if seen is not None and seen.known(user, fact):
            continue
        if conn.execute(sql, (user_pk, fact)).rowcount == 0 and seen is not None:
            seen.found(user, fact)
    return user_pk


def find_user(conn: sqlite3.Connection, platform: str, user_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM users WHERE platform = ? AND user_id = ?", (platform, user_id)).fetchone()

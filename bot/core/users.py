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


def touch_user(conn: sqlite3.Connection, actor: Actor, now: datetime) -> int:
    """The user's row id, creating the user if new; records the day's activity and the guild."""
    name = clean_name(actor.display_name)
    row = conn.execute(
        "INSERT INTO users(platform, user_id, display_name, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(platform, user_id) DO UPDATE SET display_name = excluded.display_name"
        " RETURNING id",
        (actor.platform, actor.user_id, name, iso(now)),
    ).fetchone()
    user_pk = row[0]
    conn.execute("INSERT INTO activity_days(user_pk, day) VALUES (?, ?) ON CONFLICT DO NOTHING", (user_pk, now.date().isoformat()))
    if actor.guild:
        conn.execute("INSERT INTO memberships(user_pk, guild) VALUES (?, ?) ON CONFLICT DO NOTHING", (user_pk, f"{actor.platform}:{actor.guild}"))
    return user_pk


def find_user(conn: sqlite3.Connection, platform: str, user_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM users WHERE platform = ? AND user_id = ?", (platform, user_id)).fetchone()

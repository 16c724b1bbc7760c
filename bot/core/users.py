"""Who is acting, and where: the platform-neutral identity every core call receives.

A user is `(platform, user_id)`; a place is `(platform, guild, channel)`. Adapters fill in
`is_instructor` from what the platform says on the server side (Discord's Manage Server
permission, a Slack workspace admin); the core also honours COMPANION_INSTRUCTORS.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

    @property
    def membership(self) -> str | None:
        """The server or workspace as `memberships.guild` stores it (`platform:guild`): what
        leaderboards, class statistics and the lab are scoped by; None in a DM."""
        return f"{self.platform}:{self.guild}" if self.guild else None


def clean_name(name: str) -> str:
    """A display name safe to show anywhere: one line, bounded, no mention syntax."""
    name = " ".join(clean_input(name or "").split())[:MAX_NAME]
    return quote_user_text(name if not is_blank(name) else "someone")


class SeenUsers:
    """The activity days and guilds this process has already found recorded, so that a person who
    keeps clicking (a live quiz: one click per question, a class at once) costs one read per
    click instead of three statements.

    Only rows found already there (an insert that wrote nothing) are remembered, and only once the
    transaction that found them has committed (`Visit.keep`): a row found might be one the same
    transaction wrote a moment before, which a rollback would take away again. Entries are keyed
    by the user's row as the transaction reads it (id and creation time), and a row the
    transaction creates consults nothing, so a person forgotten (`/forget-me`) who comes back
    gets their day and guild written again, even if SQLite gives the new row the old id. Bounded:
    past `limit` entries it starts again from empty, which costs one insert per person and day."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._known: set[tuple[int, str, str]] = set()

    def visit(self) -> Visit:
        """What one operation reads from the cache and finds in the database (kept after its commit)."""
        return Visit(self)

    def known(self, user: tuple[int, str], fact: str) -> bool:
        return (*user, fact) in self._known

    def remember(self, facts: list[tuple[int, str, str]]) -> None:
        if len(self._known) + len(facts) > self.limit:
            self._known = set()
        self._known.update(facts)


class Visit:
    """One operation's use of `SeenUsers`: the inserts it tried wait here until its transaction
    commits; those that wrote nothing found their row already there.

    Their counts are read only then (`found`): on PostgreSQL reading one inside the transaction
    would wait for that insert's round trip, after the commit it is already there."""

    def __init__(self, seen: SeenUsers):
        self.seen = seen
        self._tried: list[tuple[tuple[int, str, str], Any]] = []

    def tried(self, fact: tuple[int, str, str], cursor: Any) -> None:
        self._tried.append((fact, cursor))

    @property
    def found(self) -> list[tuple[int, str, str]]:
        """The facts whose insert wrote nothing (a statement skipped after a failure counts -1: not found)."""
        return [fact for fact, cursor in self._tried if cursor.rowcount == 0]

    def keep(self) -> None:
        """The operation's transaction committed: what it found is in the database."""
        self.seen.remember(self.found)
        self._tried = []


#: The isolation of an operation that reads and writes only the acting person's own rows (a
#: lesson page, a quiz answer or hint): READ COMMITTED, with the person's row locked by
#: `touch_user` as its first statement. One person's operations then run one after another, as
#: SERIALIZABLE would have them, while different people's never wait for or fail each other:
#: under SERIALIZABLE, two people's page reads, inserting side by side into the same small
#: indexes, made PostgreSQL abort one of them about twice per completed page under load
#: (bench/RESULTS.md). SQLite runs write transactions one at a time, so it is the same there.
OWN_ROWS = "read committed"


def person_lock(conn: Any) -> str:
    """The clause that locks the `users` rows a SELECT reads until the transaction ends
    (PostgreSQL's connection says which: `PgConnection.PERSON_LOCK`); none on SQLite, whose write
    transactions never interleave. Every operation acting for a person takes it in `touch_user`
    (but a live answer, which only inserts its own answer row: `touch_user`'s `lock`), and an
    instructor's reset of a student takes the student's, so a person's pages, attempts and reviews
    are only ever changed by one transaction at a time, whatever its isolation."""
    return getattr(conn, "PERSON_LOCK", "")


def lock_person(conn: Any, user_pk: int) -> None:
    """Lock the person's row to the end of the transaction (see `person_lock`), before changing
    their rows for someone else (an instructor's reset)."""
    if lock := person_lock(conn):
        conn.execute("SELECT id FROM users WHERE id = ?" + lock, (user_pk,)).fetchone()


def touch_user(conn: sqlite3.Connection, actor: Actor, now: datetime, visit: Visit | None = None, *, lock: bool = True) -> int:
    """The user's row id, creating the user if new; records the day's activity and the guild.

    Every click of every person comes through here, so it writes only what changed: a read finds
    the row, and the display name is rewritten only when the person renamed themselves (an
    unconditional upsert would rewrite the row, a page of the log, on every click). The day and
    the guild are `ON CONFLICT DO NOTHING` inserts, which write nothing once they are there; with
    a `visit` of `SeenUsers`, those this process already found there are not even tried again.
    Without one, the connection's own is used if it has one (PostgreSQL's store gives every
    transaction one: `PgConnection.visit`).

    The person's row is read with `person_lock` (`lock`), so their other transactions wait for
    this one: a live answer, which writes only its own answer row under its session's lock
    (bot/core/live.py), does without, so a class's batches never wait on each other's players."""
    if visit is None:
        visit = getattr(conn, "visit", None)
    name = clean_name(actor.display_name)
    row = conn.execute("SELECT id, display_name, created_at FROM users WHERE platform = ? AND user_id = ?"
                       + (person_lock(conn) if lock else ""), (actor.platform, actor.user_id)).fetchone()
    created = row is None
    if created:  # new; or created meanwhile by another process, whose row then gets this name
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
    if actor.membership:
        facts.append(("INSERT INTO memberships(user_pk, guild) VALUES (?, ?) ON CONFLICT DO NOTHING", actor.membership))
    for sql, fact in facts:
        if visit is not None and not created and visit.seen.known(user, fact):
            continue
        cursor = conn.execute(sql, (user_pk, fact))
        if visit is not None:
            visit.tried((*user, fact), cursor)
    return user_pk


def find_user(conn: sqlite3.Connection, platform: str, user_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM users WHERE platform = ? AND user_id = ?", (platform, user_id)).fetchone()

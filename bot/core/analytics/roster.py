"""Who is in the class, and where each member stands in each chapter.

A class is the members of one server or workspace (`memberships.guild`, `platform:guild`): an
instructor's figures never include anyone else, since every query here joins `memberships` on
that one guild. A member's state per chapter is built by `progress.summarise_chapter`, the same
function `/progress` uses for one student, from rows read here for the whole class at once
(a few queries, not a few per student), so the statistics, the gradebook, the leaderboard and
`/progress` agree on pages read, best score, pass and completion. Reading (`read_roster_rows`, in
a read transaction) and building (`build_roster`, in a worker thread) are apart, so the
database's thread only reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..context import CoreContext
from ..lessons import DEPTHS
from ..progress import MEMBER_ATTEMPTS_SQL, ChapterState, group_attempts, summarise_chapter
from ..refusal import Refusal
from ..users import Actor

IN_YOUR_SERVER = "Run {what} in your server or workspace: it {scope}."


def guild_of(actor: Actor) -> str | None:
    """The actor's server or workspace as `memberships.guild` stores it; None in a DM."""
    return f"{actor.platform}:{actor.guild}" if actor.guild else None


def require_class(ctx: CoreContext, actor: Actor, what: str) -> str:
    """The instructor's class (its guild), or a refusal: not an instructor, or in a DM, where
    there is no class to show."""
    ctx.require_instructor(actor)
    guild = guild_of(actor)
    if guild is None:
        raise Refusal(IN_YOUR_SERVER.format(what=what, scope="shows the students of that server only"))
    return guild


@dataclass(frozen=True)
class Member:
    user_pk: int
    display_name: str  # as stored: already made safe to show (users.clean_name)
    platform: str
    user_id: str


@dataclass
class Roster:
    """The class: its members, and each member's state in each chapter of the course."""

    members: dict[int, Member]
    states: dict[int, list[ChapterState]]  # user_pk → one per chapter, in the course's order


@dataclass(frozen=True)
class RosterRows:
    """The rows a roster is built from, as read (kept apart so the reading transaction does no
    more than read, and the per-student work runs off the database's thread)."""

    members: list[Sequence[Any]]  # (user_pk, display_name, platform, user_id)
    attempts: list[Sequence[Any]]  # progress.MEMBER_ATTEMPTS_SQL's
    pages: dict[int, list[Sequence[Any]]]  # chapter → (user_pk, depth, pages read)


def read_roster_rows(conn: sqlite3.Connection, ctx: CoreContext, guild: str) -> RosterRows:
    members = conn.execute("SELECT u.id, u.display_name, u.platform, u.user_id FROM users u JOIN memberships m ON m.user_pk = u.id"
                           " WHERE m.guild = ? ORDER BY u.id", (guild,)).fetchall()
    pages = {}
    for chapter in ctx.course.chapters:
        highest = max(len(chapter.lesson.pages[d]) for d in DEPTHS)
        pages[chapter.number] = conn.execute(
            "SELECT p.user_pk, p.depth, COUNT(*) FROM pages_read p JOIN memberships m ON m.user_pk = p.user_pk"
            " WHERE m.guild = ? AND p.chapter = ? AND p.page <= ? GROUP BY p.user_pk, p.depth", (guild, chapter.number, highest)).fetchall()
    return RosterRows(members, conn.execute(MEMBER_ATTEMPTS_SQL, (guild,)).fetchall(), pages)


def build_roster(ctx: CoreContext, rows: RosterRows) -> Roster:
    """Each member's state per chapter, by `progress.summarise_chapter` (as `/progress` does)."""
    members = {row[0]: Member(row[0], row[1], row[2], row[3]) for row in rows.members}
    attempts = group_attempts(rows.attempts)
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for number, page_rows in rows.pages.items():
        for user_pk, depth, count in page_rows:
            counts.setdefault((user_pk, number), {})[depth] = count
    states = {pk: [summarise_chapter(ctx, c, counts.get((pk, c.number), {}), attempts.get((pk, c.number), []))
                   for c in ctx.course.chapters] for pk in members}
    return Roster(members, states)

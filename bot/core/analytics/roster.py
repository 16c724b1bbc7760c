"""Who is in the class, and where each member stands in each chapter.

A class is the members of one server or workspace (`memberships.guild`, `platform:guild`): an
instructor's figures never include anyone else, since every query here joins `memberships` on
that one guild. A member's state per chapter is built by `progress.summarise_chapter`, the same
function `/progress` uses for one student, from rows read here for the whole class at once
(a few queries, not a few per student), so the statistics, the gradebook, the leaderboard and
`/progress` agree on pages read, best score, pass and completion. Reading (`read_roster_rows`, in
a read transaction) and building (`build_roster`, in a worker thread) are apart, so the
database's thread only reads, in chunks (`read_roster_rows`). A command about one chapter's
questions needs only each member's best attempt there (`read_chapter_takers`): it reads that
chapter's attempts alone and picks the best with the same `progress.best_attempt`.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..context import CoreContext
from ..lessons import DEPTHS
from ..progress import ATTEMPT_SCORE_COLUMNS, FINISHED_QUIZZES, ChapterState, best_attempt, group_attempts, summarise_chapter
from ..refusal import Refusal
from ..store import Store
from ..users import Actor

IN_YOUR_SERVER = "Run {what} in your server or workspace: it {scope}."


def require_class(ctx: CoreContext, actor: Actor, what: str) -> str:
    """The instructor's class (its guild), or a refusal: not an instructor, or in a DM, where
    there is no class to show."""
    ctx.require_instructor(actor)
    guild = actor.membership
    if guild is None:
        raise Refusal(IN_YOUR_SERVER.format(what=what, scope="shows the students of that server only"))
    return guild


@dataclass(frozen=True)
class Member:
    user_pk: int
    display_name: str  # as stored: already made safe to show (users.clean_name)
    platform: str
    user_id: str


@dataclass(frozen=True)
class ChapterTakers:
    """What item analysis reads for one chapter: the class's members, and the best finished quiz
    (`progress.best_attempt`) of each member who finished one."""

    members: list[int]  # user_pk
    best_attempt_ids: list[int]


@dataclass
class Roster:
    """The class: its members, and each member's state in each chapter of the course."""

    members: dict[int, Member]
    states: dict[int, list[ChapterState]]  # user_pk → one per chapter, in the course's order

    def takers(self, chapter_index: int) -> ChapterTakers:
        return ChapterTakers(list(self.members), [i for states in self.states.values()
                                                  if (i := states[chapter_index].best_attempt_id) is not None])


@dataclass(frozen=True)
class RosterRows:
    """The rows a roster is built from, as read (kept apart so the reading transactions do no
    more than read, and the per-student work runs off the database's thread)."""

    members: list[Sequence[Any]]  # (user_pk, display_name, platform, user_id)
    attempts: list[Sequence[Any]]  # (user_pk, chapter, then progress.AttemptScore's fields)
    pages: dict[int, list[Sequence[Any]]]  # chapter → (user_pk, depth, pages read)
    days: list[Sequence[Any]]  # (user_pk, day) since the `since` asked for; empty without it


#: Members per read transaction (see `read_roster_rows`).
CHUNK = 500


def _members(conn: sqlite3.Connection, guild: str) -> list[Sequence[Any]]:
    return conn.execute("SELECT u.id, u.display_name, u.platform, u.user_id FROM users u JOIN memberships m ON m.user_pk = u.id"
                        " WHERE m.guild = ? ORDER BY u.id", (guild,)).fetchall()


def _member_rows(conn: sqlite3.Connection, ctx: CoreContext, ids: Sequence[int], since: str | None):
    marks = ",".join("?" * len(ids))
    attempts = conn.execute(f"SELECT t.user_pk, t.chapter, {ATTEMPT_SCORE_COLUMNS} FROM quiz_attempts t"
                            f" WHERE t.user_pk IN ({marks}) AND {FINISHED_QUIZZES}", tuple(ids)).fetchall()
    pages = {}
    for chapter in ctx.course.chapters:
        highest = max(len(chapter.lesson.pages[d]) for d in DEPTHS)
        pages[chapter.number] = conn.execute(
            f"SELECT user_pk, depth, COUNT(*) FROM pages_read WHERE user_pk IN ({marks}) AND chapter = ? AND page <= ?"
            " GROUP BY user_pk, depth", (*ids, chapter.number, highest)).fetchall()
    days = conn.execute(f"SELECT user_pk, day FROM activity_days WHERE user_pk IN ({marks}) AND day >= ?",
                        (*ids, since)).fetchall() if since is not None else []
    return attempts, pages, days


def _chapter_attempts(conn: sqlite3.Connection, ids: Sequence[int], chapter: int) -> list[Sequence[Any]]:
    return conn.execute(f"SELECT t.user_pk, t.chapter, {ATTEMPT_SCORE_COLUMNS} FROM quiz_attempts t"
                        f" WHERE t.user_pk IN ({','.join('?' * len(ids))}) AND t.chapter = ? AND {FINISHED_QUIZZES}",
                        (*ids, chapter)).fetchall()


def _best_ids(rows: list[Sequence[Any]]) -> list[int]:
    with collection_paused():
        return [best.id for attempts in group_attempts(rows).values() if (best := best_attempt(attempts)) is not None]


async def read_chapter_takers(store: Store, guild: str, chapter: int) -> ChapterTakers:
    """The class's members and their best attempts in one chapter, for `/course stats chapter N`
    and `/course question`: only that chapter's finished attempts are read (CHUNK members per
    read transaction, as `read_roster_rows`), and only the best one is picked, by the same
    `best_attempt` as every state, without pages read nor whole states: half of what a roster
    costs at 10,000 students."""
    ids = [m[0] for m in await store.read(_members, guild)]
    attempts: list[Sequence[Any]] = []
    for start in range(0, len(ids), CHUNK):
        attempts += await store.read(_chapter_attempts, ids[start:start + CHUNK], chapter)
    return ChapterTakers(ids, await asyncio.to_thread(_best_ids, attempts))


async def read_roster_rows(store: Store, ctx: CoreContext, guild: str, since: str | None = None) -> RosterRows:
    """The class's members, then their attempts, pages read (and activity days from `since`),
    CHUNK members per read transaction: a class of 10,000 has 50,000 attempts, and one
    transaction reading every row would keep the database's one thread, and every request
    waiting on it (a live quiz's answers), for a second on a loaded machine. A student who acts
    meanwhile may be counted as they were before or after; never twice, nor from another server."""
    members = await store.read(_members, guild)
    attempts: list[Sequence[Any]] = []
    pages: dict[int, list[Sequence[Any]]] = {c.number: [] for c in ctx.course.chapters}
    days: list[Sequence[Any]] = []
    ids = [m[0] for m in members]
    for start in range(0, len(ids), CHUNK):
        chunk_attempts, chunk_pages, chunk_days = await store.read(_member_rows, ctx, ids[start:start + CHUNK], since)
        attempts += chunk_attempts
        for number, rows in chunk_pages.items():
            pages[number] += rows
        days += chunk_days
    return RosterRows(members, attempts, pages, days)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cycle collector off while a class's states are built. Building 10,000 students'
    states allocates a few hundred thousand containers that all survive, so the collector ran
    full collections over the whole heap (the course, matplotlib, numpy) again and again: 40% of
    the build's time, to free nothing (these objects hold no cycles). Reference counting still
    frees everything as usual; the collector is back on when the build ends (unless it was off
    before, as another build may have turned it off meanwhile)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_roster(ctx: CoreContext, rows: RosterRows) -> Roster:
    """Each member's state per chapter, by `progress.summarise_chapter` (as `/progress` does)."""
    with collection_paused():
        return _build_roster(ctx, rows)


def _build_roster(ctx: CoreContext, rows: RosterRows) -> Roster:
    members = {row[0]: Member(row[0], row[1], row[2], row[3]) for row in rows.members}
    attempts = group_attempts(rows.attempts)
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for number, page_rows in rows.pages.items():
        for user_pk, depth, count in page_rows:
            counts.setdefault((user_pk, number), {})[depth] = count
    states = {pk: [summarise_chapter(ctx, c, counts.get((pk, c.number), {}), attempts.get((pk, c.number), []))
                   for c in ctx.course.chapters] for pk in members}
    return Roster(members, states)

"""The class at a glance (`/course stats`): who started, who is active, how far each chapter's
readers got (the funnel from opening the lesson to completing the chapter), streaks, the review
backlog, live quiz participation, and how many were active on each of the last four weeks' days.

Each figure counts members of the instructor's server or workspace (`roster.py`), and the
chapter figures come from the same per-student states as `/progress`: "finished a quiz" and the
best score both read finished quiz attempts, so the overview cannot say "took the quiz: 0" beside
a question everyone answered.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..clock import iso
from ..context import CoreContext
from ..lessons import DEPTHS
from ..progress import streak
from ..store import Store
from .roster import Roster, RosterRows, build_roster, collection_paused, read_roster_rows

#: Days of the activity chart, ending today.
ACTIVITY_DAYS = 28
#: "Active": seen on one of the last this many days, today included.
ACTIVE_WINDOW = 7
#: How far back streaks are read: a streak longer than this shows as this long.
STREAK_HORIZON = 366
#: The funnel's stages, in order.
FUNNEL = ("opened the lesson", "read it to the end", "finished a quiz", "passed the quiz", "completed")


@dataclass(frozen=True)
class ChapterFunnel:
    number: int
    title: str
    stages: tuple[int, ...]  # members at each FUNNEL stage
    read_to_end: dict[str, int]  # depth → members who read every page of that depth
    average_best: float | None  # mean best share right over members who finished a quiz


@dataclass(frozen=True)
class Overview:
    students: int
    started: int  # opened a lesson or finished a quiz
    active: int  # active in the last ACTIVE_WINDOW days
    on_streak: int  # current streak of two days or more
    longest_streak: int
    review_students: int  # members with questions due for review
    review_due: int
    review_queued: int
    live_sessions: int  # live quizzes run here
    live_players: int  # members who answered in one
    live_answers: int
    chapters: list[ChapterFunnel]
    activity: list[tuple[date, int]]  # (day, members active), the last ACTIVITY_DAYS days


@dataclass(frozen=True)
class OverviewRows:
    """What the overview is computed from, as read."""

    roster: RosterRows  # with the activity days of the last STREAK_HORIZON days
    review: Sequence[Any]  # (students with questions due, questions due, questions queued)
    live: tuple[int, int, int]  # (sessions here, members who answered, answers)


def _counts(conn: sqlite3.Connection, guild: str, now: datetime) -> tuple[Sequence[Any], tuple[int, int, int]]:
    review = conn.execute(
        "SELECT COUNT(DISTINCT r.user_pk) FILTER (WHERE r.due <= ?), COUNT(*) FILTER (WHERE r.due <= ?), COUNT(*)"
        " FROM review_cards r JOIN memberships m ON m.user_pk = r.user_pk WHERE m.guild = ?", (iso(now), iso(now), guild)).fetchone()
    platform, _, place = guild.partition(":")
    sessions = conn.execute("SELECT COUNT(*) FROM live_sessions WHERE platform = ? AND guild = ? AND source = 'quiz'", (platform, place)).fetchone()[0]
    players, answers = conn.execute(
        "SELECT COUNT(DISTINCT a.user_pk), COUNT(*) FROM live_answers a JOIN live_sessions s ON s.id = a.session_id"
        " JOIN memberships m ON m.user_pk = a.user_pk AND m.guild = ? WHERE s.platform = ? AND s.guild = ? AND s.source = 'quiz'",
        (guild, platform, place)).fetchone()
    return review, (sessions, players, answers)


async def read_overview(store: Store, ctx: CoreContext, guild: str, now: datetime) -> OverviewRows:
    since = (now.date() - timedelta(days=STREAK_HORIZON - 1)).isoformat()
    roster = await read_roster_rows(store, ctx, guild, since)
    review, live = await store.read(_counts, guild, now)
    return OverviewRows(roster, review, live)


def summarise(ctx: CoreContext, rows: OverviewRows, now: datetime) -> Overview:
    """The overview from its rows (off the database's thread: the per-student work is here)."""
    with collection_paused():
        return _summarise(ctx, rows, now)


def _summarise(ctx: CoreContext, rows: OverviewRows, now: datetime) -> Overview:
    roster = build_roster(ctx, rows.roster)
    today = now.date()
    days: dict[int, list[str]] = {}
    for user_pk, day in rows.roster.days:
        days.setdefault(user_pk, []).append(day)
    streaks = [streak(d, today) for d in days.values()]
    window = (today - timedelta(days=ACTIVE_WINDOW - 1)).isoformat()
    per_day: dict[str, int] = {}
    for ds in days.values():
        for d in ds:
            per_day[d] = per_day.get(d, 0) + 1
    due_students, due, queued = rows.review
    sessions, players, answers = rows.live
    return Overview(
        students=len(roster.members), started=_started(roster),
        active=sum(1 for ds in days.values() if max(ds) >= window),
        on_streak=sum(1 for s in streaks if s >= 2), longest_streak=max(streaks, default=0),
        review_students=due_students or 0, review_due=due or 0, review_queued=queued or 0,
        live_sessions=sessions, live_players=players, live_answers=answers,
        chapters=_funnels(ctx, roster),
        activity=[(day, per_day.get(day.isoformat(), 0)) for day in (today - timedelta(days=n) for n in range(ACTIVITY_DAYS - 1, -1, -1))])


def _started(roster: Roster) -> int:
    return sum(1 for states in roster.states.values() if any(any(s.pages_read.values()) or s.attempts for s in states))


def _funnels(ctx: CoreContext, roster: Roster) -> list[ChapterFunnel]:
    out = []
    for i, chapter in enumerate(ctx.course.chapters):
        states = [s[i] for s in roster.states.values()]
        takers = [s for s in states if s.best]
        out.append(ChapterFunnel(
            chapter.number, chapter.title,
            stages=(sum(1 for s in states if any(s.pages_read.values())), sum(1 for s in states if s.lesson_read),
                    len(takers), sum(1 for s in states if s.passed), sum(1 for s in states if s.complete)),
            read_to_end={d: sum(1 for s in states if s.pages_read[d] >= s.pages_total[d]) for d in DEPTHS},
            average_best=sum(s.best[0] / s.best[1] for s in takers if s.best) / len(takers) if takers else None))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def render(overview: Overview) -> str:
    """The overview as Markdown: every figure the charts show, in words too."""
    o = overview
    lines = [f"👩‍🏫 **Class statistics** — {_plural(o.students, 'student')} in this server or workspace",
             f"- started: {o.started} · active in the last {ACTIVE_WINDOW} days: {o.active}",
             f"- on a streak of 2+ days: {o.on_streak} (longest: {_plural(o.longest_streak, 'day')})",
             f"- review backlog: {_plural(o.review_due, 'question')} due for {_plural(o.review_students, 'student')}"
             f" ({o.review_queued} queued in all)",
             f"- live quizzes here: {o.live_sessions}, with {_plural(o.live_players, 'player')} and {_plural(o.live_answers, 'answer')}"]
    for c in o.chapters:
        lines += ["", f"**Chapter {c.number}: {c.title}**",
                  " → ".join(f"{stage}: {n}" for stage, n in zip(FUNNEL, c.stages, strict=True)),
                  "- read to the end: " + " · ".join(f"{d} {c.read_to_end[d]}" for d in DEPTHS)]
        if c.average_best is not None:
            lines.append(f"- average best score: {round(100 * c.average_best)}% over {_plural(c.stages[2], 'student')}")
    lines += ["", "_`/course stats chapter N`: lesson pages and item analysis · `/course question ID` · `/course export`_"]
    return "\n".join(lines)


def funnel_summary(overview: Overview) -> str:
    return "Funnel: " + "; ".join(f"chapter {c.number}: " + ", ".join(f"{stage} {n}" for stage, n in zip(FUNNEL, c.stages, strict=True))
                                  for c in overview.chapters) + "."


def activity_summary(overview: Overview) -> str:
    busiest = max(overview.activity, key=lambda d: (d[1], d[0]))
    total = sum(n for _, n in overview.activity)
    return (f"Students active per day over the last {ACTIVITY_DAYS} days: {total} student-days in all; busiest "
            f"{busiest[0].isoformat()} with {busiest[1]}; today {overview.activity[-1][1]}.")

"""Progress: what each user has read and passed, the streak, completion, and leaderboards.

A chapter is complete when its lesson was read to the end at either depth (every page of
that depth) and a quiz on it was passed: at least the pass mark (default 80%) on an attempt
of at least `MIN_PASSING_QUESTIONS` questions (or all of the chapter's, if it has fewer).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from . import actions
from .content import Chapter
from .context import CoreContext
from .lessons import DEPTHS
from .replies import Button, Reply, progress_bar, quote_user_text
from .review import queue_summary
from .users import Actor, find_user

MIN_PASSING_QUESTIONS = 5
LEADERBOARD_SIZE = 10
POINTS_PER_SOLO_ANSWER = 100


class AttemptScore(NamedTuple):
    """A finished quiz attempt as progress reads it (ATTEMPT_SCORE_COLUMNS): its id, right
    answers, questions asked, and how many finished attempts pruned before it it stands for (see
    quiz.prune_attempts). A named tuple: a class of 10,000 has 50,000 of them, made five times
    faster than a dataclass. The questions asked are stored with the attempt
    (`quiz_attempts.questions`, migrations/0016_analytics.sql), not parsed from its JSON list of
    keys: parsing took most of the class statistics' time at 10,000 students."""

    id: int
    correct: int
    total: int
    pruned_before: int = 0

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


#: The columns of `quiz_attempts` that make an AttemptScore, in its order.
ATTEMPT_SCORE_COLUMNS = "id, correct, questions, pruned_before"


def best_attempt(attempts: Iterable[AttemptScore]) -> AttemptScore | None:
    """The one meaning of "best score" (for `/progress`, the leaderboard, the class statistics,
    item analysis and the gradebook): the highest share right; on a tie the longer quiz (4/4
    beats 2/2), then the earlier attempt, so the same rows always give the same attempt."""
    return max(attempts, key=lambda a: (a.share, a.total, -a.id), default=None)


@dataclass
class ChapterState:
    number: int
    title: str
    pages_read: dict[str, int] = field(default_factory=dict)
    pages_total: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    best: tuple[int, int] | None = None  # (correct, total) of the best finished quiz (`best_attempt`)
    best_attempt_id: int | None = None
    passed: bool = False

    @property
    def lesson_read(self) -> bool:
        return any(self.pages_read.get(d, 0) >= self.pages_total[d] for d in DEPTHS)

    @property
    def complete(self) -> bool:
        return self.lesson_read and self.passed


def summarise_chapter(ctx: CoreContext, chapter: Chapter, page_counts: dict[str, int], attempts: list[AttemptScore]) -> ChapterState:
    """A student's state in a chapter from their rows: pages read per depth (counting pages that
    exist only) and finished quiz attempts. One function for one student (`course_states`) and
    for a whole class read at once (bot/core/analytics), so both always agree."""
    state = ChapterState(chapter.number, chapter.title)
    for depth in DEPTHS:
        state.pages_total[depth] = len(chapter.lesson.pages[depth])
        state.pages_read[depth] = min(page_counts.get(depth, 0), state.pages_total[depth])
    need = min(MIN_PASSING_QUESTIONS, len(chapter.questions))
    threshold = ctx.settings.pass_threshold
    state.attempts = sum(1 + a.pruned_before for a in attempts)  # attempts pruned for bounded growth still count
    best = best_attempt(attempts)
    if best is not None:
        state.best, state.best_attempt_id = (best.correct, best.total), best.id
    state.passed = any(a.total >= need and a.correct >= threshold * a.total - 1e-9 for a in attempts)
    return state


class StudentRows(NamedTuple):
    """One student's rows that their chapters' states are made of (`course_states`): the pages
    read, as (chapter, depth, page), and the finished quiz attempts per chapter."""

    pages_read: frozenset[tuple[int, str, int]]
    attempts: dict[int, list[AttemptScore]]


def student_rows(conn: sqlite3.Connection, user_pk: int) -> StudentRows:
    """The student's rows for every chapter at once: two statements whatever the number of
    chapters, both sent before either is read (one round trip on PostgreSQL)."""
    pages = conn.execute("SELECT chapter, depth, page FROM pages_read WHERE user_pk = ?", (user_pk,))
    finished = conn.execute(f"SELECT chapter, {ATTEMPT_SCORE_COLUMNS} FROM quiz_attempts t"
                            f" WHERE user_pk = ? AND {FINISHED_QUIZZES}", (user_pk,))
    read = frozenset((chapter, depth, page) for chapter, depth, page in pages)
    attempts: dict[int, list[AttemptScore]] = {}
    for chapter, attempt_id, correct, total, pruned_before in finished:
        attempts.setdefault(chapter, []).append(AttemptScore(attempt_id, correct, total, pruned_before))
    return StudentRows(read, attempts)


def course_states(ctx: CoreContext, rows: StudentRows) -> list[ChapterState]:
    """Each chapter's state from a student's rows (a page counts while the chapter's lesson has
    that many pages at either depth)."""
    counts: dict[tuple[int, str], int] = {}
    limits = {c.number: max(len(c.lesson.pages[d]) for d in DEPTHS) for c in ctx.course.chapters}
    for chapter, depth, page in rows.pages_read:
        if page <= limits.get(chapter, 0):
            counts[(chapter, depth)] = counts.get((chapter, depth), 0) + 1
    return [summarise_chapter(ctx, c, {d: counts.get((c.number, d), 0) for d in DEPTHS}, rows.attempts.get(c.number, []))
            for c in ctx.course.chapters]


def course_done(ctx: CoreContext, rows: StudentRows) -> bool:
    return all(state.complete for state in course_states(ctx, rows))


def completed_by(ctx: CoreContext, rows: StudentRows, before: StudentRows) -> bool:
    """Whether the step that made `before` into `rows` (a page read, a quiz finished: the
    student's rows without it and with it, read once) completed the course."""
    return course_done(ctx, rows) and not course_done(ctx, before)


def completion_text(ctx: CoreContext, depth: str, shown: str = "") -> str:
    """The closing section of the course (the last chapter's "Congratulations"), at a depth,
    unless the reply already `shown` contains it."""
    headline = f"🎓 **You have completed {ctx.course.title}!**"
    for chapter in reversed(ctx.course.chapters):
        if chapter.completion_section:
            section = chapter.lesson.section(chapter.completion_section, depth)
            if section and section.text not in shown:
                return f"{headline}\n\n{section.text}"
    return headline


def streak(days: list[str], today: date) -> int:
    """Consecutive active days ending today (or yesterday: the streak is not lost until a day is missed)."""
    active = {date.fromisoformat(d) for d in days}
    day = today if today in active else today - timedelta(days=1)
    count = 0
    while day in active:
        count += 1
        day -= timedelta(days=1)
    return count


def read_progress(conn, ctx: CoreContext, actor: Actor):
    """What `/progress` and the progress card show: states per chapter, streak, active days,
    the review queue (due, queued, next) and live quiz (points, answers)."""
    now = ctx.clock.now()
    user = find_user(conn, actor.platform, actor.user_id)  # a read: no write lock, so it answers during a backup
    user_pk = user["id"] if user else 0
    # Every statement sent before any is read: one round trip for them on PostgreSQL.
    active = conn.execute("SELECT day FROM activity_days WHERE user_pk = ?", (user_pk,))
    live = conn.execute("SELECT COALESCE(SUM(a.points), 0), COUNT(*) FROM live_answers a JOIN live_sessions s ON s.id = a.session_id"
                        " WHERE a.user_pk = ? AND s.source = 'quiz'", (user_pk,))  # a live lab's votes are no quiz answers
    states = course_states(ctx, student_rows(conn, user_pk))
    # Asking counts as today's activity, as every command does (recorded by the next one that writes).
    days = sorted({r[0] for r in active} | {now.date().isoformat()})
    return states, streak(days, now.date()), len(days), queue_summary(conn, user_pk, now), tuple(live.fetchone())


async def show(ctx: CoreContext, actor: Actor) -> Reply:
    states, run, active_days, (due, queued, _), (live_points, live_answers) = await ctx.store.read(read_progress, ctx, actor)
    lines = []
    for s in states:
        mark = "✅" if s.complete else "📖"
        lines.append(f"{mark} **Chapter {s.number}: {s.title}**")
        for depth in DEPTHS:
            bar = progress_bar(s.pages_read[depth], s.pages_total[depth])
            lines.append(f"`{depth:<7}` `{bar}` {s.pages_read[depth]}/{s.pages_total[depth]} pages")
        if s.best:
            bar = progress_bar(s.best[0], s.best[1])
            lines.append(f"`quiz   ` `{bar}` best {s.best[0]}/{s.best[1]} · {s.attempts} attempt{'s' * (s.attempts != 1)}{' · passed' if s.passed else ''}")
        else:
            lines.append("`quiz   ` not taken yet")
        lines.append("")
    done = sum(s.complete for s in states)
    lines.append(f"**Course:** `{progress_bar(done, len(states))}` {done}/{len(states)} chapters complete")
    lines.append(f"🔥 Streak: {run} day{'s' * (run != 1)} · {active_days} active day{'s' * (active_days != 1)} in all")
    lines.append(f"🧠 Review queue: {queued} question{'s' * (queued != 1)}, {due} due now")
    if live_answers:
        lines.append(f"🎯 Live quizzes: {live_points} points from {live_answers} answer{'s' * (live_answers != 1)}")
    buttons = [Button("📖 Continue reading", actions.ContinueReading().format(), "primary")]
    if due:
        buttons.append(Button(f"🧠 Review {due} due", actions.ReviewStart().format()))
    # A button, not an attached image: /progress stays a fast text reply, and the card (drawn
    # in tens of milliseconds, then uploaded) is made only for those who ask.
    buttons.append(Button("🖼 Show my progress card", actions.ProgressCard().format()))
    return Reply(title="Your progress", text="\n".join(lines).strip(), buttons=buttons, ephemeral=True, kind="progress")


#: The attempts (`quiz_attempts t`) that count for progress: finished quizzes (not reviews).
FINISHED_QUIZZES = "t.kind = 'quiz' AND t.status = 'finished'"
#: The finished quiz attempts of a server's members: (user, chapter, then AttemptScore's fields).
MEMBER_ATTEMPTS_SQL = (f"SELECT t.user_pk, t.chapter, {ATTEMPT_SCORE_COLUMNS}"
                       f" FROM quiz_attempts t JOIN memberships m ON m.user_pk = t.user_pk WHERE m.guild = ? AND {FINISHED_QUIZZES}")


def group_attempts(rows: Iterable[Sequence[Any]]) -> dict[tuple[int, int], list[AttemptScore]]:
    """MEMBER_ATTEMPTS_SQL's rows per (user, chapter): what `summarise_chapter` and
    `best_attempt` read, for a whole class at once."""
    attempts: dict[tuple[int, int], list[AttemptScore]] = {}
    for user_pk, chapter, attempt_id, correct, total, pruned_before in rows:  # unpacked by name: 3× faster than `*score`
        score = AttemptScore(attempt_id, correct, total, pruned_before)
        group = attempts.get((user_pk, chapter))
        if group is None:
            attempts[(user_pk, chapter)] = [score]
        else:
            group.append(score)
    return attempts


def best_scores(conn: sqlite3.Connection, guild: str) -> dict[tuple[int, int], AttemptScore]:
    """Each member's best finished quiz (`best_attempt`) per chapter: what the leaderboard scores."""
    attempts = group_attempts(conn.execute(MEMBER_ATTEMPTS_SQL, (guild,)))
    return {key: best for key, rows in attempts.items() if (best := best_attempt(rows)) is not None}


def _leaderboard(conn, ctx: CoreContext, actor: Actor):
    guild = actor.membership
    if guild is None:
        return None
    points: dict[int, int] = {}
    for (user_pk, _), best in best_scores(conn, guild).items():
        points[user_pk] = points.get(user_pk, 0) + best.correct * POINTS_PER_SOLO_ANSWER
    for user_pk, live in conn.execute(
            "SELECT a.user_pk, SUM(a.points) FROM live_answers a JOIN live_sessions s ON s.id = a.session_id"
            " JOIN memberships m ON m.user_pk = a.user_pk AND m.guild = ?"
            " WHERE s.platform = ? AND s.guild = ? GROUP BY a.user_pk", (guild, actor.platform, actor.guild)):
        points[user_pk] = points.get(user_pk, 0) + live
    names = dict(conn.execute("SELECT u.id, u.display_name FROM users u JOIN memberships m ON m.user_pk = u.id WHERE m.guild = ?", (guild,)).fetchall())
    ranked = sorted(((score, names[pk], pk) for pk, score in points.items() if score > 0), key=lambda r: (-r[0], r[1]))[:LEADERBOARD_SIZE]
    out = []
    for score, name, user_pk in ranked:
        chapters = sum(state.complete for state in course_states(ctx, student_rows(conn, user_pk)))
        out.append((quote_user_text(name), score, chapters))  # again when shown: names stored by older versions
    return out


async def leaderboard(ctx: CoreContext, actor: Actor) -> Reply:
    rows = await ctx.store.read(_leaderboard, ctx, actor)
    if rows is None:
        return Reply(text="Leaderboards belong to a server or workspace: ask in a channel there.", ephemeral=True)
    if not rows:
        return Reply(title="Leaderboard", text="No scores here yet. Be the first: `/quiz`, or start a live quiz with `/live`.",
                     kind="leaderboard", ephemeral=False)
    medals = ["🥇", "🥈", "🥉"]
    lines = [f"{medals[i] if i < 3 else f'{i + 1}.'} **{name}** — {score} pts · {done} chapter{'s' * (done != 1)} complete"
             for i, (name, score, done) in enumerate(rows)]
    lines.append(f"\n_Score: {POINTS_PER_SOLO_ANSWER} per correct answer in each chapter's best solo quiz (the best share right, as in `/progress`), plus live quiz points won here._")
    return Reply(title="Leaderboard", text="\n".join(lines), kind="leaderboard", ephemeral=False)

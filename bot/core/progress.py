"""Progress: what each user has read and passed, the streak, completion, and leaderboards.

A chapter is complete when its lesson was read to the end at either depth (every page of
that depth) and a quiz on it was passed: at least the pass mark (default 80%) on an attempt
of at least `MIN_PASSING_QUESTIONS` questions (or all of the chapter's, if it has fewer).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

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


@dataclass
class ChapterState:
    number: int
    title: str
    pages_read: dict[str, int] = field(default_factory=dict)
    pages_total: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    best: tuple[int, int] | None = None  # (correct, total) of the best finished quiz
    passed: bool = False

    @property
    def lesson_read(self) -> bool:
        return any(self.pages_read.get(d, 0) >= self.pages_total[d] for d in DEPTHS)

    @property
    def complete(self) -> bool:
        return self.lesson_read and self.passed


def chapter_state(conn: sqlite3.Connection, ctx: CoreContext, user_pk: int, chapter: Chapter) -> ChapterState:
    state = ChapterState(chapter.number, chapter.title)
    for depth in DEPTHS:
        state.pages_total[depth] = len(chapter.lesson.pages[depth])
        state.pages_read[depth] = 0
    for depth, count in conn.execute(
        "SELECT depth, COUNT(*) FROM pages_read WHERE user_pk = ? AND chapter = ? AND page <= ? GROUP BY depth",
        (user_pk, chapter.number, max(state.pages_total.values())),
    ):
        state.pages_read[depth] = min(count, state.pages_total[depth])
    need = min(MIN_PASSING_QUESTIONS, len(chapter.questions))
    threshold = ctx.settings.pass_threshold
    for correct, keys, pruned_before in conn.execute(
        "SELECT correct, question_keys, pruned_before FROM quiz_attempts"
        " WHERE user_pk = ? AND chapter = ? AND kind = 'quiz' AND status = 'finished'",
        (user_pk, chapter.number),
    ):
        total = len(json.loads(keys))  # counted here: JSON functions differ between SQLite and PostgreSQL
        state.attempts += 1 + pruned_before  # attempts pruned for bounded growth still count
        if state.best is None or correct / total > state.best[0] / state.best[1] or (
            correct / total == state.best[0] / state.best[1] and total > state.best[1]
        ):
            state.best = (correct, total)
        if total >= need and correct >= threshold * total - 1e-9:
            state.passed = True
    return state


def course_complete(conn: sqlite3.Connection, ctx: CoreContext, user_pk: int) -> bool:
    return all(chapter_state(conn, ctx, user_pk, c).complete for c in ctx.course.chapters)


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


def _progress(conn, ctx: CoreContext, actor: Actor):
    now = ctx.clock.now()
    user = find_user(conn, actor.platform, actor.user_id)  # a read: no write lock, so it answers during a backup
    user_pk = user["id"] if user else 0
    states = [chapter_state(conn, ctx, user_pk, c) for c in ctx.course.chapters]
    # Asking counts as today's activity, as every command does (recorded by the next one that writes).
    days = sorted({r[0] for r in conn.execute("SELECT day FROM activity_days WHERE user_pk = ?", (user_pk,))} | {now.date().isoformat()})
    live = conn.execute("SELECT COALESCE(SUM(points), 0), COUNT(*) FROM live_answers WHERE user_pk = ?", (user_pk,)).fetchone()
    return states, streak(days, now.date()), len(days), queue_summary(conn, user_pk, now), tuple(live)


async def show(ctx: CoreContext, actor: Actor) -> Reply:
    states, run, active_days, (due, queued, _), (live_points, live_answers) = await ctx.store.read(_progress, ctx, actor)
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
    return Reply(title="Your progress", text="\n".join(lines).strip(), buttons=buttons, ephemeral=True, kind="progress")


def _leaderboard(conn, ctx: CoreContext, actor: Actor):
    guild = f"{actor.platform}:{actor.guild}" if actor.guild else None
    if guild is None:
        return None
    rows = conn.execute(
        """
        WITH members AS (SELECT user_pk FROM memberships WHERE guild = ?),
        best AS (
            SELECT user_pk, chapter, MAX(correct) AS correct FROM quiz_attempts
            WHERE kind = 'quiz' AND status = 'finished' AND user_pk IN (SELECT user_pk FROM members)
            GROUP BY user_pk, chapter),
        solo AS (SELECT user_pk, SUM(correct) * ? AS points FROM best GROUP BY user_pk),
        live AS (
            SELECT a.user_pk, SUM(a.points) AS points FROM live_answers a
            JOIN live_sessions s ON s.id = a.session_id
            WHERE s.platform = ? AND s.guild = ? GROUP BY a.user_pk)
        SELECT u.id, u.display_name, COALESCE(solo.points, 0) + COALESCE(live.points, 0) AS score
        FROM members m JOIN users u ON u.id = m.user_pk
        LEFT JOIN solo ON solo.user_pk = m.user_pk LEFT JOIN live ON live.user_pk = m.user_pk
        WHERE COALESCE(solo.points, 0) + COALESCE(live.points, 0) > 0
        ORDER BY score DESC, u.display_name LIMIT ?
        """,
        (guild, POINTS_PER_SOLO_ANSWER, actor.platform, actor.guild, LEADERBOARD_SIZE),
    ).fetchall()
    out = []
    for user_pk, name, score in rows:
        chapters = sum(chapter_state(conn, ctx, user_pk, c).complete for c in ctx.course.chapters)
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
    lines.append(f"\n_Score: {POINTS_PER_SOLO_ANSWER} per correct answer in each chapter's best solo quiz, plus live quiz points won here._")
    return Reply(title="Leaderboard", text="\n".join(lines), kind="leaderboard", ephemeral=False)

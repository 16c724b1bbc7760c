"""Live quizzes in a channel: everyone answers the same question against the clock.

The session's whole state lives in SQLite (`live_sessions`), so a restart resumes it; a
session whose deadline passed long ago (the companion was down) is closed cleanly with its
standings. Time comes from an injectable clock: `advance_due()` moves every session whose
deadline has passed, and the supervised `run()` loop calls it when the next deadline comes.
Adapters only show the `LiveEvent`s (question opened, question closed with standings,
session ended); the answers themselves are acknowledged ephemerally.

Scoring: a correct answer earns `round(1000 × (1 − elapsed / limit / 2))` points (1000 for
an instant answer, 500 at the buzzer); a wrong one earns 0. One answer per person per question.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .clock import iso, parse_iso
from .questions import (
    LETTERS,
    AnswerError,
    Question,
    ask,
    correct_answer,
    describe_answer,
    is_correct,
    parse_answer,
)
from .replies import Button, Reply, error
from .users import Actor, touch_user

if TYPE_CHECKING:
    from .companion import Companion

log = logging.getLogger(__name__)
MAX_POINTS = 1000
STANDINGS_SHOWN = 5
#: A session whose deadline passed more than this long ago is closed at start-up, not resumed.
STALE_AFTER = timedelta(minutes=10)


def points_for(correct: bool, elapsed: float, limit: float) -> int:
    if not correct:
        return 0
    return round(MAX_POINTS * (1 - min(max(elapsed, 0.0), limit) / limit / 2))


@dataclass
class LiveEvent:
    kind: str  # "question" | "closed" | "ended"
    session_id: int
    place: tuple[str, str, str]  # (platform, guild, channel)
    question_index: int
    reply: Reply
    closes_at: datetime | None = None


Listener = Callable[[LiveEvent], Awaitable[None]]


def _find_session(conn, actor: Actor, session_id: int | None):
    """The session with this id, or else the one running in the actor's channel."""
    if session_id is not None:
        return conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
    return conn.execute("SELECT * FROM live_sessions WHERE platform = ? AND guild = ? AND channel = ? AND phase != 'ended'",
                        actor.place).fetchone()


class LiveQuizzes:
    def __init__(self, core: Companion):
        self.core = core
        self.listeners: list[Listener] = []
        self._changed = asyncio.Event()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def _publish(self, events: list[LiveEvent]) -> None:
        for event in events:
            for listener in self.listeners:
                try:
                    await listener(event)
                except Exception:  # one adapter failing to show an event must not stop the quiz
                    log.exception("live event listener failed for session %s", event.session_id)
        self._changed.set()

    # ---- commands -------------------------------------------------------------------------

    async def start(self, actor: Actor, chapter: int | None = None, count: int | None = None) -> Reply:
        core = self.core
        if actor.guild is None:
            return error("Live quizzes run in a channel, so everyone there can play: start one in a server or workspace channel.")
        if core.settings.live_starters == "instructors" and not core.is_instructor(actor):
            return error("Only instructors can start a live quiz here.")
        if count is not None and not 1 <= count <= 50:
            return error("Ask for between 1 and 50 questions.")
        result, problem = await core.store.run(self._start, actor, chapter, count)
        if problem:
            return error(problem)
        await self._publish(result)
        return Reply(text=f"🎯 Live quiz started in this channel: {result[0].reply.title}. "
                          "Everyone answers with the buttons; one answer each, and faster is worth more.",
                     ephemeral=True, kind="live")

    def _start(self, conn, actor: Actor, chapter: int | None, count: int | None):
        core = self.core
        now = core.clock.now()
        user_pk = touch_user(conn, actor, now)
        number = chapter if chapter is not None else core.course.chapters[0].number
        found = core.course.chapter(number)
        if found is None:
            return None, f"There is no chapter {number}. Chapters: {core.chapter_list()}."
        if _find_session(conn, actor, None):
            return None, "A live quiz is already running in this channel. Its starter or an instructor can `/live stop` it."
        platform, guild, channel = actor.place
        seed = random.randrange(1, 2**31)
        pool = list(found.questions)
        random.Random(seed).shuffle(pool)
        keys = [q.key for q in pool[: count or core.settings.live_questions]]
        if not keys:
            return None, f"Chapter {number} has no quiz questions yet."
        seconds = core.settings.live_question_seconds
        session_id = conn.execute(
            "INSERT INTO live_sessions(platform, guild, channel, chapter, starter_pk, question_keys, seed, question_seconds,"
            " reveal_seconds, current, phase, phase_started_at, phase_ends_at, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'question', ?, ?, ?)",
            (platform, guild, channel, number, user_pk, json.dumps(keys), seed, seconds,
             core.settings.live_reveal_seconds, iso(now), iso(now + timedelta(seconds=seconds)), iso(now)),
        ).lastrowid
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        return [self._question_event(session)], None

    async def answer(self, actor: Actor, session_id: int | None, index: int | None, text: str) -> Reply:
        return await self.core.store.run(self._answer, actor, session_id, index, text)

    def _answer(self, conn, actor: Actor, session_id: int | None, index: int | None, text: str) -> Reply:
        core = self.core
        now = core.clock.now()
        user_pk = touch_user(conn, actor, now)
        session = _find_session(conn, actor, session_id)
        if session is None:
            return error("There is no live quiz running here.")
        if index is None:
            index = session["current"]
        if session["phase"] != "question" or session["current"] != index or now >= parse_iso(session["phase_ends_at"]):
            return error("Too late: this question has closed. Get ready for the next one!" if session["phase"] != "ended"
                         else "This live quiz has ended.")
        question = core.course.question(json.loads(session["question_keys"])[index])
        if question is None:
            return error("This question is no longer in the course; wait for the next one.")
        try:
            answer = parse_answer(question, text, session["seed"])
        except AnswerError as exc:
            return error(str(exc))
        correct = is_correct(question, answer)
        elapsed = (now - parse_iso(session["phase_started_at"])).total_seconds()
        points = points_for(correct, elapsed, session["question_seconds"])
        inserted = conn.execute(
            "INSERT INTO live_answers(session_id, question_index, user_pk, answer, correct, points, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (session["id"], index, user_pk, json.dumps(answer), int(correct), points, iso(now)),
        ).rowcount
        if not inserted:
            return error("You already answered this question: only your first answer counts.")
        return Reply(text=f"📨 Answer recorded: {describe_answer(question, answer)}. Results when the question closes.",
                     ephemeral=True, kind="live-ack")

    async def skip(self, actor: Actor, session_id: int | None = None) -> Reply:
        """Close the open question now (or, between questions, open the next one now)."""
        return await self._control(actor, session_id, "skip")

    async def stop(self, actor: Actor, session_id: int | None = None) -> Reply:
        return await self._control(actor, session_id, "stop")

    async def _control(self, actor: Actor, session_id: int | None, what: str) -> Reply:
        result = await self.core.store.run(self._control_tx, actor, session_id, what)
        if isinstance(result, Reply):
            return result
        await self._publish(result)
        return Reply(text="⏭ Skipped." if what == "skip" else "⏹ Live quiz stopped.", ephemeral=True, kind="live")

    def _control_tx(self, conn, actor: Actor, session_id: int | None, what: str):
        core = self.core
        now = core.clock.now()
        user_pk = touch_user(conn, actor, now)
        session = _find_session(conn, actor, session_id)
        if session is None or session["phase"] == "ended":
            return error("There is no live quiz running here.")
        if not (core.is_instructor(actor) or session["starter_pk"] == user_pk):
            return error(f"Only the person who started this quiz or an instructor can {what} it.")
        if what == "stop":
            events = []
            if session["phase"] == "question":
                events.append(self._close_question(conn, session, now, last=False))
            return events + [self._end(conn, session, now, "stopped")]
        return self._step(conn, session, now)

    async def status(self, actor: Actor) -> Reply:
        session = await self.core.store.read(_find_session, actor, None)
        if session is None:
            return Reply(text="No live quiz is running here. Start one with `/live [chapter] [questions]`.", ephemeral=True)
        total = len(json.loads(session["question_keys"]))
        left = max(0, round((parse_iso(session["phase_ends_at"]) - self.core.clock.now()).total_seconds()))
        state = "open" if session["phase"] == "question" else "being revealed"
        return Reply(text=f"🎯 Live quiz on chapter {session['chapter']}: question {session['current'] + 1} of {total} is {state} ({left} s left).",
                     ephemeral=True, kind="live")

    # ---- the clock ------------------------------------------------------------------------

    async def advance_due(self) -> list[LiveEvent]:
        """Move every session whose deadline has passed; publish and return the events."""
        ids = await self.core.store.read(self._due_ids)
        events: list[LiveEvent] = []
        for session_id in ids:
            try:
                events += await self.core.store.run(self._advance_one, session_id)
            except Exception:
                log.exception("live session %s failed; ending it", session_id)
                events += await self.core.store.run(self._fail, session_id)
        await self._publish(events)
        return events

    def _due_ids(self, conn) -> list[int]:
        now = iso(self.core.clock.now())
        return [r[0] for r in conn.execute("SELECT id FROM live_sessions WHERE phase != 'ended' AND phase_ends_at <= ? ORDER BY id", (now,))]

    def _advance_one(self, conn, session_id: int) -> list[LiveEvent]:
        now = self.core.clock.now()
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        if session is None or session["phase"] == "ended" or parse_iso(session["phase_ends_at"]) > now:
            return []
        if now - parse_iso(session["phase_ends_at"]) > STALE_AFTER:
            events = [self._close_question(conn, session, now, last=False)] if session["phase"] == "question" else []
            return events + [self._end(conn, session, now, "interrupted")]
        return self._step(conn, session, now)

    def _fail(self, conn, session_id: int) -> list[LiveEvent]:
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        if session is None or session["phase"] == "ended":
            return []
        return [self._end(conn, session, self.core.clock.now(), "error")]

    def _step(self, conn, session, now: datetime) -> list[LiveEvent]:
        """From 'question' close it (and end after the last); from 'reveal' open the next question."""
        total = len(json.loads(session["question_keys"]))
        if session["phase"] == "question":
            last = session["current"] + 1 >= total
            events = [self._close_question(conn, session, now, last)]
            if last:
                return events + [self._end(conn, session, now, "finished")]
            if session["reveal_seconds"] > 0:
                conn.execute("UPDATE live_sessions SET phase = 'reveal', phase_started_at = ?, phase_ends_at = ? WHERE id = ?",
                             (iso(now), iso(now + timedelta(seconds=session["reveal_seconds"])), session["id"]))
                return events
            session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session["id"],)).fetchone()
            return events + self._open_next(conn, session, now)
        return self._open_next(conn, session, now)

    def _open_next(self, conn, session, now: datetime) -> list[LiveEvent]:
        conn.execute(
            "UPDATE live_sessions SET current = current + 1, phase = 'question', phase_started_at = ?, phase_ends_at = ? WHERE id = ?",
            (iso(now), iso(now + timedelta(seconds=session["question_seconds"])), session["id"]),
        )
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session["id"],)).fetchone()
        return [self._question_event(session)]

    # ---- what the channel sees ------------------------------------------------------------

    def _question(self, session, index: int) -> Question | None:
        return self.core.course.question(json.loads(session["question_keys"])[index])

    def _question_event(self, session) -> LiveEvent:
        index = session["current"]
        total = len(json.loads(session["question_keys"]))
        question = self._question(session, index)
        closes = parse_iso(session["phase_ends_at"])
        prefix = f"live:{session['id']}:{index}:a:"
        if question is None:
            reply = Reply(text="(This question was removed from the course; it will be skipped.)")
        else:
            reply = ask(question, f"Question {index + 1} of {total}", prefix, session["seed"])
        reply.title = f"Chapter {session['chapter']} live quiz · question {index + 1}/{total}"
        reply.text += f"\n\n⏳ Answers close in {session['question_seconds']} s (at {closes:%H:%M:%S} UTC). One answer each; faster earns more."
        reply.buttons += [Button("⏭ Skip", f"live:{session['id']}:skip"), Button("⏹ Stop", f"live:{session['id']}:stop", "danger")]
        reply.kind = "live-question"
        return LiveEvent("question", session["id"], (session["platform"], session["guild"], session["channel"]), index, reply, closes)

    def _standings(self, conn, session_id: int, limit: int | None = STANDINGS_SHOWN):
        sql = ("SELECT u.display_name, SUM(a.points) AS points, SUM(a.correct) AS correct FROM live_answers a"
               " JOIN users u ON u.id = a.user_pk WHERE a.session_id = ? GROUP BY a.user_pk ORDER BY points DESC, MIN(a.answered_at)")
        rows = conn.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (session_id,)).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    @staticmethod
    def _format_standings(rows) -> list[str]:
        medals = ["🥇", "🥈", "🥉"]
        return [f"{medals[i] if i < 3 else f'{i + 1}.'} **{name}** — {points} pts ({correct} correct)" for i, (name, points, correct) in enumerate(rows)]

    def _close_question(self, conn, session, now: datetime, last: bool) -> LiveEvent:
        index = session["current"]
        total = len(json.loads(session["question_keys"]))
        question = self._question(session, index)
        answers = conn.execute("SELECT answer, correct FROM live_answers WHERE session_id = ? AND question_index = ?",
                               (session["id"], index)).fetchall()
        right = sum(a["correct"] for a in answers)
        lines = [f"⏱ **Time's up for question {index + 1} of {total}.**"]
        if question is not None:
            lines += [f"The answer: **{correct_answer(question)}**", f"> {question.explanation}", ""]
            if question.type in ("single", "multiple", "true_false") and answers:
                lines += self._distribution(question, [json.loads(a["answer"]) for a in answers])
        lines.append(f"{right} of {len(answers)} answer{'s' * (len(answers) != 1)} correct.")
        standings = self._standings(conn, session["id"])
        if standings and not last:
            lines += ["", "**Standings**"] + self._format_standings(standings)
        reply = Reply(title=f"Chapter {session['chapter']} live quiz · question {index + 1}/{total}: results", text="\n".join(lines), kind="live-closed")
        return LiveEvent("closed", session["id"], (session["platform"], session["guild"], session["channel"]), index, reply)

    @staticmethod
    def _distribution(question: Question, answers: list) -> list[str]:
        if question.type == "true_false":
            options = [("True", True), ("False", False)]
        else:
            options = [(LETTERS[i], i) for i in range(len(question.choices))]
        n = len(answers)
        lines = []
        for label, value in options:
            count = sum((a is value) if question.type == "true_false" else (value in a) for a in answers)
            lines.append(f"`{label:<5}` {'▇' * round(10 * count / n)}{'▁' if not count else ''} {count} ({round(100 * count / n)}%)")
        return lines + [""]

    def _end(self, conn, session, now: datetime, reason: str) -> LiveEvent:
        conn.execute("UPDATE live_sessions SET phase = 'ended', phase_ends_at = NULL, ended_at = ?, end_reason = ? WHERE id = ?",
                     (iso(now), reason, session["id"]))
        rows = self._standings(conn, session["id"], limit=None)
        heading = {
            "finished": "🏁 **Live quiz finished!**",
            "stopped": "⏹ **Live quiz stopped.**",
            "interrupted": "⏹ **Live quiz closed**: the companion was offline past this question's deadline. Every answer given is kept.",
            "error": "⚠️ **Live quiz stopped by an internal error** (it has been logged). Every answer given so far is kept.",
        }[reason]
        lines = [heading, ""]
        if rows:
            lines += ["**Final leaderboard**"] + self._format_standings(rows[:10])
            lines.append(f"\n{len(rows)} player{'s' * (len(rows) != 1)}. Well played!")
        else:
            lines.append("Nobody answered this time.")
        reply = Reply(title=f"Chapter {session['chapter']} live quiz · final results", text="\n".join(lines), kind="live-ended")
        return LiveEvent("ended", session["id"], (session["platform"], session["guild"], session["channel"]), session["current"], reply)

    # ---- the supervised loop --------------------------------------------------------------

    async def next_deadline(self) -> datetime | None:
        def read(conn):
            row = conn.execute("SELECT MIN(phase_ends_at) FROM live_sessions WHERE phase != 'ended'").fetchone()
            return parse_iso(row[0]) if row[0] else None
        return await self.core.store.read(read)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The supervised loop (`run`) in the background for as long as the block lasts."""
        task = asyncio.create_task(self.run(), name="live-quiz-loop")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Sleep until the next deadline (or until a session changes), then advance. Never dies silently."""
        while True:
            try:
                self._changed.clear()
                deadline = await self.next_deadline()
                waits = [asyncio.ensure_future(self._changed.wait())]
                if deadline is not None:
                    waits.append(asyncio.ensure_future(self.core.clock.sleep_until(deadline)))
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for task in waits:
                        task.cancel()
                await self.advance_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live quiz loop failed; retrying in a second")
                await asyncio.sleep(1)

"""Live quizzes in a channel: everyone answers the same question against the clock.

The session's whole state lives in SQLite (`live_sessions`), so a restart resumes it; a
session whose deadline passed long ago (the companion was down) is closed cleanly with its
standings. Time comes from an injectable clock: `advance_due()` moves every session whose
deadline has passed, and the supervised `run()` loop calls it when the next deadline comes.
Adapters only show the `LiveEvent`s (question opened, question closed with standings,
session ended); the answers themselves are acknowledged ephemerally.

Several processes may share one database (Discord and Slack run separately, say). Each one's
loop advances only the sessions of the platforms it serves (`running(platforms)`), since only
its adapters can show their events; it also reads the database every `live_poll_seconds`, so a
session started by another process, or left mid-question by one that exited, is picked up.
Every step is a compare-and-set on the session's phase, question and deadline inside one
transaction: when two processes see the same deadline pass, one moves the session and emits
its events, the other finds it already moved and emits nothing. Several replicas of one
platform on PostgreSQL go further: only the replica that leads that platform's clock
(`Store.lead("live-clock:PLATFORM")`, an advisory lock held by its connection) advances its
sessions; the others leave them, and when the leader dies its lock goes with its connection
and the next replica to poll takes the clock over, within `live_poll_seconds`.

Answers: a class answers a question in the same few seconds, so the answers arriving together
are written by one transaction (`AnswerBatch`, bot/core/answer_batch.py: group commit, each
answer in a savepoint, each caller its own result or refusal), and a player's user row, activity
day and guild are written only when they change (`touch_user` with `SeenUsers`).

Answers racing the close, on PostgreSQL, where transactions interleave: the batches run at READ
COMMITTED (`answer_batch.ISOLATION`), several at once, and an answer holds its session's row
(`Store.share_lock`) from reading it open to its commit. Every move of a session (the clock's
close, skip, stop, an error, an abort) runs at the same isolation and claims the row with an
UPDATE, which waits for the answers holding it; what the move reads after its claim (the
question's answers, the standings) is read afresh, so it includes every answer committed
before. An answer racing a close is thus recorded and counted (it held the row first) or
refused "too late" (it read the row once the close had committed), never recorded but left out.

Scoring: a correct answer earns `round(1000 × (1 − elapsed / limit / 2))` points (1000 for
an instant answer, 500 at the buzzer); a wrong one earns 0. One answer per person per question.

A session's rounds come from a source (`live_sessions.source`): the quiz's questions, or another
`RoundSource` registered with `add_source` (the RLHF lab's pairs, bot/core/lab/live_lab.py), which
says what a round asks, records an answer, reveals a round and ends the session. Everything else
(the clock, compare-and-set steps, restarts, one answer each, publishing) is this module's, for
every source alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from . import actions, live_messages
from .answer_batch import ISOLATION, AnswerBatch
from .answers import judge_and_record
from .clock import iso, parse_iso
from .content import Chapter
from .context import CoreContext
from .questions import LETTERS, MultipleQuestion, Question, SingleQuestion, TrueFalseQuestion
from .refusal import Refusal
from .replies import Button, Reply, quote_user_text
from .users import Actor, SeenUsers, Visit, touch_user

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
    source: str = "quiz"  # where the session's rounds come from (see RoundSource)


Listener = Callable[[LiveEvent], Awaitable[None]]


class RoundSource(Protocol):
    """Rounds of a live session other than quiz questions (the lab's pairs). The session row is
    read and moved by LiveQuizzes; a source only says what its rounds are and show. The sync
    methods run inside the session's transaction; `complete` runs before an event is published,
    for what needs to wait (a model's refit, a chart), never inside a transaction."""

    #: What the starter is told (`{title}`: the first round's title).
    started: str
    #: What a session of this source is called, and each of its rounds (`/live status`).
    noun: str
    round_noun: str

    def rounds(self, chapter: Chapter, count: int | None, seed: int) -> list[str]: ...

    def ask(self, session: Any, index: int, total: int) -> Reply: ...

    def record(self, conn: Any, session: Any, index: int, user_pk: int, text: str, now: datetime) -> Reply: ...

    def reveal(self, conn: Any, session: Any, index: int, total: int) -> Reply: ...

    def ended(self, conn: Any, session: Any, reason: str) -> Reply: ...

    async def complete(self, event: LiveEvent) -> None: ...


ELSEWHERE = "That live quiz is in another channel: answer, skip or stop it there."
NOT_RUNNING = "There is no live quiz running here."


def _place(session) -> tuple[str, str, str]:
    return (session["platform"], session["guild"], session["channel"])


def _find_session(conn, actor: Actor, session_id: int | None, lock: str = ""):
    """The session with this id, or else the one running in the actor's channel.

    A session found by id (a button) must be in the actor's own platform, server and channel:
    an action id is untrusted, and a forged `live:ID:…` from elsewhere is refused (`ELSEWHERE`).
    `lock`: the store's `share_lock`, for an answer, which holds the row as read until it commits."""
    if session_id is not None:
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?" + lock, (session_id,)).fetchone()
        if session is not None and _place(session) != actor.place:
            raise Refusal(ELSEWHERE)
        return session
    return conn.execute("SELECT * FROM live_sessions WHERE platform = ? AND guild = ? AND channel = ? AND phase != 'ended'" + lock,
                        actor.place).fetchone()


def _claim(conn, session, **changes) -> bool:
    """Compare-and-set: apply `changes` to the session only if it is still in the state it was read
    in (phase, question, deadline). False when another process (or command) moved it first."""
    sets = ", ".join(f"{column} = ?" for column in changes)
    return conn.execute(
        f"UPDATE live_sessions SET {sets} WHERE id = ? AND phase = ? AND current = ? AND phase_ends_at IS NOT DISTINCT FROM ?",
        (*changes.values(), session["id"], session["phase"], session["current"], session["phase_ends_at"]),
    ).rowcount == 1


class LiveQuizzes:
    def __init__(self, ctx: CoreContext):
        self.ctx = ctx
        self.listeners: list[Listener] = []
        self._changed = asyncio.Event()
        #: The platforms whose sessions this process advances (None: every platform, as in tests
        #: that drive `advance_due` by hand). Set by `running(platforms)`.
        self.platforms: frozenset[str] | None = None
        #: The first round sweeps the message rows of sessions that ended while no process showed them.
        self._sweep_pending = True
        #: Rounds of the loop completed, and when the waiting loop will next look at the database
        #: by itself (None while it works): tests wait on these instead of on wall-clock time.
        self.rounds = 0
        self.asleep_until: datetime | None = None
        #: Answers arriving together (a class pressing a button at once) are written together.
        self.answers = AnswerBatch(ctx.store)
        #: Players' activity days and guilds already found recorded: one read per click, not three statements.
        self.seen = SeenUsers()
        #: Round sources besides the quiz's questions, by `live_sessions.source`.
        self.sources: dict[str, RoundSource] = {}

    def add_source(self, name: str, source: RoundSource) -> None:
        self.sources[name] = source
        #: The last `advance_due` left due sessions to the replica that leads their platform's clock.
        self._deferred = False

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def _publish(self, events: list[LiveEvent]) -> None:
        ended = []
        for event in events:
            if (source := self.sources.get(event.source)) is not None:
                try:
                    await source.complete(event)
                except Exception:  # the event is still shown, without what could not be added
                    log.exception("completing live session %s's %s event failed", event.session_id, event.kind)
            for listener in self.listeners:
                try:
                    await listener(event)
                except Exception:  # one adapter failing to show an event must not stop the quiz
                    log.exception("live event listener failed for session %s", event.session_id)
            if event.kind == "ended":
                ended.append(event.session_id)
        if ended:  # their messages' rows were needed up to the last event, and never again
            await live_messages.delete_ended(self.ctx.store, ended)
        self._changed.set()

    def _serves(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms

    def _platform_filter(self) -> tuple[str, tuple[str, ...]]:
        """SQL (and parameters) limiting live_sessions rows to the platforms this process serves."""
        if self.platforms is None:
            return "", ()
        names = tuple(sorted(self.platforms))
        return f" AND platform IN ({', '.join('?' * len(names)) or 'NULL'})", names

    # ---- commands -------------------------------------------------------------------------

    async def start(self, actor: Actor, chapter: int | None = None, count: int | None = None, source: str = "quiz") -> Reply:
        ctx = self.ctx
        if actor.guild is None:
            raise Refusal("Live quizzes run in a channel, so everyone there can play: start one in a server or workspace channel.")
        if ctx.settings.live_starters == "instructors" and not ctx.is_instructor(actor):
            raise Refusal("Only instructors can start a live quiz here.")
        if count is not None and not 1 <= count <= 50:
            raise Refusal("Ask for between 1 and 50 questions.")
        ctx.require_rate("live", actor)
        result = await ctx.store.run(self._start, actor, chapter, count, source)
        await self._publish(result)
        if source in self.sources:
            return Reply(text=self.sources[source].started.format(title=result[0].reply.title), ephemeral=True, kind="live")
        return Reply(text=f"🎯 Live quiz started in this channel: {result[0].reply.title}. "
                          "Everyone answers with the buttons; one answer each, and faster is worth more.",
                     ephemeral=True, kind="live")

    def _start(self, conn, actor: Actor, chapter: int | None, count: int | None, source: str = "quiz") -> list[LiveEvent]:
        ctx = self.ctx
        now = ctx.clock.now()
        user_pk = touch_user(conn, actor, now)
        found = ctx.require_chapter(chapter if chapter is not None else ctx.course.chapters[0].number)
        number = found.number
        if _find_session(conn, actor, None):
            raise Refusal("A live quiz is already running in this channel. Its starter or an instructor can `/live stop` it.")
        platform, guild, channel = actor.place
        seed = random.randrange(1, 2**31)
        if source in self.sources:
            keys = self.sources[source].rounds(found, count, seed)
        else:
            pool = list(found.questions)
            random.Random(seed).shuffle(pool)
            keys = [q.key for q in pool[: count or ctx.settings.live_questions]]
        if not keys:
            raise Refusal(f"Chapter {number} has no quiz questions yet.")
        seconds = ctx.settings.live_question_seconds
        session_id = conn.execute(
            "INSERT INTO live_sessions(platform, guild, channel, chapter, starter_pk, question_keys, seed, question_seconds,"
            " reveal_seconds, current, phase, phase_started_at, phase_ends_at, started_at, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'question', ?, ?, ?, ?) RETURNING id",
            (platform, guild, channel, number, user_pk, json.dumps(keys), seed, seconds,
             ctx.settings.live_reveal_seconds, iso(now), iso(now + timedelta(seconds=seconds)), iso(now), source),
        ).fetchone()[0]
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        return [self._question_event(session)]

    async def answer(self, actor: Actor, session_id: int | None, index: int | None, text: str) -> Reply:
        """Record a live answer; those arriving together share one transaction (`AnswerBatch`)."""
        visit = self.seen.visit()
        reply = await self.answers.run(self._answer, actor, session_id, index, text, visit)
        visit.keep()  # committed
        return reply

    def _answer(self, conn, actor: Actor, session_id: int | None, index: int | None, text: str, visit: Visit) -> Reply:
        now = self.ctx.clock.now()
        user_pk = touch_user(conn, actor, now, visit, lock=False)
        session = _find_session(conn, actor, session_id, self.ctx.store.share_lock)  # see answer_batch.ISOLATION
        if session is None:
            raise Refusal(NOT_RUNNING)
        if index is None:
            index = session["current"]
        if session["phase"] != "question" or session["current"] != index or now >= parse_iso(session["phase_ends_at"]):
            raise Refusal("Too late: this question has closed. Get ready for the next one!" if session["phase"] != "ended"
                          else "This live quiz has ended.")
        if (source := self.sources.get(session["source"])) is not None:
            return source.record(conn, session, index, user_pk, text, now)
        question = self._question(session, index)
        if question is None:
            raise Refusal("This question is no longer in the course; wait for the next one.")
        elapsed = (now - parse_iso(session["phase_started_at"])).total_seconds()

        def insert(answer, correct: bool) -> int:
            return conn.execute(
                "INSERT INTO live_answers(session_id, question_index, user_pk, answer, correct, points, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (session["id"], index, user_pk, json.dumps(answer), int(correct),
                 points_for(correct, elapsed, session["question_seconds"]), iso(now))).rowcount

        judged = judge_and_record(conn, self.ctx, question, text, session["seed"], insert,
                                  "You already answered this question: only your first answer counts.", now)
        return Reply(text=f"📨 Answer recorded: {question.describe_answer(judged.answer)}. Results when the question closes.",
                     ephemeral=True, kind="live-ack")

    async def skip(self, actor: Actor, session_id: int | None = None) -> Reply:
        """Close the open question now (or, between questions, open the next one now)."""
        return await self._control(actor, session_id, "skip")

    async def stop(self, actor: Actor, session_id: int | None = None) -> Reply:
        return await self._control(actor, session_id, "stop")

    async def _control(self, actor: Actor, session_id: int | None, what: str) -> Reply:
        await self._publish(await self.ctx.store.run(self._control_tx, actor, session_id, what, isolation=ISOLATION))
        return Reply(text="⏭ Skipped." if what == "skip" else "⏹ Live quiz stopped.", ephemeral=True, kind="live")

    def _control_tx(self, conn, actor: Actor, session_id: int | None, what: str) -> list[LiveEvent]:
        now = self.ctx.clock.now()
        user_pk = touch_user(conn, actor, now)
        session = _find_session(conn, actor, session_id)
        if session is None or session["phase"] == "ended":
            raise Refusal(NOT_RUNNING)
        if not (self.ctx.is_instructor(actor) or session["starter_pk"] == user_pk):
            raise Refusal(f"Only the person who started this quiz or an instructor can {what} it.")
        if what == "stop":
            return self._finish(conn, session, now, "stopped")
        return self._step(conn, session, now)

    async def abort(self, session_id: int, reason: str) -> bool:
        """End a session at once, without standings: an adapter could not show it (no access to
        the channel, say), so nobody can play it. Idempotent: True only for the call that ended it.
        The adapter tells the starter why; `reason` is kept in `end_reason` (`aborted: …`)."""
        def tx(conn) -> bool:
            return bool(conn.execute(
                "UPDATE live_sessions SET phase = 'ended', phase_ends_at = NULL, ended_at = ?, end_reason = ?"
                " WHERE id = ? AND phase != 'ended'", (iso(self.ctx.clock.now()), f"aborted: {reason}"[:200], session_id)).rowcount)

        ended = await self.ctx.store.run(tx, isolation=ISOLATION)
        self._changed.set()
        return ended

    async def starter(self, session_id: int) -> tuple[str, str] | None:
        """(platform, user id) of the person who started the session."""
        row = await self.ctx.store.run(lambda conn: conn.execute(
            "SELECT u.platform, u.user_id FROM live_sessions s JOIN users u ON u.id = s.starter_pk WHERE s.id = ?",
            (session_id,)).fetchone())
        return (row[0], row[1]) if row else None

    async def status(self, actor: Actor) -> Reply:
        session = await self.ctx.store.read(_find_session, actor, None)
        if session is None:
            return Reply(text="No live quiz is running here. Start one with `/live [chapter] [questions]`.", ephemeral=True)
        total = len(json.loads(session["question_keys"]))
        left = max(0, round((parse_iso(session["phase_ends_at"]) - self.ctx.clock.now()).total_seconds()))
        state = "open" if session["phase"] == "question" else "being revealed"
        source = self.sources.get(session["source"])
        noun, round_noun = (source.noun, source.round_noun) if source is not None else ("live quiz", "question")
        return Reply(text=f"🎯 {noun.capitalize()} on chapter {session['chapter']}: {round_noun} {session['current'] + 1} of {total} is {state} ({left} s left).",
                     ephemeral=True, kind="live")

    async def open_here(self, actor: Actor) -> bool:
        """Whether a live quiz runs in the actor's channel (a typed `/answer` goes to it then)."""
        return await self.ctx.store.read(_find_session, actor, None) is not None

    async def current_question(self, actor: Actor) -> tuple[dict, Question | None] | tuple[None, None]:
        """The session running in the actor's channel (as a dict) and its current question;
        (None, None) when none runs there. A read, for whoever needs to know what is asked."""
        session = await self.ctx.store.read(_find_session, actor, None)
        if session is None:
            return None, None
        return dict(session), self._question(session, session["current"])

    # ---- the clock ------------------------------------------------------------------------

    async def advance_due(self) -> list[LiveEvent]:
        """Move every due session of the platforms served; publish and return the events this
        process won (a session another process moved first yields nothing here)."""
        if self._sweep_pending:
            self._sweep_pending = False
            await live_messages.delete_ended(self.ctx.store)
        due = await self.ctx.store.read(self._due_ids)
        leading: dict[str, bool] = {}
        events: list[LiveEvent] = []
        for session_id, platform in due:
            if platform not in leading:
                leading[platform] = await self.ctx.store.lead(f"live-clock:{platform}")
            if not leading[platform]:
                continue  # another replica runs this platform's clock
            try:
                events += await self.ctx.store.run(self._advance_one, session_id, isolation=ISOLATION)
            except Exception:
                log.exception("live session %s failed; ending it", session_id)
                events += await self.ctx.store.run(self._fail, session_id, isolation=ISOLATION)
        self._deferred = not all(leading.values())
        await self._publish(events)
        return events

    def _due_ids(self, conn) -> list[tuple[int, str]]:
        """(id, platform) of each due session of the platforms served."""
        now = iso(self.ctx.clock.now())
        where, names = self._platform_filter()
        return [(r[0], r[1]) for r in conn.execute(
            f"SELECT id, platform FROM live_sessions WHERE phase != 'ended' AND phase_ends_at <= ?{where} ORDER BY id", (now, *names))]

    def _advance_one(self, conn, session_id: int) -> list[LiveEvent]:
        now = self.ctx.clock.now()
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        if (session is None or session["phase"] == "ended" or not self._serves(session["platform"])
                or parse_iso(session["phase_ends_at"]) > now):
            return []  # gone, ended, not ours to show, or already moved on by another process
        if now - parse_iso(session["phase_ends_at"]) > STALE_AFTER:
            return self._finish(conn, session, now, "interrupted")
        return self._step(conn, session, now)

    def _fail(self, conn, session_id: int) -> list[LiveEvent]:
        session = conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone()
        if session is None or session["phase"] == "ended":
            return []
        return [self._end(conn, session, self.ctx.clock.now(), "error")]

    def _step(self, conn, session, now: datetime) -> list[LiveEvent]:
        """From 'question' close it (and end after the last); from 'reveal' open the next question.

        `session` is the row as read; each move is claimed with a compare-and-set against it, and
        its events are built only once the claim won, so a move happens (and is shown) once."""
        total = len(json.loads(session["question_keys"]))
        if session["phase"] == "question":
            if session["current"] + 1 >= total:
                return self._finish(conn, session, now, "finished")
            if session["reveal_seconds"] > 0:
                if not _claim(conn, session, phase="reveal", phase_started_at=iso(now),
                              phase_ends_at=iso(now + timedelta(seconds=session["reveal_seconds"]))):
                    return []
                return [self._close_question(conn, session, now, last=False)]
            if not self._claim_next(conn, session, now):
                return []
            return [self._close_question(conn, session, now, last=False), self._current_question(conn, session["id"])]
        if not self._claim_next(conn, session, now):
            return []
        return [self._current_question(conn, session["id"])]

    def _claim_next(self, conn, session, now: datetime) -> bool:
        return _claim(conn, session, current=session["current"] + 1, phase="question", phase_started_at=iso(now),
                      phase_ends_at=iso(now + timedelta(seconds=session["question_seconds"])))

    def _current_question(self, conn, session_id: int) -> LiveEvent:
        return self._question_event(conn.execute("SELECT * FROM live_sessions WHERE id = ?", (session_id,)).fetchone())

    def _finish(self, conn, session, now: datetime, reason: str) -> list[LiveEvent]:
        """End the session as read (closing its open question first), if nobody moved it meanwhile."""
        if not _claim(conn, session, phase="ended", phase_ends_at=None, ended_at=iso(now), end_reason=reason):
            return []
        events = [self._close_question(conn, session, now, last=reason == "finished")] if session["phase"] == "question" else []
        return [*events, self._ended_event(conn, session, reason)]

    # ---- what the channel sees ------------------------------------------------------------

    def _question(self, session, index: int) -> Question | None:
        return self.ctx.course.question(json.loads(session["question_keys"])[index])

    def _question_event(self, session) -> LiveEvent:
        index = session["current"]
        total = len(json.loads(session["question_keys"]))
        question = self._question(session, index)
        closes = parse_iso(session["phase_ends_at"])
        template = actions.LiveAnswer(session['id'], index)
        if (source := self.sources.get(session["source"])) is not None:
            reply = source.ask(session, index, total)  # its own title, and its own words on timing
        else:
            if question is None:
                reply = Reply(text="(This question was removed from the course; it will be skipped.)")
            else:
                reply = question.ask(f"Question {index + 1} of {total}", template, session["seed"])
            reply.title = f"Chapter {session['chapter']} live quiz · question {index + 1}/{total}"
            reply.text += f"\n\n⏳ Answers close in {session['question_seconds']} s (at {closes:%H:%M:%S} UTC). One answer each; faster earns more."
        reply.buttons += [Button("⏭ Skip", actions.LiveSkip(session["id"]).format()), Button("⏹ Stop", actions.LiveStop(session["id"]).format(), "danger")]
        reply.kind = "live-question"
        reply.ephemeral = False  # for the whole channel
        return LiveEvent("question", session["id"], (session["platform"], session["guild"], session["channel"]), index, reply, closes,
                         session["source"])

    def _standings(self, conn, session_id: int, limit: int | None = STANDINGS_SHOWN):
        sql = ("SELECT u.display_name, SUM(a.points) AS points, SUM(a.correct) AS correct FROM live_answers a"
               " JOIN users u ON u.id = a.user_pk WHERE a.session_id = ? GROUP BY a.user_pk, u.display_name"
               " ORDER BY points DESC, MIN(a.answered_at), a.user_pk")  # ties: the earlier player, on either database
        rows = conn.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (session_id,)).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    @staticmethod
    def _format_standings(rows) -> list[str]:
        medals = ["🥇", "🥈", "🥉"]
        # A display name is the player's own text, shown to the whole channel: quoted again here
        # (quoting is idempotent) so no name stored by an older version can form a link or mention.
        return [f"{medals[i] if i < 3 else f'{i + 1}.'} **{quote_user_text(name)}** — {points} pts ({correct} correct)"
                for i, (name, points, correct) in enumerate(rows)]

    def _close_question(self, conn, session, now: datetime, last: bool) -> LiveEvent:
        index = session["current"]
        total = len(json.loads(session["question_keys"]))
        if (source := self.sources.get(session["source"])) is not None:
            return LiveEvent("closed", session["id"], _place(session), index, source.reveal(conn, session, index, total), None, session["source"])
        question = self._question(session, index)
        answers = conn.execute("SELECT answer, correct FROM live_answers WHERE session_id = ? AND question_index = ?",
                               (session["id"], index)).fetchall()
        right = sum(a["correct"] for a in answers)
        lines = [f"⏱ **Time's up for question {index + 1} of {total}.**"]
        if question is not None:
            lines += [f"The answer: **{question.correct_answer()}**", f"> {question.explanation}", ""]
            if isinstance(question, (SingleQuestion, MultipleQuestion, TrueFalseQuestion)) and answers:
                lines += self._distribution(question, [json.loads(a["answer"]) for a in answers])
        lines.append(f"{right} of {len(answers)} answer{'s' * (len(answers) != 1)} correct.")
        standings = self._standings(conn, session["id"])
        if standings and not last:
            lines += ["", "**Standings**", *self._format_standings(standings)]
        reply = Reply(title=f"Chapter {session['chapter']} live quiz · question {index + 1}/{total}: results", text="\n".join(lines), kind="live-closed", ephemeral=False)
        return LiveEvent("closed", session["id"], (session["platform"], session["guild"], session["channel"]), index, reply)

    @staticmethod
    def _distribution(question: SingleQuestion | MultipleQuestion | TrueFalseQuestion, answers: list[Any]) -> list[str]:
        """One bar per choice: how many of the channel's answers (canonical, see `Question`) chose it."""
        options: list[tuple[str, bool | int]]
        if isinstance(question, TrueFalseQuestion):
            options = [("True", True), ("False", False)]
        else:
            options = [(LETTERS[i], i) for i in range(len(question.choices))]
        n = len(answers)
        lines = []
        for label, value in options:
            count = sum((a is value) if isinstance(question, TrueFalseQuestion) else (value in a) for a in answers)
            lines.append(f"`{label:<5}` {'▇' * round(10 * count / n)}{'▁' if not count else ''} {count} ({round(100 * count / n)}%)")
        return [*lines, ""]

    def _end(self, conn, session, now: datetime, reason: str) -> LiveEvent:
        conn.execute("UPDATE live_sessions SET phase = 'ended', phase_ends_at = NULL, ended_at = ?, end_reason = ? WHERE id = ?",
                     (iso(now), reason, session["id"]))
        return self._ended_event(conn, session, reason)

    def _ended_event(self, conn, session, reason: str) -> LiveEvent:
        rows = self._standings(conn, session["id"], limit=None)
        heading = {
            "finished": "🏁 **Live quiz finished!**",
            "stopped": "⏹ **Live quiz stopped.**",
            "interrupted": "⏹ **Live quiz closed**: the companion was offline past this question's deadline. Every answer given is kept.",
            "error": "⚠️ **Live quiz stopped by an internal error** (it has been logged). Every answer given so far is kept.",
        }[reason]
        if (source := self.sources.get(session["source"])) is not None:
            return LiveEvent("ended", session["id"], _place(session), session["current"], source.ended(conn, session, reason), None,
                             session["source"])
        lines = [heading, ""]
        if rows:
            lines += ["**Final leaderboard**", *self._format_standings(rows[:10])]
            lines.append(f"\n{len(rows)} player{'s' * (len(rows) != 1)}. Well played!")
        else:
            lines.append("Nobody answered this time.")
        reply = Reply(title=f"Chapter {session['chapter']} live quiz · final results", text="\n".join(lines), kind="live-ended", ephemeral=False)
        return LiveEvent("ended", session["id"], (session["platform"], session["guild"], session["channel"]), session["current"], reply)

    # ---- the supervised loop --------------------------------------------------------------

    async def next_deadline(self) -> datetime | None:
        where, names = self._platform_filter()

        def read(conn):
            row = conn.execute(f"SELECT MIN(phase_ends_at) FROM live_sessions WHERE phase != 'ended'{where}", names).fetchone()
            return parse_iso(row[0]) if row[0] else None
        return await self.ctx.store.read(read)

    @contextlib.asynccontextmanager
    async def running(self, platforms: Iterable[str] | None = None) -> AsyncIterator[None]:
        """The supervised loop (`run`) in the background for as long as the block lasts.

        `platforms`: those whose adapters run in this process (None: all, for a lone process);
        only their sessions are advanced here, since only this process's adapters show events."""
        if platforms is not None:
            self.platforms = frozenset(platforms)
        task = asyncio.create_task(self.run(), name="live-quiz-loop")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Advance what is due (at once on start: sessions left by a previous run or another
        process), then sleep until the next deadline, a local change or the next poll of the
        database (for sessions other processes started or left). Never dies silently."""
        while True:
            try:
                await self.advance_due()
                self.rounds += 1
                # Cleared after advancing (which sets it) and before reading the next deadline, so
                # a change made meanwhile is in what is read, and one made later wakes the wait.
                self._changed.clear()
                deadline = await self.next_deadline()
                now = self.ctx.clock.now()
                wake = now + timedelta(seconds=self.ctx.settings.live_poll_seconds)
                if deadline is not None and not (self._deferred and deadline <= now):  # past and another's to move: poll
                    wake = min(wake, deadline)
                waits = [asyncio.ensure_future(self._changed.wait()),
                         asyncio.ensure_future(self.ctx.clock.sleep_until(wake))]
                self.asleep_until = wake
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self.asleep_until = None
                    for task in waits:
                        task.cancel()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live quiz loop failed; retrying in a second")
                await asyncio.sleep(1)

"""The companion: one object that every adapter talks to.

It builds the `CoreContext` (course, store, settings, clock, scheduler, instructor gate) that
every feature receives instead of the companion, and answers with
platform-neutral `Reply`s: one typed method per command (`lesson`, `page`, `quiz`, …), which
adapters with native commands call with their typed options, and `handle_action` for a button,
menu or form, whose id `actions.parse` reads into a typed action dispatched here with `match`.
Typed text (`/page 3` in the console, a DM, Slack's one command) is read by `command_line.py`,
one more caller of the typed methods. The core decides where each reply goes (`Reply.replaces`,
`Reply.ephemeral`); adapters only translate.
Every public method turns a feature's `Refusal` into the person's private error reply, in
one place (`_answers_refusals`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Concatenate, ParamSpec

from . import actions, instructor, privacy, progress, quiz, reading
from .actions import Depth
from .analytics import progress_card, reports
from .assistant import Assistant
from .clock import Clock
from .commands import COMMANDS
from .config import Settings
from .content import Course, load_course
from .context import CoreContext
from .engines import open_store
from .inputs import clean_input, tidy_typed, too_long
from .lab import flags as lab_flags
from .lab import lab_board, lab_export, ranking, reward_report, tasks
from .lab.class_lab import LIVE_SOURCE, ClassLab
from .lab.pool import lab_chapter, lab_scopes
from .live import LiveQuizzes
from .reading import PageRequest, Position
from .refusal import Refusal
from .replies import Kind, Reply, error
from .store import Store
from .users import Actor

log = logging.getLogger(__name__)

P = ParamSpec("P")


def _answers_refusals(method: Callable[Concatenate[Companion, P], Awaitable[Reply]]) -> Callable[Concatenate[Companion, P], Awaitable[Reply]]:
    """The one place a feature's `Refusal` becomes the person's private error reply. Any other
    exception goes on to the adapter, which logs it and answers "something went wrong"."""
    @functools.wraps(method)
    async def answered(self: Companion, *args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return await method(self, *args, **kwargs)
        except Refusal as refusal:
            return error(refusal.text)
    return answered


class Companion:
    def __init__(self, course: Course, store: Store, settings: Settings, clock: Clock | None = None, fuzzing: bool = True):
        #: All that features see of the companion.
        self.ctx = CoreContext(course, store, settings, clock, fuzzing)
        self.live = LiveQuizzes(self.ctx)
        #: The RLHF lab: the classes' reward models, and the live lab as a source of live rounds.
        self.lab = ClassLab(self.ctx, self.live)
        #: The conversation engine (the simulated assistant and the base model), built by `create`.
        self.assistant: Assistant | None = None

    # Adapters read these (the course's chapters for their menus, the store for their own rows).
    @property
    def course(self) -> Course:
        return self.ctx.course

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @classmethod
    async def create(cls, settings: Settings, clock: Clock | None = None, fuzzing: bool = True) -> Companion:
        """Load the content (raising ContentError if it is invalid) and open the migrated store."""
        course = load_course(settings.content_dir)
        store = await open_store(settings.database)
        try:
            companion = cls(course, store, settings, clock, fuzzing)
            companion.assistant = Assistant.build(companion.ctx)
        except BaseException:
            await store.close()  # its threads would keep the failed process alive
            raise
        return companion

    async def close(self) -> None:
        try:
            if self.assistant is not None:
                await self.assistant.close()
        finally:
            await self.store.close()

    # ---- typed commands (adapters with native commands, and the text parser, call these) ------

    @_answers_refusals
    async def lesson(self, actor: Actor, chapter: int | None = None, depth: Depth | None = None, page: int | None = None) -> Reply:
        """A lesson page; with nothing given, where the person left off."""
        return await reading.open_page(self.ctx, actor, PageRequest(chapter, depth, page))

    @_answers_refusals
    async def next_page(self, actor: Actor) -> Reply:
        return await reading.open_page(self.ctx, actor, PageRequest(step=+1))

    @_answers_refusals
    async def previous_page(self, actor: Actor) -> Reply:
        return await reading.open_page(self.ctx, actor, PageRequest(step=-1))

    @_answers_refusals
    async def page(self, actor: Actor, number: int) -> Reply:
        """Page `number` of the lesson the person is reading."""
        return await reading.open_page(self.ctx, actor, PageRequest(page=number))

    @_answers_refusals
    async def depth(self, actor: Actor, depth: Depth) -> Reply:
        return await reading.open_page(self.ctx, actor, PageRequest(depth=depth))

    @_answers_refusals
    async def quiz(self, actor: Actor, chapter: int | None = None, count: int | None = None, depth: Depth | None = None) -> Reply:
        return await quiz.start(self.ctx, actor, chapter, count, depth)

    @_answers_refusals
    async def review(self, actor: Actor) -> Reply:
        return await quiz.start(self.ctx, actor, review=True)

    @_answers_refusals
    async def answer(self, actor: Actor, text: str) -> Reply:
        """A typed answer: to the live quiz running in this channel if there is one, else to the solo quiz."""
        text = clean_input(text)
        if actor.guild is not None and await self.live.open_here(actor):
            return await self.live.answer(actor, None, None, text)
        return await quiz.answer(self.ctx, actor, text)

    @_answers_refusals
    async def hint(self, actor: Actor) -> Reply:
        return await quiz.hint(self.ctx, actor)

    @_answers_refusals
    async def live_start(self, actor: Actor, chapter: int | None = None, count: int | None = None) -> Reply:
        return await self.live.start(actor, chapter, count)

    @_answers_refusals
    async def live_answer(self, actor: Actor, text: str) -> Reply:
        """A typed answer to the live quiz in this channel (never to a solo quiz)."""
        return await self.live.answer(actor, None, None, clean_input(text))

    @_answers_refusals
    async def live_skip(self, actor: Actor) -> Reply:
        return await self.live.skip(actor)

    @_answers_refusals
    async def live_stop(self, actor: Actor) -> Reply:
        return await self.live.stop(actor)

    @_answers_refusals
    async def live_status(self, actor: Actor) -> Reply:
        return await self.live.status(actor)

    @_answers_refusals
    async def progress(self, actor: Actor) -> Reply:
        return await progress.show(self.ctx, actor)

    async def last_position(self, actor: Actor) -> Position | None:
        """Where the actor last read, for a "continue where you left off" (Slack's App Home)."""
        return await reading.last_position(self.store, actor)

    @_answers_refusals
    async def leaderboard(self, actor: Actor) -> Reply:
        return await progress.leaderboard(self.ctx, actor)

    @_answers_refusals
    async def chat(self, actor: Actor, message: str) -> Reply:
        message = clean_input(message)
        if refusal := too_long(message):
            raise Refusal(refusal)
        return await self._engine().reply(actor, message)

    @_answers_refusals
    async def compare(self, actor: Actor, prompt: str) -> Reply:
        prompt = clean_input(prompt)
        if refusal := too_long(prompt):
            raise Refusal(refusal)
        return await self._engine().compare(actor, prompt)

    @_answers_refusals
    async def set_mode(self, actor: Actor, mode: str) -> Reply:
        return await self._engine().set_mode(actor, mode)

    def _engine(self) -> Assistant:
        if self.assistant is None:  # a Companion built by hand (tests): build the engine on first use
            self.assistant = Assistant.build(self.ctx)
        return self.assistant

    @_answers_refusals
    async def export(self, actor: Actor) -> Reply:
        return await privacy.export(self.ctx, actor)

    @_answers_refusals
    async def forget(self, actor: Actor, confirmed: bool = False) -> Reply:
        if not confirmed:
            return privacy.confirm_forget()
        scopes = await self.store.read(lab_scopes, actor)  # the classes whose reward models learned from them
        reply = await privacy.forget(self.ctx, actor)
        self.lab.forgotten(scopes)
        return reply

    # ---- the RLHF lab (bot/core/lab/) ---------------------------------------------------------

    @_answers_refusals
    async def lab_menu(self, actor: Actor) -> Reply:
        return await lab_board.menu(self.ctx, actor)

    @_answers_refusals
    async def lab_write(self, actor: Actor) -> Reply:
        """An instruction to write a demonstration for."""
        return await tasks.write(self.ctx, actor)

    @_answers_refusals
    async def lab_propose(self, actor: Actor, text: str) -> Reply:
        return await tasks.propose(self.ctx, actor, clean_input(text))

    @_answers_refusals
    async def lab_rank(self, actor: Actor) -> Reply:
        """A prompt and 2–4 responses to put in order."""
        return await ranking.start(self.ctx, actor, self._engine)

    @_answers_refusals
    async def lab_flag(self, actor: Actor) -> Reply:
        """A classmate's demonstration to check, and flag if it is spam, harmful or off-topic."""
        return await lab_flags.check(self.ctx, actor)

    @_answers_refusals
    async def lab_flags(self, actor: Actor) -> Reply:
        """An instructor's review of the class's flagged demonstrations."""
        return await lab_flags.pending(self.ctx, actor)

    @_answers_refusals
    async def lab_reward(self, actor: Actor) -> Reply:
        return await reward_report.reward(self.ctx, actor, self.lab.model)

    @_answers_refusals
    async def lab_score(self, actor: Actor, text: str) -> Reply:
        """`PROMPT ||| RESPONSE`: the reward the class's model gives the response."""
        return await reward_report.score(self.ctx, actor, self.lab.model, clean_input(text))

    @_answers_refusals
    async def lab_optimize(self, actor: Actor, prompt: str) -> Reply:
        return await reward_report.optimize(self.ctx, actor, self.lab.model, self._engine, clean_input(prompt))

    @_answers_refusals
    async def lab_live(self, actor: Actor, rounds: int | None = None) -> Reply:
        """A live lab in the channel: everyone votes A or B each round."""
        return await self.live.start(actor, lab_chapter(self.ctx).number, rounds, source=LIVE_SOURCE)

    @_answers_refusals
    async def lab_board(self, actor: Actor) -> Reply:
        return await lab_board.board(self.ctx, actor)

    @_answers_refusals
    async def lab_export(self, actor: Actor) -> Reply:
        return await lab_export.export(self.ctx, actor)

    @_answers_refusals
    async def course_reload(self, actor: Actor) -> Reply:
        self.ctx.require_instructor(actor)
        return await instructor.reload(self.ctx, actor)

    @_answers_refusals
    async def course_stats(self, actor: Actor, chapter: int | None = None) -> Reply:
        """The class at a glance, or with `chapter` its lesson pages and item analysis."""
        self.ctx.require_instructor(actor)
        if chapter is None:
            return await reports.class_stats(self.ctx, actor)
        return await reports.chapter_stats(self.ctx, actor, chapter)

    @_answers_refusals
    async def course_question(self, actor: Actor, question: str) -> Reply:
        """One question's item analysis (`question`: its id, or `chapter:id`)."""
        self.ctx.require_instructor(actor)
        return await reports.question_stats(self.ctx, actor, question)

    @_answers_refusals
    async def course_export(self, actor: Actor) -> Reply:
        """The gradebook and the item analysis as CSV files."""
        self.ctx.require_instructor(actor)
        return await reports.export(self.ctx, actor)

    @_answers_refusals
    async def progress_card(self, actor: Actor) -> Reply:
        return await progress_card.show(self.ctx, actor)

    @_answers_refusals
    async def course_reset(self, actor: Actor, student: str) -> Reply:
        """Ask to confirm resetting `student` (a user id or a display name) in this server."""
        self.ctx.require_instructor(actor)
        return await instructor.reset(self.ctx, actor, student)

    @_answers_refusals
    async def course_stop(self, actor: Actor) -> Reply:
        """Stop the live quiz in the channel as an instructor (`/course stop`)."""
        self.ctx.require_instructor(actor)
        return await self.live.stop(actor)

    def help(self, actor: Actor | None = None, extra: Sequence[tuple[str, str]] = ()) -> Reply:
        show_all = actor is not None and self.ctx.is_instructor(actor)
        rows = [(c.usage, c.summary) for c in COMMANDS if show_all or not c.instructor] + list(extra)
        lines = [f"**{self.course.title}** — your course companion.", ""]
        lines += [f"`{usage}` — {summary}" for usage, summary in rows]
        lines += ["", "Anything that is not a command goes to the chat assistant."]
        return Reply(title="Commands", text="\n".join(lines), kind="help")

    # ---- button presses, menus and forms ----------------------------------------------------

    @_answers_refusals
    async def handle_action(self, actor: Actor, action_id: str, typed: str | None = None) -> Reply:
        """A button pressed, or a menu's choice or a form's text (`typed`) sent: the action id
        says what, and for which attempt or session.

        Ids come back from the platform, so they are read as untrusted input (`actions.parse`):
        an id the companion could not have written is "no longer valid", and nothing runs."""
        action_id = clean_input(action_id if isinstance(action_id, str) else "")
        if typed is not None:
            typed = tidy_typed(clean_input(typed if isinstance(typed, str) else ""), actions.takes_paragraphs(action_id))
        try:
            action = actions.parse(action_id, typed)
        except actions.ActionTooLong:
            return error("That button is no longer valid (its data is too long). Type `/help` to carry on.")
        except actions.InvalidAction:
            log.info("unreadable action id %r", action_id[:100])
            return error(actions.NO_LONGER_VALID)
        return await self._dispatch(actor, action)

    async def _dispatch(self, actor: Actor, action: actions.Action) -> Reply:
        match action:
            case actions.LessonPage(chapter, depth, page):
                return _in_place(await self.lesson(actor, chapter, depth, page), "lesson")
            case actions.LessonNear(chapter, depth, line):
                return _in_place(await reading.open_page(self.ctx, actor, PageRequest(chapter, depth, near_line=line)), "lesson")
            case actions.ContinueReading():
                return await self.lesson(actor)
            case actions.QuizStart(chapter, depth):
                return await self.quiz(actor, chapter, None, depth)
            case actions.QuizAnswer(attempt, position, answer):
                return _in_place(await quiz.answer(self.ctx, actor, answer, attempt, position), "question", "summary")
            case actions.QuizHint(attempt, position):
                return await quiz.hint(self.ctx, actor, attempt, position)
            case actions.LiveAnswer(session, index, answer):
                return await self.live.answer(actor, session, index, answer)
            case actions.LiveSkip(session):
                return await self.live.skip(actor, session)
            case actions.LiveStop(session):
                return await self.live.stop(actor, session)
            case actions.ReviewStart():
                return await self.review(actor)
            case actions.ProgressShow():
                return await self.progress(actor)
            case actions.ProgressCard():
                return await self.progress_card(actor)
            case actions.ChatOpen():
                return Reply(text="💬 I'm listening: send me a message and I'll answer like an instruction-tuned model.", kind="assistant")
            case actions.ForgetConfirm():
                return _in_place(await self.forget(actor, confirmed=True), "info")
            case actions.ForgetCancel():
                return _in_place(Reply(text="Nothing was deleted."), "info")
            case actions.ResetConfirm(student):
                return _in_place(await instructor.confirm_reset(self.ctx, actor, student), "info")
            case actions.ResetCancel():
                return _in_place(Reply(text="Nothing was reset."), "info")
            case actions.LabMenu():
                return await self.lab_menu(actor)
            case actions.LabWriteStart():
                return _in_place(await self.lab_write(actor), "lab")
            case actions.LabRankStart():
                return _in_place(await self.lab_rank(actor), "lab")
            case actions.LabFlagStart():
                return _in_place(await self.lab_flag(actor), "lab")
            case actions.LabRewardShow():
                return await self.lab_reward(actor)
            case actions.LabBoardShow():
                return await self.lab_board(actor)
            case actions.LabDemo(chapter, origin, ref, text):
                return await tasks.demonstrate(self.ctx, actor, chapter, origin, ref, text)
            case actions.LabPropose(chapter, text):
                return await tasks.propose(self.ctx, actor, text, chapter)
            case actions.LabRank(ranking_id, text):
                return await ranking.submit(self.ctx, actor, ranking_id, text, self.lab.changed)
            case actions.LabFlag(demonstration, reason):
                return await lab_flags.flag(self.ctx, actor, demonstration, reason, self.lab.changed)
            case actions.LabReview(demonstration, decision):
                return await lab_flags.review(self.ctx, actor, demonstration, decision, self.lab.changed)


def _in_place(reply: Reply, *kinds: Kind) -> Reply:
    """The next step of the pressed message's own flow (a page turn, the next question or the
    summary, a confirmation's outcome) replaces that message; anything else (an error, a quiz
    that has ended) is a new message beside it."""
    reply.replaces = reply.kind in kinds
    return reply

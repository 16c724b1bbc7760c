"""The companion: one object that every adapter talks to.

It holds the loaded course, the store, the settings and the clock, and answers with
platform-neutral `Reply`s: one typed method per command (`lesson`, `page`, `quiz`, …), which
adapters with native commands call with their typed options, and `handle_action` for a button,
menu or form, whose id `actions.parse` reads into a typed action dispatched here with `match`.
Typed text (`/page 3` in the console, a DM, Slack's one command) is read by `command_line.py`,
one more caller of the typed methods. The core decides where each reply goes (`Reply.replaces`,
`Reply.ephemeral`); adapters only translate.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import actions, instructor, privacy, progress, quiz, reading
from .actions import Depth
from .clock import Clock
from .commands import COMMANDS
from .config import Settings
from .content import Course, load_course
from .inputs import MAX_TEXT, clean_input
from .live import LiveQuizzes
from .ratelimit import RateLimiter
from .reading import PageRequest
from .replies import Kind, Reply, error
from .review import make_scheduler
from .store import Store
from .users import Actor

if TYPE_CHECKING:
    from .assistant import Assistant

log = logging.getLogger(__name__)

class Companion:
    def __init__(self, course: Course, store: Store, settings: Settings, clock: Clock | None = None, fuzzing: bool = True):
        self.course = course
        self.store = store
        self.settings = settings
        self.clock = clock or Clock()
        self.scheduler = make_scheduler(fuzzing)
        self.limits = RateLimiter(self.clock)
        self.live = LiveQuizzes(self)
        #: The conversation engine (the simulated assistant and the base model), built by `create`.
        self.assistant: Assistant | None = None

    @classmethod
    async def create(cls, settings: Settings, clock: Clock | None = None, fuzzing: bool = True) -> Companion:
        """Load the content (raising ContentError if it is invalid) and open the migrated store."""
        course = load_course(settings.content_dir)
        from .assistant import Assistant

        store = await Store.open(settings.database)
        try:
            companion = cls(course, store, settings, clock, fuzzing)
            companion.assistant = Assistant.build(companion)
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

    def is_instructor(self, actor: Actor) -> bool:
        return actor.is_instructor or self.settings.is_instructor(actor.platform, actor.user_id)

    def too_fast(self, kind: str, actor: Actor) -> Reply | None:
        """The refusal when `actor` uses a row-creating command faster than its rate limit allows."""
        limit = self.settings.chat_rate if kind == "chat" else self.settings.start_rate
        refusal = self.limits.check(kind, actor.platform, actor.user_id, limit)
        return error(refusal) if refusal else None

    def chapter_list(self) -> str:
        return ", ".join(f"{c.number} ({c.title})" for c in self.course.chapters)

    # ---- typed commands (adapters with native commands, and the text parser, call these) ------

    async def lesson(self, actor: Actor, chapter: int | None = None, depth: Depth | None = None, page: int | None = None) -> Reply:
        """A lesson page; with nothing given, where the person left off."""
        return await reading.open_page(self, actor, PageRequest(chapter, depth, page))

    async def next_page(self, actor: Actor) -> Reply:
        return await reading.open_page(self, actor, PageRequest(step=+1))

    async def previous_page(self, actor: Actor) -> Reply:
        return await reading.open_page(self, actor, PageRequest(step=-1))

    async def page(self, actor: Actor, number: int) -> Reply:
        """Page `number` of the lesson the person is reading."""
        return await reading.open_page(self, actor, PageRequest(page=number))

    async def depth(self, actor: Actor, depth: Depth) -> Reply:
        return await reading.open_page(self, actor, PageRequest(depth=depth))

    async def quiz(self, actor: Actor, chapter: int | None = None, count: int | None = None, depth: Depth | None = None) -> Reply:
        return self.too_fast("quiz", actor) or await quiz.start(self, actor, chapter, count, depth)

    async def review(self, actor: Actor) -> Reply:
        return self.too_fast("review", actor) or await quiz.start(self, actor, review=True)

    async def answer(self, actor: Actor, text: str) -> Reply:
        """A typed answer: to the live quiz running in this channel if there is one, else to the solo quiz."""
        text = clean_input(text)
        if actor.guild is not None and await self._live_open_here(actor):
            return await self.live.answer(actor, None, None, text)
        return await quiz.answer(self, actor, text)

    async def _live_open_here(self, actor: Actor) -> bool:
        platform, guild, channel = actor.place
        row = await self.store.read(lambda conn: conn.execute(
            "SELECT 1 FROM live_sessions WHERE platform = ? AND guild = ? AND channel = ? AND phase != 'ended'",
            (platform, guild, channel)).fetchone())
        return row is not None

    async def hint(self, actor: Actor) -> Reply:
        return await quiz.hint(self, actor)

    async def live_start(self, actor: Actor, chapter: int | None = None, count: int | None = None) -> Reply:
        return await self.live.start(actor, chapter, count)

    async def live_answer(self, actor: Actor, text: str) -> Reply:
        """A typed answer to the live quiz in this channel (never to a solo quiz)."""
        return await self.live.answer(actor, None, None, clean_input(text))

    async def live_skip(self, actor: Actor) -> Reply:
        return await self.live.skip(actor)

    async def live_stop(self, actor: Actor) -> Reply:
        return await self.live.stop(actor)

    async def live_status(self, actor: Actor) -> Reply:
        return await self.live.status(actor)

    async def progress(self, actor: Actor) -> Reply:
        return await progress.show(self, actor)

    async def leaderboard(self, actor: Actor) -> Reply:
        return await progress.leaderboard(self, actor)

    async def chat(self, actor: Actor, message: str) -> Reply:
        message = clean_input(message)
        if len(message) > MAX_TEXT:
            return error(f"That message is too long ({len(message):,} characters): keep it under {MAX_TEXT:,}.")
        return self.too_fast("chat", actor) or await self._engine().reply(actor, message)

    async def compare(self, actor: Actor, prompt: str) -> Reply:
        prompt = clean_input(prompt)
        if len(prompt) > MAX_TEXT:
            return error(f"That message is too long ({len(prompt):,} characters): keep it under {MAX_TEXT:,}.")
        return self.too_fast("compare", actor) or await self._engine().compare(actor, prompt)

    async def set_mode(self, actor: Actor, mode: str) -> Reply:
        return await self._engine().set_mode(actor, mode)

    def _engine(self) -> Assistant:
        if self.assistant is None:  # a Companion built by hand (tests): build the engine on first use
            from .assistant import Assistant

            self.assistant = Assistant.build(self)
        return self.assistant

    async def export(self, actor: Actor) -> Reply:
        return self.too_fast("export", actor) or await privacy.export(self, actor)

    async def forget(self, actor: Actor, confirmed: bool = False) -> Reply:
        return await privacy.forget(self, actor) if confirmed else privacy.confirm_forget()

    async def course_reload(self, actor: Actor) -> Reply:
        return self.instructors_only(actor) or await instructor.reload(self, actor)

    async def course_stats(self, actor: Actor) -> Reply:
        return self.instructors_only(actor) or await instructor.stats(self, actor)

    async def course_reset(self, actor: Actor, student: str) -> Reply:
        """Ask to confirm resetting `student` (a user id or a display name) in this server."""
        return self.instructors_only(actor) or await instructor.reset(self, actor, student)

    async def course_stop(self, actor: Actor) -> Reply:
        return self.instructors_only(actor) or await self.live.stop(actor)

    def instructors_only(self, actor: Actor) -> Reply | None:
        """The refusal for anyone who is not an instructor here; None for an instructor."""
        return None if self.is_instructor(actor) else error(instructor.REFUSED)

    def help(self, actor: Actor | None = None, extra: list[tuple[str, str]] = ()) -> Reply:
        show_all = actor is not None and self.is_instructor(actor)
        rows = [(c.usage, c.summary) for c in COMMANDS if show_all or not c.instructor] + list(extra)
        lines = [f"**{self.course.title}** — your course companion.", ""]
        lines += [f"`{usage}` — {summary}" for usage, summary in rows]
        lines += ["", "Anything that is not a command goes to the chat assistant."]
        return Reply(title="Commands", text="\n".join(lines), kind="help")

    # ---- button presses, menus and forms ----------------------------------------------------

    async def handle_action(self, actor: Actor, action_id: str, typed: str | None = None) -> Reply:
        """A button pressed, or a menu's choice or a form's text (`typed`) sent: the action id
        says what, and for which attempt or session.

        Ids come back from the platform, so they are read as untrusted input (`actions.parse`):
        an id the companion could not have written is "no longer valid", and nothing runs."""
        action_id = clean_input(action_id if isinstance(action_id, str) else "")
        if typed is not None:
            typed = " ".join(clean_input(typed if isinstance(typed, str) else "").split())
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
                return _in_place(await reading.open_page(self, actor, PageRequest(chapter, depth, near_line=line)), "lesson")
            case actions.ContinueReading():
                return await self.lesson(actor)
            case actions.QuizStart(chapter, depth):
                return await self.quiz(actor, chapter, None, depth)
            case actions.QuizAnswer(attempt, position, answer):
                return _in_place(await quiz.answer(self, actor, answer, attempt, position), "question", "summary")
            case actions.QuizHint(attempt, position):
                return await quiz.hint(self, actor, attempt, position)
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
            case actions.ChatOpen():
                return Reply(text="💬 I'm listening: send me a message and I'll answer like an instruction-tuned model.", kind="assistant")
            case actions.ForgetConfirm():
                return _in_place(await self.forget(actor, confirmed=True), "info")
            case actions.ForgetCancel():
                return _in_place(Reply(text="Nothing was deleted."), "info")
            case actions.ResetConfirm(student):
                return _in_place(await instructor.confirm_reset(self, actor, student), "info")
            case actions.ResetCancel():
                return _in_place(Reply(text="Nothing was reset."), "info")


def _in_place(reply: Reply, *kinds: Kind) -> Reply:
    """The next step of the pressed message's own flow (a page turn, the next question or the
    summary, a confirmation's outcome) replaces that message; anything else (an error, a quiz
    that has ended) is a new message beside it."""
    reply.replaces = reply.kind in kinds
    return reply

"""The companion: one object that every adapter talks to.

It builds the `CoreContext` (the course, the store, the settings, the clock…) that every feature
receives, and answers two kinds of input with platform-neutral `Reply`s: typed commands
(`handle_text`, used by the console and by chat messages) and button presses (`handle_action`,
whose action ids carry all they need). Adapters with native slash commands call the same typed
methods (`lesson`, `quiz`, …). Every public method turns a feature's `Refusal` into the
person's private error reply, in one place (`_answers_refusals`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec

from . import actions, instructor, privacy, progress, quiz, reading
from .assistant import Assistant
from .clock import Clock
from .config import Settings
from .content import Course, load_course
from .context import CoreContext
from .inputs import MAX_TEXT, ascii_number, clean_input, is_blank
from .live import LiveQuizzes
from .reading import PageRequest, Position
from .refusal import Refusal
from .replies import Reply, error, quote_user_text
from .store import Store
from .users import Actor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    instructor: bool = False
    #: Deletes data: never offered as a guess for a mistyped command.
    destructive: bool = False


COMMANDS = [
    Command("help", "/help", "What I can do"),
    Command("lesson", "/lesson [chapter] [shallow|deep] [page]", "Read a lesson, where you left off by default"),
    Command("next", "/next · /prev", "Next or previous page of the lesson"),
    Command("page", "/page N", "Jump to page N of the lesson"),
    Command("depth", "/depth shallow|deep", "Switch the lesson's depth"),
    Command("quiz", "/quiz [chapter] [questions] [shallow|deep]", "A quiz just for you"),
    Command("answer", "/answer TEXT", "Answer the current question (a letter, letters, true/false, or words)"),
    Command("hint", "/hint", "A hint for your current quiz question"),
    Command("review", "/review", "Questions you missed, when spaced repetition says they are due"),
    Command("progress", "/progress", "Your progress, streak and review queue"),
    Command("leaderboard", "/leaderboard", "Top scores in this server or workspace"),
    Command("live", "/live [chapter] [questions] · /live skip|stop|status", "A live quiz for everyone in the channel"),
    Command("chat", "/chat MESSAGE", "Talk to the simulated instruction-tuned assistant"),
    Command("compare", "/compare PROMPT", "The base model and the instruction-tuned assistant, side by side"),
    Command("mode", "/mode assistant|base", "Chat with the assistant (default) or with the raw base model"),
    Command("my-data", "/my-data", "Everything I store about you, as a JSON file"),
    Command("forget-me", "/forget-me", "Delete everything I store about you", destructive=True),
    Command("course", "/course reload|stats|reset USER|stop", "Instructor tools", instructor=True, destructive=True),
]

#: Aliases typed by people who guess.
ALIASES = {"prev": "next", "previous": "next", "back": "next", "mydata": "my-data", "export": "my-data",
           "forget": "forget-me", "forgetme": "forget-me", "board": "leaderboard", "top": "leaderboard",
           "a": "answer", "h": "hint", "start": "help", "commands": "help"}


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
        store = await Store.open(settings.database)
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

    # ---- typed operations (adapters with native commands call these) ----------------------

    @_answers_refusals
    async def lesson(self, actor: Actor, chapter: int | None = None, depth: str | None = None, page: int | None = None) -> Reply:
        return await reading.open_page(self.ctx, actor, PageRequest(chapter, depth, page))

    @_answers_refusals
    async def quiz(self, actor: Actor, chapter: int | None = None, count: int | None = None, depth: str | None = None) -> Reply:
        return await quiz.start(self.ctx, actor, chapter, count, depth)

    @_answers_refusals
    async def review(self, actor: Actor) -> Reply:
        return await quiz.start(self.ctx, actor, review=True)

    @_answers_refusals
    async def answer(self, actor: Actor, text: str) -> Reply:
        """A typed answer: to the live quiz running in this channel if there is one, else to the solo quiz."""
        text = clean_input(text)
        if actor.guild is not None and await self._live_open_here(actor):
            return await self.live.answer(actor, None, None, text)
        return await quiz.answer(self.ctx, actor, text)

    async def _live_open_here(self, actor: Actor) -> bool:
        platform, guild, channel = actor.place
        row = await self.store.read(lambda conn: conn.execute(
            "SELECT 1 FROM live_sessions WHERE platform = ? AND guild = ? AND channel = ? AND phase != 'ended'",
            (platform, guild, channel)).fetchone())
        return row is not None

    @_answers_refusals
    async def hint(self, actor: Actor) -> Reply:
        return await quiz.hint(self.ctx, actor)

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
    async def live_start(self, actor: Actor, chapter: int | None = None, count: int | None = None) -> Reply:
        return await self.live.start(actor, chapter, count)

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
    async def course_reload(self, actor: Actor) -> Reply:
        return await instructor.reload(self.ctx, actor)

    @_answers_refusals
    async def course_stats(self, actor: Actor) -> Reply:
        return await instructor.stats(self.ctx, actor)

    @_answers_refusals
    async def course_reset(self, actor: Actor, who: str) -> Reply:
        return await instructor.reset(self.ctx, actor, who)

    @_answers_refusals
    async def course_stop(self, actor: Actor) -> Reply:
        """Stop the live quiz in the channel as an instructor (`/course stop`)."""
        self.ctx.require_instructor(actor)
        return await self.live.stop(actor)

    @_answers_refusals
    async def chat(self, actor: Actor, message: str) -> Reply:
        message = clean_input(message)
        if len(message) > MAX_TEXT:
            return error(f"That message is too long ({len(message):,} characters): keep it under {MAX_TEXT:,}.")
        return await self._engine().reply(actor, message)

    @_answers_refusals
    async def compare(self, actor: Actor, prompt: str) -> Reply:
        prompt = clean_input(prompt)
        if len(prompt) > MAX_TEXT:
            return error(f"That message is too long ({len(prompt):,} characters): keep it under {MAX_TEXT:,}.")
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
        return await privacy.forget(self.ctx, actor) if confirmed else privacy.confirm_forget()

    def help(self, actor: Actor | None = None, extra: list[tuple[str, str]] = ()) -> Reply:
        show_all = actor is not None and self.ctx.is_instructor(actor)
        rows = [(c.usage, c.summary) for c in COMMANDS if show_all or not c.instructor] + list(extra)
        lines = [f"**{self.course.title}** — your course companion.", ""]
        lines += [f"`{usage}` — {summary}" for usage, summary in rows]
        lines += ["", "Anything that is not a command goes to the chat assistant."]
        return Reply(title="Commands", text="\n".join(lines), ephemeral=True, kind="help")

    # ---- typed commands ---------------------------------------------------------------------

    @_answers_refusals
    async def handle_text(self, actor: Actor, text: str) -> Reply:
        """A line someone typed: a /command, or a message for the assistant."""
        text = clean_input(text if isinstance(text, str) else "").strip()
        if is_blank(text):
            return error("Say something, or `/help` for the commands.")
        if len(text) > MAX_TEXT:  # before any parsing: nothing below has to cope with 100,000 `[`
            return error(f"That message is too long ({len(text):,} characters): keep it under {MAX_TEXT:,}.")
        if not text.startswith("/"):
            return await self.chat(actor, text)
        name, _, rest = text[1:].partition(" ")
        name = name.lower()
        rest = rest.strip()
        canonical = ALIASES.get(name, name)
        if name in ("prev", "previous", "back"):
            return await reading.open_page(self.ctx, actor, PageRequest(step=-1))
        handler = getattr(self, "_cmd_" + canonical.replace("-", "_"), None) if _COMMAND_NAME.fullmatch(canonical) else None
        if handler is None:
            return error(f"I don't know the command /{quote_user_text(name[:32])}.{_suggestion(name)} Type `/help` for the list.")
        try:
            return await handler(actor, rest)
        except UsageError as exc:
            return error(str(exc))

    async def _cmd_help(self, actor: Actor, rest: str) -> Reply:
        return self.help(actor)

    async def _cmd_lesson(self, actor: Actor, rest: str) -> Reply:
        numbers, depth = _args(rest, "/lesson [chapter] [shallow|deep] [page]", max_numbers=2)
        chapter = numbers[0] if numbers else None
        page = numbers[1] if len(numbers) > 1 else None
        return await reading.open_page(self.ctx, actor, PageRequest(chapter, depth, page))

    async def _cmd_next(self, actor: Actor, rest: str) -> Reply:
        return await reading.open_page(self.ctx, actor, PageRequest(step=+1))

    async def _cmd_page(self, actor: Actor, rest: str) -> Reply:
        numbers, _ = _args(rest, "/page N", max_numbers=1, depth_ok=False)
        if not numbers:
            raise UsageError("Which page? `/page N`.")
        return await reading.open_page(self.ctx, actor, PageRequest(page=numbers[0], chapter=None))

    async def _cmd_depth(self, actor: Actor, rest: str) -> Reply:
        _, depth = _args(rest, "/depth shallow|deep", max_numbers=0)
        if depth is None:
            raise UsageError("Which depth? `/depth shallow` or `/depth deep`.")
        return await reading.open_page(self.ctx, actor, PageRequest(depth=depth))

    async def _cmd_quiz(self, actor: Actor, rest: str) -> Reply:
        numbers, depth = _args(rest, "/quiz [chapter] [questions] [shallow|deep]", max_numbers=2)
        return await self.quiz(actor, numbers[0] if numbers else None, numbers[1] if len(numbers) > 1 else None, depth)

    async def _cmd_answer(self, actor: Actor, rest: str) -> Reply:
        if not rest:
            raise UsageError("Type your answer after `/answer`, e.g. `/answer B`.")
        return await self.answer(actor, rest)

    async def _cmd_hint(self, actor: Actor, rest: str) -> Reply:
        return await self.hint(actor)

    async def _cmd_review(self, actor: Actor, rest: str) -> Reply:
        return await self.review(actor)

    async def _cmd_progress(self, actor: Actor, rest: str) -> Reply:
        return await self.progress(actor)

    async def _cmd_leaderboard(self, actor: Actor, rest: str) -> Reply:
        return await self.leaderboard(actor)

    async def _cmd_live(self, actor: Actor, rest: str) -> Reply:
        word = rest.split()[0].lower() if rest.split() else ""
        if word in ("skip", "next"):
            return await self.live_skip(actor)
        if word in ("stop", "end"):
            return await self.live_stop(actor)
        if word == "status":
            return await self.live_status(actor)
        if word == "answer":
            return await self.live.answer(actor, None, None, rest.split(None, 1)[1] if len(rest.split()) > 1 else "")
        numbers, _ = _args(rest, "/live [chapter] [questions] · /live skip|stop|status", max_numbers=2, depth_ok=False)
        return await self.live_start(actor, numbers[0] if numbers else None, numbers[1] if len(numbers) > 1 else None)

    async def _cmd_chat(self, actor: Actor, rest: str) -> Reply:
        if not rest:
            raise UsageError("What would you like to say? `/chat MESSAGE`.")
        return await self.chat(actor, rest)

    async def _cmd_compare(self, actor: Actor, rest: str) -> Reply:
        if not rest:
            raise UsageError("Give me a prompt to compare: `/compare What is the capital of France?`")
        return await self.compare(actor, rest)

    async def _cmd_mode(self, actor: Actor, rest: str) -> Reply:
        mode = rest.strip().lower()
        if mode not in ("assistant", "base"):
            raise UsageError("`/mode assistant` (instruction-tuned, the default) or `/mode base` (a base model that only continues text).")
        return await self.set_mode(actor, mode)

    async def _cmd_my_data(self, actor: Actor, rest: str) -> Reply:
        return await self.export(actor)

    async def _cmd_forget_me(self, actor: Actor, rest: str) -> Reply:
        return await self.forget(actor, confirmed=rest.lower() in ("confirm", "yes"))

    async def _cmd_course(self, actor: Actor, rest: str) -> Reply:
        word, _, arg = rest.partition(" ")
        word = word.lower()
        self.ctx.require_instructor(actor)
        if word == "reload":
            return await self.course_reload(actor)
        if word == "stats":
            return await self.course_stats(actor)
        if word == "reset":
            return await self.course_reset(actor, arg)
        if word == "stop":
            return await self.course_stop(actor)
        raise UsageError("Instructor tools: `/course reload`, `/course stats`, `/course reset NAME-or-ID`, `/course stop`.")

    # ---- button presses ---------------------------------------------------------------------

    @_answers_refusals
    async def handle_action(self, actor: Actor, action: str) -> Reply:
        """A button, menu or form submitted: the action id says what, and for which attempt or session.

        Action ids come back from the platform, so they are read as untrusted input: every
        number is ASCII digits within bounds, every word one the companion wrote. Anything else
        is "no longer valid"; but an exception from the feature a valid id reached is a bug, and
        goes on to the adapter (logged, "something went wrong"), never disguised as a stale button."""
        action = clean_input(action if isinstance(action, str) else "")
        if len(action) > MAX_ACTION:
            return error("That button is no longer valid (its data is too long). Type `/help` to carry on.")
        try:
            return await self._action(actor, action)
        except InvalidAction:
            log.info("unreadable action id %r", action[:100])
            return error("That button is no longer valid. Type `/help` to carry on.")

    async def _action(self, actor: Actor, action: str) -> Reply:
        kind, _, rest = action.partition(":")
        if kind == "lesson":
            if rest == "continue":
                return await reading.open_page(self.ctx, actor, PageRequest())
            chapter, depth, where = _fields(rest, 3)
            if depth not in ("shallow", "deep"):
                raise InvalidAction(action)
            if where.startswith("L"):
                return await reading.open_page(self.ctx, actor, PageRequest(_number(chapter), depth, near_line=_number(where[1:])))
            return await reading.open_page(self.ctx, actor, PageRequest(_number(chapter), depth, _number(where)))
        if kind == "quiz":
            first, _, tail = rest.partition(":")
            if first == "start":
                chapter, _, depth = tail.partition(":")
                if depth not in ("", "shallow", "deep"):
                    raise InvalidAction(action)
                return await self.quiz(actor, _number(chapter), None, depth or None)
            position, _, verb = tail.partition(":")
            if verb == "hint":
                return await quiz.hint(self.ctx, actor, _number(first), _number(position))
            if verb.startswith("a:"):
                return await quiz.answer(self.ctx, actor, verb[2:], _number(first), _number(position))
            raise InvalidAction(action)
        if kind == "live":
            session, _, tail = rest.partition(":")
            if tail == "skip":
                return await self.live.skip(actor, _number(session))
            if tail == "stop":
                return await self.live.stop(actor, _number(session))
            index, _, verb = tail.partition(":")
            if verb.startswith("a:"):
                return await self.live.answer(actor, _number(session), _number(index), verb[2:])
            raise InvalidAction(action)
        if action.startswith(actions.RESET_CONFIRM):
            return await instructor.confirm_reset(self.ctx, actor, _number(action[len(actions.RESET_CONFIRM):]))
        if action == actions.RESET_CANCEL:
            return Reply(text="Nothing was reset.", ephemeral=True)
        if action == actions.REVIEW_START:
            return await self.review(actor)
        if action == actions.PROGRESS_SHOW:
            return await self.progress(actor)
        if action == actions.CHAT_OPEN:
            return Reply(text="💬 I'm listening: send me a message and I'll answer like an instruction-tuned model.", ephemeral=True, kind="assistant")
        if action == actions.FORGET_CONFIRM:
            return await self.forget(actor, confirmed=True)
        if action == actions.FORGET_CANCEL:
            return Reply(text="Nothing was deleted.", ephemeral=True)
        raise InvalidAction(action)


class InvalidAction(ValueError):
    """An action id the companion did not write (forged, truncated, or from an old version)."""


#: Action ids are at most 100 characters (Discord's custom_id); a form appends its text (≤ 4,000).
MAX_ACTION = 4200


def _number(text: str) -> int:
    """A number from an action id: ASCII digits only (not `²`, `٣` or `-1`), and bounded."""
    number = ascii_number(text)
    if number is None:
        raise InvalidAction(text)
    return number


def _fields(text: str, count: int) -> list[str]:
    parts = text.split(":")
    if len(parts) != count:
        raise InvalidAction(text)
    return parts


_COMMAND_NAME = re.compile(r"[a-z][a-z-]{0,20}")


def _suggestion(name: str) -> str:
    """ "Did you mean …?" for a mistyped command: never a destructive one (forget-me, course),
    which a guess must not put one click or one paste away."""
    close = [c.usage for c in COMMANDS if not c.destructive and name and c.name.startswith(name[:2])]
    return f" Did you mean `{close[0]}`?" if close else ""


class UsageError(ValueError):
    """A command typed with arguments it does not take; the message says how to type it."""


def _args(rest: str, usage: str, max_numbers: int, depth_ok: bool = True) -> tuple[list[int], str | None]:
    numbers: list[int] = []
    depth = None
    for token in rest.split():
        word = token.lower().strip(",")
        if word in ("shallow", "deep") and depth_ok:
            depth = word
        elif ascii_number(word) is not None and len(numbers) < max_numbers:
            numbers.append(ascii_number(word))
        else:
            raise UsageError(f"I didn't understand “{quote_user_text(token[:40])}”. Usage: `{usage}`")
    return numbers, depth

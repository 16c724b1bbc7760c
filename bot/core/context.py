"""What a feature may use of the running companion: `CoreContext`.

Features (reading, quizzes, live quizzes, progress, privacy, instructor tools, the assistant)
receive this small object instead of the `Companion` facade, so each can be read, imported and
tested without the facade and without importing it (the facade imports the features, never the
other way round). It holds the course, the store, the settings, the clock, the FSRS scheduler
and the rate limiter, and it is the one place that decides who is an instructor.

`/course reload` goes through `replace_course`: every feature reads `ctx.course` when it needs
it, so all of them see the new course at once, and what is built from the course (the
assistant's index) is rebuilt by the listeners registered with `on_course_change`.
"""

from __future__ import annotations

from collections.abc import Callable

from .clock import Clock
from .config import Settings
from .content import Chapter, Course
from .ratelimit import RateLimiter
from .refusal import Refusal
from .review import make_scheduler
from .store import Store
from .users import Actor

#: The answer to anyone who is not an instructor trying an instructor's action.
REFUSED = "🔒 That is an instructor command. Instructors are people with Manage Server (Discord), workspace admins (Slack), or those listed in COMPANION_INSTRUCTORS."


class CoreContext:
    def __init__(self, course: Course, store: Store, settings: Settings, clock: Clock | None = None, fuzzing: bool = True):
        self.course = course
        self.store = store
        self.settings = settings
        self.clock = clock or Clock()
        #: FSRS; tests turn fuzzing off so due dates are exact.
        self.scheduler = make_scheduler(fuzzing)
        self.limits = RateLimiter(self.clock)
        self._course_listeners: list[Callable[[Course], None]] = []

    # ---- the instructor gate ----------------------------------------------------------------

    def is_instructor(self, actor: Actor) -> bool:
        """The one decision: the platform said so (Discord's Manage Server, a Slack admin: the
        adapter translates that into `actor.is_instructor`), or COMPANION_INSTRUCTORS names them."""
        return actor.is_instructor or self.settings.is_instructor(actor.platform, actor.user_id)

    def require_instructor(self, actor: Actor) -> None:
        """Refuse (`REFUSED`) unless `actor` is an instructor."""
        if not self.is_instructor(actor):
            raise Refusal(REFUSED)

    # ---- rate limits ------------------------------------------------------------------------

    def require_rate(self, kind: str, actor: Actor) -> None:
        """Take one use of a row-creating command (`kind`: quiz, review, live, chat, compare,
        export); refuse when `actor` goes faster than its limit allows."""
        limit = self.settings.chat_rate if kind == "chat" else self.settings.start_rate
        refusal = self.limits.check(kind, actor.platform, actor.user_id, limit)
        if refusal:
            raise Refusal(refusal)

    # ---- the course -------------------------------------------------------------------------

    def chapter_list(self) -> str:
        """The chapters, for "there is no chapter N" refusals."""
        return ", ".join(f"{c.number} ({c.title})" for c in self.course.chapters)

    def require_chapter(self, number: int) -> Chapter:
        """The chapter with this number, or a refusal naming the chapters there are."""
        chapter = self.course.chapter(number)
        if chapter is None:
            raise Refusal(f"There is no chapter {number}. Chapters: {self.chapter_list()}.")
        return chapter

    def on_course_change(self, listener: Callable[[Course], None]) -> None:
        """Call `listener(course)` whenever the course is replaced (to rebuild what derives from it)."""
        self._course_listeners.append(listener)

    def replace_course(self, course: Course) -> None:
        self.course = course
        for listener in self._course_listeners:
            listener(course)

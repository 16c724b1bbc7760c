"""The action-id grammar: the only place button ids are spelled and recognised.

An action id is a short string a button, menu or form carries back to the core (`quiz:12:3:a:B`,
`lesson:7:deep:L52`), so a press after a restart still finds its attempt, question and choice.
The core builds every id with the functions below; adapters never spell one: what an adapter
must know about an id (its kinds, for Discord's persistent item template; whether it turns a
lesson page or answers a quiz question, to place the reply; whether it needs an instructor's
role) it asks here. `Companion.handle_action` reads the ids back and validates every field
(`bot/core/inputs.py`).
"""

from __future__ import annotations

import re

#: Every kind of action, the first field of an id.
KINDS = ("lesson", "quiz", "live", "review", "progress", "chat", "forget")

LESSON_CONTINUE = "lesson:continue"
REVIEW_START = "review:start"
PROGRESS_SHOW = "progress:show"
CHAT_OPEN = "chat:open"
FORGET_CONFIRM = "forget:confirm"
FORGET_CANCEL = "forget:cancel"
#: An instructor's confirmed reset: + the student's users.id (a `progress` action).
RESET_CONFIRM = "progress:reset:"
RESET_CANCEL = "progress:reset-cancel"


def reset_confirm(user_pk: int) -> str:
    return f"{RESET_CONFIRM}{user_pk}"


def lesson_page(chapter: int, depth: str, page: int) -> str:
    return f"lesson:{chapter}:{depth}:{page}"


def lesson_near(chapter: int, depth: str, line: int) -> str:
    """The page of the lesson at `depth` that holds source line `line`."""
    return f"lesson:{chapter}:{depth}:L{line}"


def quiz_start(chapter: int, depth: str | None = None) -> str:
    return f"quiz:start:{chapter}" if depth is None else f"quiz:start:{chapter}:{depth}"


def quiz_answer(attempt: int, position: int) -> str:
    """A prefix: the answer (a letter, letters, true/false, typed words) is appended."""
    return f"quiz:{attempt}:{position}:a:"


def quiz_hint(attempt: int, position: int) -> str:
    return f"quiz:{attempt}:{position}:hint"


def live_answer(session: int, index: int) -> str:
    """A prefix: the answer is appended."""
    return f"live:{session}:{index}:a:"


def live_skip(session: int) -> str:
    return f"live:{session}:skip"


def live_stop(session: int) -> str:
    return f"live:{session}:stop"


# ---- what adapters may ask of an id ----------------------------------------------------------------

_QUIZ_ANSWER = re.compile(r"quiz:[0-9]+:[0-9]+:a:")
_LIVE_CONTROL = re.compile(r"live:[0-9]+:(?:skip|stop)")


def turns_lesson_page(action: str) -> bool:
    return action.startswith("lesson:")


def answers_quiz_question(action: str) -> bool:
    return _QUIZ_ANSWER.match(action) is not None


def controls_live_quiz(action: str) -> bool:
    """Skip or stop: the starter's or an instructor's power, so an adapter looks up the role."""
    return _LIVE_CONTROL.fullmatch(action) is not None

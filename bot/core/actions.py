"""The action grammar: every button, menu and form as a small typed value, and its id.

An action id is the short string a button, menu or form carries back to the core
(`quiz:12:3:a:B`, `lesson:7:deep:L52`), so a press after a restart still finds its attempt,
question and choice. Each kind of action is a frozen dataclass here; `format()` writes its id
and `parse(id)` reads one back, validating every field (numbers are ASCII digits up to 10¹²,
depths are `shallow`/`deep`, field counts are exact) and raising `InvalidAction` for anything
the companion could not have written. This module is the only place the grammar exists:
features build ids with `format()`, `Companion.handle_action` dispatches what `parse` returns,
and adapters take their id patterns (`ID_PATTERN`) and the few questions they ask of an id
(`needs_instructor_role`, `takes_typed`) from here.

Menus and forms: an answer's template (`QuizAnswer(12, 3)`, whose id ends in `:a:`) is the id of
a menu or a form; the adapter hands the chosen values (comma-separated) or the typed text to the
core separately (`parse(id, typed=…)`), and the core puts it into the action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import ClassVar, Literal, get_args

from .inputs import MAX_TEXT, ascii_number

Depth = Literal["shallow", "deep"]
DEPTHS: tuple[Depth, ...] = ("shallow", "deep")

#: Discord's custom_id limit (Slack allows 255): every id a button carries is at most this long.
MAX_ACTION_ID = 100
#: An id with a typed answer in it (a console JSON line, a form's text after its id): longer is refused.
MAX_ACTION_TEXT = MAX_ACTION_ID + MAX_TEXT + 100

#: What a person is told when their button's id is not one the companion could have written.
NO_LONGER_VALID = "That button is no longer valid. Type `/help` to carry on."

#: Every kind of action, the first field of an id.
KINDS = ("lesson", "quiz", "live", "review", "progress", "chat", "forget", "lab")
#: What every action id looks like (a kind, a colon, at most 98 more characters, no `|`): the
#: pattern platforms match ids against (Discord's persistent items, Slack's action listener).
ID_PATTERN = rf"(?:{'|'.join(KINDS)}):[^|]{{1,{MAX_ACTION_ID - 2}}}"


class InvalidAction(ValueError):
    """An action id the companion did not write (forged, truncated, or from an old version)."""


class ActionTooLong(InvalidAction):
    """An action id (with any typed text in it) longer than anything the companion accepts."""


# ---- the actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonPage:
    """Page `page` (1-based) of a chapter's lesson at a depth: Previous / Next."""

    chapter: int
    depth: Depth
    page: int

    def format(self) -> str:
        return f"lesson:{self.chapter}:{self.depth}:{self.page}"


@dataclass(frozen=True)
class LessonNear:
    """The page of the lesson at `depth` that holds source line `line`: switching depth, a citation."""

    chapter: int
    depth: Depth
    line: int

    def format(self) -> str:
        return f"lesson:{self.chapter}:{self.depth}:L{self.line}"


@dataclass(frozen=True)
class QuizStart:
    chapter: int
    depth: Depth | None = None

    def format(self) -> str:
        return f"quiz:start:{self.chapter}" if self.depth is None else f"quiz:start:{self.chapter}:{self.depth}"


@dataclass(frozen=True)
class QuizAnswer:
    """An answer to question `position` of quiz attempt `attempt`. With no answer, the id of a
    menu or a form, whose chosen or typed text comes separately."""

    attempt: int
    position: int
    answer: str = ""

    def format(self) -> str:
        return f"quiz:{self.attempt}:{self.position}:a:{self.answer}"

    def with_answer(self, answer: str) -> QuizAnswer:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class QuizHint:
    attempt: int
    position: int

    def format(self) -> str:
        return f"quiz:{self.attempt}:{self.position}:hint"


@dataclass(frozen=True)
class LiveAnswer:
    """An answer to question `index` of live session `session` (no answer: a menu's or form's id)."""

    session: int
    index: int
    answer: str = ""

    def format(self) -> str:
        return f"live:{self.session}:{self.index}:a:{self.answer}"

    def with_answer(self, answer: str) -> LiveAnswer:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class LiveSkip:
    session: int

    def format(self) -> str:
        return f"live:{self.session}:skip"


@dataclass(frozen=True)
class LiveStop:
    session: int

    def format(self) -> str:
        return f"live:{self.session}:stop"


@dataclass(frozen=True)
class _Fixed:
    """An action with no fields: its id is a constant."""

    ID: ClassVar[str]

    def format(self) -> str:
        return self.ID


@dataclass(frozen=True)
class ContinueReading(_Fixed):
    """The lesson where the person left off."""

    ID = "lesson:continue"


@dataclass(frozen=True)
class ReviewStart(_Fixed):
    ID = "review:start"


@dataclass(frozen=True)
class ProgressShow(_Fixed):
    ID = "progress:show"


@dataclass(frozen=True)
class ProgressCard(_Fixed):
    """A student's progress card, as an image (offered beside `/progress`'s text)."""

    ID = "progress:card"


@dataclass(frozen=True)
class ChatOpen(_Fixed):
    ID = "chat:open"


@dataclass(frozen=True)
class ForgetConfirm(_Fixed):
    ID = "forget:confirm"


@dataclass(frozen=True)
class ForgetCancel(_Fixed):
    ID = "forget:cancel"


@dataclass(frozen=True)
class ResetCancel(_Fixed):
    ID = "progress:reset-cancel"


@dataclass(frozen=True)
class ResetConfirm:
    """An instructor's confirmed reset of the student whose users.id is `student`."""

    student: int

    def format(self) -> str:
        return f"progress:reset:{self.student}"


# ---- the RLHF lab (bot/core/lab/) ---------------------------------------------------------------

#: Why a demonstration can be flagged; what an instructor decides about a flagged one.
FLAG_REASONS = ("spam", "harmful", "off-topic")
REVIEW_DECISIONS = ("keep", "remove")
#: Typed text a lab form takes: a demonstration, a proposed instruction, a ranking's order and tags.
MAX_DEMONSTRATION = 1500
MAX_PROPOSAL = 300
MAX_RANKING_TEXT = 200
#: An answer's form takes this much (a short answer, an ordering).
MAX_ANSWER_TEXT = 200


@dataclass(frozen=True)
class LabMenu(_Fixed):
    ID = "lab:menu"


@dataclass(frozen=True)
class LabWriteStart(_Fixed):
    """A new instruction to write a demonstration for."""

    ID = "lab:write"


@dataclass(frozen=True)
class LabRankStart(_Fixed):
    """A new prompt with candidates to rank."""

    ID = "lab:rank"


@dataclass(frozen=True)
class LabFlagStart(_Fixed):
    """A classmate's demonstration to check (and flag if it is spam, harmful or off-topic)."""

    ID = "lab:flag"


@dataclass(frozen=True)
class LabRewardShow(_Fixed):
    ID = "lab:reward"


@dataclass(frozen=True)
class LabBoardShow(_Fixed):
    ID = "lab:board"


@dataclass(frozen=True)
class LabDemo:
    """A demonstration written for instruction `ref` of chapter `chapter`: a content instruction's
    id (`origin` "c") or a proposed instruction's number (`origin` "p"). Without `answer`, the
    form's id; the written text comes separately."""

    chapter: int
    origin: Literal["c", "p"]
    ref: str
    answer: str = ""

    def format(self) -> str:
        return f"lab:demo:{self.chapter}:{self.origin}:{self.ref}:a:{self.answer}"

    def with_answer(self, answer: str) -> LabDemo:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class LabPropose:
    """A proposed instruction (the form's id without `answer`)."""

    chapter: int
    answer: str = ""

    def format(self) -> str:
        return f"lab:propose:{self.chapter}:a:{self.answer}"

    def with_answer(self, answer: str) -> LabPropose:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class LabRank:
    """The order (best first, with optional tags) given to ranking task `ranking` (the form's id without `answer`)."""

    ranking: int
    answer: str = ""

    def format(self) -> str:
        return f"lab:rank:{self.ranking}:a:{self.answer}"

    def with_answer(self, answer: str) -> LabRank:
        return replace(self, answer=answer)


@dataclass(frozen=True)
class LabFlag:
    demonstration: int
    reason: str  # one of FLAG_REASONS

    def format(self) -> str:
        return f"lab:flag:{self.demonstration}:{self.reason}"


@dataclass(frozen=True)
class LabReview:
    """An instructor's decision about a flagged demonstration."""

    demonstration: int
    decision: str  # one of REVIEW_DECISIONS

    def format(self) -> str:
        return f"lab:review:{self.demonstration}:{self.decision}"


#: The actions with no fields.
Fixed = (ContinueReading | ReviewStart | ProgressShow | ProgressCard | ChatOpen | ForgetConfirm | ForgetCancel | ResetCancel
         | LabMenu | LabWriteStart | LabRankStart | LabFlagStart | LabRewardShow | LabBoardShow)
#: The actions whose form or menu hands typed text to the core.
Typed = QuizAnswer | LiveAnswer | LabDemo | LabPropose | LabRank
Action = (LessonPage | LessonNear | QuizStart | QuizHint | LiveSkip | LiveStop | ResetConfirm | LabFlag | LabReview
          | Typed | Fixed)
Answer = QuizAnswer | LiveAnswer
_TYPED = get_args(Typed)
_LAB_REF = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

_FIXED: dict[str, type[Fixed]] = {cls.ID: cls for cls in get_args(Fixed)}


# ---- reading ids back ----------------------------------------------------------------------------


def _number(text: str) -> int:
    """A number in an id: ASCII digits only (not `²`, `٣` or `-1`), at most 10¹², and written as
    `format()` writes it (no leading zero), so each action has exactly one id."""
    number = ascii_number(text)
    if number is None or str(number) != text:
        raise InvalidAction(text)
    return number


def parse_depth(text: str) -> Depth:
    """A depth as an id or a platform's declared choice carries it; InvalidAction for any other text."""
    if text not in DEPTHS:
        raise InvalidAction(text)
    return text


def _parse_id(text: str) -> Action:
    fixed = _FIXED.get(text)
    if fixed is not None:
        return fixed()
    kind, _, rest = text.partition(":")
    fields = rest.split(":")
    if kind == "lesson" and len(fields) == 3:
        chapter, depth, where = fields
        if where.startswith("L"):
            return LessonNear(_number(chapter), parse_depth(depth), _number(where[1:]))
        return LessonPage(_number(chapter), parse_depth(depth), _number(where))
    if kind == "quiz" and fields[0] == "start" and len(fields) in (2, 3):
        return QuizStart(_number(fields[1]), parse_depth(fields[2]) if len(fields) == 3 else None)
    if kind in ("quiz", "live"):
        parts = rest.split(":", 3)  # an answer is the last field, and may hold colons
        if kind == "quiz" and len(parts) == 3 and parts[2] == "hint":
            return QuizHint(_number(parts[0]), _number(parts[1]))
        if kind == "live" and len(parts) == 2 and parts[1] in ("skip", "stop"):
            return (LiveSkip if parts[1] == "skip" else LiveStop)(_number(parts[0]))
        if len(parts) == 4 and parts[2] == "a":
            return (QuizAnswer if kind == "quiz" else LiveAnswer)(_number(parts[0]), _number(parts[1]), parts[3])
    if kind == "progress" and len(fields) == 2 and fields[0] == "reset":
        return ResetConfirm(_number(fields[1]))
    if kind == "lab":
        return _parse_lab(rest)
    raise InvalidAction(text)


def _parse_lab(rest: str) -> Action:
    """The lab's ids after `lab:`; a typed answer is the last field, after `a`, and may hold colons."""
    what = rest.partition(":")[0]
    if what == "demo":
        fields = rest.split(":", 5)
        if len(fields) == 6 and fields[4] == "a" and fields[2] in ("c", "p"):
            ref = fields[3]
            if (fields[2] == "p" and str(_number(ref)) == ref) or (fields[2] == "c" and len(ref) <= 40 and _LAB_REF.fullmatch(ref)):
                return LabDemo(_number(fields[1]), "c" if fields[2] == "c" else "p", ref, fields[5])
    elif what in ("propose", "rank"):
        fields = rest.split(":", 3)
        if len(fields) == 4 and fields[2] == "a":
            return LabPropose(_number(fields[1]), fields[3]) if what == "propose" else LabRank(_number(fields[1]), fields[3])
    else:
        fields = rest.split(":")
        if len(fields) == 3 and fields[0] == "flag" and fields[2] in FLAG_REASONS:
            return LabFlag(_number(fields[1]), fields[2])
        if len(fields) == 3 and fields[0] == "review" and fields[2] in REVIEW_DECISIONS:
            return LabReview(_number(fields[1]), fields[2])
    raise InvalidAction(f"lab:{rest}")


def parse(action_id: object, typed: str | None = None) -> Action:
    """The action an id stands for, with `typed` (a menu's comma-separated values, a form's text)
    put into it; InvalidAction for any id the companion did not write, or typed text given to an
    action that takes none (only an answer's template does)."""
    if not isinstance(action_id, str) or not action_id:
        raise InvalidAction(repr(action_id))
    if len(action_id) + len(typed or "") > MAX_ACTION_TEXT:
        raise ActionTooLong(action_id[:MAX_ACTION_ID])
    action = _parse_id(action_id)
    if typed is None:
        return action
    if not isinstance(action, _TYPED) or action.answer:
        raise InvalidAction(action_id)
    return action.with_answer(typed)


def takes_typed(action_id: str) -> bool:
    """True when `action_id` is a menu's or form's (an answer's template): an adapter asks before
    opening a form, so a forged id opens nothing."""
    try:
        action = parse(action_id)
    except InvalidAction:
        return False
    return isinstance(action, _TYPED) and not action.answer and len(action_id) <= MAX_ACTION_ID


def typed_limit(action_id: str) -> int:
    """How much text the form of `action_id` takes: a demonstration is longer than an answer. An
    adapter that opens a form after a restart (from the id alone) asks here."""
    try:
        action = parse(action_id)
    except InvalidAction:
        return MAX_ANSWER_TEXT
    if isinstance(action, LabDemo):
        return MAX_DEMONSTRATION
    if isinstance(action, LabPropose):
        return MAX_PROPOSAL
    return MAX_RANKING_TEXT if isinstance(action, LabRank) else MAX_ANSWER_TEXT


def takes_paragraphs(action_id: str) -> bool:
    """Whether the form of `action_id` takes several lines: a demonstration or a proposed
    instruction is a text a model will learn from, where line breaks (a list, steps, an input
    under its instruction) are part of the example; an answer or an ordering is one line. The
    adapters open a multi-line field for these, and the core keeps their line breaks."""
    try:
        return isinstance(parse(action_id), (LabDemo, LabPropose))
    except InvalidAction:
        return False


def needs_instructor_role(action_id: str) -> bool:
    """Skip, stop, a confirmed reset and a flag's review are the starter's or an instructor's power: an adapter
    that has to ask its platform for the role (Slack's admins) asks only for these."""
    try:
        return isinstance(parse(action_id), (LiveSkip, LiveStop, ResetConfirm, LabReview))
    except InvalidAction:
        return False

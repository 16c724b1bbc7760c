"""Question types: how each is declared in quiz.yaml, asked, read from typed text, and judged.

One class per type (single choice, multiple select, true/false, short answer, ordering), each a
declared model of its quiz.yaml entry (`bot/core/content_schema.py` turns its mistakes into
`quiz.yaml:line` problems) with the behaviour of its type as methods, so a new type is one new
class rather than a branch in every function that reads, judges or shows an answer.

A typed answer that does not parse ("E" with four choices) gets a correction and is not
counted. Short answers are normalised (case, accents, punctuation, leading articles) and
fuzzy-matched with rapidfuzz's `ratio` against each accepted answer, with a per-question
threshold: `ratio` compares whole strings, so "paris london rome" does not match "Paris".
"""

from __future__ import annotations

import functools
import random
import re
import string
import unicodedata
from abc import abstractmethod
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, PlainValidator, ValidationInfo
from rapidfuzz import fuzz

from . import actions
from .content_schema import ContentModel, OneOf, fail, one_of, text, text_list
from .inputs import ascii_number, is_blank
from .replies import Button, Choices, Reply, TextInput, quote_user_text

QUESTION_DEPTHS = ("shallow", "deep", "both")
LETTERS = string.ascii_uppercase
DEFAULT_THRESHOLD = 85
MAX_TYPED_ANSWER = 200
MAX_CHOICES = 8
MAX_CHOICE_LABEL = 75  # a choice becomes a button label (Slack's limit is 75)
MAX_PROMPT = 1000

TRUE_WORDS = {"true", "t", "yes", "y", "1", "right", "correct", "vrai", "wahr", "verdadero"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "wrong", "incorrect", "faux", "falsch", "falso"}
_ARTICLES = re.compile(r"^(?:the|a|an)\s+")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, drop a leading article, squeeze spaces.
    Remembered: every answer to a choice question compares the typed text with each choice's
    label, and judging a short answer normalises its accepted answers and near misses again."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    text = " ".join(text.split())
    return _ARTICLES.sub("", text)


class AnswerError(ValueError):
    """A typed answer that cannot be read; the message is the friendly correction."""


def _positions(text: str, count: int, what: str) -> list[int]:
    """Read letters or numbers ("B D", "b,d", "2 4", "BD") as 0-based positions."""
    cleaned = text.strip().upper()
    tokens = [t for t in re.split(r"[\s,;/&+]+|\band\b", cleaned, flags=re.IGNORECASE) if t]
    if len(tokens) == 1 and 1 < len(tokens[0]) <= count and all(ch in LETTERS for ch in tokens[0]):
        tokens = list(tokens[0])  # "BCA"
    last = LETTERS[count - 1]
    positions = []
    for token in tokens:
        token = token.strip(").:")
        if len(token) == 1 and token in LETTERS:
            index = LETTERS.index(token)
        elif (number := ascii_number(token, high=999)) is not None:
            index = number - 1
        else:
            raise AnswerError(f"I couldn't read “{quote_user_text(token[:20])}” as {what}: use the letters A–{last}.")
        if not 0 <= index < count:
            raise AnswerError(f"“{quote_user_text(token[:20])}” isn't one of the options: there are {count}, A–{last}.")
        positions.append(index)
    if not positions:
        raise AnswerError(f"Please answer with {what}: the letters A–{last}.")
    return positions


# ---- the declared fields of quiz.yaml ----------------------------------------------------------------


def _question_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        fail(f"question {{index}} needs an id of lowercase letters, digits and hyphens, got {value!r}")
    return value


def _choice_positions(value: Any, info: ValidationInfo) -> tuple[int, ...]:
    """`answer: 2` or `answers: [1, 3]`: 1-based positions of choices, in order, each once."""
    name = info.field_name
    if "choices" not in info.data:
        return ()  # the choices have their own problem; there is nothing to count against
    count = len(info.data["choices"])
    if value is None or (isinstance(value, (list, tuple)) and not value):
        fail(f"question {info.data.get('id', '?')!r} has no {name}")
    out = []
    for v in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(v, bool) or not isinstance(v, int):
            fail(f"{name} must be the position of a choice (1 to {count}), got {v!r}")
        if not 1 <= v <= count:
            fail(f"{name} {v} is out of range: there are {count} choices (1 to {count})")
        out.append(v)
    if len(set(out)) != len(out):
        fail(f"{name} lists the same choice twice")
    return tuple(sorted(out))


def _one_position(value: Any, info: ValidationInfo) -> int:
    if isinstance(value, (list, tuple)):
        fail("a single-choice question has one answer; use type multiple for several")
    positions = _choice_positions(value, info)
    return positions[0] if positions else 0


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        fail(f"a true_false answer must be true or false, got {value!r}")
    return value


def _threshold(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 50 <= value <= 100:
        fail(f"threshold must be a whole number from 50 to 100, got {value!r}")
    return value


def _not_accepted(reject: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    """Each near miss must be something a student could type, and never an accepted answer."""
    accepted = {normalise(a): a for a in info.data.get("accept", ())}
    for i, no in enumerate(reject):
        key = normalise(no)
        if not key:
            fail(f"reject entry {i + 1} ({no!r}) is empty once normalised (case, punctuation, a leading article)", item=i)
        if key in accepted:
            fail(f"reject entry {i + 1} ({no!r}) is also accepted (as {accepted[key]!r}): a near miss cannot be right and wrong", item=i)
    return reject


_LIST = "question {id!r} needs a list of {field}"
_BUTTON = "{field} entry {position} is {length} characters; a choice must fit a button ({limit})"
QuestionId = Annotated[str, PlainValidator(_question_id)]
QuestionDepth = Annotated[str, one_of(QUESTION_DEPTHS, "depth must be one of {choices}, got {value!r}")]
Prompt = Annotated[str, text(limit=MAX_PROMPT, too_long="prompt is {length} characters; keep it under {limit}")]
Text = Annotated[str, text()]
OptionalText = Annotated[str | None, text(optional=True)]
Labels = Annotated[tuple[str, ...], text_list(_LIST, low=2, high=MAX_CHOICES, limit=MAX_CHOICE_LABEL, too_long=_BUTTON, numbers_as_text=True,
                                              duplicates="{field} has duplicate entries")]
Answers = Annotated[tuple[str, ...], text_list(_LIST, low=1, high=20, numbers_as_text=True, duplicates="{field} has duplicate entries")]


# ---- the question types ------------------------------------------------------------------------


class Question(ContentModel):
    """What every question has, and what every type must be able to do with an answer.

    Canonical answers (what `parse_answer` returns, `is_correct` judges and the store keeps as
    JSON): single/multiple → sorted list of choice indices; true_false → bool; short → the text;
    ordering → item indices (0-based, the correct order is 0..n-1)."""

    shape: ClassVar[str] = "question {index} must be a mapping with id, type, prompt, …"
    unknown: ClassVar[str] = "unknown field {key!r} for a {type} question{suggestion}"
    missing: ClassVar[str] = "question {id!r} has no {field}"
    missing_fields: ClassVar[dict[str, str]] = {"id": "question {index} needs an id of lowercase letters, digits and hyphens, got None"}
    placed: ClassVar[tuple[str, ...]] = ("chapter",)

    id: QuestionId
    chapter: int
    type: str
    depth: QuestionDepth = "both"
    prompt: Prompt
    explanation: Text
    hint: OptionalText = None

    @property
    def key(self) -> str:
        """Unique across the course: review cards and answers are filed under it."""
        return f"{self.chapter}:{self.id}"

    def at_depth(self, depth: str | None) -> bool:
        return depth is None or self.depth in ("both", depth)

    def parse_answer(self, text: str, seed: int = 0) -> Any:
        """Typed text (or a button's value) as the canonical answer, or AnswerError.
        `seed` is the attempt's, which decides how an ordering question's items are shown."""
        text = (text or "").strip()
        if is_blank(text):  # "", spaces, or only zero-width / direction marks
            raise AnswerError("That answer was empty. " + self.answer_help())
        if len(text) > MAX_TYPED_ANSWER:
            raise AnswerError(f"That answer is too long ({len(text)} characters); keep it under {MAX_TYPED_ANSWER}.")
        return self._read(text, seed)

    def ask(self, heading: str, template: actions.Answer, seed: int) -> Reply:
        """The question as a Reply: its text plus the controls to answer it.

        `template` is the answer's template: a button carries it with its answer (`quiz:12:3:a:B`), a
        menu or form the template itself (the chosen or typed text comes to the core separately)."""
        lines, controls = self._controls(template, seed)
        text = "\n".join([f"**{heading}**", "", self.prompt, "", *lines]).rstrip()
        return Reply(text=text, kind="question", **controls)

    @abstractmethod
    def _read(self, text: str, seed: int) -> Any:
        """A non-blank typed answer of sensible length as the canonical answer, or AnswerError."""

    @abstractmethod
    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        """The lines under the prompt, and the Reply's controls (buttons, choices or text_input)."""

    @abstractmethod
    def is_correct(self, answer: Any) -> bool:
        """Is this canonical answer right?"""

    @abstractmethod
    def answer_help(self) -> str:
        """How to type an answer, for a correction."""

    @abstractmethod
    def describe_answer(self, answer: Any) -> str:
        """A person-readable form of a canonical answer, for feedback and exports."""

    @abstractmethod
    def correct_answer(self) -> str:
        """The right answer, person-readable."""

    @abstractmethod
    def typed_answer(self, seed: int = 0) -> str:
        """The correct answer as a student would type it in an attempt with this seed (for an
        answer key, and for tests and benchmarks that play a student who knows the material)."""


class _ChoiceQuestion(Question):
    """Single and multiple choice: lettered choices, answered by letters."""

    missing_fields: ClassVar[dict[str, str]] = {**Question.missing_fields, "choices": _LIST}

    choices: Labels

    @property
    @abstractmethod
    def correct(self) -> tuple[int, ...]:
        """The right choices' 0-based indices, in order."""

    def _choice_lines(self) -> list[str]:
        return [f"**{LETTERS[i]})** {c}" for i, c in enumerate(self.choices)]

    def is_correct(self, answer: Any) -> bool:
        return sorted(answer) == sorted(self.correct)

    def describe_answer(self, answer: Any) -> str:
        return ", ".join(f"{LETTERS[i]}) {self.choices[i]}" for i in answer)

    def correct_answer(self) -> str:
        return self.describe_answer(self.correct)

    def typed_answer(self, seed: int = 0) -> str:
        return " ".join(LETTERS[i] for i in self.correct)


class SingleQuestion(_ChoiceQuestion):
    """One right choice; `answer` is its 1-based position."""

    type: Literal["single"] = "single"
    answer: Annotated[int, PlainValidator(_one_position)]

    @property
    def correct(self) -> tuple[int, ...]:
        return (self.answer - 1,)

    def _read(self, text: str, seed: int) -> list[int]:
        if len(text) > 2:  # a choice's own words ("B" or "2" is a position, never a label)
            typed = normalise(text)
            if by_text := [i for i, c in enumerate(self.choices) if normalise(c) == typed]:
                return by_text
        positions = _positions(text, len(self.choices), "a letter")
        if len(positions) > 1:
            raise AnswerError("This question has one answer: choose a single letter.")
        return positions

    def answer_help(self) -> str:
        return f"Answer with one letter, A–{LETTERS[len(self.choices) - 1]}."

    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        buttons = [Button(f"{LETTERS[i]}) {c}", template.with_answer(LETTERS[i]).format()) for i, c in enumerate(self.choices)]
        return self._choice_lines(), {"buttons": buttons}


class MultipleQuestion(_ChoiceQuestion):
    """Several right choices; `answers` lists their 1-based positions."""

    type: Literal["multiple"] = "multiple"
    answers: Annotated[tuple[int, ...], PlainValidator(_choice_positions)]

    @property
    def correct(self) -> tuple[int, ...]:
        return tuple(a - 1 for a in self.answers)

    def _read(self, text: str, seed: int) -> list[int]:
        return sorted(set(_positions(text, len(self.choices), "one or more letters")))

    def answer_help(self) -> str:
        return f"Answer with every letter that applies, e.g. “A C” (A–{LETTERS[len(self.choices) - 1]})."

    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        choices = Choices(
            action=template.format(),
            options=tuple((f"{LETTERS[i]}) {c}", LETTERS[i]) for i, c in enumerate(self.choices)),
            min_values=1,
            max_values=len(self.choices),
            placeholder="Choose all that apply…",
        )
        return [*self._choice_lines(), "", "_Choose every answer that applies._"], {"choices": choices}


class TrueFalseQuestion(Question):
    """A statement to judge; `answer` is true or false."""

    missing_fields: ClassVar[dict[str, str]] = {**Question.missing_fields, "answer": "a true_false answer must be true or false, got None"}

    type: Literal["true_false"] = "true_false"
    answer: Annotated[bool, PlainValidator(_truth)]

    @property
    def truth(self) -> bool:
        return self.answer

    def _read(self, text: str, seed: int) -> bool:
        word = normalise(text)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise AnswerError("Please answer **true** or **false**.")

    def is_correct(self, answer: Any) -> bool:
        return answer is self.answer

    def answer_help(self) -> str:
        return "Answer true or false."

    def describe_answer(self, answer: Any) -> str:
        return "True" if answer else "False"

    def correct_answer(self) -> str:
        return self.describe_answer(self.answer)

    def typed_answer(self, seed: int = 0) -> str:
        return "true" if self.answer else "false"

    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        return [], {"buttons": [Button("True", template.with_answer("true").format(), "success"), Button("False", template.with_answer("false").format(), "danger")]}


#: A word of the answer within this rapidfuzz ratio of the accepted word is a typo of it
#: (with the same first letter and nearly the same length, below).
TOKEN_RATIO = 75


def _token_close(given: str, ok: str) -> bool:
    """Is `given` a typo of the accepted word `ok`? A typo keeps the first letter and about the
    length: "distilation" is "distillation", but "instillation" is another word and
    "modeling" another concept than "model". Acronyms and numbers must be exact ("DPO" ≠ "PPO")."""
    if given == ok:
        return True
    if len(ok) <= 3 or ok.isdigit() or given.isdigit():
        return False
    if given[0] != ok[0] or abs(len(given) - len(ok)) > max(1, len(ok) // 5):
        return False
    return fuzz.ratio(given, ok) >= TOKEN_RATIO


def _close(given: str, ok: str, threshold: int) -> bool:
    """Both normalised: the whole answer within the threshold, and word by word a typo at most."""
    if given == ok or given.replace(" ", "") == ok.replace(" ", ""):
        return True
    if fuzz.ratio(given, ok) < threshold:
        return False  # whole-string: "paris london rome" is not "paris"
    words, oks = given.split(), ok.split()
    return len(words) == len(oks) and all(_token_close(g, o) for g, o in zip(words, oks, strict=True))


class ShortQuestion(Question):
    """A typed answer in a few words, fuzzy-matched against `accept`, never matching a near miss
    listed in `reject` (a different concept that looks like the answer: "reward modeling")."""

    missing_fields: ClassVar[dict[str, str]] = {**Question.missing_fields, "accept": _LIST}

    type: Literal["short"] = "short"
    accept: Answers
    reject: Annotated[Answers, AfterValidator(_not_accepted)] = ()
    threshold: Annotated[int, PlainValidator(_threshold)] = DEFAULT_THRESHOLD

    def _read(self, text: str, seed: int) -> str:
        return text

    def is_correct(self, answer: Any) -> bool:
        """An exact (normalised) accepted answer always counts; otherwise an answer close to a
        listed near miss is wrong, and one close to an accepted answer, typos allowed, is right."""
        given = normalise(str(answer))
        if not given:
            return False
        accepted = [normalise(ok) for ok in self.accept]
        if given in accepted:
            return True
        if any(_close(given, normalise(no), self.threshold) for no in self.reject):
            return False
        return any(_close(given, ok, self.threshold) for ok in accepted if ok)

    def answer_help(self) -> str:
        return "Type your answer in a few words."

    def describe_answer(self, answer: Any) -> str:
        return f"“{quote_user_text(str(answer))}”"

    def correct_answer(self) -> str:
        return self.accept[0]

    def typed_answer(self, seed: int = 0) -> str:
        return self.accept[0]

    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        return ["_Type your answer._"], {"text_input": TextInput(action=template.format(), label="Your answer", placeholder="A few words")}


class OrderingQuestion(Question):
    """Items to put in order; `items` lists them in the right one, and each attempt shows them shuffled."""

    missing_fields: ClassVar[dict[str, str]] = {**Question.missing_fields, "items": _LIST}

    type: Literal["ordering"] = "ordering"
    items: Labels

    def display_order(self, seed: int) -> list[int]:
        """The order the items are shown in for one attempt: shuffled reproducibly from the
        attempt's seed, and never already in the right order."""
        order = list(range(len(self.items)))
        random.Random(f"{seed}:{self.key}").shuffle(order)
        if order == sorted(order):
            order = order[1:] + order[:1]
        return order

    def _example(self) -> str:
        return " ".join(LETTERS[: len(self.items)][::-1])

    def _read(self, text: str, seed: int) -> list[int]:
        shown = self.display_order(seed)
        positions = _positions(text, len(shown), "the letters in order")
        if sorted(positions) != list(range(len(shown))):
            raise AnswerError(f"Give every letter A–{LETTERS[len(shown) - 1]} exactly once, in the order you think is right "
                              f"(e.g. “{self._example()}”).")
        return [shown[p] for p in positions]

    def is_correct(self, answer: Any) -> bool:
        return list(answer) == list(range(len(self.items)))

    def answer_help(self) -> str:
        return f"Give the letters A–{LETTERS[len(self.items) - 1]} in the right order, e.g. “{self._example()}”."

    def describe_answer(self, answer: Any) -> str:
        return " → ".join(self.items[i] for i in answer)

    def correct_answer(self) -> str:
        return self.describe_answer(range(len(self.items)))

    def typed_answer(self, seed: int = 0) -> str:
        shown = self.display_order(seed)
        return " ".join(LETTERS[shown.index(i)] for i in range(len(self.items)))

    def _controls(self, template: actions.Answer, seed: int) -> tuple[list[str], dict[str, Any]]:
        shown = self.display_order(seed)
        lines = [f"**{LETTERS[p]})** {self.items[i]}" for p, i in enumerate(shown)]
        lines += ["", f"_Type the letters in the right order, e.g. “{self._example()}”._"]
        return lines, {"text_input": TextInput(action=template.format(), label="Letters in order", placeholder=self._example(), max_length=40)}


#: A quiz.yaml question, read by the class its `type` names.
QUESTION_KINDS = OneOf(
    tag="type",
    kinds={cls.model_fields["type"].default: cls
           for cls in (SingleQuestion, MultipleQuestion, TrueFalseQuestion, ShortQuestion, OrderingQuestion)},
    base=Question,
    unknown_kind="unknown question type {kind!r}: use one of {kinds}{suggestion}",
)
QUESTION_TYPES = tuple(QUESTION_KINDS.kinds)

"""Question types: how each is asked, how a typed answer is read, and how it is judged.

Five types: single choice, multiple select, true/false, short answer and ordering.
A typed answer that does not parse ("E" with four choices) gets a correction and is not
counted. Short answers are normalised (case, accents, punctuation, leading articles) and
fuzzy-matched with rapidfuzz's `ratio` against each accepted answer, with a per-question
threshold: `ratio` compares whole strings, so "paris london rome" does not match "Paris".
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from . import actions
from .inputs import ascii_number, is_blank
from .replies import Button, Choices, Reply, TextInput, quote_user_text

QUESTION_TYPES = ("single", "multiple", "true_false", "short", "ordering")
QUESTION_DEPTHS = ("shallow", "deep", "both")
LETTERS = string.ascii_uppercase
DEFAULT_THRESHOLD = 85
MAX_TYPED_ANSWER = 200

TRUE_WORDS = {"true", "t", "yes", "y", "1", "right", "correct", "vrai", "wahr", "verdadero"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "wrong", "incorrect", "faux", "falsch", "falso"}
_ARTICLES = re.compile(r"^(?:the|a|an)\s+")


@dataclass(frozen=True)
class Question:
    id: str
    chapter: int
    type: str
    depth: str
    prompt: str
    explanation: str
    hint: str | None = None
    choices: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()  # 0-based choice indices (single, multiple)
    truth: bool | None = None  # true_false
    accept: tuple[str, ...] = ()  # short
    reject: tuple[str, ...] = ()  # short: near misses that name another concept ("reward modeling")
    threshold: int = DEFAULT_THRESHOLD  # short
    items: tuple[str, ...] = ()  # ordering, in the correct order
    line: int = 0

    @property
    def key(self) -> str:
        """Unique across the course: review cards and answers are filed under it."""
        return f"{self.chapter}:{self.id}"

    def at_depth(self, depth: str | None) -> bool:
        return depth is None or self.depth in ("both", depth)


def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, drop a leading article, squeeze spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    text = " ".join(text.split())
    return _ARTICLES.sub("", text)


def display_order(question: Question, seed: int) -> list[int]:
    """The order an ordering question's items are shown in for one attempt: shuffled
    reproducibly from the attempt's seed, and never already in the right order."""
    order = list(range(len(question.items)))
    if len(order) < 2:
        return order
    random.Random(f"{seed}:{question.key}").shuffle(order)
    if order == sorted(order):
        order = order[1:] + order[:1]
    return order


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


def parse_answer(question: Question, text: str, seed: int = 0) -> Any:
    """Turn typed text (or a button's value) into the canonical answer, or raise AnswerError.

    Canonical answers: single/multiple → sorted list of choice indices; true_false → bool;
    short → the text; ordering → item indices (0-based, correct order is 0..n-1).
    """
    text = (text or "").strip()
    kind = question.type
    if is_blank(text):  # "", spaces, or only zero-width / direction marks
        raise AnswerError("That answer was empty. " + answer_help(question))
    if len(text) > MAX_TYPED_ANSWER:
        raise AnswerError(f"That answer is too long ({len(text)} characters); keep it under {MAX_TYPED_ANSWER}.")
    if kind == "single":
        by_text = [i for i, c in enumerate(question.choices) if normalise(c) == normalise(text)]
        if by_text and len(text) > 2:
            return by_text
        positions = _positions(text, len(question.choices), "a letter")
        if len(positions) > 1:
            raise AnswerError("This question has one answer: choose a single letter.")
        return positions
    if kind == "multiple":
        return sorted(set(_positions(text, len(question.choices), "one or more letters")))
    if kind == "true_false":
        word = normalise(text)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise AnswerError("Please answer **true** or **false**.")
    if kind == "short":
        return text
    if kind == "ordering":
        shown = display_order(question, seed)
        positions = _positions(text, len(shown), "the letters in order")
        if sorted(positions) != list(range(len(shown))):
            last = LETTERS[len(shown) - 1]
            raise AnswerError(f"Give every letter A–{last} exactly once, in the order you think is right (e.g. “{' '.join(LETTERS[:len(shown)][::-1])}”).")
        return [shown[p] for p in positions]
    raise AnswerError(f"Unknown question type {kind!r}.")


def is_correct(question: Question, answer: Any) -> bool:
    kind = question.type
    if kind in ("single", "multiple"):
        return sorted(answer) == sorted(question.correct)
    if kind == "true_false":
        return answer is question.truth
    if kind == "short":
        return short_answer_matches(question, str(answer))
    if kind == "ordering":
        return list(answer) == list(range(len(question.items)))
    return False


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
    return len(words) == len(oks) and all(_token_close(g, o) for g, o in zip(words, oks))


def short_answer_matches(question: Question, text: str) -> bool:
    """A typed short answer against the question's `accept` list, minus its `reject` list.

    An exact (normalised) accepted answer always counts; otherwise an answer close to a listed
    near miss (`reject`) is wrong, and one close to an accepted answer, typos allowed, is right."""
    given = normalise(text)
    if not given:
        return False
    accepted = [normalise(ok) for ok in question.accept]
    if given in accepted:
        return True
    if any(_close(given, normalise(no), question.threshold) for no in question.reject):
        return False
    return any(_close(given, ok, question.threshold) for ok in accepted if ok)


def answer_help(question: Question) -> str:
    n = len(question.choices) or len(question.items)
    last = LETTERS[max(n, 1) - 1]
    return {
        "single": f"Answer with one letter, A–{last}.",
        "multiple": f"Answer with every letter that applies, e.g. “A C” (A–{last}).",
        "true_false": "Answer true or false.",
        "short": "Type your answer in a few words.",
        "ordering": f"Give the letters A–{last} in the right order, e.g. “{' '.join(LETTERS[:n][::-1])}”.",
    }[question.type]


def describe_answer(question: Question, answer: Any) -> str:
    """A person-readable form of a canonical answer, for feedback and exports."""
    kind = question.type
    if kind in ("single", "multiple"):
        return ", ".join(f"{LETTERS[i]}) {question.choices[i]}" for i in answer)
    if kind == "true_false":
        return "True" if answer else "False"
    if kind == "short":
        return f"“{quote_user_text(str(answer))}”"
    return " → ".join(question.items[i] for i in answer)


def correct_answer(question: Question) -> str:
    kind = question.type
    if kind in ("single", "multiple"):
        return describe_answer(question, question.correct)
    if kind == "true_false":
        return describe_answer(question, question.truth)
    if kind == "short":
        return question.accept[0]
    return describe_answer(question, list(range(len(question.items))))


def typed_answer(question: Question, seed: int = 0) -> str:
    """The correct answer as a student would type it in an attempt with this seed (for an
    answer key, and for tests and benchmarks that play a student who knows the material)."""
    kind = question.type
    if kind in ("single", "multiple"):
        return " ".join(LETTERS[i] for i in question.correct)
    if kind == "true_false":
        return "true" if question.truth else "false"
    if kind == "short":
        return question.accept[0]
    shown = display_order(question, seed)
    return " ".join(LETTERS[shown.index(i)] for i in range(len(question.items)))


def ask(question: Question, heading: str, template: actions.Answer, seed: int) -> Reply:
    """The question as a Reply: its text plus the controls to answer it.

    `template` is the answer's template: a button carries it with its answer (`quiz:12:3:a:B`), a
    menu or form the template itself (the chosen or typed text comes to the core separately)."""
    lines = [f"**{heading}**", "", question.prompt, ""]
    buttons: list[Button] = []
    choices = text_input = None
    kind = question.type
    if kind in ("single", "multiple"):
        lines += [f"**{LETTERS[i]})** {c}" for i, c in enumerate(question.choices)]
    if kind == "single":
        buttons = [Button(f"{LETTERS[i]}) {c}", template.with_answer(LETTERS[i]).format()) for i, c in enumerate(question.choices)]
    elif kind == "multiple":
        lines += ["", "_Choose every answer that applies._"]
        choices = Choices(
            action=template.format(),
            options=tuple((f"{LETTERS[i]}) {c}", LETTERS[i]) for i, c in enumerate(question.choices)),
            min_values=1,
            max_values=len(question.choices),
            placeholder="Choose all that apply…",
        )
    elif kind == "true_false":
        buttons = [Button("True", template.with_answer("true").format(), "success"), Button("False", template.with_answer("false").format(), "danger")]
    elif kind == "short":
        lines += ["_Type your answer._"]
        text_input = TextInput(action=template.format(), label="Your answer", placeholder="A few words")
    elif kind == "ordering":
        shown = display_order(question, seed)
        lines += [f"**{LETTERS[p]})** {question.items[i]}" for p, i in enumerate(shown)]
        example = " ".join(LETTERS[: len(shown)][::-1])
        lines += ["", f"_Type the letters in the right order, e.g. “{example}”._"]
        text_input = TextInput(action=template.format(), label="Letters in order", placeholder=example, max_length=40)
    return Reply(text="\n".join(lines).rstrip(), buttons=buttons, choices=choices, text_input=text_input, kind="question")

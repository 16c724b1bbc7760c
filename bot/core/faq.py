"""A chapter's FAQ (`faq.yaml`, optional): the questions students ask that one lesson sentence
does not answer well, each with a few paraphrases, the answer, and the lesson section it comes from.

Why a file and not more code: a why- or how-question whose answer is a whole section ("why would
RLHF make a model worse at creative writing?") is matched by meaning, not by the section's name;
an author who sees students ask it writes the question down once, in their words, and the
assistant answers every paraphrase of it. Answers restate the lesson (no new facts) and cite the
section, so a reply from the FAQ is as grounded as one from the lesson. Checked like the quiz and
the glossary: every problem as `file:line`, and a section the lesson does not have is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .lessons import Lesson, Problem
from .yamlsource import LineDict, LineList

_FIELDS = {"question", "paraphrases", "answer", "section", "depth"}
MAX_ANSWER = 900


@dataclass(frozen=True)
class FaqEntry:
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    section: str  # the lesson heading the answer restates, as written in lesson.md
    depth: str
    line: int  # in faq.yaml

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


def check_faq(data: Any, shown: str, lesson: Lesson, suggest: Callable[[str, set[str]], str],
              problems: list[Problem]) -> list[FaqEntry]:
    """The valid entries of a parsed faq.yaml; every problem is appended to `problems`."""

    def err(line: int, message: str) -> None:
        problems.append(Problem(shown, line, message))

    if not isinstance(data, LineDict) or not isinstance(data.get("questions"), LineList):
        err(getattr(data, "line", 1) or 1, "a FAQ is a mapping with a list under `questions:`")
        return []
    entries: list[FaqEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data["questions"]):
        where = data["questions"].line_of(index)
        if not isinstance(item, LineDict):
            err(where, "each FAQ entry is a mapping with question, answer, section and depth")
            continue
        for key in item:
            if key not in _FIELDS:
                err(item.key_lines.get(key, where), f"unknown field {key!r}{suggest(str(key), _FIELDS)}")
        values = {}
        for key in ("question", "answer", "section", "depth"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                err(item.line_of(key), f"`{key}` is required and must be text")
            values[key] = " ".join(value.split()) if isinstance(value, str) else ""
        paraphrases = item.get("paraphrases", [])
        if not isinstance(paraphrases, list) or not all(isinstance(p, str) and p.strip() for p in paraphrases):
            err(item.line_of("paraphrases"), "`paraphrases` is a list of text")
            paraphrases = []
        if len(values["answer"]) > MAX_ANSWER:
            err(item.line_of("answer"), f"answer longer than {MAX_ANSWER} characters")
        for phrasing in [values["question"], *paraphrases]:
            key = " ".join(phrasing.casefold().split())
            if key in seen:
                err(item.line_of("question"), f"the question {phrasing!r} is already asked at line {seen[key]}")
            seen.setdefault(key, item.line_of("question"))
        depth = values["depth"]
        if depth and depth not in lesson.sections:
            err(item.line_of("depth"), f"depth must be one of {', '.join(lesson.sections)}, not {depth!r}")
            continue
        if depth and values["section"] and lesson.section(values["section"], depth) is None:
            titles = {s.title for s in lesson.sections[depth]}
            err(item.line_of("section"), f"no section {values['section']!r} in the lesson at depth {depth}"
                f"{suggest(values['section'], titles)}")
            continue
        if all(values.values()):
            entries.append(FaqEntry(values["question"], tuple(" ".join(p.split()) for p in paraphrases), values["answer"],
                                    values["section"], depth, item.line_of("question")))
    return entries

"""The course outline: the course's other chapters (those with no content folder here), each with its
title and the vocabulary it teaches, read from `course.yaml`'s `outline`.

Why: students ask about the whole course, not only the chapter the bot has. Without an outline a
question about byte pair encoding or a causal mask got "I don't know" or, worse, the nearest
glossary passage cited as if it answered. With it the assistant can say *where* a concept is
taught ("that belongs to Chapter 2, Working with Text Data") without inventing any facts about it.
The authors own the vocabulary (the terms and phrases students use); `companion content check`
reports its mistakes with file:line like the rest of the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .lessons import Problem
from .yamlsource import LineDict, LineList

MAX_PHRASE = 60


@dataclass(frozen=True)
class OutlineChapter:
    number: int
    title: str
    vocabulary: tuple[str, ...]


def check_outline(data: Any, shown: str, line: int, taught: set[int], glossary: set[str], problems: list[Problem]) -> list[OutlineChapter]:
    """The outline's chapters; every mistake added to `problems` with its line. `taught` are the
    chapter numbers that have content here (the outline is for the others); `glossary` the names of
    the terms those chapters teach, which can't also belong to another chapter."""
    taught_names = {" ".join(n.casefold().split()) for n in glossary}
    if data is None:
        return []
    if not isinstance(data, LineList):
        problems.append(Problem(shown, line, "outline must be a list of chapters, each with number, title and vocabulary"))
        return []
    out: list[OutlineChapter] = []
    numbers: dict[int, int] = {}
    phrases: dict[str, int] = {}
    for i, entry in enumerate(data):
        at = data.line_of(i)
        if not isinstance(entry, LineDict):
            problems.append(Problem(shown, at, "an outline chapter needs number, title and vocabulary"))
            continue
        for key in entry:
            if key not in ("number", "title", "vocabulary"):
                problems.append(Problem(shown, entry.key_lines[key], f"unknown outline field {key!r} (number, title, vocabulary)"))
        number, title, vocabulary = entry.get("number"), entry.get("title"), entry.get("vocabulary")
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            problems.append(Problem(shown, entry.line_of("number"), f"outline chapter number must be a whole number, got {number!r}"))
            continue
        if number in numbers:
            problems.append(Problem(shown, entry.line_of("number"), f"outline chapter {number} is listed twice (first at line {numbers[number]})"))
            continue
        numbers[number] = entry.line_of("number")
        if number in taught:
            problems.append(Problem(shown, entry.line_of("number"), f"chapter {number} has content under chapters; the outline is for the other chapters"))
            continue
        if not isinstance(title, str) or not title.strip():
            problems.append(Problem(shown, entry.line, f"outline chapter {number} has no title"))
            continue
        if not isinstance(vocabulary, LineList) or not vocabulary:
            problems.append(Problem(shown, entry.line_of("vocabulary") if "vocabulary" in entry else entry.line,
                                    f"outline chapter {number} needs a vocabulary: a list of the terms it teaches"))
            continue
        kept: list[str] = []
        for j, phrase in enumerate(vocabulary):
            pline = vocabulary.line_of(j)
            if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > MAX_PHRASE:
                problems.append(Problem(shown, pline, f"a vocabulary entry must be a phrase of 1-{MAX_PHRASE} characters, got {phrase!r}"))
                continue
            key = " ".join(phrase.casefold().split())
            if key in phrases:
                problems.append(Problem(shown, pline, f"{phrase!r} is already in the outline (line {phrases[key]}): a term belongs to one chapter"))
                continue
            if key in taught_names:
                problems.append(Problem(shown, pline, f"{phrase!r} is a glossary term a chapter here teaches; it can't belong to chapter {number} too"))
                continue
            phrases[key] = pline
            kept.append(phrase.strip())
        out.append(OutlineChapter(number, title.strip(), tuple(kept)))
    return out

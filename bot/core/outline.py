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

from typing import Annotated, ClassVar

from .content_schema import ContentModel, Source, line_at, text, text_list, whole_number
from .yamlsource import LineList

MAX_PHRASE = 60
_VOCABULARY = "outline chapter {number} needs a vocabulary: a list of the terms it teaches"


class OutlineChapter(ContentModel):
    """A chapter of the course with no folder here: its number, title and the vocabulary it teaches."""

    shape: ClassVar[str] = "an outline chapter needs number, title and vocabulary"
    unknown: ClassVar[str] = "unknown outline field {key!r} (number, title, vocabulary)"
    missing_fields: ClassVar[dict[str, str]] = {"number": "outline chapter number must be a whole number, got None",
                                                "title": "outline chapter {number} has no title", "vocabulary": _VOCABULARY}

    number: Annotated[int, whole_number("outline chapter number must be a whole number, got {value!r}")]
    title: Annotated[str, text("outline chapter {number} has no title")]
    vocabulary: Annotated[tuple[str, ...], text_list(_VOCABULARY, low=1, count=_VOCABULARY, limit=MAX_PHRASE,
                                                     entry="a vocabulary entry must be a phrase of 1-{limit} characters, got {value!r}")]


def read_outline(items: LineList, source: Source, taught: set[int], glossary: set[str]) -> list[OutlineChapter]:
    """The outline's chapters; every mistake goes to `source` with its line. `taught` are the
    chapter numbers that have content here (the outline is for the others); `glossary` the names of
    the terms those chapters teach, which can't also belong to another chapter."""
    taught_names = {" ".join(n.casefold().split()) for n in glossary}
    out: list[OutlineChapter] = []
    numbers: dict[int, int] = {}
    phrases: dict[str, int] = {}
    for chapter, raw in source.read_each(OutlineChapter, items):
        number = chapter.number
        if number in numbers:
            source.error(raw.line_of("number"), f"outline chapter {number} is listed twice (first at line {numbers[number]})")
            continue
        numbers[number] = raw.line_of("number")
        if number in taught:
            source.error(raw.line_of("number"), f"chapter {number} has content under chapters; the outline is for the other chapters")
            continue
        kept: list[str] = []
        for j, phrase in enumerate(chapter.vocabulary):
            line = line_at(raw, ("vocabulary", j))
            key = " ".join(phrase.casefold().split())
            if key in phrases:
                source.error(line, f"{phrase!r} is already in the outline (line {phrases[key]}): a term belongs to one chapter")
            elif key in taught_names:
                source.error(line, f"{phrase!r} is a glossary term a chapter here teaches; it can't belong to chapter {number} too")
            else:
                phrases[key] = line
                kept.append(phrase)
        out.append(chapter.model_copy(update={"vocabulary": tuple(kept)}))
    return out

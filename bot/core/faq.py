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

from typing import Annotated, Any, ClassVar

from .content_schema import ContentModel, LessonDepth, Source, entries, text, text_list
from .lessons import Lesson
from .yamlsource import LineList

MAX_ANSWER = 900
_REQUIRED = "`{field}` is required and must be text"


class FaqEntry(ContentModel):
    """A question of faq.yaml, the other ways students ask it, and the answer the lesson gives."""

    shape: ClassVar[str] = "each FAQ entry is a mapping with question, answer, section and depth"
    missing: ClassVar[str] = _REQUIRED

    question: Annotated[str, text(_REQUIRED, squeeze=True)]
    paraphrases: Annotated[tuple[str, ...], text_list("`paraphrases` is a list of text", entry="`paraphrases` is a list of text", squeeze=True)] = ()
    answer: Annotated[str, text(_REQUIRED, limit=MAX_ANSWER, too_long="answer longer than {limit} characters", squeeze=True)]
    section: Annotated[str, text(_REQUIRED, squeeze=True)]  # the lesson heading the answer restates, as written in lesson.md
    depth: LessonDepth

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


class FaqFile(ContentModel):
    shape: ClassVar[str] = "a FAQ is a mapping with a list under `questions:`"
    missing: ClassVar[str] = shape

    questions: Annotated[LineList, entries(shape, allow_empty=True)]


def read_faq(data: Any, source: Source, lesson: Lesson) -> list[FaqEntry]:
    """The valid entries of a parsed faq.yaml; every problem goes to `source`."""
    faq = source.read(FaqFile, data, 1)
    if faq is None:
        return []
    out: list[FaqEntry] = []
    seen: dict[str, int] = {}
    for entry, raw in source.read_each(FaqEntry, faq.questions):
        for phrasing in entry.phrasings:
            key = phrasing.casefold()
            if key in seen:
                source.error(raw.line_of("question"), f"the question {phrasing!r} is already asked at line {seen[key]}")
            seen.setdefault(key, raw.line_of("question"))
        if source.check_section(raw, entry.section, entry.depth, lesson):
            out.append(entry)
    return out

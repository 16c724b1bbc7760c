"""A chapter's glossary (`glossary.yaml`, optional): the terms the assistant can define.

Each term points at the lesson section that explains it, so an answer can say where to read
on. The glossary is content like the quiz: checked at load, every problem as `file:line`, and a
section that does not exist in the lesson at the stated depth is an error, because a citation
that leads nowhere is worse than none.

Beyond the definition, a term can carry one answer per kind of question (`simple`, `example`,
`purpose`, `why`, `contrast` with another term), because the sentence that defines a term rarely
says what it is for or why it matters; and `elsewhere`, the part of the course that teaches a term
this chapter only names, so the assistant says so instead of explaining it from a passing mention.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import PlainValidator

from .content_schema import ContentModel, LessonDepth, Source, entries, fail, line_at, suggestion, text, text_list
from .lessons import Lesson
from .yamlsource import LineDict, LineList

MAX_DEFINITION = 600
_REQUIRED = "`{field}` is required and must be text"
_CONTRAST = "`contrast` maps another term's name to how the two differ (text)"


def _contrast(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()):
        fail(_CONTRAST)
    return tuple((k.strip(), " ".join(v.split())) for k, v in value.items())


#: Optional one-text fields, each the answer to one kind of question (see `assistant/understanding.py`).
Answer = Annotated[str | None, text("`{field}` must be text", limit=MAX_DEFINITION, too_long="`{field}` longer than {limit} characters", squeeze=True,
                                   optional=True)]
Required = Annotated[str, text(_REQUIRED)]


class GlossaryTerm(ContentModel):
    """A term of glossary.yaml: its names, its definition, the lesson section that explains it, and
    one answer per kind of question the assistant is asked about it."""

    shape: ClassVar[str] = "each glossary entry is a mapping with term, definition, section and depth"
    missing: ClassVar[str] = _REQUIRED

    term: Required
    aliases: Annotated[tuple[str, ...], text_list("`aliases` is a list of text", entry="`aliases` is a list of text")] = ()  # other names students type
    definition: Annotated[str, text(_REQUIRED, limit=MAX_DEFINITION, too_long="definition longer than {limit} characters", squeeze=True)]
    section: Required  # the lesson heading that explains it, as written in lesson.md
    depth: LessonDepth  # the depth where that section is
    simple: Answer = None  # the same idea in plain words, for "explain that more simply"
    example: Answer = None  # an example the lesson gives, for "give me an example"
    purpose: Answer = None  # its job, for "what is X for?" / "what does X do?"
    why: Answer = None  # why it matters or is needed, for "why X?"
    elsewhere: Answer = None  # the part of the course that teaches it, when this chapter only names it
    contrast: Annotated[tuple[tuple[str, str], ...], PlainValidator(_contrast)] = ()  # (other term, how they differ)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


class GlossaryFile(ContentModel):
    shape: ClassVar[str] = "a glossary is a mapping with a list under `terms:`"
    missing: ClassVar[str] = shape

    terms: Annotated[LineList, entries(shape, allow_empty=True)]


def read_glossary(data: Any, source: Source, lesson: Lesson) -> list[GlossaryTerm]:
    """The valid terms of a parsed glossary.yaml; every problem goes to `source`."""
    glossary = source.read(GlossaryFile, data, 1)
    if glossary is None:
        return []
    terms: list[tuple[GlossaryTerm, LineDict]] = []
    seen: dict[str, int] = {}
    for term, raw in source.read_each(GlossaryTerm, glossary.terms):
        if not source.check_section(raw, term.section, term.depth, lesson):
            continue
        key = term.term.casefold()
        if key in seen:
            source.error(raw.line_of("term"), f"term {term.term!r} is already defined at line {seen[key]}")
            continue
        seen[key] = raw.line_of("term")
        terms.append((term, raw))
    written = _written_terms(glossary.terms)
    names = {n.casefold() for name, aliases in written for n in (name, *aliases)}
    for term, raw in terms:  # contrasts, checked once every name is known
        for other, _ in term.contrast:
            if other.casefold() not in names:
                source.error(line_at(raw, ("contrast", other), key=True), f"`contrast` names {other!r}, which is not a term or alias "
                             f"of this glossary{suggestion(other, {name for name, _ in written})}")
    return [term for term, _ in terms]


def _written_terms(items: LineList) -> list[tuple[str, list[str]]]:
    """Every term's name and aliases as written, its entry valid or not: a contrast naming a term
    that has a problem of its own is that term's problem, not the contrast's."""
    return [(raw["term"], [a for a in raw.get("aliases") or [] if isinstance(a, str)] if isinstance(raw.get("aliases"), list) else [])
            for raw in items if isinstance(raw, dict) and isinstance(raw.get("term"), str)]

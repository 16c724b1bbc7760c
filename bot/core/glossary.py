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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .lessons import Lesson, Problem
from .yamlsource import LineDict, LineList

_FIELDS = {"term", "aliases", "definition", "simple", "example", "section", "depth", "purpose", "why", "contrast", "elsewhere"}
#: Optional one-text fields, each the answer to one kind of question (see `assistant/understanding.py`).
_TEXTS = ("simple", "example", "purpose", "why", "elsewhere")
MAX_DEFINITION = 600


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    aliases: tuple[str, ...]
    definition: str
    section: str  # the lesson heading that explains it, as written in lesson.md
    depth: str  # the depth where that section is
    line: int  # in glossary.yaml
    simple: str | None = None  # the same idea in plain words, for "explain that more simply"
    example: str | None = None  # an example the lesson gives, for "give me an example"
    purpose: str | None = None  # its job, for "what is X for?" / "what does X do?"
    why: str | None = None  # why it matters or is needed, for "why X?"
    elsewhere: str | None = None  # the part of the course that teaches it, when this chapter only names it
    contrast: tuple[tuple[str, str], ...] = ()  # (other term, how they differ), for "difference between X and Y"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


def check_glossary(data: Any, shown: str, lesson: Lesson, suggest: Callable[[str, set[str]], str],
                   problems: list[Problem]) -> list[GlossaryTerm]:
    """The valid terms of a parsed glossary.yaml; every problem is appended to `problems`."""

    def err(line: int, message: str) -> None:
        problems.append(Problem(shown, line, message))

    if not isinstance(data, LineDict) or not isinstance(data.get("terms"), LineList):
        err(getattr(data, "line", 1) or 1, "a glossary is a mapping with a list under `terms:`")
        return []
    terms: list[GlossaryTerm] = []
    seen: dict[str, int] = {}
    pending: list[tuple[LineDict, list[tuple[str, str]]]] = []  # contrasts, checked once every name is known
    for index, item in enumerate(data["terms"]):
        where = data["terms"].line_of(index)
        if not isinstance(item, LineDict):
            err(where, "each glossary entry is a mapping with term, definition, section and depth")
            continue
        for key in item:
            if key not in _FIELDS:
                err(item.key_lines.get(key, where), f"unknown field {key!r}{suggest(str(key), _FIELDS)}")
        values = {}
        for key in ("term", "definition", "section", "depth"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                err(item.line_of(key), f"`{key}` is required and must be text")
            values[key] = value.strip() if isinstance(value, str) else ""
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            err(item.line_of("aliases"), "`aliases` is a list of text")
            aliases = []
        if len(values["definition"]) > MAX_DEFINITION:
            err(item.line_of("definition"), f"definition longer than {MAX_DEFINITION} characters")
        depth = values["depth"]
        if depth and depth not in lesson.sections:
            err(item.line_of("depth"), f"depth must be one of {', '.join(lesson.sections)}, not {depth!r}")
            continue
        if depth and values["section"] and lesson.section(values["section"], depth) is None:
            titles = {s.title for s in lesson.sections[depth]}
            err(item.line_of("section"), f"no section {values['section']!r} in the lesson at depth {depth}"
                f"{suggest(values['section'], titles)}")
            continue
        key = values["term"].casefold()
        if key in seen:
            err(item.line_of("term"), f"term {values['term']!r} is already defined at line {seen[key]}")
            continue
        extras: dict[str, Any] = {}
        for name in _TEXTS:
            value = item.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                err(item.line_of(name), f"`{name}` must be text")
            elif value is not None and len(value) > MAX_DEFINITION:
                err(item.line_of(name), f"`{name}` longer than {MAX_DEFINITION} characters")
            else:
                extras[name] = " ".join(value.split()) if value else None
        contrast = item.get("contrast")
        pairs: list[tuple[str, str]] = []
        if contrast is not None:
            if not isinstance(contrast, LineDict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                              for k, v in contrast.items()):
                err(item.line_of("contrast"), "`contrast` maps another term's name to how the two differ (text)")
            else:
                pairs = [(k.strip(), " ".join(v.split())) for k, v in contrast.items()]
                pending.append((contrast, pairs))
        extras["contrast"] = tuple(pairs)
        if all(values.values()):
            seen[key] = item.line_of("term")
            terms.append(GlossaryTerm(values["term"], tuple(a.strip() for a in aliases), " ".join(values["definition"].split()),
                                      values["section"], depth, item.line_of("term"), **extras))
    names = {n.casefold() for t in terms for n in t.names}
    for mapping, pairs in pending:
        for other, _ in pairs:
            if other.casefold() not in names:
                err(mapping.key_lines.get(other, mapping.line), f"`contrast` names {other!r}, which is not a term or alias "
                    f"of this glossary{suggest(other, {t.term for t in terms})}")
    return terms

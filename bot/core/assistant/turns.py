"""What one exchange with the assistant produced, and what a follow-up needs from the last one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .retrieval import Citation, Unit

MAX_ANSWER = 1800  # well inside Discord's 2,000 characters and Slack's 3,000 per section
#: Words that point back at the previous answer ("explain that", "double it").
REFERS = re.compile(r"\b(that|it|this|those|them|the last one|your answer)\b", re.I)
#: How a reply opens when it says first that it doesn't know what was asked: "I don't know that number…",
#: "The lesson doesn't say why…", "X belongs to Chapter 5 …, another part of the course", "Chapter 5 isn't in…".
_HEDGED_OPENING = re.compile(r"^\s*(?:I don't know|I'm not sure|The lesson doesn't (?:say|connect)|Chapter \d+ isn't in"
                             r"|(?:\*\*[^*\n]+\*\*(?: and \*\*[^*\n]+\*\*)*) belongs? to (?:Chapter \d+|another part of the course))")
#: The label before each part's answer in a reply to a several-part question.
_PART_LABEL = re.compile(r"(?:^|\n\n)\*\*“[^”\n]*”\*\*: ")


@dataclass
class Turn:
    """What the previous exchange was about, so a follow-up can build on it."""

    meta: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the assistant's previous reply

    @property
    def skill(self) -> str | None:
        return self.meta.get("skill")


@dataclass
class Answer:
    text: str
    skill: str
    meta: dict[str, Any] = field(default_factory=dict)
    citation: Citation | None = None

    @property
    def hedged(self) -> bool:
        """The reply says, before anything else and in every part, that it doesn't know what was asked.
        Its passage is then the closest part of the lesson, not its source: the reply must not cite it as
        one (a confident citation on a wrong passage is the worst outcome; see `engine.Assistant._render`)."""
        bodies = [b for b in _PART_LABEL.split(self.text) if b.strip()] if _PART_LABEL.match(self.text) else [self.text]
        return bool(bodies) and all(_HEDGED_OPENING.match(b) for b in bodies)


def unit_line(unit: Unit) -> str:
    """A lesson unit as one line of a chat reply."""
    return unit.text.replace("\n", " — ").rstrip()

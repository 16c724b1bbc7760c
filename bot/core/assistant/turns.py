"""What one exchange with the assistant produced, and what a follow-up needs from the last one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .retrieval import Citation, Unit

MAX_ANSWER = 1800  # well inside Discord's 2,000 characters and Slack's 3,000 per section
#: Words that point back at the previous answer ("explain that", "double it").
REFERS = re.compile(r"\b(that|it|this|those|them|the last one|your answer)\b", re.I)


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


def unit_line(unit: Unit) -> str:
    """A lesson unit as one line of a chat reply."""
    return unit.text.replace("\n", " — ").rstrip()

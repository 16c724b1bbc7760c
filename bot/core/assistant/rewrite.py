"""Rewriting a text the student gives: as a bullet or numbered list, in upper, lower or title
case, or shorter (its key sentences, or without filler words when it is one sentence)."""

from __future__ import annotations

import re

from .summarise import key_sentences
from .text import sentences

FILLER = re.compile(r"\b(very|really|actually|basically|just|quite|simply|totally|literally|definitely|certainly|"
                    r"of course|in fact|kind of|sort of|a bit|somewhat|rather)\b\s*", re.I)
PHRASES = [(r"\bin order to\b", "to"), (r"\bdue to the fact that\b", "because"), (r"\bat this point in time\b", "now"),
           (r"\bin spite of the fact that\b", "although"), (r"\bfor the purpose of\b", "for"), (r"\ba large number of\b", "many"),
           (r"\bis able to\b", "can"), (r"\bare able to\b", "can"), (r"\bin the event that\b", "if"), (r"\bprior to\b", "before")]

OPERATIONS = {
    "bullets": re.compile(r"\bbullet|\bbulleted|\blist\b|\bpoints\b", re.I),
    "numbered": re.compile(r"\bnumbered|\bsteps\b", re.I),
    "upper": re.compile(r"\bupper ?-?case|\ball caps|\bcaps\b|\bcapital letters|\bshout", re.I),
    "lower": re.compile(r"\blower ?-?case|\bsmall letters", re.I),
    "title": re.compile(r"\btitle ?-?case|\bcapitali[sz]e (each|every) word", re.I),
    "shorter": re.compile(r"\bshort|\bcondense|\bconcise|\btrim\b|\bbrief|\bfewer words|\btighten", re.I),
}


def operation(instruction: str) -> str | None:
    """Which rewrite the instruction asks for ("as bullet points" → "bullets")."""
    for name in ("numbered", "bullets", "upper", "lower", "title", "shorter"):
        if OPERATIONS[name].search(instruction):
            return name
    return None


def items(text: str) -> list[str]:
    """The parts of a text, for a list: its lines, its sentences, or its comma-separated items."""
    lines = [line.strip(" -*•\t") for line in text.splitlines() if line.strip(" -*•\t")]
    if len(lines) > 1:
        return lines
    found = sentences(text)
    if len(found) > 1:
        return [s.rstrip(".") for s in found]
    parts = re.split(r"\s*(?:,|;|\band\b|\bor\b|&)\s*", text.strip().rstrip("."))
    return [p for p in (part.strip() for part in parts) if p]


def rewrite(text: str, how: str) -> str:
    if how == "bullets":
        return "\n".join(f"• {_capital(item)}" for item in items(text))
    if how == "numbered":
        return "\n".join(f"{n}. {_capital(item)}" for n, item in enumerate(items(text), 1))
    if how == "upper":
        return text.upper()
    if how == "lower":
        return text.lower()
    if how == "title":
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    if how == "shorter":
        found = sentences(text)
        if len(found) > 2:
            return " ".join(key_sentences(text, max(1, len(found) // 2)))
        shorter = text
        for pattern, repl in PHRASES:
            shorter = re.sub(pattern, repl, shorter, flags=re.I)
        shorter = re.sub(r"\s{2,}", " ", FILLER.sub("", shorter)).strip()
        return _capital(shorter)
    raise ValueError(how)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

"""Follow-ups that point at the items of the previous answer: "explain the second one", "the last
one", "which one uses GPT-4?", "list them".

Why: a list answer invites exactly these questions, and without them the second turn was read as a
new question with no topic ("explain the second one" → "I don't know"). The previous answer is in
the turn history (its text and meta), so its items are read back from it: numbered lines and
bullets, as every list reply writes them. Nothing here knows the course; it only resolves which
item the student means, and the caller answers about that item.
"""

from __future__ import annotations

import re
from typing import Literal

from .text import STOPWORDS, content_stems

_ITEM = re.compile(r"^\s*(?:\d+[.)]|[•\-*])\s+(?P<item>\S.*)$")
_LABELLED = re.compile(r"^\s*[*_]*[A-Z][a-z]+\s+\d+\s*[-–:.)]")
_ORDINALS: dict[str, int | Literal["middle"]] = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "sixth": 5, "6th": 5, "last": -1, "final": -1, "middle": "middle", "number one": 0, "number two": 1, "number three": 2,
    "#1": 0, "#2": 1, "#3": 2}
_ORDINAL = re.compile(r"(?:\bthe\s+|\bthat\s+)?(?P<o>\bfirst|\bsecond|\bthird|\bfourth|\bfifth|\bsixth|\b1st|\b2nd|\b3rd|\b4th|\b5th|\b6th|\blast|\bfinal|\bmiddle|\bnumber (?:one|two|three)|#[123])"
                      r"\b(?!\s+(?:time|chapter|place|half|step of the course))(?:\s+(?P<noun>one|item|point|thing|phase|step|stage|strategy|value|bullet|option|resource|example|part))?", re.I)
_NUMBERED = re.compile(r"(?:\bnumber|\bno\.|\bitem|#)\s*(\d)\b", re.I)
_WHICH = re.compile(r"^(?:so\s+|and\s+|ok(?:ay)?,?\s+)?(?:which|what)\s+(?:one|ones|of (?:them|those|these)|item|phase|step|strategy|value)\b", re.I)
_THEM = re.compile(r"^(?:(?:can you|could you|please|now|ok(?:ay)?,?|so)\s+)*(?:list|name|enumerate|show|give me|what are)\s+(?:them|those|these|they|all of them)(?:\s+again)?(?:\s+please)?\s*[?.!]*$", re.I)
_THE_X_ONE = re.compile(r"\bthe\s+([a-z][\w-]+(?:\s+[a-z][\w-]+)?)\s+(?:one|item|strategy|phase|value)\b", re.I)
_POINTING = frozenset(["which", "one", "ones", "what", "is", "are", "does", "do", "uses", "use", "used", "about", "of", "them", "those", "these",
                       "the", "a", "an", "item", "explain", "tell", "me", "more", "say", "describe", "that", "mean", "means", "means?", "one's"])


def items_of(text: str) -> list[str]:
    """The items of a reply: its numbered or bulleted lines, without Markdown emphasis; failing those,
    lines that are numbered by a label ("Phase 1 - …", "Step 2: …") when there are several."""
    out = []
    for line in text.splitlines():
        m = _ITEM.match(line)
        if m:
            out.append(re.sub(r"[*_`]", "", m.group("item")).strip())
    if not out:
        labelled = [re.sub(r"[*_`]", "", line).strip().rstrip(":") for line in text.splitlines() if _LABELLED.match(line)]
        out = labelled if len(labelled) >= 2 else []
    return out


def asks_for_them(text: str) -> bool:
    """"list them", "what are they": the previous answer's items, all of them."""
    return bool(_THEM.match(text.strip()))


def ordinal(text: str, count: int) -> int | None:
    """The index "the second one" / "the last one" points at among `count` items, if the text has an ordinal."""
    found = _ordinal_at(text, count)
    return found[0] if found is not None else None


def pointer_span(text: str, count: int) -> tuple[int, int] | None:
    """Where in the text the words pointing at an item are ("the last one", "number 2"), so a question
    about that item ("why is there a penalty in the last one?") can be asked again with the item named."""
    found = _ordinal_at(text, count)
    return found[1] if found is not None else None


def _ordinal_at(text: str, count: int) -> tuple[int, tuple[int, int]] | None:
    numbered = _NUMBERED.search(text)
    if numbered is not None and count:
        index = int(numbered.group(1)) - 1
        return (index, numbered.span()) if 0 <= index < count else None
    m = _ORDINAL.search(text)
    if m is None or count == 0:
        return None
    if not m.group("noun") and not re.search(r"\b(?:the|that)\s+" + re.escape(m.group("o")) + r"\b", text, re.I):
        return None  # "first, what is RLHF?" is not a pointer
    key = m.group("o").casefold()
    at = _ORDINALS.get(key)
    if at == "middle":
        return (count // 2, m.span()) if count % 2 else None
    if at is None:
        return None
    index = at if at >= 0 else count + at
    return (index, m.span()) if 0 <= index < count else None


_QUOTED = re.compile(r"[\"“]([^\"“”\n]{3,80})[\"”]")


def quoted_names(item: str) -> list[str]:
    """The titles one item lists in quotes ("Read papers: "A", "B""): when a reply shows only that item,
    "the first one" means the first title, not the item."""
    return _QUOTED.findall(item)


def which(text: str, items: list[str]) -> int | None:
    """"Which one uses GPT-4?": the item that shares the most of what the question says about it,
    if exactly one item shares the most."""
    named = _THE_X_ONE.search(text)
    if named is not None and named.group(1).casefold() not in _ORDINALS:
        text = named.group(1)  # "what about the privacy one?": the item that speaks of privacy
    elif not _WHICH.match(text.strip()):
        return None
    asked = set(content_stems(" ".join(w for w in re.findall(r"[\w'-]+", text.casefold()) if w not in _POINTING and w not in STOPWORDS)))
    if not asked:
        return None
    scores = [len(asked & set(content_stems(item))) for item in items]
    best = max(scores, default=0)
    return scores.index(best) if best and scores.count(best) == 1 else None

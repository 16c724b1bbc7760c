"""Input from people and platforms, read as untrusted: numbers, blank text, broken Unicode.

Every number a person types or an action id carries is ASCII digits (`str.isdigit()` accepts
`²` and `⑦`, which `int()` rejects, and `int()` accepts `٣`) and bounded (a Python int above
2⁶³ does not fit SQLite's INTEGER). Text that looks empty (zero-width spaces, direction marks)
is empty; a lone surrogate, which no encoder accepts, is replaced before anything stores it.
"""

from __future__ import annotations

import re
import unicodedata

#: The largest id, page or count anyone may send: far below SQLite's 2⁶³, far above any real row.
MAX_ID = 10**12
#: Longer typed messages are refused before any parsing (a chat turn, not a document).
MAX_TEXT = 4000


def too_long(text: str) -> str | None:
    """Why `text` is refused before any parsing (over `MAX_TEXT`), else None: the one wording for
    every place typed text comes in (a command line, a command's words, a chat message, a prompt)."""
    if len(text) <= MAX_TEXT:
        return None
    return f"That message is too long ({len(text):,} characters): keep it under {MAX_TEXT:,}."


def is_ascii_number(text: str) -> bool:
    """`str.isdigit()` accepts `²` and `⑦`, which `int()` rejects, and `int()` accepts `٣`:
    the companion reads numbers as ASCII digits only."""
    return bool(text) and text.isascii() and text.isdigit()


_FORMAT_ONLY = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"}


def clean_input(text: str) -> str:
    """Text from a platform, made safe to process: lone surrogates (which no encoder accepts)
    become U+FFFD and NUL characters go."""
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text.replace("\x00", "")


def tidy_typed(text: str, paragraphs: bool = False) -> str:
    """Typed form text with its spacing tidied: runs of spaces and tabs become one space. One-line
    fields (an answer, an ordering) become one line; a multi-line field (`paragraphs`: a lab
    demonstration) keeps its line breaks, with at most one blank line between paragraphs, since
    a list or steps in an example response are part of what it teaches."""
    if not paragraphs:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def is_blank(text: str) -> bool:
    """True when the text has nothing visible: only spaces, zero-width, direction and other
    format characters, or combining marks with nothing to combine with."""
    return all(unicodedata.category(ch) in _FORMAT_ONLY for ch in text)


def ascii_number(text: str, high: int = MAX_ID) -> int | None:
    """The number `text` spells in ASCII digits, if it is one and at most `high`; else None."""
    if not is_ascii_number(text) or len(text) > len(str(high)) or int(text) > high:
        return None
    return int(text)

"""What the reward model sees of a response: a few named features a student can read, and the
response's words and bigrams, hashed.

The named features say what a class usually rewards or penalises in an assistant (InstructGPT's
helpful, harmless, honest): length, refusing, hedging or admitting uncertainty, answering the
prompt's key terms, citing the lesson, giving unsafe instructions. Each is on a scale where one
unit is an ordinary, whole change (0 or 1 for a yes/no feature, a share for the key terms,
100 words for length), so their weights are comparable with one another and read as "this much
reward for that". Length is capped, so a very long answer does not dominate the fit.

The words and bigrams catch whatever else the class rewards ("word: sorry", "words: i cannot").
They are hashed into a fixed number of buckets with CRC-32 (stable across processes, unlike
Python's `hash`), present or absent (not counted, so that length stays the length feature's).
Hashing needs no vocabulary kept in step with the data; a bucket's readable name is recovered
from the n-grams the fit saw (`bucket`), the most frequent one per bucket.

Pure Python: scoring one response on the event loop imports nothing heavy.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from itertools import pairwise

from ..assistant.safety import check as harm_in
from ..assistant.text import content_stems, normalise

#: Buckets for hashed words and bigrams: 2¹⁸, so a class's few tens of thousands of distinct
#: n-grams rarely share one (a shared bucket blurs two n-grams' weights into one).
HASH_BUCKETS = 1 << 18
#: Length counts up to this many words; beyond it a response is simply "long".
LENGTH_CAP_WORDS = 500

LENGTH = "length (per 100 words)"
REFUSES = "refuses"
HEDGES = "hedges or admits uncertainty"
KEY_TERMS = "answers the prompt's key terms"
CITES = "cites the lesson"
UNSAFE = "unsafe instructions"
#: The named features, in the order of their columns (before the hashed buckets).
NAMED = (LENGTH, REFUSES, HEDGES, KEY_TERMS, CITES, UNSAFE)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")  # after `normalise`, which straightens quotes
_REFUSAL = re.compile(
    r"\b(i\s+(cannot|can\s+not|can'?t|won'?t|will\s+not|must\s+decline|refuse\s+to|decline\s+to)|i(\s+am|'m|m)\s+(not\s+able|unable)\s+to|"
    r"i'?m\s+sorry,?\s+but|as\s+an\s+ai\b|not\s+something\s+i\s+can\s+help)", re.I)
_HEDGE = re.compile(
    r"\b(i(\s+am|'m|m)\s+not\s+(entirely\s+|quite\s+)?(sure|certain)|i\s+(don'?t|do\s+not)\s+know|i\s+(might|may|could)\s+be\s+wrong|i\s+think|"
    r"i\s+believe|probably|possibly|perhaps|maybe|it\s+depends|as\s+far\s+as\s+i\s+know|if\s+i\s+recall|uncertain|not\s+certain)\b", re.I)
_CITE = re.compile(r"\b(chapter\s+\d+|(the|this)\s+lesson|lesson'?s|section\s+(\d|[\"“*_])|the\s+course\s+(says|explains))", re.I)


@lru_cache(maxsize=65536)
def named(prompt: str, response: str) -> tuple[float, ...]:
    """The named features of `response` to `prompt`, in the order of NAMED (cached like `ngrams`)."""
    text = normalise(response)
    words = len(_WORD.findall(text.casefold()))
    refuses = bool(_REFUSAL.search(text))
    return (
        min(words, LENGTH_CAP_WORDS) / 100,
        float(refuses),
        float(bool(_HEDGE.search(text))),
        key_term_share(prompt, text),
        float(bool(_CITE.search(text))),
        # A refusal names what it refuses ("I can't help you make a bomb"); only compliance is unsafe.
        float(not refuses and harm_in(text) is not None),
    )


def key_term_share(prompt: str, response: str) -> float:
    """The share of the prompt's content words (stems, stop words dropped) the response uses;
    0 for a prompt with none."""
    asked = set(content_stems(prompt))
    if not asked:
        return 0.0
    return len(asked & set(content_stems(response))) / len(asked)


@lru_cache(maxsize=65536)
def ngrams(response: str) -> tuple[str, ...]:
    """The distinct words and bigrams of a response, as readable names ("word: sorry",
    "words: i cannot"), in order of first appearance. Cached: a class ranks the same candidate
    responses many times, and each refit sees them again."""
    tokens = _WORD.findall(normalise(response).casefold())
    seen = dict.fromkeys([f"word: {t}" for t in tokens] + [f"words: {a} {b}" for a, b in pairwise(tokens)])
    return tuple(seen)


def bucket(ngram: str) -> int:
    """The hashed column of an n-gram (after the named features' columns)."""
    return len(NAMED) + zlib.crc32(ngram.encode("utf-8")) % HASH_BUCKETS


@lru_cache(maxsize=65536)
def buckets(response: str) -> tuple[int, ...]:
    """The sorted, distinct hashed columns present in a response."""
    return tuple(sorted({bucket(g) for g in ngrams(response)}))


#: Columns in all: the named features, then the hashed buckets.
COLUMNS = len(NAMED) + HASH_BUCKETS

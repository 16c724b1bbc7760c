"""Words, stems and sentences: the small amount of language handling every skill shares.

Matching is done on Snowball stems of lower-cased words without stop words, so "datasets",
"dataset" and "Dataset" meet, and "What is the KL penalty?" and "why the KL penalty" share
their content words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?=\s+[\"'“‘(]?[A-Z0-9])")

STOPWORDS = frozenset(["a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "of", "to", "in", "on", "at", "by", "for", "with", "from",
                       "into", "onto", "about", "as", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "doing", "have",
                       "has", "had", "having", "i", "me", "my", "mine", "we", "us", "our", "you", "your", "yours", "he", "him", "his", "she", "her",
                       "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "here", "what", "which", "who", "whom",
                       "whose", "when", "where", "why", "how", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "not", "no",
                       "yes", "please", "tell", "me", "explain", "describe", "give", "show", "say", "said", "just", "also", "very", "really", "some",
                       "any", "all", "each", "more", "most", "such", "own", "same", "too", "only", "other", "again", "further", "once", "s", "t",
                       "don", "ll", "ve", "re", "d", "m", "o", "y", "ok", "okay", "hey", "hi", "hello", "thanks", "thank", "kindly", "want", "need",
                       "know", "like", "let", "lets", "let's", "get", "got", "go", "well", "people", "person", "someone", "somebody", "thing",
                       "things", "way", "ways", "actually", "exactly", "basically", "use", "used", "using", "one", "ones", "yo", "pls", "plz", "u",
                       "ur", "r", "n", "lol", "bro", "dude", "wtf", "btw", "btwn", "abt", "bc", "cuz", "coz", "tho", "thx", "um", "uh", "hmm", "ya",
                       "yeah", "yep", "nope", "gonna", "wanna", "kinda", "sorta", "even", "here", "wat", "wut"])


#: Files of the base model's corpus in everyday English (not about machine learning).
_EVERYDAY_FILES = ("encyclopedia.txt", "faq_library_and_city.txt", "recipes_or_stories.txt", "forum_thread.txt")


@lru_cache(maxsize=1)
def everyday_stems() -> frozenset[str]:
    """Stems of ordinary English words, from the everyday part of the base model's corpus.

    A question word the course never uses is either a topic the course lacks ("LoRA") or just
    English ("make", "worse", "another"): only the first may be named as "not in the course"."""
    from pathlib import Path
    folder = Path(__file__).parent / "data" / "corpus"
    found: set[str] = set()
    for name in _EVERYDAY_FILES:
        path = folder / name
        if path.is_file():
            found.update(stem(w) for w in words(path.read_text(encoding="utf-8")))
    found.update(stem(w) for w in _COMMON)
    return frozenset(found)


#: Common words the everyday corpus happens to lack.
_COMMON = ["better", "best", "worse", "worst", "faster", "slower", "bigger", "smaller", "larger", "cheaper", "harder", "easier", "good", "bad",
           "simple", "simply", "simpler", "kind", "sort", "type", "types", "wat", "wut", "whats", "happen", "happens", "happened", "different",
           "difference", "same", "called", "mean", "means", "meaning", "mention", "mentions", "mentioned", "say", "says", "talk", "talks", "stuff",
           "year", "years", "old", "kid", "kids", "child"]


#: Curly and angle quotes, each to its straight quote.
_STRAIGHT_QUOTES = str.maketrans("‘’“”«»", "''\"\"\"\"")


def normalise(text: str) -> str:
    """NFKC, curly quotes straightened, whitespace collapsed (case kept)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_STRAIGHT_QUOTES)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text).casefold())


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def content_stems(text: str) -> list[str]:
    """The stems of the words that carry meaning (stop words dropped); a hyphenated word also
    gives its parts, so "instruction-response pairs" meets "instruction"."""
    out = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        out.append(stem(w))
        if "-" in w:
            out += [stem(part) for part in w.split("-") if part and part not in STOPWORDS]
    return out


def sentences(text: str) -> list[str]:
    """Split prose into sentences (lines are kept apart too)."""
    out: list[str] = []
    for line in normalise_lines(text):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            if re.search(r"\b(e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|St|No)\.$", line[start:match.end()]):
                continue
            out.append(line[start:match.end()].strip())
            start = match.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


def normalise_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def strip_end(text: str) -> str:
    """Without trailing punctuation or surrounding quotes: "'Hello'." → "Hello"."""
    return text.strip().strip("\"'`").strip().rstrip(".!?;:,").strip().strip("\"'`").strip()


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"

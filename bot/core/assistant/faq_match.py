"""Matching a question to the chapter's FAQ (`faq.yaml`) by what it asks, not by shared words.

Every phrasing of every entry is understood once, like a student's question: its intent and the
concepts it names. A question can only match an entry that names the same concepts, and among
those the closest wording wins (rapidfuzz `token_sort_ratio` over the content words, so
sharing one word with a longer question is not a match), with a bonus when the intent is the
same and a malus when it is not (a why-question is not answered by a how-answer). Below the threshold there is no match, and the reply falls back to
the glossary and the lesson: a wrong FAQ answer would be a confident answer from the wrong place.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from ..content import Course
from ..faq import FaqEntry
from .text import STOPWORDS, words
from .understanding import Question, Understanding

#: How close (0-100, intent bonus included) a question must be to an FAQ phrasing.
MIN_MATCH = 78
INTENT_BONUS = 12
#: A question that names no concept must be closer, with the same intent: the concepts no longer narrow the candidates.
NO_CONCEPT_EXTRA = 10


#: A question about how a thing is *used* ("how is the reward model used once it's trained?") asks about
#: another phase than one about how it is built ("how is the reward model trained?"), however close the
#: wording: a phrasing matches only a question that agrees with it on this.
_USE = re.compile(r"\b(?:use|used|uses|using|applied|apply|after (?:it'?s|it is|being) trained|once (?:it'?s |it is )?trained)\b", re.I)

#: Words too common in questions about a course to show two questions are the same.
_GENERIC = frozenset({"course", "lesson", "chapter", "model", "models"})


#: In a question about this course, "this chapter", "this lesson" and "this course" are the same place.
_SAME_PLACE = {"chapter": "course", "lesson": "course", "class": "course"}


def _content(text: str) -> str:
    return " ".join(_SAME_PLACE.get(w, w) for w in words(text) if w not in STOPWORDS)


from .coverage import _context_words  # noqa: E402
from .text import stem  # noqa: E402


class FaqIndex:
    def __init__(self, course: Course, understanding: Understanding):
        self._phrasings: list[tuple[frozenset[str], str, str, bool, FaqEntry]] = []
        for chapter in course.chapters:
            for entry in chapter.faq:
                for phrasing in entry.phrasings:
                    q = understanding.understand(phrasing)
                    self._phrasings.append((frozenset(t.term for t in q.terms), q.intent, _content(phrasing),
                                            bool(_USE.search(phrasing)), entry))

    def match(self, question: Question, minimum: float = MIN_MATCH, same_intent: bool = False) -> FaqEntry | None:
        concepts = frozenset(t.term for t in question.terms)
        # the question's setting and answer-shape words ("step by step", "my exam is tomorrow, …") are not its wording
        skip = {stem(w) for t in question.terms for n in t.names for w in words(n)}
        setting = _context_words(question.text, skip)
        asked = " ".join(w for w in _content(question.text).split() if w not in setting)
        best, best_score = None, 0.0
        if not asked:
            return None  # "???": nothing to match
        uses = bool(_USE.search(question.text))
        for names, intent, content, about_use, entry in self._phrasings:
            if not content or about_use != uses:
                continue
            if (names != concepts and concepts) or ((same_intent or not concepts) and intent != question.intent):
                continue  # a question naming no concept ("why does the model answer with another question?") may match by wording
            said = set(content.split()) - _GENERIC
            if not said or len(set(asked.split()) & said) * 2 < len(said):
                continue  # close letters are not close words: "author" is not "after"
            own = {w for w in said if stem(w) not in skip}
            if own and not {stem(w) for w in asked.split()} & {stem(w) for w in own}:
                continue  # only the concept's name in common: "RLHF aligns … with what?" is not "what does RLHF lose?"
            score = fuzz.token_sort_ratio(asked, content) + (INTENT_BONUS if intent == question.intent else -INTENT_BONUS)
            if score > best_score:
                best, best_score = entry, score
        return best if best_score >= minimum + (0 if concepts else NO_CONCEPT_EXTRA) else None

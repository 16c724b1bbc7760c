"""Extractive summaries: the sentences that carry a text, kept in their original order.

Each sentence scores by how central its words are (how often its content stems occur in the
whole text), normalised by its length so long sentences do not win by size, with a small
bonus for the opening sentence, which in expository text usually states the point.
"""

from __future__ import annotations

from collections import Counter

from .text import content_stems, sentences


def key_sentences(text: str, count: int | None = None) -> list[str]:
    found = sentences(text)
    if len(found) <= 1:
        return found
    if count is None:
        count = 1 if len(found) <= 3 else 2 if len(found) <= 7 else 3
    freq = Counter(s for sentence in found for s in set(content_stems(sentence)))
    scored = []
    for i, sentence in enumerate(found):
        stems = set(content_stems(sentence))
        if not stems:
            continue
        score = sum(freq[s] - 1 for s in stems) / len(stems) ** 0.5
        if i == 0:
            score = score * 1.25 + 0.75  # the opening sentence usually states the point
        if len(sentence.split()) < 5:
            score *= 0.5
        scored.append((score, i))
    chosen = sorted(i for _, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:count])
    return [found[i] for i in chosen]

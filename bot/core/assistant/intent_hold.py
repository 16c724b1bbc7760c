"""Whether a cited passage holds the asked intent about the asked concept: the last check before a citation.

A citation says "this passage is the answer". Blind sets 10-12 left 4 to 6 turns a set wrong *with* a
citation, and the pattern was one: the passage is about a concept the question names, but not the one
it asks about, or not what it asks about it. "SFT meaning pls, my notes just say SFT then phase 2" was
answered with phase 2's definition (the neighbouring term); "why do models go further than supervised
fine-tuning?" with why SFT exists (the baseline, not what goes beyond it); "what does RLHF make better?"
with RLHF's definition (a definition for a question that asks what it changes); "where do those pairs come
from?" with the dataset sizes (no source in it). Each check here names one such mismatch; the caller
(`SimulatedAssistant._one`) then tries a passage that holds it, else gives the passage as the closest
part, named but not cited.
"""

from __future__ import annotations

import re

from .understanding import Concept, Question, asks_source, tokens

#: Words before a concept that make it the baseline of the question, not its topic ("go further *than* SFT").
_BASELINE_BEFORE = frozenset({"beyond", "than", "instead", "over"})
#: Words right after a concept that ask what it is: "SFT *meaning*", "RLHF *stands* for".
_DEFINE_AFTER = frozenset({"meaning", "mean", "means", "definition", "stands", "stand"})
#: "Why isn't SFT *enough*": the concept is the baseline found wanting, not what is asked about.
_NOT_ENOUGH = re.compile(r"\b(?:isn'?t|is not|aren'?t|are not|not)\b.{0,40}\b(?:enough|sufficient)\b", re.I)
#: A definition answer opens with the term in bold and a colon: "**RLHF**: A training process …".
_DEFINITION = re.compile(r"^(?:\*\*[^*\n]+\*\*(?:, in short)?:)")
#: "What does X make better / change / improve": asks what X does to something, which a definition doesn't say.
_EFFECT = re.compile(r"\bwhat (?:does|do|can|could|will|would) .{2,40}? (?:make|improve|change|fix|break|hurt|worsen|"
                     r"cost|lose|gain)\b|\b(?:better|worse)\s*[?.!]*$", re.I)
#: "What is RLHF for, overall?": what it is for, however the question ends.
_FOR = re.compile(r"\bwhat(?:'s| is| are)\s+.{2,40}?\s+for\b(?!\s+(?:example|instance)\b)", re.I)
#: A passage that says where something comes from: who writes, collects or generates it.
_GIVES_SOURCE = re.compile(r"\b(?:from|by|written|writes?|collect\w*|generat\w*|hire\w*|annotators?|users?|sourced?|"
                           r"distill\w*|scrap\w*|crowd\w*|download\w*)\b", re.I)


def mismatch(question: Question, answer_term: str | None, answer_text: str) -> str | None:
    """Why the cited answer doesn't hold what was asked, or None when it does (or nothing tells).

    `answer_term` is the glossary term the answer is about (its `meta["term"]`), `answer_text` its body."""
    local = [c for c in question.asked if not c.elsewhere]
    asked = local[0] if local else None
    if question.intent == "define" and asked is not None and answer_term and answer_term != asked.term.term:
        other = next((c for c in local if c.term.term == answer_term), None)
        if other is not None and not _touching(asked, other) and _defined(question, asked) and not _defined(question, other):
            return "another term"  # "SFT meaning … SFT then phase 2" answered with phase 2
    if question.intent in ("why", "purpose") and answer_term and _baseline(question, answer_term):
        return "the baseline"  # "why go further than SFT" answered with why SFT exists
    if _DEFINITION.match(answer_text) and (question.intent in ("why", "purpose") or (
            question.intent == "define" and (_EFFECT.search(question.text) or _FOR.search(question.text)))):
        return "a definition"  # "what does RLHF make better", "why is that needed" answered with what it is
    if asks_source(question.text) and not _GIVES_SOURCE.search(answer_text):
        return "no source"  # "where do those pairs come from" answered with how many there are
    return None


def _defined(question: Question, concept: Concept) -> bool:
    """The define words stand right by this concept: "*SFT meaning*", "*what is* SFT", "*define* SFT". In "what
    kind of fine-tuning is instruction tuning" neither name has them, so which one is asked is not told here."""
    toks = tokens(question.text)
    name = toks[concept.start:concept.end]
    for at in (i for i in range(len(toks)) if toks[i:i + len(name)] == name):  # any mention: "SFT meaning … say SFT then"
        after, before = toks[at + len(name):at + len(name) + 1], toks[max(0, at - 2):at]
        if set(after) & _DEFINE_AFTER or before[-1:] == ["define"] or before in (["what", "is"], ["meaning", "of"]) or before[-1:] == ["whats"]:
            return True
    return False


def _touching(first: Concept, second: Concept) -> bool:
    """Two names side by side are one compound ("PPO loss function"): the head may rightly be the answer."""
    return first.end == second.start or second.end == first.start


def _baseline(question: Question, term: str) -> bool:
    """The answer's concept is the one the question goes beyond ("further than X", "X isn't enough")."""
    toks = tokens(question.text)
    for c in question.concepts:
        if c.term.term != term:
            continue
        if set(toks[max(0, c.start - 2):c.start]) & _BASELINE_BEFORE:
            return True
        if _NOT_ENOUGH.search(question.text):
            return True
    return False

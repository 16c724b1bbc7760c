"""Does a passage address everything a question asks? The coverage gate, and the whole-question
fallback over lesson units.

Why: a question that names a known concept but asks about an *aspect* the lesson never gives
("how does the reward model's value head work", "does PPO use a replay buffer") used to get the
concept's plain definition, with a citation: a confidently wrong answer. After a passage is chosen
for a concept, the question's remaining content words (minus the concept's own name words, intent
words, stop words and general question fillers) must be addressed by it: present, fuzzy-near
(a shared five-letter start), or through a small *general* table of everyday ↔ lesson wording.
What is left over is the aspect the lesson doesn't say, and the reply says so.

The same words drive `best_unit`: a question that names no glossary term but paraphrases the
lesson ("why rank several answers?") is scored against every lesson unit (BM25 over stems plus
synonyms); a unit is chosen only when it covers most of the question's key words and clearly beats
the runner-up. Otherwise: "I don't know".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from .text import STOPWORDS, stem, words

#: How common (wordfreq's Zipf scale: 6 = "the", 3 = once per million words) an English word must be
#: to be everyday wording rather than an aspect. 4.0 is about the 10,000 most common words: "honestly",
#: "exam", "marketing", "sentence", "enough" are everyday; "replay", "buffer", "critic", "LoRA" are not.
COMMON_ZIPF = 4.0
#: Below this a token is not an English word (Zipf 0 in wordfreq's small list): it may be a typo.
WORD_ZIPF = 3.0

_course_words: set[str] = set()  # the words of the course's own term names: aspects however common
_lesson_words: set[str] = set()  # every word the lessons use: never a typo


def register_vocabulary(course_words: Iterable[str], lesson_words: Iterable[str]) -> None:
    """The course's term-name words (glossary names, other chapters' vocabulary) and the lessons' words.
    Called once at start-up; it also loads the frequency list, so no student waits for it."""
    _course_words.clear()
    _course_words.update(w.casefold() for w in course_words)
    _lesson_words.clear()
    _lesson_words.update(w.casefold() for w in lesson_words)
    typo_of.cache_clear()
    zipf("the")
    _common_by_length()


def zipf(word: str) -> float:
    """How common this very form is in English (what a typo, or a term's rarity, is measured by)."""
    from wordfreq import zipf_frequency
    return zipf_frequency(word, "en", wordlist="small")


@lru_cache(maxsize=8192)
def lemma_zipf(word: str) -> float:
    """How common a word is as its commonest form: "separates", "structured", "supposedly" are as everyday as
    "separate", "structure", "supposed", though each inflection alone is rarer. Only forms that are English
    words themselves count (`_base_forms`). Used where a wrong call costs a hedge, not a citation: "clipped"
    is an everyday inflection, yet "the PPO clipped objective" is a term the lesson lacks."""
    bases = [zipf(b) for b in _base_forms(word)]
    return max([zipf(word)] + [b for b in bases if b >= WORD_ZIPF])


def _base_forms(word: str) -> list[str]:
    """The forms an English inflection or -ly adverb may come from ("refuses" → "refuse", "tried" → "try",
    "wandering" → "wander", "supposedly" → "supposed"): candidates only; `zipf` keeps those that are words."""
    w = word.casefold()
    if len(w) < 5 or not w.isalpha():
        return []
    out: list[str] = []
    if w.endswith("ly"):
        out += [w[:-2], w[:-3] + "e" if w.endswith("ily") else w[:-2] + "e", w[:-3] + "y" if w.endswith("ily") else w[:-2]]
    if w.endswith("ies"):
        out.append(w[:-3] + "y")
    elif w.endswith("es"):
        out += [w[:-2], w[:-1]]
    elif w.endswith("s") and not w.endswith("ss"):
        out.append(w[:-1])
    for suffix in ("ed", "ing"):
        if w.endswith(suffix):
            root = w[:-len(suffix)]
            out += [root, root + "e"] + ([root[:-1]] if len(root) > 2 and root[-1] == root[-2] else [])
            if root.endswith("i"):
                out.append(root[:-1] + "y")
    return [b for b in dict.fromkeys(out) if len(b) >= 3 and b != w]


@lru_cache(maxsize=1)
def _common_by_length() -> dict[int, tuple[str, ...]]:
    from wordfreq import top_n_list
    out: dict[int, list[str]] = {}
    for w in top_n_list("en", 12000, wordlist="small"):
        if w.isalpha() and zipf(w) >= COMMON_ZIPF:
            out.setdefault(len(w), []).append(w)
    return {n: tuple(ws) for n, ws in out.items()}


@lru_cache(maxsize=4096)
def typo_of(word: str) -> str | None:
    """The common English word a non-word is a typo of ("waht" → "what", "diffrence" → "difference"),
    or None. Short tokens allow only two swapped letters; 5–7 letters one edit; longer ones two."""
    from rapidfuzz.distance import OSA
    w = word.casefold()
    if len(w) < 3 or not w.isalpha() or w in _lesson_words or w in _course_words or zipf(w) >= WORD_ZIPF:
        return None
    limit = 0 if len(w) <= 4 else 1 if len(w) <= 7 else 2
    best: tuple[int, str] | None = None
    table = _common_by_length()
    for n in range(len(w) - max(limit, 1), len(w) + max(limit, 1) + 1):
        for c in table.get(n, ()):
            if limit == 0:
                if len(c) == len(w) and sorted(c) == sorted(w) and OSA.distance(w, c) == 1:
                    return c
                continue
            d = OSA.distance(w, c, score_cutoff=limit)
            if d <= limit and (best is None or d < best[0]):
                best = (d, c)
                if d == 1:
                    return c
    return best[1] if best else None


def everyday(word: str, inflected: bool = False) -> bool:
    """A word that is filler for the gate: very common English (not a word of the course's own term
    names), or a typo of a common word; with `inflected`, also an inflection of a common word (`lemma_zipf`)."""
    w = word.casefold()
    f = lemma_zipf(w) if inflected else zipf(w)
    if w in _course_words and f < EVERYDAY_ZIPF:  # "mask", "temperature": a term's word; "final", "layer": English
        return False
    if f >= COMMON_ZIPF:
        return True
    return typo_of(w) is not None

#: Words that carry no aspect: question words, intent words, generic verbs and nouns of a question.
FILLER = frozenset(stem(w) for w in ["what", "whats", "which", "who", "whom", "whose", "why", "how", "when", "where", "is", "are", "was", "were", "be",
                                     "been", "being", "do", "does", "did", "done", "doing", "can", "could", "should", "would", "will", "shall", "may",
                                     "might", "must", "have", "has", "had", "get", "gets", "got", "getting", "give", "gives", "gave", "tell", "tells",
                                     "told", "explain", "explains", "explained", "describe", "mean", "means", "meant", "meaning", "definition",
                                     "define", "defined", "term", "terms", "concept", "concepts", "idea", "ideas", "thing", "things", "stuff", "work",
                                     "works", "worked", "working", "function", "functions", "role", "roles", "job", "jobs", "purpose", "purposes",
                                     "point", "points", "goal", "aim", "achieve", "achieves", "accomplish", "accomplishes", "use", "uses", "used", "using", "matter", "matters", "important", "importance",
                                     "need", "needs", "needed", "necessary", "help", "helps", "really", "actually", "exactly", "basically", "simply",
                                     "simple", "simpler", "kind", "sort", "type", "types", "way", "ways", "part", "parts", "bit", "bits", "lesson",
                                     "lessons", "course", "courses", "chapter", "chapters", "section", "sections", "say", "says", "said", "talk",
                                     "talks", "talking", "know", "knows", "understand", "understood", "confused", "confusing", "please", "pls", "plz",
                                     "hey", "hi", "ok", "okay", "so", "model", "models", "llm", "llms", "ai", "inside", "within", "in", "into",
                                     "about", "of", "for", "on", "with", "without", "from", "by", "at", "to", "the", "a", "an", "and", "or", "but",
                                     "not", "no", "yes", "this", "that", "these", "those", "it", "its", "they", "them", "their", "there", "here",
                                     "something", "anything", "everything", "someone", "anyone", "people", "person", "example", "examples", "instance",
                                     "short", "briefly", "detail", "details", "detailed", "depth", "deep", "overall", "general", "generally", "main",
                                     "mainly", "involve", "involves", "involved", "happen", "happens", "happened", "go", "goes", "going", "come",
                                     "comes", "came", "make", "makes", "made", "actual", "real", "again", "also", "even", "just", "still", "then",
                                     "than", "very", "much", "many", "more", "most", "less", "least", "good", "bad", "better", "best", "well", "like",
                                     "one", "ones", "two", "three", "first", "second", "third", "step", "steps", "phase", "phases", "stage", "stages",
                                     "exactly", "precisely", "specific", "during", "while", "stand", "stands", "context", "suggest", "suggests",
                                     "suggested", "recommend", "recommends", "recommended", "mention", "mentions", "mentioned", "play", "plays",
                                     "played", "off", "instead", "rather", "called", "after", "before", "put", "puts", "putting", "change", "changes",
                                     "changed", "affect", "affects", "affected", "impact", "impacts", "become", "becomes", "turn", "turns",
                                     "relationship", "relationships", "relation", "relate", "related", "between", "connection", "connected", "link",
                                     "linked", "refer", "refers", "referring", "happen", "happening", "basic", "basics", "name", "named", "practice",
                                     "practical", "deal", "look", "looks", "looked", "sense", "gist", "nutshell", "anyway", "btw", "literally",
                                     "kinda", "sorta", "guys", "bro", "lol", "ur", "ya", "gonna", "wanna", "idk", "tbh", "hmm", "quick", "quickly",
                                     "question", "questions", "curious", "wondering", "wonder", "lost", "clarify", "clarification", "elaborate",
                                     "exist", "exists", "beginner", "beginners", "newbie", "words", "plain", "english", "layman", "dummies", "five",
                                     "eli5", "kid", "child", "year", "old",
                                     # chat register: contractions typed without the apostrophe, texting shorthand, "why bother with X"
                                     "isnt", "arent", "doesnt", "dont", "didnt", "cant", "wont", "wasnt", "werent", "shouldnt", "wouldnt",
                                     "couldnt", "havent", "hasnt", "tmrw", "tmr", "tomorrow", "ppl", "wht", "wat", "u", "r", "bother", "bothering", "extra", "additional"])

#: A small table of everyday wording ↔ the lesson's wording (general, by meaning, never per question).
_SYNONYM_GROUPS = [
    "avoid avoiding prevent prevents mitigate minimise minimize lessen stop stops stopping keep keeps kept",
    "drift drifting deviate deviates diverge stray away far close closer near rails",
    "rank ranks ranking rankings ranked order ordering prefer preferred preference preferences better worse best worst",
    "answer answers answering answered response responses respond responds responded responding reply replies output outputs",
    "question questions prompt prompts instruction instructions request requests command commands",
    "several multiple various many",
    "unsure uncertain uncertainty doubt doubts",
    "admit admits admitting acknowledge concede",
    "lie lies lying hallucinate hallucinates hallucinating hallucination invent fabricate",
    "train trains trained training learn learns learned learning teach taught fine-tune fine-tuned",
    "data dataset datasets corpus",
    "score scores scored rate rates rating grade grades judge judges reward rewards",
    "human humans people annotator annotators labeler labelers labeller writer writers",
    "safe safer safest safety harmless harmlessness dangerous danger harm harmful",
    "helpful helpfulness useful",
    "honest honesty truthful truth",
    "big bigger large larger size huge",
    "chatbot chatbots assistant assistants chatgpt",
    "complete completes completing completion completer autocomplete continue continues continuing ramble rambles rambling",
    "follow follows following obey obeys comply",
    "capability capabilities ability abilities skill skills creative creativity story stories poem poems",
    "worse worsen worsens degrade degrades reduce reduces lower lowers drop drops hurt hurts",
    "cost costs price tax trade-off tradeoff downside drawback penalty",
    "feedback judgement judgment preference preferences",

]
_SYNONYMS: dict[str, frozenset[str]] = {}
for _group in _SYNONYM_GROUPS:
    _stems = frozenset(stem(w) for w in _group.split())
    for _s in _stems:
        _SYNONYMS[_s] = _SYNONYMS.get(_s, frozenset()) | _stems


def synonyms(s: str) -> frozenset[str]:
    """A stem and the stems the general table puts with it."""
    return _SYNONYMS.get(s, frozenset((s,)))


def aspect_words(text: str, skip: Iterable[str] = ()) -> list[str]:
    """The words of a question that say what it asks about, in order (once each): its content words
    minus stop words, fillers and the words in `skip` (the concept's own name words)."""
    skipped = {stem(w) for s in skip for w in words(s)}
    out: list[str] = []
    for w in words(text)[:120]:  # a question is short; a pasted text is not one
        for piece in ([w] if "-" not in w else [w, *w.split("-")]):
            st = stem(piece)
            if (len(piece) < 3 or piece in STOPWORDS or st in FILLER or st in skipped or piece.isdigit()
                    or piece in out or "-" in piece):
                continue
            out.append(piece)
    return out


def addressed(word: str, have: set[str]) -> bool:
    """Whether a text whose stems are `have` addresses a question word: the same stem, a synonym's,
    or a near form (a shared start of five letters: "parameters" meets "params", "ranking" "ranked")."""
    st = stem(word)
    if synonyms(st) & have:
        return True
    for base in _comparative(word):  # "safer" is "safe", "bigger" is "big"
        if synonyms(stem(base)) & have:
            return True
    return len(st) >= 5 and any(len(h) >= 5 and h[:5] == st[:5] for h in have)


def _comparative(word: str) -> list[str]:
    if word.endswith("ier"):
        return [word[:-3] + "y"]
    if word.endswith("er") and len(word) > 4:
        return [word[:-2], word[:-1], word[:-3]]  # faster, safer, bigger
    if word.endswith("est") and len(word) > 5:
        return [word[:-3], word[:-2], word[:-4]]
    return []


def text_stems(text: str) -> set[str]:
    out = set()
    for w in words(text):
        out.add(stem(w))
        if "-" in w:
            out.update(stem(p) for p in w.split("-") if p)
    return out


#: Up to this frequency a common word can still be what is asked ("salary", "license", "trick"), but only
#: in the clause that names the concept; more common words (Zipf >= 5: "allowed", "story", "enough") never.
EVERYDAY_ZIPF = 5.0
_CLAUSE = re.compile(r"[,;:.!?()]+|\s(?:because|cause|cuz|since|but|so|though|although|anyway)\s|\s-+\s", re.I)
_ABOUT_ME = re.compile(r"\b(?:i|i'm|im|i've|ive|me|my|we|our|us)\b", re.I)
_MINE = re.compile(r"\b(?:my|our|your|for (?:an?|the)|before (?:an?|the))\s+(\w+)", re.I)
_OPINION = re.compile(r"\b(?:sounds?|seems?|feels?|looks?)\s+(?:like\s+)?(?:\w+\s+)?(\w+)", re.I)
_MODIFIER = re.compile(r"\b(?:in (?:one|a single|1|a few|two|2|three|3) (?:sentences?|lines?|words?|paragraphs?)|step[- ]by[- ]step"
                       r"|in (?:simple|plain|easy|basic|layman'?s?|everyday) (?:words|terms|english|language))\b", re.I)


_PREMISE = re.compile(r"\s(?:if|when|given(?: that)?|once|since|considering|even though|although|though|whereas|unless"
                      r"|after(?=\s+(?:it'?s|it is|being|they'?re|they are|we'?ve|you'?ve)\s))\s+([^,;:.!?()]*)", re.I)


def _premise_words(question: str, skip: set[str]) -> set[str]:
    """Words of a premise the question states rather than asks about: a clause after "if", "when", "since",
    "given" … that doesn't name the concept ("why do we need instruction tuning *if the model is already
    pretrained*"). It is why the student asks, not what: it neither picks the passage nor fails it."""
    return {w for m in _PREMISE.finditer(question) if not {stem(x) for x in words(m.group(1))} & skip for w in words(m.group(1))}


def _context_words(question: str, skip: set[str]) -> set[str]:
    """Words of the question that are its setting, not its aspect: clauses about the student that
    don't name the concept ("I have an exam tomorrow, …"), "my X"/"for the X", an opinion's object
    ("sounds like marketing") and answer-shape modifiers ("in one sentence", "step by step")."""
    out = _premise_words(question, skip) | _aside_words(question, skip)
    for m in _MODIFIER.finditer(question):
        out.update(words(m.group(0)))
    for m in (*_MINE.finditer(question), *_OPINION.finditer(question)):
        out.update(words(m.group(0)))
    return out


def _aside_words(question: str, skip: set[str]) -> set[str]:
    """Words of the clauses that don't name the concept when another does, or that are about the student
    ("…, my prof mentioned it and I zoned out"): the student's situation, not the question's aspect."""
    out: set[str] = set()
    clauses = [c for c in _CLAUSE.split(question) if c and c.strip()]
    if len(clauses) > 1:
        naming = [c for c in clauses if {stem(w) for w in words(c)} & skip]
        for c in clauses:
            if (naming and c not in naming) or (not naming and _ABOUT_ME.search(c)):
                out.update(words(c))
    return out


def gate_words(question: str, skip: Iterable[str] = ()) -> list[str]:
    """The aspect words whose absence makes the gate say "I don't know": rare words (technical terms,
    named things: `everyday` is False) anywhere, and moderately common ones (Zipf below 5) only where
    the question asks them (not its setting, `_context_words`; not an adverb in -ly)."""
    skipped = {stem(w) for s in skip for w in words(s)}
    setting = _context_words(question, skipped)
    aside = {w for w in _aside_words(question, skipped) if _ABOUT_ME.search(question)}
    out = []
    for w in aspect_words(question, skip):
        pieces = w.split("-")
        if w in aside and w not in _lesson_words and w not in _course_words:
            continue  # a rare word of the student's situation ("I zoned out") that the course never uses
        if not all(everyday(p) for p in pieces) or (w not in setting and not w.endswith("ly") and typo_of(w) is None and zipf(w) < EVERYDAY_ZIPF):
            out.append(w)
    return out


#: Words at least this common ("now", "around", "enough") never pick a passage either.
FUNCTION_ZIPF = 5.5


def fit_words(question: str, skip: Iterable[str] = ()) -> list[str]:
    """The aspect words that choose the passage that fits best: all but the most common English words,
    typos of common words, adverbs in -ly and answer-shape modifiers ("in one sentence")."""
    shape = {w for m in _MODIFIER.finditer(question) for w in words(m.group(0))}
    shape |= _premise_words(question, {stem(w) for s in skip for w in words(s)})
    return [w for w in aspect_words(question, skip)
            if w not in shape and not (w.endswith("ly") and everyday(w))
            and (w in _course_words or (zipf(w) < FUNCTION_ZIPF and typo_of(w) is None))]


def uncovered(question: str, passage: str, skip: Iterable[str] = (), strict: bool = True) -> list[str]:
    """The aspect words of a question that a passage does not address: all of them (`strict`=False,
    for choosing the passage that fits best) or only those whose absence means "I don't know" (`gate_words`)."""
    have = text_stems(passage)
    asked = gate_words(question, skip) if strict else fit_words(question, skip)
    return [w for w in asked if not addressed(w, have)]


def gate_fails(question: str, passage: str, skip: Iterable[str] = (), strict: bool = True) -> list[str]:
    """The words the passage leaves unaddressed when that means it answers something else: any one
    of one or two aspect words, or more than a third of a longer question's. Empty: it covers the question."""
    asked = gate_words(question, skip) if strict else fit_words(question, skip)
    missing = uncovered(question, passage, skip, strict)
    if not missing:
        return []
    if len(asked) <= 2 or len(missing) * 3 > len(asked):
        return missing
    return []


#: What `best_unit` chooses among: whatever the caller pairs a unit with (its section, say), given back as it was.
Candidate = TypeVar("Candidate")


def best_unit(question: str, units: Iterable[Candidate], unit_text: Callable[[Candidate], str], idf: Callable[[str], float],
              skip: Iterable[str] = (), margin: float = 0.08) -> Candidate | None:
    """The lesson unit that answers a question naming no term, scored by its aspect words (BM25-like
    over stems and synonyms). Chosen only when it covers most key words and clearly beats the runner-up."""
    asked = aspect_words(question, skip)
    if len(asked) < (2 if margin else 1):
        return None  # one word is not a paraphrase of a passage ("how long is this course": "long text")
    stems = [stem(w) for w in asked]
    weights = [max(idf(s), max((idf(x) for x in synonyms(s)), default=0.0)) or 0.5 for s in stems]
    total = sum(weights)
    scored: list[tuple[float, float, int, Candidate]] = []
    for pair in units:
        have = text_stems(unit_text(pair))
        length = max(len(have), 1)
        got = 0.0
        hits = 0
        for w, weight in zip(asked, weights, strict=True):
            if stem(w) in have:
                got += weight
                hits += 1
            elif addressed(w, have):
                got += 0.8 * weight
                hits += 1
        if not hits:
            continue
        norm = got / total
        scored.append((norm - 0.002 * length, norm, hits, pair))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    top = scored[0]
    runner = scored[1][0] if len(scored) > 1 else 0.0
    need = len(asked) if len(asked) <= 2 else math.ceil(0.6 * len(asked))
    if top[2] < need or top[1] < 0.6 or (top[0] - runner < margin if margin else top[0] <= runner):
        return None
    return top[3]


_AND = re.compile(r"\s+")


def quoted(missing: list[str]) -> str:
    return "“" + " ".join(missing[:4]) + "”"

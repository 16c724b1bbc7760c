"""Understanding a course question before retrieving anything: what it asks (its intent), about
which concepts, and in how many parts.

Why before retrieval: ranking passages by shared words answers the nearest *words*, so "explain
reward models simply" found a passage about simplicity and "tell me about the alignment tax in
simple words" found a list. Here the concepts are matched as whole names (glossary terms, their
aliases, lesson headings), longest first, with rapidfuzz for typos, and never through a stemmer:
a stemmer makes "transformer" and the verb "transform" one word, which is how a question about
another chapter's architecture got an answer about transforming a model into an assistant. A
concept the student names always wins over the conversation's history.

Intents: define, purpose (what X is for / does), why, how, difference (X vs Y), list, example,
simpler, where (in the lesson), and detail (a formula, a number, a name, a date: things a course
may not give, which must then be said).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ..content import Chapter, Course
from ..glossary import GlossaryTerm
from ..outline import OutlineChapter
from .text import STOPWORDS, normalise

_TOKEN = re.compile(r"[a-z0-9]+")
#: Concepts are looked for in a question's first words only: a question is short, a pasted text is not one.
MAX_TOKENS = 120
#: Words around a name that do not change which concept it is.
_ARTICLES = frozenset({"the", "a", "an"})


@dataclass(frozen=True)
class Concept:
    """A glossary term the question names, where (token span) and how well (100 = exactly)."""

    term: GlossaryTerm
    chapter: Chapter
    said: str
    start: int
    end: int
    score: float

    @property
    def elsewhere(self) -> bool:
        """Taught in another part of the course; this chapter only names it."""
        return self.term.elsewhere is not None


@dataclass(frozen=True)
class Elsewhere:
    """A phrase of another chapter's vocabulary (course.yaml's outline) that the question names."""

    chapter: OutlineChapter
    phrase: str
    start: int
    end: int


@dataclass
class Question:
    text: str
    intent: str
    concepts: list[Concept] = field(default_factory=list)
    detail: str | None = None  # "formula" | "number" | "person" | "date" | "spec"
    parts: list[str] = field(default_factory=list)
    depth: str | None = None  # "deep" (in detail, everything about) | "short" (briefly, in one sentence) | None
    detail_words: str | None = None  # for a detail, the words that name it ("batch size")

    @property
    def terms(self) -> list[GlossaryTerm]:
        return [c.term for c in self.concepts]

    @property
    def asking_clause(self) -> str:
        """The clause that asks (the whole text when the question is one clause). In "SFT already follows
        instructions, so why bother with RLHF?" the clause before "so why" is a premise: a concept named
        there is what the student already knows, not what they ask about."""
        found = [m for m in _ASKING_CLAUSE.finditer(self.text) if m.start() > 0]
        return self.text[found[-1].start(1):] if found else self.text

    @property
    def asked(self) -> list[Concept]:
        """The concepts of the asking clause (all of them when the question is one clause), the asked one first:
        in "why do models like ChatGPT need RLHF" the object of "need" is asked, and ChatGPT is only an example."""
        toks = tokens(self.text)
        start = len(toks) - len(tokens(self.asking_clause))
        found = [c for c in self.concepts if c.start >= start]
        part = [c for c in found if _PART_OF.match(" ".join(toks[c.end:c.end + 3]))]
        if part:  # "the goal of the honesty part of alignment": the part is asked about, not the whole
            found = part + [c for c in found if c not in part]
        if self.intent not in ("why", "how", "purpose"):
            return found

        def rank(c: Concept) -> int:
            before = " ".join(toks[max(c.start - 2, 0):c.start])
            if _OBJECT_OF.search(before):
                return 0
            return 2 if _EXAMPLE_OF.search(before) else 1
        return sorted(found, key=rank)


#: The words after a concept that make it a part of the next one ("the honesty part of alignment").
_PART_OF = re.compile(r"^(?:part|parts|aspect|aspects|side|component|element|bit|piece|pillar) (?:of|in)\b")
#: The words before a concept that make it what a why/how question asks about ("… need RLHF", "bother with RLHF").
_OBJECT_OF = re.compile(r"\b(?:need|needs|require|requires|bother with|add|adds|apply|applies)$")
#: The words before a concept that make it an example of something else ("models like ChatGPT").
_EXAMPLE_OF = re.compile(r"\b(?:like|such as|e g|eg)$")
#: A why/how/what that opens a new clause after a statement: ", so why …", ". how …", "; what …".
_ASKING_CLAUSE = re.compile(r"(?:[,;.!?:]|\s-+)\s*(?:(?:so|but|and|then|ok(?:ay)?)\s+)?(why|how|what|which)\b", re.I)


def tokens(text: str) -> list[str]:
    """Lower-case word pieces; a hyphen or apostrophe splits ("fine-tuning" → fine, tuning)."""
    return _TOKEN.findall(normalise(text).casefold().replace("'s ", " "))


SIMPLER_WORDS = re.compile(r"\b(simpl(?:er|y|ify|e (?:terms|words|english|language|way|explanation|version))|eli5|like (?:i'?m|i am|im) (?:five|5|a child|a kid|six|ten)"
                      r"|(?:to|for) (?:an?|my) (?:\w+[- ])?(?:year[- ]old|kid|child|beginner|newbie|grandma|grandmother|grandpa|mom|mum|dad|parents?|non-?expert)"
                      r"|plain (?:english|words|language|terms)|easier|dumb(?:ed)? (?:it |this )?down|layman'?s?|less technical"
                      r"|for (?:a )?(?:beginners?|dummies|kids?|a child|a five[- ]year[- ]old)|in a nutshell|basic terms|non-?technical)\b", re.I)
_DIFFERENCE = re.compile(r"\b(diff(?:e?r[ae]n(?:ce|ces|t|tiate))?|differ|dif+rence|distinguish|compare[ds]?|comparison|contrast|vs\.?|versus"
                         r"|same (?:thing|as)|(?:is|are) .{2,40}? (?:like|related to) .{2,40}?)\b", re.I)
_EXAMPLE = re.compile(r"\b(examples?|for instance|show me (?:an?|one|what)|illustrat(?:e|ion)|sample|e\.g\.?)\b", re.I)
_WHERE = re.compile(r"\bwhere\b.{0,40}\b(lesson|chapter|course|read|find|explained|covered|discussed|mention(?:ed|s)?|talk(?:ed|s)? about|taught|learn|look|part|bit|section|stuff)\b"
                    r"|\b(which|what) (section|part|page|heading|chapter)\b|\bwhere (?:is|are|r|does|do|was|were) .{2,40}\b(?:in|come|listed|given|mentioned|example)\b"
                    r"|^where(?:'s| is| are| r)\s+(?!the capital)\S+(?:\s+\S+){0,3}\s*[?.!]*$", re.I)
#: "Where does that data come from?", "where do I find people to discuss them with?": where something is got in
#: the world, not where the lesson says it. A lesson place is asked with "the …" ("where can I find the paper
#: list") or with the lesson's own words, so those stay "where".
_SOURCE = re.compile(r"\bwhere\b.{0,40}\b(?:come|comes|came|coming|get|gets|got|obtain|obtained|buy|bought|collect|collected|source|sourced|hire|recruit) from\b"
                     r"|\bwhere (?:do|does|can|could|would|should|did|might|will) (?:i|we|you|they|people|one|companies|researchers|labs?|teams?) "
                     r"(?:\w+ )?(?:find|get|obtain|buy|hire|recruit|meet|collect)\s+(?!the\b|it\b|that\b|this\b|them\b|those\b|these\b|more\b|out\b|in\b|where\b)\w", re.I)
_LESSON_PLACE = re.compile(r"\b(?:lesson|chapter|course|section|heading|page|explained|covered|mentioned|discussed|taught|listed)\b", re.I)


def asks_source(text: str) -> bool:
    """The question asks where something comes from or is got (a source in the world), not where the lesson is."""
    return bool(_SOURCE.search(text)) and not _LESSON_PLACE.search(text)


_LIST = re.compile(r"^(?:please\s+)?(?:list|enumerate|name (?:the|all|every)|what are (?:the )?(?:\d+|two|three|four|five|main|different|key) )\b"
                   r"|\b(?:list|enumerate)\b|\bwhat are the (?:steps|phases|stages|strategies|ways|values|resources)\b"
                   r"|^(?:(?:give me|tell me|name)\s+)?(?:the\s+)?(?:\d+|two|three|four|five|six)\s+(?:main\s+|key\s+|different\s+)?(?:ways|steps|phases|stages|strategies|methods|values|resources|types|kinds)\b"
                   r"|^(?:please\s+)?(?:go|walk|run) (?:me )?through\b|\b(?:steps|stages) (?:of|in|for) (?:phase|stage|step)\b"
                   r"|^(?:the\s+)?(?:steps|stages|phases)\s+(?:of|in|for)\b|\b(?:steps|stages) (?:of|in|for) the [\w-]+ (?:phase|stage)\b", re.I)
_PURPOSE = re.compile(r"\b(purpose|point of|job|role|goal of|aim of|function of|used for|use of|useful|responsible for|what for)\b"
                      r"|\bwhat (?:does|do) (?:the |a |an )?.{2,40}? do\b|\bwhat (?:is|are|'s) (?:the |a |an )?.{2,40}? (?:for|good for)(?:\s+(?:in the end|in the long run|anyway|exactly|really|then|ultimately|at all))?\s*[?.!]*$"
                      r"|\bwhy (?:do we |would you |do you |would we )?use\b|\bwhat (?:does|do|did) .{2,40}? (?:achieve|accomplish)\b", re.I)
_WHY = re.compile(r"^(?:so |but |and |ok(?:ay)? )?(?:why|how come)\b|\bwhy\b|\breason\b|\bmatters?\b|\bimportant\b|\bneeded\b|\bneed(?:ed)? (?:it|this|that|them)\b", re.I)
_HOW = re.compile(r"^(?:so |but |and )?how\b(?! (?:many|much|big|large|long|old|come)\b)|\bhow (?:does|do|is|are|can|would|did)\b|\bwork\b|\bprocess\b|\bsteps?\b", re.I)
_DETAIL = (("formula", re.compile(r"\b(formula|equations?|math\w*|derivation|derive|computed?|calculated?|pseudo-?code|loss function of)\b", re.I)),
           ("number", re.compile(r"\b(how (?:many|much|big|large|long)|number of|size of|exact (?:value|number|size)|what value|learning rate|hyper-?parameters?|"
                                 r"beta|coefficient|percent(?:age)?|how fast|price)\b", re.I)),
           ("person", re.compile(r"\b(who (?:invented|created|came up with|proposed|introduced|wrote|made|developed|discovered|coined)|inventor|"
                                 r"which (?:company|lab|team|person|researchers?)|whose idea)\b", re.I)),
           ("date", re.compile(r"\b(when (?:was|were|did)|what year|which year|in what year|how old)\b", re.I)),
           # an implementation detail: a setting, an exact design, a loss, code or a how-to step the course may not give
           ("spec", re.compile(r"\b(batch[- ]?sizes?|learning[- ]rates?|epochs?|hyper-?param\w*|optimi[sz]ers?|weight decay|warm-?up|dropout rates?|"
                               r"(?:exact|precise|specific|actual) (?:architecture|design|setup|settings?|config\w*|values?|numbers?|steps?|loss|objective|algorithm|recipe|prompt|template|format)|"
                               r"architecture (?:of|does|do|is)|(?:which|what) (?:loss(?: function)?|objective|optimi[sz]er|architecture|activation|algorithm|settings?|config\w*|"
                               r"prompt (?:template|format)|template|tokenizer|library|framework|gpu|hardware|dataset (?:exactly|precisely))\b|"
                               r"(?:source |the |python |pytorch )code|code (?:for|to|of)|in code|implement(?:ation)? details?|"
                               r"how (?:do|would|can|should|to) (?:i|you|we)? ?(?:implement|code|mask|pad|program|set up|configure|tune|write the code)|padding|pad tokens?)\b", re.I)))


_DEEP = re.compile(r"\b(in (?:more |full |great )?detail|detailed|in depth|in-depth|deep(?:ly|er)? (?:dive|explanation)|thoroughly|everything (?:about|on)|"
                   r"all about|fully|elaborate on|explain .{2,40} in full)\b", re.I)
_SHORT = re.compile(r"\b(briefly|in (?:one|a single|1) (?:sentence|line)|in a few words|short(?:ly)? answer|quick(?:ly)?|tl;?dr|in short|short version)\b", re.I)


def depth_of(text: str) -> str | None:
    """How deep the answer should go: "explain RLHF in detail" → deep, "briefly" → short."""
    return "deep" if _DEEP.search(text) else "short" if _SHORT.search(text) else None


def intent_of(text: str) -> tuple[str, str | None]:
    """The question's intent and, for a detail, which kind."""
    for kind, pattern in _DETAIL:
        if pattern.search(text):
            return "detail", kind
    return _plain_intent(text), None


def detail_said(text: str) -> str | None:
    """The words of a detail question that say which detail ("batch size", "exact architecture")."""
    for _, pattern in _DETAIL:
        m = pattern.search(text)
        if m:
            return m.group(0)
    return None


def _plain_intent(text: str) -> str:
    """The intent of a question that asks for no detail."""
    if _WHERE.search(text):
        return "where"
    if _DIFFERENCE.search(text):
        return "difference"
    if SIMPLER_WORDS.search(text):
        return "simpler"
    if _EXAMPLE.search(text):
        return "example"
    if _LIST.search(text):
        return "list"
    if _PURPOSE.search(text):
        return "purpose"
    if _WHY.search(text):
        return "why"
    if _HOW.search(text):
        return "how"
    return "define"


_SPLIT = re.compile(r"\?\s+(?=\S)|;\s*|\.\s+(?=(?:and |also |plus )?(?:what|why|how|who|where|when|which|is|are|does|do|can|explain|tell|give)\b)"
                    r"|,?\s+(?:and|also|plus|as well as|\+)\s+(?=(?:also\s+)?(?:what|whats|why|how|who|where|when|which|is|are|does|do|can|could|explain|tell|give|"
                    r"its|their|it'?s|the population|the currency|the language)\b)", re.I)


#: A numbered or lettered list of questions in one line: "1) … 2) …", "(a) … (b) …", "1. … 2. …".
_ENUMERATOR = re.compile(r"(?:^|\s)\(?(?:[1-9]|[a-e])[).]\s+", re.I)


def _enumerated(text: str) -> list[str] | None:
    """The items of "1) why … 2) what …": markers counting up from the start of the message, each before a part."""
    marks = list(_ENUMERATOR.finditer(text))
    labels = [m.group(0).strip(" ().").lower() for m in marks]
    if len(marks) < 2 or marks[0].start() != 0 or labels not in (list("123456789"[:len(labels)]), list("abcde"[:len(labels)])):
        return None
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return [text[m.end():end].strip(" ,.;") for m, end in zip(marks, ends, strict=True)]


def split_parts(text: str) -> list[str]:
    """The questions in a message: "what is SFT and why is it needed?" → two; "SFT and PPO" stays one;
    "1) what is SFT 2) why PPO" → two, each then split the same way."""
    numbered = _enumerated(text)
    if numbered is not None:
        return [q for item in numbered for q in split_parts(item)]
    parts = [p.strip(" ,.") for p in _SPLIT.split(text) if p and p.strip(" ,.?")]
    return [p for p in parts if len(p.split()) >= 2] if len(parts) > 1 else [text]


class Understanding:
    """Built once per course: every glossary name as tokens, ready to be found in a question."""

    def __init__(self, course: Course):
        self._names: list[tuple[tuple[str, ...], str, GlossaryTerm, Chapter]] = []
        for chapter in course.chapters:
            for term in chapter.glossary:
                for name in term.names:
                    toks = tuple(t for t in tokens(name) if t not in _ARTICLES)
                    if toks:
                        self._names.append((toks, " ".join(toks), term, chapter))
        self._memo: dict[str, list[Concept]] = {}
        self._first: dict[str, list[int]] = {}
        for i, (toks, _, _, _) in enumerate(self._names):
            self._first.setdefault(toks[0][:2], []).append(i)
        self._outline: dict[str, list[tuple[tuple[str, ...], str, OutlineChapter, str]]] = {}
        self._outline_bags: dict[frozenset[str], tuple[int, OutlineChapter, str]] = {}
        # "the classification chapter", "the chapter on attention": a word only one other chapter's title has
        from .text import stem
        here = {stem(t) for c in course.chapters for t in tokens(c.title)}
        counts: dict[str, list[OutlineChapter]] = {}
        for other in course.outline:
            for t in set(tokens(other.title)) - STOPWORDS:
                counts.setdefault(stem(t), []).append(other)
        self._title_words = {st: chs[0] for st, chs in counts.items() if len(chs) == 1 and st not in here and len(st) >= 4}
        for other in course.outline:
            for phrase in other.vocabulary:
                toks = tuple(t for t in tokens(phrase) if t not in _ARTICLES)
                if toks:
                    self._outline.setdefault(toks[0][:2], []).append((toks, " ".join(toks), other, phrase))
                bag = _bag(toks)
                if len(bag) >= 2:  # "load the pretrained weights", "weights (pretrained) loading": same words, any order or form
                    self._outline_bags.setdefault(bag, (len(toks), other, phrase))

    def elsewhere(self, text: str) -> list[Elsewhere]:
        """The other chapters' vocabulary the text names (longest first, each span once), in order.
        Same matching as the glossary's: whole names, plurals, typos for long names, no stemming."""
        toks = tokens(text)[:MAX_TOKENS]
        candidates: list[tuple[float, int, int, Elsewhere]] = []
        for i in range(len(toks)):
            for name, joined, other, phrase in self._outline.get(toks[i][:2], ()):
                for width in {len(name) - 1, len(name), len(name) + 1}:
                    if width < 1 or i + width > len(toks):
                        continue
                    score = _score(joined, " ".join(toks[i:i + width]))
                    if score:
                        candidates.append((score, width, -i, Elsewhere(other, phrase, i, i + width)))
        for i, t in enumerate(toks):
            if t not in ("chapter", "chapters", "ch"):
                continue
            from .text import stem
            for j in (i - 2, i - 1, i + 1, i + 2):
                if 0 <= j < len(toks) and stem(toks[j]) in self._title_words:
                    other = self._title_words[stem(toks[j])]
                    lo, hi = min(i, j), max(i, j) + 1
                    candidates.append((90.0, hi - lo, -lo, Elsewhere(other, other.title, lo, hi)))
                    break
        if self._outline_bags:
            for i in range(len(toks)):
                for width in range(2, 8):
                    if i + width > len(toks) or toks[i] in _FILLER or toks[i + width - 1] in _FILLER:
                        continue
                    hit = self._outline_bags.get(_bag(toks[i:i + width]))
                    if hit is not None and width <= hit[0] + 3:
                        candidates.append((95.0, width, -i, Elsewhere(hit[1], hit[2], i, i + width)))
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
        taken: set[int] = set()
        found: list[Elsewhere] = []
        for _, _, _, candidate in candidates:
            span = set(range(candidate.start, candidate.end))
            if not span & taken:
                taken |= span
                found.append(candidate)
        return sorted(found, key=lambda h: h.start)

    def concepts(self, text: str) -> list[Concept]:
        """The concepts the text names, in order, each span claimed by its best (then longest) match.
        Remembered per text: the routing asks about the same message several times."""
        found = self._memo.get(text)
        if found is None:
            if len(self._memo) > 4096:
                self._memo.clear()
            found = self._memo[text] = self._find(text)
        return list(found)

    def _find(self, text: str) -> list[Concept]:
        toks = tokens(text)[:MAX_TOKENS]
        candidates: list[tuple[float, int, int, int, Concept]] = []
        for i in range(len(toks)):
            if toks[i] in _ARTICLES:
                continue
            for j in self._first.get(toks[i][:2], ()):
                name, joined, term, chapter = self._names[j]
                for width in {len(name) - 1, len(name), len(name) + 1}:
                    if width < 1 or i + width > len(toks):
                        continue
                    if i + width < len(toks) and toks[i + width].isdigit() and not name[-1].isdigit():
                        continue  # "GPT-4" is not "GPT": a version number makes it another name
                    said = " ".join(toks[i:i + width])
                    score = _score(joined, said)
                    if score:
                        candidates.append((score, width, -i, j, Concept(term, chapter, said, i, i + width, score)))
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
        taken: set[int] = set()
        found: list[Concept] = []
        for _, _, _, _, concept in candidates:
            span = set(range(concept.start, concept.end))
            if span & taken or any(c.term is concept.term for c in found):
                continue
            taken |= span
            found.append(concept)
        return sorted(found, key=lambda c: c.start)

    def understand(self, text: str) -> Question:
        intent, detail = intent_of(text)
        concepts = self.concepts(text)
        return Question(text, intent, concepts, detail, split_parts(text), depth_of(text),
                        detail_said(text) if intent == "detail" else None)  # detail_words


#: Words that may sit inside a phrase without changing it ("load *the* pretrained weights").
_FILLER = frozenset({"the", "a", "an", "of", "for", "to", "from", "in", "on", "with", "and", "my", "your", "our", "its", "their"})


def _bag(toks: Iterable[str]) -> frozenset[str]:
    """A phrase's words as a set of stems, fillers left out: order and inflection don't change it."""
    from .text import stem
    return frozenset(stem(t) for t in toks if t not in _FILLER and t not in STOPWORDS)


def _score(name: str, said: str) -> float:
    """How well `said` is `name`: exact, a plural, or (for longer names) a typo away."""
    if said == name or said == name + "s" or said == name + "es" or (name.endswith("y") and said == name[:-1] + "ies") or (
            name.endswith("s") and len(name) > 4 and said == name[:-1]) or (
            len(said) >= 6 and " " not in name and name in (said + "ness", said + "y")):
        return 100.0  # "honest" is the value "honesty", "harmless" "harmlessness": the adjective names the same noun
    if len(name) >= 4 and len(said) == len(name) and said[0] == name[0] and _one_swap(name, said):
        return 90.0  # "rlfh": two neighbouring letters swapped, the commonest typo of an acronym
    if len(name) < 7 or said[:1] != name[:1] or (" " not in said and said.endswith("ly")):
        return 0.0  # short names (RLHF, PPO, KL) only exactly: a typo of four letters is another word; an adverb is not a term
    if name.startswith(said) or said.startswith(name):
        return 0.0
    if any(w in STOPWORDS and w not in name.split() for w in said.split()):
        return 0.0  # "instructions the model" is not a typo of "instruction tuned model": a whole word differs  # "transform" is not a typo of "transformer": a shorter or longer word is another word
    score = fuzz.ratio(name, said)
    return score if score >= 88 else 0.0


def _one_swap(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]

"""Answers about the parts of the lesson that no glossary term names: a section by its heading (and
the words students use for it), a panel callout by its title, the chapter's gist, and examples of a
thing the lesson exemplifies. A mixin of `SimulatedAssistant`.

Why: students ask "what should I do after the course?", "what did we learn?", "which frameworks does
it suggest?", "give me an example of a dataset". No glossary term names these, so the concept skill
found nothing and the word search either found nothing or a near miss. Here the lesson's own
structure is the vocabulary: each section's heading and the bold lead of its items ("Read papers:",
"Key Resources:") are names for what follows, widened by a small table of heading words and what
students call them ("next" ↔ "after", "finish"; "resources" ↔ "frameworks", "libraries"), and the
course's completion section (course.yaml) is the recap of the whole course. Inside the section the
unit is chosen for the intent: a list for a list request, the item whose lead the question names, the
units that give examples (quotes, "such as", names before the word asked about, a list introduced as
examples). When no unit answers, nothing is returned and the caller says it doesn't know: a near miss
is not cited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .coverage import everyday, gate_fails
from .retrieval import SectionDoc, Unit
from .skills_base import SkillBase
from .text import STOPWORDS, content_stems, everyday_stems, stem, words
from .turns import Answer, Turn, unit_line
from .understanding import asks_source, intent_of

#: Heading words and the words students use for the same thing. General (any lesson may have a
#: "What's Next?" or "Key Resources"), not tied to one question.
HEADING_SYNONYMS = {
    "next": "after afterwards then further beyond continue finish finished finishing done future later step steps",
    "futur": "later",
    "resourc": "framework frameworks library libraries tool tools toolkit read reading recommend recommended",
    "matter": "why important importance reason",
    "work": "how works",
    "strategi": "way ways method methods approach approaches",
    "implement": "build code coding project",
    "experiment": "try tinker play",
    "commun": "community communities forum forums people group",
    "paper": "papers article articles read reading",
    "dataset": "data datasets",
}
#: What a student calls the recap of the whole course: the completion section's role.
RECAP_WORDS = ("learn learned learnt learning taught cover covered recap overall whole entire everything summary review "
               "sum sums total congrats congratulations")
_SYN = {k: set(content_stems(v)) for k, v in HEADING_SYNONYMS.items()}
_IGNORED = set(content_stems("lesson chapter course section part bit page thing stuff say says tell me give show some any "
                             "suggest suggests suggested mention mentioned list name which what example examples instance "
                             "should could would can do does did we i you need want get know go have make use my me "
                             "much many big large typical typically usually model models where talk talks talked about find "
                             "found explain explained discuss discussed read")) | {"where", "what", "which", "how", "whats"}
_GIST = re.compile(r"\b(?:what(?:'s| is)|whats)\s+(?:this|the)\s+(?:chapter|lesson)\s+(?:about|on)\b|\b(?:gist|main idea|main point|big idea|key idea|"
                   r"takeaway|tl;?dr)\b.*\b(?:chapter|lesson)\b|\b(?:chapter|lesson)\b.*\b(?:gist|main idea|main point|big idea|key idea|takeaway|in (?:one|a) sentence)\b", re.I)
_WHICH_PLURAL = re.compile(r"^(?:(?:so|and|ok(?:ay)?),?\s+)?(?:which|what)\s+(?:other\s+|specific\s+)?(?P<w>[a-z]{3,}s)\s+(?:are|does|do|did|is|were|can|should)\b", re.I)
_HOW_MANY = re.compile(r"\bhow (?:many|much|big|large|long)\b|\b(?:size|number) of\b", re.I)
_NUMBER = re.compile(r"(?<![-\w])\d[\d.,]*[kKmMbB%]?\b|\b(?:dozens|hundreds|thousands|millions|billions)\b", re.I)
_LABEL = re.compile(r"\b(?:phase|ch|chapter|step|response|gpt|part|section)\W*$", re.I)


def _quantities(text: str, precise: bool = False) -> bool:
    """Whether a text states a quantity: a number that is not a label ("Phase 2", "GPT-4", "Ch 5").
    `precise`: in digits ("10K-100K"), not a word such as "thousands"."""
    return any(not _LABEL.search(text[max(0, m.start() - 12):m.start()]) and (not precise or m.group(0)[0].isdigit())
               for m in _NUMBER.finditer(text))


_LEAD = re.compile(r"^([^:\n]{2,40}):")
_EXAMPLE_OF = re.compile(r"\bexamples?\s+(?:of\s+)?(?:(?:a|an|the|some|any)\s+)?(?P<w>[a-z][\w-]+)", re.I)
#: After "an example of a <noun>", a behaviour the noun shows: what the example is asked of.
_BEHAVING = re.compile(r"\s+(?:being|acting|behaving|(?:that|who|which) (?:is|acts|behaves) (?:being )?)\b", re.I)
_LISTY = re.compile(r"^(?:what|which)\s+(?:are|\w+s\b)|\b(?:list|which)\b|\bsteps\b", re.I)
_EXAMPLE_CUE = re.compile(r"e\.g\.|for example|such as|\blike\b|\"[^\"]*\s[^\"]*\"|\binput:|\btarget:", re.I)


def _widen(stems: set[str]) -> set[str]:
    out = set(stems)
    for s in stems:
        out |= _SYN.get(s, set())
    return out


def _lead(unit: Unit) -> str | None:
    m = _LEAD.match(unit.text)
    return m.group(1) if m else None


def is_completion(title: str, completion_section: str | None) -> bool:
    """The section is the chapter's completion section (course.yaml), the recap of the whole course:
    its heading may carry more than course.yaml names ("Congratulations! 🎉")."""
    return bool(completion_section) and (title == completion_section or title.startswith(completion_section or "\0"))


def _named_as(doc: SectionDoc, heading: str | None = None) -> str:
    """A heading (the section's, or an item's lead) with the words students use for it (`HEADING_SYNONYMS`,
    and the recap words for the completion section): what a question may call it."""
    heading = doc.title if heading is None else heading
    extra = [HEADING_SYNONYMS[st] for st in content_stems(heading) if st in HEADING_SYNONYMS]
    if heading is doc.title and is_completion(doc.title, doc.chapter.completion_section):
        extra.append(RECAP_WORDS)
    return " ".join([heading, *extra])


def _other_inflections(text: str, title: str) -> set[str]:
    """Stems a heading shares with a question only through another inflection of a verb: "what have I
    learned" does not name "Reinforcement *Learning*"; "how do models learn" neither. The stemmer makes
    them one word; a heading is named by the word it uses."""
    said = {w: stem(w) for w in words(text)}
    out = set()
    for w in words(title):
        st = stem(w)
        forms = {x for x, s in said.items() if s == st}
        if forms and w not in forms and any(f.endswith(("ing", "ed")) or w.endswith(("ing", "ed")) for f in forms):
            out.add(st)
    return out


def section_words(text: str) -> set[str]:
    """What a question asks about, without the words every question has."""
    return set(content_stems(text)) - _IGNORED


#: A question that asks for a named one of a kind ("any real datasets I could use?", "name one from the resources"),
#: not what the kind is: cues of a name wanted, or of something to use.
_ASKS_NAMED = re.compile(r"\b(?:which|name|names|named|called|real|actual(?:ly)?|existing|download(?:able)?|recommend(?:ed|s)?"
                         r"|suggest(?:ed|s)?|use|using|resources?|the one|other one)\b", re.I)
#: Questions about the kind itself (its make-up, size, way of collecting), which a name does not answer.
_ABOUT_THE_KIND = re.compile(r"\b(?:how|why)\b|\bmade (?:of|up)\b|\bstructur|\bformat|\bconsist|\bcontain|\blook like\b|\bgoes? into\b"
                             r"|\bsizes?\b|\bbig\b(?! dataset)|\bcollect|\bdifferen", re.I)
#: A follow-up that asks the same thing for another purpose ("and the one for training the base model?").
_SAME_FOR = re.compile(r"^(?:(?:and|so|ok(?:ay)?|then|what about|how about)[, ]+)|\b(?:the one|the other|which one|one for|instead)\b", re.I)
#: Words for one purpose the lesson names in other words: a model trained "from scratch" or a "base model" is pretrained.
_PURPOSE_SYNONYMS = {"pretrain": "scratch base pretrained pretraining foundation", "instruct": "instruction instructions chat assistant"}
_PURPOSE = {k: set(content_stems(v)) | {k} for k, v in _PURPOSE_SYNONYMS.items()}


#: A name before a word: capitalised words, or several joined by "/" ("Alpaca/Dolly datasets", "Hugging Face Transformers library").
_NAME_BEFORE = re.compile(r"(?P<at>(?:\bThe\s+)?)(?P<name>(?<![\w-])[A-Z][\w.-]*(?:/[A-Z][\w.-]*)*)\s+(?P<w>[a-z][\w-]*)")


def _names_a(text: str, kind: str) -> bool:
    """The text names an instance of `kind` (a stem): a name just before the kind word ("The Pile dataset").
    A capitalised first word of a sentence ("An instruction-tuned model", "Typical dataset sizes") is no name,
    unless "The" introduces it or a "/" joins names."""
    for m in _NAME_BEFORE.finditer(text):
        if kind not in content_stems(m.group("w")):
            continue
        start = m.start("name")
        sentence_start = not text[:start].strip() or re.search(r"(?:[.!?:\"(]\s*|\n\s*)$", text[:start]) is not None
        if m.group("name").casefold() in STOPWORDS:
            continue  # "the model learns to follow ANY instruction": emphasis, not a name
        if not sentence_start or m.group("at") or "/" in m.group("name"):
            return True
    return False


def _purposes(stems: set[str]) -> set[str]:
    return {k for k, v in _PURPOSE.items() if stems & v}


class SectionSkills(SkillBase):
    def _named_section(self, text: str, last: Turn, depth: str) -> Answer | None:
        """Before the word search: the chapter's gist, a panel named by its title, or a section whose heading
        (not only an item's lead) the question names. Word search would answer "where can I go after this
        course?" with the passage that shares "after"."""
        if self.understanding.concepts(text):
            return None
        return self._section_answer(text, depth, strong=True)

    def _section_answer(self, text: str, depth: str, strong: bool = False) -> Answer | None:
        """The fallback before "I don't know": the chapter's gist, a panel callout, or the unit of the
        section the question names that answers its intent. `strong`: only a heading the question names."""
        if _GIST.search(text):
            return self._gist()
        asked = section_words(text)
        if not asked:
            return None
        found = self._callout(text)
        if found is not None:
            return found
        named = self._instances(text) or (self._quantity(text, asked) if _HOW_MANY.search(text) else None)
        if named is not None:
            return named
        if intent_of(text)[0] in ("why", "purpose", "difference", "simpler"):
            return None  # those ask about a concept, and the concept skills have said what the lesson has
        known = self.index.vocabulary | {st for d in self.index.sections for st in d.stems}
        rare = {stem(w) for w in words(text) if not everyday(w)}  # "i've", "total", "finished": everyday words block nothing
        if (asked & rare) - known - set(content_stems(RECAP_WORDS)) - {w for v in _SYN.values() for w in v}:
            return None  # "how do I set up a hyperparameter sweep?": a rare word no part of the course uses is not asked of a section
        best, best_score = None, 0.0
        for doc in self.index.sections:
            heading = _widen(set(content_stems(doc.title)) - _other_inflections(text, doc.title))
            if is_completion(doc.title, doc.chapter.completion_section):
                heading |= set(content_stems(RECAP_WORDS))
            leads = _widen({s for u in doc.units for s in content_stems(_lead(u) or "")})
            naming = len(asked & heading) * 3 + len(asked & leads) * 2
            if not naming or (strong and not asked & heading):
                continue
            score = naming + len(asked & set(doc.stems)) + (0.5 if doc.depth == depth else 0)
            if score > best_score:
                best, best_score = doc, score
        if best is None:
            return None
        if intent_of(text)[0] == "where" and not asks_source(text):  # "where does the lesson talk about next steps?": the place
            return Answer(f"That is in Chapter {best.chapter.number}, section *{best.title}* ({best.depth} depth): "
                          f"`/lesson {best.chapter.number} {best.depth}` takes you there, or press the button.", "course-where",
                          {"skill": "course-where", "section": best.title, "depth": best.depth, "chapter": best.chapter.number},
                          best.citation)
        units = self._units_for(text, asked, best)
        if not units:
            return None
        if intent_of(text)[0] in ("how", "define") and gate_fails(text, " ".join([_named_as(best), *(u.text for u in units),
                                                                               *(_named_as(best, _lead(u) or "") for u in units)])):
            return None  # "how does a model learn to refuse …": the heading shares a word, the units don't answer it: not cited
        lines = [f"From *{best.title}*:"] + [f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in units]
        meta = {"skill": "course", "term": None, "section": best.title, "depth": best.depth, "chapter": best.chapter.number, "query": text}
        return Answer("\n".join(lines), "course", meta, best.citation)

    def _units_for(self, text: str, asked: set[str], doc: SectionDoc) -> list[Unit]:
        """The units of a section that answer the intent: the items whose lead the question names, a list
        for a list request (or a section that is one), a number for a how-many."""
        own = asked - _widen(set(content_stems(doc.title)))  # what the heading doesn't already say picks an item
        led = [u for u in doc.units if (lead := _lead(u)) and own & _widen(set(content_stems(lead)))]
        lists = doc.lists()
        if led:
            out = []
            for u in led:
                out.append(u)
                if u.kind == "para" and u.list_id is None:  # "Key Resources:" introduces the list after it
                    after = doc.units[doc.units.index(u) + 1:]
                    if after and after[0].list_id is not None:
                        out += lists[after[0].list_id]
            return out
        if _HOW_MANY.search(text):
            return [u for u in doc.units if _quantities(u.text)][:2]
        if lists:
            first = doc.units.index(next(iter(lists.values()))[0])
            intro = [u for u in doc.units[:first] if u.kind == "para"][-1:]
            return intro + next(iter(lists.values()))
        return doc.units[:2]

    def _quantity(self, text: str, asked: set[str], names: Iterable[str] = (), precise: bool = False) -> Answer | None:
        """"How big should my dataset be?": a unit that states a quantity (not a label such as "GPT-4")
        about everything asked, wherever it is. `names`: the names of the concept asked about, of which the unit
        must say at least half the words of one ("instruction-response pairs" for "instruction dataset" counts).
        Among the units that qualify, one in digits ("10K-100K") beats one in words ("thousands"): the student
        asked how many. `precise`: only such a unit."""
        named_sets = [ns for n in names if (ns := set(content_stems(n)))]
        own = self._own_name_stems(named_sets)
        # an everyday verb the lesson never uses ("does it take", "do I need") is not something the unit must say
        asked = {a for a in asked if a not in everyday_stems() or self.index.idf(a)}
        if not asked and not named_sets:
            return None
        best: tuple[SectionDoc, Unit] | None = None
        best_key: tuple[float, bool] = (-1.0, False)
        for doc in self.index.sections:
            for unit in doc.units:
                exact = _quantities(unit.text, precise=True)
                if not _quantities(unit.text) or (precise and not exact):
                    continue
                stems = _widen(set(unit.stems)) | {s for st in unit.stems for s in _SYN.get(st, ())}
                naming = max((len(ns & stems) / len(ns) for ns in named_sets), default=1.0)
                if not asked <= stems or naming < 0.5 or not own <= stems:  # "the Dolly dataset": "dataset" alone is not it
                    continue
                if (naming, exact) > best_key:
                    best, best_key = (doc, unit), (naming, exact)
        if best is None:
            return None
        doc, unit = best
        meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer(f"The lesson says: {unit_line(unit)}", "course", meta, doc.citation)

    def _own_name_stems(self, named_sets: list[set[str]]) -> set[str]:
        """The words of a concept's names that no other glossary term's name has ("dolly" in "Dolly dataset", not
        "dataset"): what picks the concept out, so a passage about it must say them."""
        counts: dict[str, int] | None = self.__dict__.get("_name_stem_counts")
        if counts is None:
            counts = {}
            for chapter in self.course.chapters:
                for term in chapter.glossary:
                    for st in {s for n in term.names for s in content_stems(n)}:
                        counts[st] = counts.get(st, 0) + 1
            self._name_stem_counts = counts
        return {st for ns in named_sets for st in ns if counts.get(st, 0) <= 1}

    def _named_instances(self, text: str, last: Turn, depth: str) -> Answer | None:
        """"Any real datasets I could use?", "the resources name a big dataset for training from scratch, which?":
        the units that name instances of a kind (a capitalised name before the kind word: "The Pile dataset",
        "Alpaca/Dolly datasets"), narrowed to the purpose the question names ("for instruction tuning").
        Why before the concepts: "an instruction dataset I could actually use" names the concept *instruction
        dataset*, whose definition and Input/Target pairs were cited as the answer; a name was asked.
        A short "and the one for the base model?" after such an answer asks the same of another purpose."""
        named = self._named_units()
        kind = next((w for w in dict.fromkeys(content_stems(text)) if w not in _IGNORED and w in named), None)
        found = [(doc, unit, kind) for doc, unit in named[kind]] if kind else []
        asks_again = not found and len(words(text)) <= 12 and _SAME_FOR.search(text) and not _HOW_MANY.search(text)
        carried = (last.meta.get("instances") or self._kind_of(last)) if asks_again and last.text else None
        if carried:
            found = [(doc, unit, carried) for doc, unit in named.get(carried, [])]
            if not (last.meta.get("instances") or any(_purposes(set(u.stems)) & _purposes(set(content_stems(text))) for _, u, _ in found)):
                return None  # carried from the wording of an answer about something else: only when it asks for another purpose
        elif not found or not _ASKS_NAMED.search(text) or _ABOUT_THE_KIND.search(text) or _HOW_MANY.search(text):
            return None
        if not found or intent_of(text)[0] in ("why", "how", "difference", "simpler", "where", "detail"):
            return None
        first: dict[str, tuple[SectionDoc, Unit, str]] = {}
        for d, u, k in found:
            first.setdefault(u.text, (d, u, k))  # a unit said twice (at both depths) is named once
        units = list(first.values())
        wanted = _purposes(set(content_stems(text)))
        fitting = [x for x in units if _purposes(set(x[1].stems)) & wanted]
        units = fitting or units
        doc, kind = units[0][0], units[0][2]
        lines = ["The lesson names " + ("this one:" if len(units) == 1 else "these:")]
        lines += [f"• {unit_line(u)} (*{d.title}*)" for d, u, _ in units[:5]]
        lines += [f"(**{c.term.term}** itself is taught in another part of the course, {c.term.elsewhere}.)"
                  for c in self.understanding.concepts(text) if c.elsewhere][:1]
        meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number,
                "instances": kind}
        return Answer("\n".join(lines), "course", meta, doc.citation)

    def _named_units(self) -> dict[str, list[tuple[SectionDoc, Unit]]]:
        """Every kind the lesson names instances of (a stem), with the units naming them: read once, not per question."""
        named = self.__dict__.get("_named_by_kind")
        if named is None:
            named = {}
            for doc in self.index.sections:
                for unit in doc.units:
                    for m in _NAME_BEFORE.finditer(unit.text):
                        for k in content_stems(m.group("w")):
                            units = named.setdefault(k, []) if k not in _IGNORED and _names_a(unit.text, k) else None
                            if units is not None and not (units and units[-1][1] is unit):
                                units.append((doc, unit))
            self._named_by_kind = named
        return named

    def _kind_of(self, last: Turn) -> str | None:
        """The kind an earlier answer's subject is an instance of: "what's the Pile?" was about a name the lesson
        gives as "The Pile dataset", so "and the one for instruction tuning?" asks for another dataset."""
        said = [last.text] + [u.text for d in self.index.sections for u in d.units
                              if last.meta.get("term") and str(last.meta["term"]).casefold() in u.text.casefold()]
        return next((k for text in said for m in _NAME_BEFORE.finditer(text) for k in content_stems(m.group("w"))
                     if k not in _IGNORED and _names_a(text, k)), None)

    def _instances(self, text: str) -> Answer | None:
        """"Which datasets are mentioned?": the units that name instances of the plural asked about
        ("Alpaca/Dolly datasets", "The Pile dataset"), wherever they are in the lesson."""
        m = _WHICH_PLURAL.match(text.strip())
        if m is None:
            return None
        wstems = set(content_stems(m.group("w")))
        found = [(doc, unit) for doc in self.index.sections for i, unit in enumerate(doc.units)
                 if self._exemplifies(doc, i, wstems) and not _EXAMPLE_CUE.search(unit.text)]
        first: dict[str, tuple[SectionDoc, Unit]] = {}
        for d, u in found:
            first.setdefault(u.text, (d, u))  # a unit said twice (at both depths) is named once
        found = list(first.values())
        if not found:
            return None
        doc = found[0][0]
        lines = [f"The lesson names these {m.group('w')}:"] + [f"• {unit_line(u)} (*{d.title}*)" for d, u in found[:5]]
        meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer("\n".join(lines), "course", meta, doc.citation)

    def _callout(self, text: str) -> Answer | None:
        """"What is the Try the Chat thing?": a panel callout named by its title."""
        low = " ".join(re.findall(r"[a-z0-9]+", text.casefold()))
        for doc in self.index.sections:
            for unit in doc.callouts:
                title = " ".join(re.findall(r"[a-z0-9]+", unit.text.split("\n", 1)[0].casefold()))
                if title and len(title) >= 6 and re.search(r"\b" + re.escape(title) + r"\b", low):
                    body = unit.text.split("\n", 1)[-1]
                    meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
                    return Answer(f"*{unit.text.split(chr(10), 1)[0].strip(' →')}* is a panel of the course's web page. In this chat: {body}",
                                  "course", meta, doc.citation)
        return None

    def _gist(self) -> Answer | None:
        """"What is this chapter about?": the chapter's opening summary, its first paragraph."""
        chapter = self.course.chapters[-1]
        docs = [d for d in self.index.sections if d.chapter is chapter]
        doc = next((d for d in docs if d.depth == "shallow"), docs[0] if docs else None)
        if doc is None:
            return None
        meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": chapter.number}
        return Answer(f"Chapter {chapter.number}, *{chapter.title}*, in a sentence: {unit_line(doc.units[0])}", "course", meta, doc.citation)

    def _section_example(self, text: str, subject_names: set[str]) -> Answer | None:
        """"An example of a dataset": the units that exemplify the word asked about, when that word is not
        the concept named (then the concept's own example answers). A name just before the word ("Dolly
        datasets"), the word followed by "such as"/"like", or a list introduced as examples after a
        paragraph about the word."""
        m = _EXAMPLE_OF.search(text)
        if m is None:
            return None
        word = m.group("w")
        wstems = set(content_stems(word))
        if not wstems or wstems & subject_names or word.casefold() in STOPWORDS:
            return None
        if _BEHAVING.match(text[m.end():]):
            return None  # "an example of a model being honest": an example of the behaviour named after it, not of a model
        rest = section_words(text) - wstems
        scored: list[tuple[float, SectionDoc, Unit]] = []
        for doc in self.index.sections:
            units = doc.units
            for i, unit in enumerate(units):
                if not self._exemplifies(doc, i, wstems):
                    continue
                scored.append((len(rest & (set(unit.stems) | set(content_stems(doc.title)))) + 0.1 * (doc.depth == "deep"), doc, unit))
        if not scored:
            return None
        top = max(s for s, _, _ in scored)
        doc = next(d for s, d, _ in scored if s == top)
        chosen = [u for s, d, u in scored if d is doc and s == top][:3]
        lines = [f"An example of {word} from the lesson, *{doc.title}*:"] + [f"• {unit_line(u)}" for u in chosen]
        meta = {"skill": "course-example", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer("\n".join(lines), "course-example", meta, doc.citation)

    @staticmethod
    def _exemplifies(doc: SectionDoc, i: int, wstems: set[str]) -> bool:
        unit = doc.units[i]
        for m in re.finditer(r"[A-Z][\w/.-]*\s+([a-z][\w-]*)", unit.text):
            if m.start() == 0 and not re.search(r"[/\d]|.[A-Z]", m.group(0).split()[0]):
                continue  # a sentence's first word is capitalised anyway ("Typical dataset sizes"), not a name
            if set(content_stems(m.group(1))) & wstems:
                return True  # "Alpaca/Dolly datasets", "The Pile dataset"
        if set(unit.stems) & wstems and _EXAMPLE_CUE.search(unit.text) and re.search(r"such as|like|e\.g\.", unit.text, re.I):
            return True
        if unit.list_id is not None:
            first = next(j for j, u in enumerate(doc.units) if u.list_id == unit.list_id)
            before = [u for u in doc.units[max(0, first - 2):first] if u.kind == "para"]
            if before and re.search(r"\bexamples?\b|\blike:?$", before[-1].text, re.I) and any(set(u.stems) & wstems for u in before):
                return True
        return False

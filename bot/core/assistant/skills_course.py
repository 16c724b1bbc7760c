"""Skills on the course: answers from the lessons with their source, lists, chapter summaries,
and the follow-ups on a course answer (simpler, an example, more, where to read it).

A mixin of `SimulatedAssistant`. A question reaches the lesson only if it uses the course's
vocabulary; the passage that answers must share the question's rare words (`rank_units`) and
speak to most of what was asked (`_coverage`), or the question about a known term is answered
with what the glossary says, framed honestly.
"""

from __future__ import annotations

import re

from ..content import Chapter
from ..glossary import GlossaryTerm
from .items import items_of
from .retrieval import EXPANSIONS, SectionDoc, Unit, expand
from .skills_base import SkillBase
from .summarise import key_sentences
from .text import STOPWORDS, clip, content_stems, everyday_stems, stem, words
from .turns import Answer, Turn, unit_line

#: How much a lesson passage must share with a question (rarity-weighted) to answer it…
MIN_COURSE_SCORE = 2.0
#: …and how much of the question it must speak to.
MIN_COVERAGE = 0.5
#: Words that say where to look, not what about.
GENERIC_COURSE_WORDS = frozenset(content_stems("lesson chapter course section mean means meaning explain explained say says "
                                               "talk talks suggest suggests recommend define definition describe tell work works part bit page "
                                               "understand understanding confused confusing help clarify unclear deal"))
#: Words that ask how much of something, not what: alone they are no topic.
QUANTITY_WORDS = frozenset(stem(w) for w in ["long", "big", "many", "much", "large", "size", "number", "old", "often", "fast"])
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


#: A labelled item of an ordered list the question names: "phase 3", "step two", "the third phase".
_LABEL_NAMED = re.compile(r"\b(?P<kind>phase|step|stage)\s*(?P<n>\d+|one|two|three|four|five)\b"
                          r"|\b(?:the\s+)?(?P<nth>first|second|third|fourth|fifth)\s+(?P<kind2>phase|step|stage)\b", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
#: Intents a labelled item's own lines answer: what it is, what happens in it, its steps, how it works.
_ITEM_INTENTS = ("define", "list", "how", "simpler")


def _label_of(text: str) -> tuple[str, int] | None:
    m = _LABEL_NAMED.search(text)
    if m is None:
        return None
    kind = (m.group("kind") or m.group("kind2")).casefold()
    raw = (m.group("n") or m.group("nth")).casefold()
    return kind, int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]


class CourseSkills(SkillBase):
    def _labelled_item(self, text: str, last: Turn, depth: str) -> Answer | None:
        """"Steps of phase 3?", "what happens in the second phase": the lesson's item labelled so ("Phase 3 - …:")
        with the lines under it. Why: the concepts the label's title names (PPO, the reward model) were
        answered by their definitions, which leave out what the phase does (the KL penalty against drift).
        Only when the question asks what the item is or holds, and names no concept beyond the item's title."""
        label = _label_of(text)
        if label is None or self.understanding.understand(text).intent not in _ITEM_INTENTS:
            return None
        kind, number = label
        for doc in sorted(self.index.sections, key=lambda d: d.depth != depth):
            for lead, items in _lists_of(doc):
                m = re.match(r"\W*(phase|step|stage)\s*(\d+)", lead, re.I)
                if m is None or m.group(1).casefold() != kind or int(m.group(2)) != number:
                    continue
                own = {c.term.term for c in self.understanding.concepts(lead)}
                if any(c.term.term not in own for c in self.understanding.concepts(text)):
                    return None  # "what is the KL penalty in phase 3": about a thing in it, the phase is its setting
                title = lead.rstrip(":").strip("* ")
                lines = [f"**{title}**:"] + [f"{n}. {item}" for n, item in enumerate(items, 1)]
                meta = {"skill": "course", "term": None, "item": title, "section": doc.title, "depth": doc.depth,
                        "chapter": doc.chapter.number}
                return Answer("\n".join(lines), "course", meta, doc.citation)
        return None

    # ---- lists ----------------------------------------------------------------------------

    #: "list the phases", "what are the 3 ways …", and a count before a list noun alone ("3 ways to get instruction data?").
    _LIST = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:(?:list|enumerate|name|give me|tell me|what are|which are|outline|go through|walk (?:me )?through|run through)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+)?"
                       r"(?:(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+)?|(?:the\s+)?(?P<counted>\d+|two|three|four|five|six)\s+"
                       r"(?=(?:main\s+|key\s+|different\s+)?(?:ways|steps|phases|stages|strategies|methods|values|resources|types|kinds)\b)"
                       r"|(?:the\s+)?(?=(?:steps|stages|phases)\s+(?:of|in|for)\b))(?P<what>.+?)\s*[?.!]*$", re.I)

    _LIST_ANYWHERE = re.compile(r"\b(?:please )?(?:list|enumerate|bullet)(?: them| it| those| these)?\b|\bas a list\b", re.I)

    def _list(self, text: str, last: Turn, depth: str) -> Answer | None:
        match = self._LIST.match(text)
        if match:
            what = match.group("what")
        elif self._LIST_ANYWHERE.search(text):
            what, count = self._LIST_ANYWHERE.sub(" ", text), None
            match = None
        else:
            return None
        if re.search(r"\blanguages?\b", what, re.I) and re.search(r"\b(you|translate|speak|know)\b", what, re.I):
            names = list(self.phrasebook.languages.values())
            return Answer(f"I can translate into {len(names)} languages:\n" + "\n".join(f"{i}. {n}" for i, n in enumerate(names, 1)),
                          "list", {"skill": "list-languages"})
        if not self.index.is_course_question(what) or re.search(r"\bcapital", what, re.I):
            return None
        count = (match.group("n") or match.group("counted")) if match else None
        wanted = int(count) if count and count.isdigit() else NUMBER_WORDS.get((count or "").lower())
        best = self._best_list(what, wanted)
        if best is None:
            return None
        doc, items, intro = best
        intro = intro.rstrip(":").strip()
        heading = f"From the lesson, {intro}:" if intro else "From the lesson:"
        if wanted and wanted != len(items):
            heading = f"The lesson lists {len(items)}, not {wanted}" + (f" ({intro})" if intro else "") + ":"
        body = "\n".join(f"{n}. {clip(item.replace(chr(10), ' — '), 220)}" for n, item in enumerate(items, 1))
        return Answer(f"{heading}\n{body}", "list", {"skill": "list", "section": doc.title, "depth": doc.depth,
                                                     "chapter": doc.chapter.number, "query": what}, doc.citation)

    _NICKNAME = re.compile(r"\b(\d|two|three|four|five|six|seven)\s+([a-z])(?:'s|’s|s)\b", re.I)

    def _nickname(self, text: str, last: Turn, depth: str) -> Answer | None:
        """A nickname that counts a list's items by their initial ("the 3 H's", "the three P's"): the lesson's
        list with that many items, each of whose key words (before a colon or dash) starts with that letter."""
        match = self._NICKNAME.search(text)
        if match is None:
            return None
        count = match.group(1)
        wanted = int(count) if count.isdigit() else NUMBER_WORDS.get(count.lower())
        letter = match.group(2).lower()
        found = None
        for doc in self.index.sections:
            for intro, items in _lists_of(doc):
                if len(items) != wanted:
                    continue
                keys = [re.split(r"\s*[:—–]\s*|\s+-\s+|\n", item, maxsplit=1)[0] for item in items]
                if all(any(w.startswith(letter) and w not in STOPWORDS and len(w) >= 3 for w in words(k)[:4]) for k in keys) and (
                        found is None or (doc.depth == "deep" and found[0].depth != "deep")):
                    found = (doc, items, intro)
        if found is None:
            return None
        doc, items, intro = found
        intro = intro.rstrip(":").strip()
        heading = f"“{match.group(0)}” are the lesson's list" + (f" ({intro})" if intro else "") + ":"
        body = "\n".join(f"{n}. {clip(item.replace(chr(10), ' — '), 220)}" for n, item in enumerate(items, 1))
        return Answer(f"{heading}\n{body}", "list", {"skill": "list", "section": doc.title, "depth": doc.depth,
                                                     "chapter": doc.chapter.number}, doc.citation)

    def _best_list(self, what: str, wanted: int | None) -> tuple[SectionDoc, list[str], str] | None:
        stems = content_stems(what)
        want = set(_light(what))  # whole words: "learned" must not meet "Reinforcement Learning"
        head = set(expand(stems[:1] + stems[-1:]))  # the thing to list: "phases of RLHF", or last as in "RLHF phases"
        best, best_score = None, 0.0
        for hit in self.index.search(what)[:6]:
            doc = hit.section
            title_stems = set(_light(doc.title))
            for intro, items in _lists_of(doc):
                intro_stems = set(_light(intro))
                item_stems = {s for item in items for s in _light(item)}
                # the line that introduces a list says what it lists; the section's title only where it is
                score = (2 * len(want & intro_stems) + len(want & title_stems - intro_stems)
                         + len(want & item_stems - intro_stems - title_stems) + 0.3 * hit.score)
                score += 1.5 if wanted == len(items) else 0
                for word, n in _LABELLED.findall(what):
                    label = (word, str(NUMBER_WORDS.get(n.lower(), n)))  # "the steps of phase 2": the list under "Phase 2 - …", not the phases
                    if re.match(_LABEL_PATTERN.format(*label), intro, re.I):
                        score += 4
                    elif all(re.match(r"(phase|step|stage|part)\s*\d", i, re.I) for i in items):
                        score -= 3
                heads = [content_stems(item)[:1] for item in items]
                if all(h and h[0] in head for h in heads):
                    score += 2  # "the phases of …" and every item is "Phase N …"
                if score > best_score:
                    best, best_score = (doc, items, intro), score
        return best if best_score >= 1.5 else None

    # ---- the course -----------------------------------------------------------------------

    _HOW_WHY = re.compile(r"^\s*(?:so\s+)?(?:why|how|which|where|when|in what way)\b", re.I)
    _DEFINITION = re.compile(r"^(?:so\s+)?(?:what(?:'s| is| are| does)|whats|define|definition of|meaning of|what do you mean by|explain|describe|tell me about|who is|what exactly is)\b|\bmean\??$|^[\w\s()-]{1,40}\?$", re.I)

    def _course(self, text: str, last: Turn, depth: str) -> Answer | None:
        if not self.index.is_course_question(text) or self._CREATIVE.match(text):
            return None
        matched = self.index.match_term(text)
        stems = set(expand(content_stems(text)))
        rest = stems - GENERIC_COURSE_WORDS - (set(content_stems(" ".join(matched[0].names))) if matched else set())
        definitional = bool(self._DEFINITION.search(text)) and not self._HOW_WHY.match(text)
        if matched and (definitional or not rest):
            return self._definition(*matched, stems)
        ranked = self.index.rank_units(stems)
        if matched:  # "why does RLHF matter": the answer must speak to "matter", not just name RLHF
            ranked = [r for r in ranked if rest & (set(r[2].stems) | set(content_stems(r[1].title)))]
        if not ranked or ranked[0][0] < MIN_COURSE_SCORE:
            return self._not_said(text, matched, stems) if matched else None
        score, doc, unit = ranked[0]
        asked = {stem(w) for w in words(text) if w not in STOPWORDS} - GENERIC_COURSE_WORDS  # whole words: "gpt-4" counts once
        field = (asked & self.index.vocabulary) - GENERIC_COURSE_WORDS
        have = {s for u in passage_units(doc, unit) for s in u.stems} | set(content_stems(doc.title))
        if not matched and field and len(field & have) * 2 < len(field):
            return None  # "why is it called reinforcement learning?" shares "called" with a passage, not its subject
        if not matched and not asked - QUANTITY_WORDS:
            return None  # "how long is this course?": only "long" is asked about, and "[long text]" is not an answer
        if not matched and len(asked & have) < min(2, len(asked)):
            return None  # "how does text generation work?" shares one word ("text"), not the question
        if self._coverage(asked, doc, passage_units(doc, unit)) < MIN_COVERAGE:
            return self._not_said(text, matched, stems) if matched else None  # it shares a word, not the question
        lines = self._passage(doc, unit)
        runner_up = next((u for sc, d, u in ranked[1:4] if d is doc and sc >= 0.6 * score and unit_line(u) not in "\n".join(lines)), None)
        if runner_up is not None and unit.kind != "item":
            lines.append(unit_line(runner_up))
        meta = {"skill": "course", "term": matched[0].term if matched else None, "section": doc.title,
                "depth": doc.depth, "chapter": doc.chapter.number, "query": text}
        return Answer("\n".join(lines), "course", meta, doc.citation)

    def _coverage(self, asked: set[str], doc: SectionDoc, units: list[Unit]) -> float:
        """How much of what was asked (rarity-weighted; words the course never uses weigh most) a passage speaks to."""
        have = {s for u in units for s in u.stems} | set(content_stems(doc.title))
        unseen = 1.25 * self.index.max_idf
        everyday = everyday_stems()
        total = covered = 0.0
        for stem_ in asked:
            weight = self.index.idf(stem_) or (0.4 * unseen if stem_ in everyday else unseen)
            total += weight
            if stem_ in have or any(e in have for e in EXPANSIONS.get(stem_, ())):
                covered += weight
        return covered / total if total else 0.0

    _FACT_QUESTION = re.compile(r"^\s*(?:who|whom|whose|when|where|in what year|what year|how (?:many|much|long|old))\b", re.I)

    def _not_said(self, text: str, matched: tuple[GlossaryTerm, Chapter], stems: set[str]) -> Answer:
        """A question about a known term that the lesson does not answer: what it does say, honestly framed."""
        answer = self._definition(*matched, stems)
        strange = self._strange(text, matched[0])
        if strange:  # "How does LoRA fine-tuning work?": the course never mentions LoRA
            shown = [next(iter(re.findall(r"\b" + re.escape(w) + r"\b", text, re.I)), w) for w in strange[:3]]  # as typed: "LoRA"
            answer.text = (f"I don't know about {', '.join(shown)}: the course doesn't cover it, and I won't guess. "
                           f"What it says about {matched[0].term}:\n{answer.text}")
        elif self._FACT_QUESTION.match(text):
            answer.text = (f"I don't know: the lesson doesn't say that about {matched[0].term}, and I won't guess. "
                           f"What it does say:\n{answer.text}")
        return answer

    def _strange(self, text: str, term: GlossaryTerm) -> list[str]:
        """Topics in the question that the course never mentions ("LoRA" in "How does LoRA fine-tuning work?")."""
        names = set(content_stems(" ".join(term.names)))
        names |= {stem(w) for c in self.understanding.concepts(text) for w in c.said.split()}  # "honest" names honesty
        return [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS and stem(w) not in names and not self.index.idf(stem(w))
                and stem(w) not in GENERIC_COURSE_WORDS and stem(w) not in everyday_stems() and self._names_a_topic(w, text)]

    def _names_a_topic(self, word: str, text: str) -> bool:
        """Whether an unknown word is a topic ("LoRA fine-tuning", "BERT") rather than slang or a typo ("wat is …"):
        it is written like a name (capitals inside, digits) or stands right next to a course concept."""
        if re.search(r"\b" + re.escape(word) + r"\b", text, re.I) and any(
                (len(w) > 1 and w[1:] != w[1:].lower()) or (any(c.isdigit() for c in w) and any(c.isalpha() for c in w))
                for w in re.findall(r"\b" + re.escape(word) + r"\b", text, re.I)):
            return True
        from .understanding import tokens
        toks = tokens(text)
        spots = {i for i, t in enumerate(toks) if t == word}
        return any(concept.start - 1 in spots or concept.end in spots for concept in self.understanding.concepts(text))

    def _definition(self, term: GlossaryTerm, chapter: Chapter, stems: set[str]) -> Answer:
        doc = self.index.section_for(term, chapter)
        lines = [f"**{term.term}**: {term.definition}"]
        if doc is not None:
            names = [re.compile(r"\b" + re.escape(n.casefold()) + r"\b") for n in term.names]
            extra = [u for u in self.index.best_units(" ".join(stems), doc, k=2)  # a line that names the term, not its neighbour
                     if _novel(u.text, term.definition) and any(n.search(u.text.casefold()) for n in names)][:1]
            lines += [f"From the lesson: {unit_line(u)}" for u in extra]
        meta = {"skill": "course", "term": term.term, "section": doc.title if doc else term.section,
                "depth": doc.depth if doc else term.depth, "chapter": chapter.number}
        return Answer("\n".join(lines), "course", meta, doc.citation if doc else None)

    def _passage(self, doc: SectionDoc, unit: Unit) -> list[str]:
        return [f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in passage_units(doc, unit)]

    def _topic_doc(self, last: Turn, depth: str | None = None) -> SectionDoc | None:
        meta = last.meta
        for doc in self.index.sections:
            if doc.title == meta.get("section") and doc.chapter.number == meta.get("chapter") and (depth is None or doc.depth == (depth or meta.get("depth"))):
                if depth is None and doc.depth != meta.get("depth"):
                    continue
                return doc
        return None

    def _term_of(self, last: Turn) -> GlossaryTerm | None:
        name = last.meta.get("term")
        return next((t for t, _ in self.index.terms if t.term == name), None) if name else None

    def _simpler(self, last: Turn) -> Answer:
        several = [t for name in last.meta.get("terms") or [] for t, _ in self.index.terms if t.term == name]
        if len(several) < 2:
            several = self._terms_of_items(last) or several  # "simpler, I'm lost" after the list of phases: each phase, simply
        if len(several) > 1:  # the last answer defined several terms ("helpfulness, harmlessness, honesty"): each, simply
            topic_doc = self._topic_doc(last)
            return Answer(self._simply_each(several), "course-simpler", dict(last.meta, skill="course-simpler"), topic_doc.citation if topic_doc else None)
        term = self._term_of(last)
        topic = term.term if term else last.meta.get("section", "that")
        shallow = self.index.search(term.term if term else last.meta.get("query", topic), depth="shallow")
        core = self._simply(term) if term else None
        if core is None:
            doc = self._topic_doc(last)
            unit = doc.units[0] if doc else None
            core = _first_clause(unit.text) if unit else None
        lines = [f"Put simply: {core}" if core else f"I don't know a simpler way to put {topic} than the lesson does."]
        cite = None
        if shallow and shallow[0].score > 1.5:
            doc = shallow[0].section
            lines.append(f"The lesson's short version, *{doc.title}*, starts: {unit_line(doc.units[0])}")
            cite = doc.citation
        meta = dict(last.meta, skill="course-simpler")
        topic_doc = self._topic_doc(last)
        return Answer("\n".join(lines), "course-simpler", meta, cite or (topic_doc.citation if topic_doc else None))

    def _terms_of_items(self, last: Turn) -> list[GlossaryTerm]:
        """The glossary terms the items of the last answer name, one an item (its longest name), if several do."""
        found: list[GlossaryTerm] = []
        for item in items_of(last.text) or list(last.meta.get("items") or []):
            named = [c for c in self.understanding.concepts(item) if not c.elsewhere]
            best = max(named, key=lambda c: c.end - c.start, default=None)
            if best is not None and best.term not in found:
                found.append(best.term)
        return found if len(found) > 1 else []

    def _example(self, last: Turn) -> Answer:
        term = self._term_of(last)
        topic = term.term if term else last.meta.get("section", "that")
        doc = self._topic_doc(last)
        if term is not None and term.example:
            return Answer(f"An example of {term.term}: {term.example}", "course-example", dict(last.meta, skill="course-example"),
                          doc.citation if doc else None)
        examples = self.index.example_units(doc) if doc else []
        if term is not None and doc is not None:
            names = set(content_stems(" ".join(term.names)))
            if not names & set(content_stems(doc.title)):  # a section about something broader: only examples of the term
                examples = [u for u in examples if names & set(u.stems)]
        if not examples and term is None:
            for hit in self.index.search(topic)[:4]:
                examples = self.index.example_units(hit.section)
                if examples:
                    doc = hit.section
                    break
        meta = dict(last.meta, skill="course-example")
        if not examples or doc is None:
            return Answer(f"I don't know a grounded example of {topic}: the lesson doesn't give one, and I won't make one up.",
                          "course-example", meta)
        lines = [f"An example of {topic}, from the lesson:"] + [f"• {unit_line(u)}" for u in examples[:3]]
        return Answer("\n".join(lines), "course-example", meta, doc.citation)

    def _more(self, last: Turn) -> Answer:
        doc = self._topic_doc(last)
        term = self._term_of(last)
        if doc is not None and doc.depth == "shallow":
            deeper = self.index.search(term.term if term else doc.title, depth="deep")
            doc = deeper[0].section if deeper else doc
        if doc is None:
            return Answer("I don't know more than I said: that is all the course tells me.", "unknown", {"skill": "unknown"})
        body = "\n".join(f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in doc.units)
        meta = dict(last.meta, skill="course-more", section=doc.title, depth=doc.depth)
        return Answer(f"More from *{doc.title}*:\n{body}", "course-more", meta, doc.citation)

    def _chapter_summary(self, number: int | None, depth: str) -> Answer:
        chapter = self.course.chapter(number) if number else self.course.chapters[-1]
        if chapter is None:
            have = ", ".join(str(c.number) for c in self.course.chapters)
            return Answer(f"I don't know chapter {number}: this course has chapter {have} so far.", "unknown", {"skill": "unknown"})
        lines = [f"**Chapter {chapter.number}: {chapter.title}**, in brief ({depth} depth):"]
        for doc in self._docs(chapter.number, depth):
            point = _section_point(doc)
            if point:
                lines.append(f"• *{doc.title}*: {clip(point, 220)}")
        lines.append(f"\nRead it all with `/lesson {chapter.number} {depth}`.")
        doc0 = self._docs(chapter.number, depth)
        cite = doc0[0].citation if doc0 else None
        return Answer("\n".join(lines), "chapter-summary", {"skill": "chapter-summary", "chapter": chapter.number, "depth": depth}, cite)

    def _docs(self, chapter: int, depth: str) -> list[SectionDoc]:
        return [d for d in self.index.sections if d.chapter.number == chapter and d.depth == depth]


_LABELLED = re.compile(r"\b(phase|step|stage|part)\s*(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b", re.I)
_LABEL_PATTERN = r"^\W*{0}\s*{1}\b"


def passage_units(doc: SectionDoc, unit: Unit) -> list[Unit]:
    """A unit as the student should read it: a list item with its whole list (and the line that
    introduces it), a line ending in ':' with the list it introduces."""
    lists = doc.lists()
    index = doc.units.index(unit)
    if unit.kind == "item" and unit.list_id is not None:
        items = lists[unit.list_id][:8]
        first = doc.units.index(items[0])
        intro = doc.units[first - 1] if first > 0 and doc.units[first - 1].kind == "para" else None
        return ([intro] if intro is not None and intro.text.rstrip().endswith(":") else []) + items
    following = doc.units[index + 1] if index + 1 < len(doc.units) else None
    if unit.text.rstrip().endswith(":") and following is not None and following.list_id is not None:
        return [unit, *lists[following.list_id][:8]]
    return [unit]


def _lists_of(doc: SectionDoc) -> list[tuple[str, list[str]]]:
    """The lists in a section with the line that introduces each; "Phase 1 - …" paragraphs form one too."""
    out: list[tuple[str, list[str]]] = []
    for units in doc.lists().values():
        first = doc.units.index(units[0])
        intro = doc.units[first - 1].text if first > 0 and doc.units[first - 1].kind == "para" else ""
        out.append((intro, [u.text for u in units]))
    steps = [u.text for u in doc.units if u.kind == "para" and re.match(r"^(phase|step|stage|part)\s*\d+", u.text, re.I)]
    for step in steps:  # "Phase 1 - SFT:" with its lines under it and no list: those lines are its list
        lead, _, body = step.partition("\n")
        lines = [line.strip() for line in body.split("\n") if line.strip()]
        if lines and not any(intro == lead for intro, _ in out):
            out.append((lead, lines))
    if len(steps) >= 2:
        out.append(("", [s.split("\n")[0].rstrip(":") for s in steps]))
    return out


def _section_point(doc: SectionDoc) -> str:
    """One line that carries a section: its key sentence, or what its list or phases are."""
    lists = _lists_of(doc)
    steps = [items for intro, items in lists if all(re.match(r"^(phase|step|stage|part)\s*\d", i, re.I) for i in items)]
    if steps:
        return "; ".join(steps[0])
    prose = " ".join(u.text.replace("\n", " ").rstrip(":") + ("." if u.text.rstrip().endswith(":") else "") for u in doc.units
                     if u.kind == "para" and len(u.text.split()) >= (9 if u.text.rstrip().endswith(":") else 5))
    if prose:
        return key_sentences(prose, 1)[0]
    if lists:
        intro, items = lists[0]
        names = [item.split(":")[0].strip() if ":" in item[:50] else item for item in items[:5]]
        return f"{intro or doc.title} {', '.join(names)}".strip()
    return ""


def _first_clause(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip())[0]
    sentence = re.sub(r"\s*\([^)]*\)", "", sentence)
    sentence = re.split(r";|\s—\s|, which\b|, so that\b", sentence)[0].strip().rstrip(".")
    return sentence + "."


def _novel(text: str, than: str) -> bool:
    a, b = set(content_stems(text)), set(content_stems(than))
    return bool(a) and len(a & b) / len(a) < 0.6


def _light(text: str) -> list[str]:
    """Content words with only a plural ending removed: "datasets" meets "dataset", "learned" stays apart from "learning"."""
    out = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        for part in [w] + (w.split("-") if "-" in w else []):
            out.append(part[:-1] if len(part) > 3 and part.endswith("s") and not part.endswith("ss") else part)
    return out

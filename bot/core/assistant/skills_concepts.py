"""Answers by intent about the concepts a question names: the skill that uses `understanding`.

A mixin of `SimulatedAssistant`. Once the question is understood (its intent, its concepts),
the reply is chosen for *that* intent about *that* concept: a definition, what it is for, why it
matters, how it differs from another, an example, the simple version, where the lesson explains
it. Each comes from the glossary's field for that intent or the chapter's FAQ; when neither has
it, from the lesson passage (`CourseSkills._course`), and when the lesson does not give what was
asked (a formula, a number, a name), the reply says so before offering the nearest thing, clearly
labelled. A concept taught in another chapter is named as such, with where this one mentions it.
Saying less beats a confident answer from the wrong passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise

from ..faq import FaqEntry
from ..glossary import GlossaryTerm
from ..lessons import heading_key
from .coverage import addressed, aspect_words, best_unit, everyday, gate_fails, quoted, text_stems, uncovered
from .retrieval import SectionDoc, Unit
from .skills_base import SkillBase
from .skills_course import GENERIC_COURSE_WORDS, passage_units
from .skills_sections import RECAP_WORDS, section_words
from .summarise import key_sentences
from .text import STOPWORDS, clip, content_stems, everyday_stems, stem, words
from .turns import Answer, Turn, unit_line
from .understanding import Concept, Elsewhere, Question, asks_source, intent_of, tokens

#: What a detail question asks for, as the reply names it.
DETAIL_NAMES = {"formula": "a formula", "number": "that number", "person": "who did it", "date": "a date", "spec": "that detail"}
#: A text holds that kind of detail.
DETAIL_PRESENT = {"formula": re.compile(r"=|σ|∑|\bformula\b"),
                  "number": re.compile(r"(?<![-\w])\d|\b(?:dozens|hundreds|thousands|millions|billions|two|three|four|five|six|seven|eight|nine|ten)\b", re.I),
                  "person": re.compile(r"(?!)"), "date": re.compile(r"\b(1[89]|20)\d\d\b"),
                  "spec": re.compile(r".")}  # any passage may state a setting: whether it speaks to the one asked decides
#: An FAQ match this close (see `faq_match`) beats the glossary's purpose/why field.
STRONG_FAQ = 90
_YES_NO = re.compile(r"^\s*(?:so\s+|but\s+|and\s+)?(?:does|do|did|is|are|was|were|can|could|should|would|will|has|have)\b", re.I)
#: Words that ask for an example without saying which.
_EXAMPLE_WORDS = frozenset(stem(w) for w in ["example", "examples", "instance", "sample", "show", "give", "illustrate", "illustration", "demo", "demonstrate"])
#: Intents whose answer about a concept must cover the rest of the question.
_GATED = frozenset({"define", "how", "why", "purpose"})
#: A reply that already says it doesn't know (part of) what was asked.
_ADMITS = re.compile(r"don't know|doesn't say|does not say|won't guess|I don't|isn't in", re.I)
#: Words between a concept and a later one that make the later one its setting: "X in Y", "X mean for a Y".
_SETTING_WORDS = frozenset({"in", "for", "of", "within", "inside", "during", "under", "mean", "means", "a", "an", "the", "used", "when",
                            "part", "aspect", "side", "component", "element", "pillar"})  # "the honesty part of alignment"
_JOINED = re.compile(r"^\s*(?:,|and|or|&|as well as|plus)(?:\s+(?:the|a|an|also))?\s*$", re.I)


class ConceptSkills(SkillBase):
    def _concepts(self, text: str, last: Turn, depth: str) -> Answer | None:
        found = self._concepts_gated(text, last, depth)
        if found is None or found.citation is None or found.hedged or _ADMITS.search(found.text):
            return found
        intent = self.understanding.understand(text).intent
        asks_reason = intent == "why" or (intent == "purpose" and _PURPOSE_WORDS.search(text))
        if asks_reason and not _GIVES_REASON[intent].search(found.text):
            # "why go beyond SFT with RLHF?" → "For advanced models like ChatGPT, we go beyond SFT:": the passage
            # names what was asked but gives no reason, so it is the closest part, not the answer
            return _unsure(found, f"what the lesson says about {found.meta.get('term') or 'it'}")
        return found

    def _concepts_gated(self, text: str, last: Turn, depth: str) -> Answer | None:
        found = self._concepts_core(text, last, depth)
        if found is None or found.citation is None:
            return found
        question = self.understanding.understand(text)
        if (question.concepts and not question.asked and question.intent in _GATED and not found.hedged
                and aspect_words(question.asking_clause)):
            # "SFT already does that, so why bother with the rest?": the asking clause asks about something the
            # engine can't name (not a pointer back, as in "…, which ones?"), so an answer about the premise's
            # concept is a guess: named as the closest, not cited
            return _unsure(found, f"what it says about {found.meta.get('term') or question.concepts[0].term.term}")
        if not [c for c in question.concepts if not c.elsewhere] or found.skill not in ("course", "course-more"):
            return found
        if question.intent not in _GATED or found.meta.get("elsewhere") or _ADMITS.search(found.text):
            return found
        if question.asked and question.asking_clause != question.text:  # a premise's words are what the student knows, not what they ask
            question = replace(question, text=question.asking_clause, concepts=question.asked)
        return self._gate(question, question.text, found)

    def _gate(self, question: Question, text: str, found: Answer) -> Answer:
        """The coverage gate: the passage chosen for a concept must address the rest of the question
        (see `coverage`). If not, a unit of the lesson that names the concept and does address it; if none,
        the reply says plainly that the lesson doesn't say that aspect, with the definition labelled as
        what it does say (no citation: nothing here is presented as the answer)."""
        skip = _name_words(text, question.concepts)
        named_by = {stem(w) for c in question.concepts for n in c.term.names for w in words(n)}
        context = f"{found.text} {_beyond(found.meta.get('section') or '', named_by)} {found.meta.get('faq') or ''}"
        local = [c for c in question.concepts if not c.elsewhere]
        subject = next((c for c in local if c.term.term == found.meta.get("term")), local[0] if local else question.concepts[0])
        named_here = {c.term.term for c in self.understanding.concepts(context)}
        # another concept the question names must be named by the passage too, as a whole name ("transformer" is not "Transformation")
        relating = bool(_YES_NO.match(text)) or question.intent == "how"  # "does X use Y", "how does X use Y": Y is what is asked
        others = [c.said for c in question.concepts if c.term is not subject.term and c.term.term not in named_here
                  and (relating or c.elsewhere) and not any(c.term.term in n or n in c.term.term for n in named_here)]
        # every aspect word picks the passage that fits best; only rare ones, or common ones the question
        # really asks (`coverage.gate_words`), make it say "I don't know" when no passage fits
        missing = others + gate_fails(text, context, skip)
        if not others and not gate_fails(text, context, skip, strict=False):
            return found
        wanted = [subject.term.term] + [c.term.term for c in question.concepts if c.term is not subject.term]
        for doc, unit in self.index.units:
            unit_terms = self._unit_terms(doc, unit)
            if not all(any(want in named for named in unit_terms) for want in wanted):  # "alignment" in "alignment tax"
                continue
            passage = " ".join(u.text for u in passage_units(doc, unit))
            if not uncovered(text, f"{passage} {_beyond(doc.title, named_by)}", skip, strict=False):
                answer = self._said(subject, "course", "\n".join(self._passage(doc, unit)))
                answer.citation = doc.citation
                answer.meta.update(section=doc.title, depth=doc.depth)
                return answer
        whole = self._unit_answer(text)  # the whole question may be one passage of the lesson ("the typical dataset sizes")
        if whole is not None and whole.citation is not None:
            chosen = whole.text.split("\n", 1)[-1]
            if not others and not uncovered(text, chosen + " " + (whole.meta.get("section") or ""), skip, strict=False):
                return whole
        if not missing:
            return found
        if not others and _wording(text, missing):
            # only everyday words are left unaddressed ("what purpose does phase one *serve*", "what *counts* as …"):
            # as likely the student's wording as an aspect the lesson lacks, so the passage is given as the closest
            # part, named but not cited, rather than withheld ("I don't know about X" is for a rare word or a term)
            return _unsure(found, f"what it says about {found.meta.get('term') or subject.term.term}")
        term = subject.term
        body = (f"I don't know that: the lesson doesn't say anything about {quoted(missing)} for **{term.term}**, "
                f"and I won't guess.\nWhat it does say about {term.term} (not an answer to that): {term.definition}")
        answer = self._said(subject, "course", body)
        answer.citation = None
        answer.meta["missing"] = True
        answer.meta["skill"] = "course-unknown-aspect"
        return answer

    def _unit_answer(self, text: str, depth: str = "shallow") -> Answer | None:
        """The fallback for a question that names no term and no heading but paraphrases the lesson:
        every unit (with the line that introduces a list item, and its heading) scored by the question's
        aspect words; cited only when one clearly wins and covers most of them (`coverage.best_unit`)."""
        if intent_of(text)[0] in ("detail", "where"):
            return None  # a detail the unit must state, or a place: other skills judge those
        pool = self.__dict__.get("_unit_pool")
        if pool is None:
            seen: dict[str, tuple] = {}
            for doc, unit in self.index.units:  # one candidate per passage: a list's items share theirs
                units = passage_units(doc, unit)
                body = " ".join(u.text for u in units)
                key = " ".join(body.split()).casefold()
                if key not in seen or (doc.depth == "deep" and seen[key][0].depth != "deep"):
                    seen[key] = (doc, unit, body + " " + doc.title)
            pool = self._unit_pool = [(doc, unit) for doc, unit, _ in seen.values()]
            self._unit_texts = {id(unit): body for _, unit, body in seen.values()}
        chosen = best_unit(text, pool, lambda pair: self._unit_texts[id(pair[1])], self.index.idf)
        if chosen is None:
            return None
        doc, unit = chosen
        meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer("From the lesson:\n" + "\n".join(self._passage(doc, unit)), "course", meta, doc.citation)

    def _example_unit(self, text: str, names: list[str]) -> Answer | None:
        """One of the lesson's own examples, found by the words the question uses for it beyond the concepts it
        names ("the example comparing a base model's and a tuned model's output", "the translate hello one").
        A short section made only of examples is shown whole (the two outputs side by side)."""
        if not [w for w in aspect_words(text, names) if stem(w) not in _EXAMPLE_WORDS]:
            return None
        pool = self.__dict__.get("_example_pool")
        if pool is None:
            seen: dict[str, tuple] = {}
            for doc in self.index.sections:
                for unit in self.index.example_units(doc):
                    key = " ".join(unit.text.split()).casefold()
                    if key not in seen or (doc.depth == "deep" and seen[key][0].depth != "deep"):
                        seen[key] = (doc, unit)
            pool = self._example_pool = list(seen.values())
        question = " ".join(w for w in words(text) if stem(w) not in _EXAMPLE_WORDS)
        chosen = best_unit(question, pool, lambda pair: f"{pair[1].text} {pair[0].title}", self.index.idf, margin=0.0)
        if chosen is None:
            return None
        doc, unit = chosen
        quoted_words = text_stems(" ".join(re.findall(r"[\"“']([^\"”]+)[\"”']", unit.text)))
        if not any(addressed(w, quoted_words) for w in aspect_words(question, names)):
            return None  # named by its topic: a word of the example itself ("hello", "France"), not of the lesson around it
        shown = self.index.example_units(doc)
        units = shown if len(doc.units) <= 4 and len(shown) == len(doc.units) else passage_units(doc, unit)
        lines = [f"The lesson's example, in *{doc.title}*:"] + [f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in units]
        meta = {"skill": "course-example", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer("\n".join(lines), "course-example", meta, doc.citation)

    def _concepts_core(self, text: str, last: Turn, depth: str) -> Answer | None:
        question = self.understanding.understand(text)
        if self._CREATIVE.match(text):
            return None
        outside = self._outline_answer(question, text)
        if outside is not None:
            return outside
        if question.intent == "list":
            return None
        other = self._other_chapter(text)
        if other is not None:
            return other
        if question.intent == "example":  # "the example about translating hello": the lesson's own example, by its topic
            names = [n for c in question.concepts for n in c.term.names] + [c.said for c in question.concepts]
            found = ((self._section_example(text, set(content_stems(" ".join(names)))) if question.concepts else None)
                     or self._example_unit(text, names))
            if found is not None:
                return found
        source = question.intent == "where" and asks_source(text)  # "where does that data come from": answered, not pointed to
        if source:
            faq = self.faq.match(question)
            if faq is not None:
                return self._faq_answer(faq, next(iter(question.asked or question.concepts), None))
        if not question.concepts:
            if question.intent == "where":
                return None if source else self._where_heading(text) or self._where_passage(text)
            if question.intent == "detail":
                return self._detail_unnamed(question, text, last, depth)
            faq = self.faq.match(question) if question.intent in ("why", "how", "purpose", "define") else None
            return self._faq_answer(faq, None) if faq is not None else None
        local = [c for c in question.concepts if not c.elsewhere]
        corrected = _corrected(text, question.concepts)
        if not local and question.intent not in ("where",):
            first = question.concepts[0]
            answer = self._elsewhere(first)
            strange = self._strange(corrected, first.term) if question.intent in ("define", "how", "why", "purpose") else []
            if strange:  # "how does BPE tokenization work?": BPE is in no part of this course's text
                shown = [next(iter(re.findall(r"\b" + re.escape(w) + r"\b", text, re.I)), w) for w in strange[:3]]
                answer.text = f"I don't know about {', '.join(shown)}: the course text doesn't cover it, and I won't guess.\n" + answer.text
            return answer
        subject = ([c for c in question.asked if not c.elsewhere] or local or question.concepts)[0]
        intent = question.intent
        compound = _compound_head(question)
        if compound is not None and intent not in ("difference", "where"):  # "the PPO loss function": about the loss function
            if compound.elsewhere:
                return self._elsewhere(compound)
            subject = compound
        if intent == "detail":
            return self._detail(question, subject, corrected, last, depth)
        if intent == "where" and source:
            intent = "how"  # "where do the reward model's scores come from": how they are got
        if intent == "where":
            heading = self._where_heading(text)  # "where is the bit about why RLHF matters": that heading, not RLHF's
            named = set(content_stems(" ".join(n for c in question.concepts for n in c.term.names)))
            if heading is not None and set(content_stems(heading.meta["section"])) - named:
                return heading
            return self._where(question.concepts)
        if intent == "difference":
            return self._difference(question, corrected, last, depth)
        if intent == "simpler":  # "the helpful/harmless/honest thing, simply": each one it names
            several = [c for c in _listed(question) if not c.elsewhere]
            explained = several if len(several) > 1 and subject in several else [subject]
            answer = self._said(subject, "course-simpler", self._simply_each([c.term for c in explained]))
            answer.meta["terms"] = [c.term.term for c in explained[:4]]
            return answer
        if intent == "example":  # "an example of a dataset for instruction tuning": of a dataset, if the lesson gives one
            subject_names = set(content_stems(" ".join(subject.term.names)))
            found = self._section_example(text, subject_names)
            if found is not None:
                return found
            found = self._term_example(subject)
            names = [*subject.term.names, subject.said]
            unshown = [w for w in uncovered(text, f"{subject.term.example} {subject.term.definition}", names, strict=False)
                       if stem(w) not in _EXAMPLE_WORDS]
            if subject.term.example and unshown:  # "an example of an ability that gets worse after RLHF": RLHF's example is not that
                return _unsure(found, f"the lesson's example of {subject.term.term}")
            return found
        headings = self._named_headings(corrected, subject)
        if headings:  # "why does RLHF matter": the section *Why RLHF Matters* answers it, not another passage the search found
            found = self._course(corrected, last, depth)
            if found is not None and found.meta.get("section") in headings:
                return found
        close = self.faq.match(question, STRONG_FAQ, same_intent=True)
        if close is not None:  # worded like an FAQ question: more specific than the term's generic field
            return self._faq_answer(close, subject)
        if intent == "purpose" and subject.term.purpose:
            return self._field_said(subject, f"What **{subject.term.term}** is for: {subject.term.purpose}", subject.term.purpose)
        if intent == "why" and subject.term.why:
            return self._field_said(subject, f"Why **{subject.term.term}**: {subject.term.why}", subject.term.why)
        faq = self.faq.match(question) if intent in ("why", "how", "purpose") else None
        if faq is not None:
            return self._faq_answer(faq, subject)
        if len(local) >= 2 and (intent == "how" or _YES_NO.match(text)) and len(_listed(question)) < 2:
            return self._relation(local[0], local[1])
        if self._strange(corrected, subject.term):  # "what is BERT fine-tuning?": the course never names BERT
            return self._not_said(corrected, (subject.term, subject.chapter), set(content_stems(corrected)))
        if intent in ("define", "how") and question.depth == "deep":
            return self._in_depth(subject)
        if intent == "define" and question.depth == "short":
            return self._said(subject, "course", f"**{subject.term.term}**, in short: {_first_sentence(subject.term.definition)}")
        if intent == "define":
            listed = _listed(question)
            if len(listed) > 1:
                return self._several(listed)
        found = self._course(corrected, last, depth)
        if found is None or _about_neighbour(found, subject, question):
            # "what is PPO in RLHF": the passage search found RLHF's; the student asked about PPO
            found = self._definition(subject.term, subject.chapter, set(content_stems(corrected)))
        asks_reason = intent == "why" or (intent == "purpose" and _PURPOSE_WORDS.search(text))  # not "what does X do?"
        if asks_reason and not found.text.startswith("I don't know") and not _GIVES_REASON[intent].search(found.text):
            asked = "why" if intent == "why" else "what it is for"
            found.text = (f"The lesson doesn't say {asked} in so many words, and I won't guess. "
                          f"What it says about {subject.term.term}:\n{found.text}")  # saying less beats a wrong reason
        return found

    def grounding(self, text: str, k: int = 3) -> tuple[list[SectionDoc], list[str]]:
        """What a real model is given for a question: the sections of the concepts it names (not the
        nearest words), and notes that say what the glossary and FAQ know about them, including a
        concept taught in another chapter. With no concept named, the best sections by search."""
        question = self.understanding.understand(text)
        docs: list[SectionDoc] = []
        notes: list[str] = []
        for concept in question.concepts[:k]:
            term = concept.term
            doc = self.index.section_for(term, concept.chapter)
            if doc is not None and doc not in docs:
                docs.append(doc)
            note = f"[Glossary: {term.term}] {term.definition}"
            for label, value in (("Purpose", term.purpose), ("Why", term.why), ("Taught in", term.elsewhere)):
                note += f" {label}: {value}" if value else ""
            notes.append(note + (" (This chapter only names it; say so rather than explain it.)" if term.elsewhere else ""))
        for hit in self.understanding.elsewhere(text)[:k]:
            notes.append(f"[Outline: {hit.phrase}] belongs to Chapter {hit.chapter.number} ({hit.chapter.title}), another part of the "
                         "course not in this content: say where it is taught, don't explain it.")
        faq = self.faq.match(question)
        if faq is not None:
            notes.append(f"[FAQ: {faq.question}] {faq.answer}")
        if not docs:
            docs = [h.section for h in self.index.search(text)[:k]]
        return docs[:k], notes

    def _in_depth(self, concept: Concept) -> Answer:
        """"Explain RLHF in detail": the definition, then the whole lesson section that explains it."""
        doc = self.index.section_for(concept.term, concept.chapter)
        lines = [f"**{concept.term.term}**: {concept.term.definition}"]
        if doc is not None:
            lines.append(f"\nThe lesson, *{doc.title}* ({doc.depth} depth):")
            lines += [f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in doc.units]
        answer = self._said(concept, "course-more", "\n".join(lines))
        return answer

    def _summary_of_concept(self, text: str) -> Answer | None:
        """"Summarise RLHF": the lesson section of the concept named, in its own words (short sections
        whole, longer ones by their key sentences), or None when no concept of this chapter is named."""
        concepts = [c for c in self.understanding.concepts(text) if not c.elsewhere]
        if not concepts:
            return None
        concept = concepts[0]
        doc = self.index.section_for(concept.term, concept.chapter)
        if doc is None:
            return None
        lines = [f"• {unit_line(u)}" if u.kind == "item" else unit_line(u) for u in doc.units]
        body = "\n".join(lines)
        if len(body) > 900:
            body = "\n".join(key_sentences(" ".join(u.text.replace("\n", " ") for u in doc.units), 4))
        answer = self._said(concept, "course", f"**Summary of *{doc.title}*** (where the lesson explains {concept.term.term}):\n{body}")
        return answer

    # ---- one reply per intent ---------------------------------------------------------------

    def _said(self, concept: Concept, skill: str, text: str) -> Answer:
        doc = self.index.section_for(concept.term, concept.chapter)
        meta = {"skill": skill, "term": concept.term.term, "section": doc.title if doc else concept.term.section,
                "depth": doc.depth if doc else concept.term.depth, "chapter": concept.chapter.number}
        return Answer(text, skill, meta, doc.citation if doc else None)

    def _field_said(self, concept: Concept, text: str, field_text: str) -> Answer:
        """An answer from a glossary field (what the term is for, why it matters), cited to the section of
        the lesson that says it. RLHF is defined in its own section, but *why* it matters (human values) is
        said in "Why RLHF Matters": the field's words that the term's own section lacks are what the field
        adds, and the section holding most of them is its source."""
        answer = self._said(concept, "course", text)
        home = self.index.section_for(concept.term, concept.chapter)
        said = set(content_stems(field_text))
        beyond = said - (set(home.stems) if home else set())
        candidates = [d for d in self.index.sections if d.chapter is concept.chapter and d is not home]
        best = max(candidates, key=lambda d: (len(beyond & set(d.stems)), d.depth == concept.term.depth), default=None)
        # a third of the field beyond its home section, and another section says most of that part
        if best is not None and len(beyond) >= 3 and 3 * len(beyond) >= len(said) and 2 * len(beyond & set(best.stems)) >= len(beyond):
            answer.citation = best.citation
            answer.meta.update(section=best.title, depth=best.depth)
        return answer

    def _relation(self, a: Concept, b: Concept) -> Answer:
        """A question about how two concepts relate ("does ChatGPT use RLHF?"): the lesson passage that
        names both (its heading counts), or, if none does, what it says about each and that it does not link them."""
        for doc, unit in self.index.units:
            named = self._unit_terms(doc, unit)
            if a.term.term in named and b.term.term in named:
                answer = self._said(a, "course", "\n".join(self._passage(doc, unit)))
                answer.citation = doc.citation
                answer.meta.update(section=doc.title, depth=doc.depth)
                return answer
        return self._said(a, "course", f"The lesson doesn't connect **{a.term.term}** and **{b.term.term}** directly, so I won't guess "
                                       f"how they relate. What it says about each:\n• **{a.term.term}**: {a.term.definition}\n"
                                       f"• **{b.term.term}**: {b.term.definition}")

    def _unit_terms(self, doc: SectionDoc, unit: Unit) -> set[str]:
        cache = self.__dict__.setdefault("_unit_terms_cache", {})
        key = (id(doc), id(unit))
        if key not in cache:
            context = " . ".join(u.text for u in passage_units(doc, unit))  # a list item with the line that introduces it
            cache[key] = {c.term.term for c in self.understanding.concepts(context + " . " + doc.title)}
        return cache[key]

    def _simply(self, term: GlossaryTerm) -> str:
        """The simple version of a term that still says its point: the glossary's `simple` text, plus the
        lesson's own first sentence when the simple text lost the definition's key words (its rarest
        words, names and numbers such as "GPT-4"), because a short answer without the point is wrong."""
        simple = term.simple or _first_sentence(term.definition)
        first = _first_sentence(term.definition)
        have = set(content_stems(simple)) | set(content_stems(term.term))
        stems = [st for st in dict.fromkeys(content_stems(first)) if st not in STOPWORDS]
        key = sorted(stems, key=self._rarity, reverse=True)[:4]
        named = {w.casefold() for w in re.findall(r"\b[A-Za-z]*\d[\w-]*|\b[A-Z][A-Za-z]*[A-Z]\w*", first)}
        missing = [k for k in key if k not in have]
        lost_name = any(n not in simple.casefold() for n in named)
        if simple != first and (len(missing) >= 3 or lost_name):
            return f"{simple}\nIn the lesson's words: {first}"
        return simple

    def _simply_each(self, terms: list[GlossaryTerm]) -> str:
        """Each term put simply, one after another ("the helpful/harmless/honest thing, simply")."""
        return "\n".join(f"Put simply, **{t.term}**: {self._simply(t)}" for t in terms[:4])

    def _rarity(self, stem_: str) -> float:
        """How rare a word is in the lesson; a word it never uses is the rarest."""
        return self.index.idf(stem_) or 2 * self.index.max_idf

    def _named_headings(self, text: str, concept: Concept) -> set[str]:
        """The lesson headings the question names that say more than the concept's name ("why does RLHF matter")."""
        asked = set(content_stems(text))
        names = set(content_stems(" ".join(concept.term.names)))
        return {heading for heading, title in self._heading_stems() if len(title) >= 2 and title - names and title <= asked}

    def _heading_stems(self) -> list[tuple[str, set[str]]]:
        cached = getattr(self, "_headings_cache", None)
        if cached is None:
            cached = self._headings_cache = [(d.title, set(content_stems(d.title))) for d in self.index.sections]
        return cached

    def _unknown_words(self, text: str, term: GlossaryTerm) -> list[str]:
        """Words of a question the course never uses and that are not ordinary English (a looser `_strange`)."""
        names = set(content_stems(" ".join(term.names)))
        everyday = everyday_stems()
        return [w for w in words(text) if len(w) >= 3 and w not in STOPWORDS and stem(w) not in names
                and not self.index.idf(stem(w)) and stem(w) not in everyday and stem(w) not in self.index.vocabulary
                and not _DIFFERENCE_WORDS.match(w)]

    def _detail_unnamed(self, question: Question, text: str, last: Turn, depth: str) -> Answer | None:
        """A detail asked about no concept of the glossary ("how much data does GPT-4 generate?"): the passage
        only if it holds that kind of detail, otherwise said to be missing, with the passage as the nearest thing."""
        kind = question.detail or "number"
        found = self._course(text, last, depth)
        if found is None or found.text.startswith("I don't know") or DETAIL_PRESENT[kind].search(found.text):
            return found
        rest = set(content_stems(text)) - _DETAIL_WORDS - {"cours", "lesson", "chapter"}
        if not rest or len(rest & set(content_stems(found.text))) * 2 < len(rest):
            return None  # "how long is this course?": no passage is even about it
        found.text = (f"I don't know {DETAIL_NAMES[kind]} for that: the course doesn't give it, and I won't guess.\n"
                      f"The nearest thing it does say (not {DETAIL_NAMES[kind]}):\n{found.text}")
        return found

    def _other_chapter(self, text: str) -> Answer | None:
        """"What's in chapter 5?" when the course here has only chapter 7: what its lesson says that chapter
        covers (the pipeline's "(Ch 5)"), or that it doesn't know."""
        asked = _CHAPTER_NUMBER.search(text)
        if asked is None:
            return None
        number = int(asked.group(1))
        if self.course.chapter(number) is not None:
            if not self.understanding.concepts(text) and re.search(r"\b(about|cover(?:s|ed)?|teach(?:es)?|taught|in (?:chapter|ch))\b", text, re.I):
                return self._chapter_summary(number, "shallow")  # "what is in chapter 7?": the chapter, section by section
            return None
        have = ", ".join(str(c.number) for c in self.course.chapters)
        for doc, unit in self.index.units:
            for low, high in _CH_RANGE.findall(unit.text):
                if int(low) <= number <= int(high or low):
                    return Answer(f"Chapter {number} isn't in the content I have (this course has chapter {have} here), so I can't "
                                  f"explain it. Chapter {doc.chapter.number}'s *{doc.title}* names what it covers: “{unit_line(unit)}”",
                                  "course", {"skill": "course", "section": doc.title, "depth": doc.depth,
                                             "chapter": doc.chapter.number}, doc.citation)
        return Answer(f"I don't know what chapter {number} covers: the content I have is chapter {have}, and it doesn't name "
                      f"a chapter {number}.", "unknown", {"skill": "unknown"})

    def _where_heading(self, text: str) -> Answer | None:
        """"Where can I find the data collection stuff?": the section whose heading the question mostly names."""
        asked = set(content_stems(text)) - {"lesson", "chapter", "section", "part", "find", "read", "stuff"}
        best, best_share = None, 0.0
        for doc, (_, title) in zip(self.index.sections, self._heading_stems(), strict=True):
            shared = len(asked & title)
            share = shared / len(title) if title else 0.0
            if (shared >= 2 or (shared and len(title) == 1)) and (
                    share > best_share or (share == best_share and best is not None and doc.depth == "deep" and best.depth != "deep")):
                best, best_share = doc, share
        if best is None or best_share < 0.6:
            return None
        return Answer(f"That is in Chapter {best.chapter.number}, section *{best.title}* ({best.depth} depth): "
                      f"`/lesson {best.chapter.number} {best.depth}` takes you there, or press the button.", "course-where",
                      {"skill": "course-where", "section": best.title, "depth": best.depth, "chapter": best.chapter.number},
                      best.citation)

    def _where_passage(self, text: str) -> Answer | None:
        """"Which part has the capital of France example?": no heading is named, so the sections whose lines say
        what the question quotes. A passage the lesson gives twice (the shallow and the deep page) is in both,
        and both are named: naming only one would send the student to the wrong page half the time."""
        asked = [w for w in aspect_words(text) if stem(w) not in _WHERE_WORDS]
        if len(asked) < 2:
            return None
        found: dict[str, tuple[float, SectionDoc, Unit]] = {}
        for doc, unit in self.index.units:
            have = text_stems(unit.text)
            share = sum(addressed(w, have) for w in asked) / len(asked)
            if share >= 2 / 3 and share > found.get(doc.title, (0.0,))[0]:
                found[doc.title] = (share, doc, unit)
        if not found:
            return None
        top = max(share for share, _, _ in found.values())
        places = sorted((hit for hit in found.values() if hit[0] == top), key=lambda hit: hit[1].depth != "deep")
        if len(places) > 2:
            return None  # words every part uses: not a place
        _, doc, unit = places[0]
        where = " and ".join(f"section *{d.title}* ({d.depth} depth, `/lesson {d.chapter.number} {d.depth}`)" for _, d, _ in places)
        return Answer(f"That is in Chapter {doc.chapter.number}, {where}:\n“{clip(unit_line(unit), 240)}”", "course-where",
                      {"skill": "course-where", "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number},
                      doc.citation)

    def _outline_answer(self, question: Question, text: str) -> Answer | None:
        """A concept of another chapter's vocabulary (course.yaml's outline): where it is taught, and where
        this chapter mentions it, never a passage presented as the answer. A concept this chapter teaches,
        named at least as fully, wins ("fine-tuning" is this chapter's; "spam classifier" is Chapter 6's)."""
        hits = self.understanding.elsewhere(text)
        local = [c for c in question.concepts if not c.elsewhere]
        hits = [h for h in hits if not any(c.start < h.end and h.start < c.end and c.end - c.start >= h.end - h.start for c in local)]
        if (hits and _WORLD.search(text)) or (hits and self.facts.find_country_in(text)):
            everyday = everyday_stems()  # "the temperature in Paris today" is the weather, not sampling
            hits = [h for h in hits if " " in h.phrase.strip() or not set(content_stems(h.phrase)) <= everyday]
        if not hits:
            return None
        if question.intent == "difference" and local:  # "spam classifier vs instruction-tuned model": one side is elsewhere
            a, hit = local[0], hits[0]
            if any(c.elsewhere and c.start < hit.end and hit.start < c.end for c in question.concepts):
                return None  # the glossary says what this chapter says about that side: the difference answer uses it
            text = (f"**{a.term.term}**: {a.term.definition}\n**{hit.phrase}** belongs to Chapter {hit.chapter.number} "
                    f"(*{hit.chapter.title}*), another part of the course. I don't know more about it from here, so I can't "
                    f"compare the two, and I won't guess.")
            answer = self._said(a, "course", text)
            answer.meta["terms"] = [a.term.term, hit.phrase]
            return answer
        lines, cite, seen = [], None, set()
        if len(hits) == 1:
            found = self._mention_answers(hits[0], text, local)
            if found is not None:
                return found
        for hit in hits[:3]:
            if hit.chapter.number in seen:
                continue
            seen.add(hit.chapter.number)
            same = [h.phrase for h in hits if h.chapter is hit.chapter]
            names = " and ".join(f"**{p}**" for p in same[:3])
            lines.append(f"{names} belong{'s' if len(same) == 1 else ''} to Chapter {hit.chapter.number} (*{hit.chapter.title}*), "
                         f"another part of the course.")
            named, placed = self._outline_mention(hit)
            if named is not None:
                doc, unit = named
                lines.append(f"Chapter {doc.chapter.number} only mentions it, in *{doc.title}* ({doc.depth} depth): “{unit_line(unit)}”")
            if placed is not None and placed != named:
                doc, unit = placed
                lines.append(f"Chapter {doc.chapter.number}'s *{doc.title}* places it in the course: “{unit_line(unit)}”")
            where = placed or named
            if cite is None and where is not None:
                cite = where[0].citation  # the place that names it, not an answer about it
        have = ", ".join(str(c.number) for c in self.course.chapters)
        lines.append(f"I don't know more than that: the content I have is Chapter {have}, and I won't guess.")
        first = hits[0]
        meta = {"skill": "course-outline", "outline_chapter": first.chapter.number, "term": None}
        return Answer("\n".join(lines).rstrip(), "course-outline", meta, cite)

    def _mention_answers(self, hit: Elsewhere, text: str, local: list[Concept]) -> Answer | None:
        """"Is there a dataset for pretraining mentioned?": a unit here that names the phrase and everything
        else asked answers it (the lesson does say that much), with where the phrase is taught. A concept of
        this chapter named beside it is what the thing is for ("a dataset for pretraining *GPT-2*"), not
        something the unit must say too."""
        phrase = set(content_stems(hit.phrase))  # in any order: "a pretraining dataset" is "the … dataset for pretraining"
        names = set(content_stems(" ".join(n for c in local for n in (c.said, *c.term.names))))
        asked = set(content_stems(text)) - phrase - names - GENERIC_COURSE_WORDS - _MENTION_WORDS - _EXAMPLE_WORDS - _GRADING_WORDS
        if not phrase or not (asked or len(phrase) >= 2):  # "a pretraining dataset they mention": the phrase is the thing asked
            return None
        for doc, unit in self.index.units:
            if phrase | asked <= set(unit.stems):
                text = (f"The lesson says: “{unit_line(unit)}” (*{doc.title}*). **{hit.phrase}** itself belongs to Chapter "
                        f"{hit.chapter.number} (*{hit.chapter.title}*), another part of the course.")
                meta = {"skill": "course", "term": None, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
                return Answer(text, "course", meta, doc.citation)
        return None

    def _outline_mention(self, hit: Elsewhere) -> tuple[tuple[SectionDoc, Unit] | None, tuple[SectionDoc, Unit] | None]:
        """Where the chapters here name the phrase (a unit that also names its chapter, "Pretraining (Ch 5)", first),
        and the unit that names that chapter in the course's pipeline ("Attention & Architecture Design (Ch 3-4)")."""
        pattern = re.compile(r"\b" + r"[\W_]*".join(re.escape(w) for w in hit.phrase.casefold().split()) + r"\b")
        named = placed = None
        for doc, unit in self.index.units:
            says = bool(pattern.search(unit.text.casefold()))
            places = any(int(lo) <= hit.chapter.number <= int(hi or lo) for lo, hi in _CH_RANGE.findall(unit.text))
            if says and places:
                return (doc, unit), (doc, unit)
            if says and named is None:
                named = (doc, unit)
            if places and placed is None:
                placed = (doc, unit)
        return named, placed

    def _elsewhere(self, concept: Concept) -> Answer:
        term = concept.term
        doc = self.index.section_for(term, concept.chapter)
        mention = self._mention(term, doc)
        where = f", in *{doc.title}*" if doc else ""
        text = (f"**{term.term}** belongs to another part of the course, not to this chapter ({term.elsewhere}), so I can't "
                f"explain it from here and won't guess. Chapter {concept.chapter.number} only names it{where}"
                + (f": “{mention}”" if mention else ".") + f"\nWhat this chapter says: {term.definition}")
        meta = {"skill": "course", "term": term.term, "section": doc.title if doc else term.section,
                "depth": doc.depth if doc else term.depth, "chapter": concept.chapter.number, "elsewhere": True}
        return Answer(text, "course", meta, doc.citation if doc else None)

    def _mention(self, term: GlossaryTerm, doc: SectionDoc | None) -> str | None:
        if doc is None:
            return None
        names = [n.casefold() for n in term.names]
        for unit in doc.units:
            low = unit.text.casefold()
            if any(re.search(r"\b" + re.escape(n), low) for n in names):
                return unit_line(unit)
        return None

    def _where(self, concepts: list[Concept]) -> Answer | None:
        lines, first = [], None
        for concept in concepts[:3]:
            doc = self.index.section_for(concept.term, concept.chapter)
            if doc is None:
                continue
            first = first or (concept, doc)
            if concept.elsewhere:
                lines.append(f"**{concept.term.term}** is taught in another part of the course ({concept.term.elsewhere}); "
                             f"Chapter {doc.chapter.number} only names it, in section *{doc.title}* ({doc.depth} depth).")
                continue
            lines.append(f"**{concept.term.term}** is in Chapter {doc.chapter.number}, section *{doc.title}* ({doc.depth} depth): "
                         f"`/lesson {doc.chapter.number} {doc.depth}` takes you there, or press the button.")
        if first is None:
            return None
        concept, doc = first
        if len(lines) == 1 and not concept.elsewhere:  # the line that names it, so the student sees it is the one meant
            line = next((u for u in doc.units if any(set(content_stems(n)) <= text_stems(u.text) for n in concept.term.names)), None)
            if line is not None:
                lines.append(f"“{clip(unit_line(line), 240)}”")
        meta = {"skill": "course-where", "term": concept.term.term, "section": doc.title, "depth": doc.depth, "chapter": doc.chapter.number}
        return Answer("\n".join(lines), "course-where", meta, doc.citation)

    def _term_example(self, concept: Concept) -> Answer:
        term = concept.term
        if term.example:
            return self._said(concept, "course-example", f"An example of **{term.term}**, from the lesson: {term.example}")
        answer = self._said(concept, "course-example",
                            f"I don't know a grounded example of {term.term}: the lesson doesn't give one, and I won't make one up. "
                            f"What it says: {term.definition}")
        return answer

    def _difference(self, question: Question, corrected: str, last: Turn, depth: str) -> Answer:
        concepts = question.concepts
        a = concepts[0]
        others = concepts[1:]
        if not others:  # "with RLHF what do you gain vs what do you lose?": one concept weighed against itself, as the FAQ asks it
            faq = self.faq.match(question)
            if faq is not None:
                return self._faq_answer(faq, a)
        unknown = self._unknown_words(corrected, a.term) if not others else []
        if unknown:  # "how does RLHF compare to DPO?": the other side is not in the course
            shown = ", ".join(unknown[:2])
            return self._said(a, "course", f"I don't know {shown}: the course doesn't cover it, so I can't compare it with "
                                           f"{a.term.term}, and I won't guess. What the lesson says about **{a.term.term}**: {a.term.definition}")
        if not others:  # "how is X different?": the one it is contrasted with, if the glossary says
            if a.term.contrast:
                other, difference = a.term.contrast[0]
                return self._said(a, "course", f"**{a.term.term}** vs **{other}**: {difference}\n• **{a.term.term}**: {_first_sentence(a.term.definition)}")
            return self._definition(a.term, a.chapter, set(content_stems(corrected)))  # not a passage that says "different"
        b = others[0]
        how = _contrast(a.term, b.term) or _contrast(b.term, a.term)
        lines = [f"**{a.term.term}** vs **{b.term.term}**:" + (f" {how}" if how else "")]
        for c in [a, *others][:4]:  # "RLHF vs SFT vs PPO": every side
            note = f" (taught in {c.term.elsewhere}; this chapter only names it)" if c.elsewhere else ""
            lines.append(f"• **{c.term.term}**{note}: {c.term.definition}")
        if not how:
            lines.append("The lesson doesn't compare them directly; that is what it says about each.")
        answer = self._said(a if not a.elsewhere else b, "course", "\n".join(lines))
        answer.meta["terms"] = [a.term.term, b.term.term]
        return answer

    def _several(self, concepts: list[Concept]) -> Answer:
        lines = [f"• **{c.term.term}**: {c.term.definition}" + (f" (taught in {c.term.elsewhere})" if c.elsewhere else "")
                 for c in concepts[:4]]
        answer = self._said(next((c for c in concepts if not c.elsewhere), concepts[0]), "course", "\n".join(lines))
        answer.meta["terms"] = [c.term.term for c in concepts[:4]]  # "explain that simply" then means each of them
        return answer

    def _detail(self, question: Question, subject: Concept, corrected: str, last: Turn, depth: str) -> Answer:
        kind = question.detail or "number"
        present = DETAIL_PRESENT[kind]
        term = subject.term
        wanted = set(content_stems(corrected)) - set(content_stems(" ".join(term.names))) - _DETAIL_WORDS - GENERIC_COURSE_WORDS
        if kind == "number":  # "how big is a typical instruction dataset?": a figure the lesson states about it, wherever it is
            found = self._quantity(corrected, section_words(corrected) & wanted, term.names, precise=True)
            if found is not None:
                return found
        found = self._course(corrected, last, depth)
        asked = set(content_stems(corrected)) - set(content_stems(subject.said)) - _DETAIL_WORDS
        if (found is not None and not found.text.startswith("I don't know") and present.search(found.text)
                and found.citation is not None and _speaks_to(corrected, subject, found.text, self._rarity)
                and _states(kind, question.detail_words, asked, found.text)
                and (kind not in ("spec", "number") or any(n.casefold() in found.text.casefold() for n in term.names))):
            return found  # the passage states that detail, about that concept (not about the other one named)
        stating = next((t for t in (term.definition, term.example or "") if present.search(t)
                        and _speaks_to(corrected, subject, t, self._rarity) and _states(kind, question.detail_words, asked, t)), None)
        if stating is not None:  # the glossary's sentence that states it, not just the definition
            return self._said(subject, "course", f"**{term.term}**: {stating}")
        if kind == "number":  # "how much data to instruction tune?": a quantity in words ("thousands") the lesson states
            found = self._quantity(corrected, section_words(corrected) & wanted, term.names)
            if found is not None:
                return found
        doc = self.index.section_for(term, subject.chapter)
        said = (question.detail_words or "").strip()
        noun = said and (kind == "spec" or (kind == "number" and not re.match(r"(?:how|number of|size of|what value|exact)\b", said, re.I)))
        named = _detail_name(said) if noun else DETAIL_NAMES[kind]  # "the learning rate", not "that number"
        text = (f"I don't know {named} for {_name(subject)}: the course doesn't give that, and I won't guess.\n"
                f"The nearest thing it does say (not {DETAIL_NAMES[kind]}): {term.definition}")
        meta = {"skill": "course", "term": term.term, "section": doc.title if doc else term.section,
                "depth": doc.depth if doc else term.depth, "chapter": subject.chapter.number, "detail": kind, "missing": True}
        return Answer(text, "course", meta, doc.citation if doc else None)

    def _faq_answer(self, entry: FaqEntry, concept: Concept | None) -> Answer:
        doc = next((d for d in self.index.sections if d.depth == entry.depth and heading_key(d.title) == heading_key(entry.section)
                    and (concept is None or d.chapter is concept.chapter)), None)
        meta = {"skill": "course", "term": concept.term.term if concept else None, "section": doc.title if doc else entry.section,
                "depth": doc.depth if doc else entry.depth, "chapter": doc.chapter.number if doc else None, "faq": entry.question}
        return Answer(entry.answer, "course", meta, doc.citation if doc else None)


def _beyond(heading: str, names: set[str]) -> str:
    """A heading without the concepts' name words: a heading that is the name ("Reinforcement Learning from Human
    Feedback") says nothing about the aspect asked ("how do humans give feedback")."""
    return " ".join(w for w in words(heading) if stem(w) not in names)


def _name_words(text: str, concepts: list[Concept]) -> list[str]:
    """What the coverage gate leaves out as the concepts' own names: what the question said for them, and
    the words of their other names, except words the question uses outside the mention ("how do *humans*
    give *feedback* in RLHF": those are the aspect asked, though "human feedback" is in RLHF's full name)."""
    spans = sorted((c.start, c.end) for c in concepts)
    outside, at = [], 0
    for start, end in spans:
        outside.append(text[at:start])
        at = max(at, end)
    outside.append(text[at:])
    used = {stem(w) for w in words(" ".join(outside))}
    return [c.said for c in concepts] + [w for c in concepts for n in c.term.names for w in words(n) if stem(w) not in used]


def _contrast(a: GlossaryTerm, b: GlossaryTerm) -> str | None:
    names = {n.casefold() for n in b.names}
    return next((how for other, how in a.contrast if other.casefold() in names), None)


#: Words that ask for a detail without saying what about.
_DETAIL_WORDS = frozenset(content_stems("how many much big large long number exact value roughly approximately typical size sized "
                                        "formula equation math compute calculate who invented created when year"))


_NUMBER = re.compile(r"(?<![-\w])\d[\d.,]*[kKmMbB%]?\b|\b(?:dozens|hundreds|thousands|millions|billions|two|three|four|five|six|seven|eight|nine|ten)\b", re.I)
#: A number after these words is a label ("Phase 2", "Ch 5"), not a quantity the lesson states.
_LABEL = re.compile(r"\b(?:phase|ch|chapter|step|response|gpt|part|section)\W*$", re.I)


def _states(kind: str, said: str | None, asked: set[str], text: str) -> bool:
    """Whether a passage actually states the detail asked: for a number, a quantity (not a label such
    as "Phase 2") within a few words of what is asked about; for a setting or a design ("batch size",
    "loss"), the words that name it. Other kinds are judged by their pattern alone."""
    if kind == "number":
        for m in _NUMBER.finditer(text):
            if _LABEL.search(text[max(0, m.start() - 12):m.start()]):
                continue
            near = set(content_stems(text[max(0, m.start() - 60):m.end() + 60]))
            if not asked or asked & near:
                return True
        return False
    if kind == "spec":  # whole words, not stems: "optimizer" is not "optimization"
        generic = {w for w in re.findall(r"[a-z0-9]+", _SPEC_GENERIC_WORDS)}
        wanted = {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", (said or "").casefold())} - generic
        have = {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.casefold())}
        return bool(wanted) and wanted <= have
    return True


def _detail_name(said: str) -> str:
    """What a detail question asks for, as a reply names it: "which loss" → "the loss", "how do I mask" → "how to mask"."""
    said = " ".join(said.casefold().split())
    if re.match(r"how\b", said):
        return re.sub(r"^how (?:do|would|can|should|to) (?:(?:i|you|we) )?", "how to ", said)
    if re.match(r"(?:the |source |python |pytorch )?code\b|in code", said):
        return "the code"
    return "the " + re.sub(r"^(?:which|what|the)\s+", "", said)


_SPEC_GENERIC_WORDS = ("exact precise specific actual which what how do would can should to i you we the source python pytorch "
                       "in for of does is implement implementation details detail code write set up")
_SPEC_GENERIC = frozenset(content_stems("exact precise specific actual which what how do would can should to i you we the source python pytorch "
                                        "in for of does is implement implementation details detail code write set up"))


def _speaks_to(question: str, concept: Concept, text: str, idf: Callable[[str], float] | None = None) -> bool:
    """Whether a passage is about what the detail question asks ("learning rate"), beyond naming the concept."""
    names = set(content_stems(concept.said)) - _DETAIL_WORDS
    rest = set(content_stems(question)) - names - _DETAIL_WORDS
    have = set(content_stems(text))
    if not rest:  # "how big is the Dolly dataset?": about Dolly (its rarest word), not about datasets in general
        key = max(names, key=lambda s: idf(s) if idf else 0.0, default=None)
        return key is not None and key in have
    covered = [r for r in rest if r in have or any(len(h) >= 5 and (r.startswith(h) or h.startswith(r[:5])) for h in have)]
    return len(covered) > 0.5 * len(rest)  # "parameters" meets "params"


#: A passage that gives a reason, or a purpose: without one, a why-answer says the lesson doesn't give it.
_GIVES_REASON = {"why": re.compile(r"\b(because|since|so that|in order to|prevents?|to prevent|aligns?|resembles|trade-?off|"
                                   r"that'?s why|the reason|improv\w+|to (?:keep|make|transform|predict|maximi[sz]e))\b", re.I),
                 "purpose": re.compile(r"\b(to [a-z]+|used (?:for|to|as)|for (?:\w+ing|implementation|pretraining|instruction tuning)|"
                                       r"judge|so that|prevents?|aligns?)\b", re.I)}
#: Words that put a question in the everyday world, where an everyday word ("temperature") is not a course term.
_WORLD = re.compile(r"\b(today|tonight|tomorrow|yesterday|this (?:week|weekend|morning|evening)|weather|forecast|degrees?|celsius|fahrenheit|"
                    r"outside|in (?:my|the) (?:city|town|house|room|car)|recipe|cook(?:ing)?|oven)\b", re.I)
#: Words that ask whether the lesson mentions something, not what.
#: Words that grade a thing the lesson names rather than ask something of it ("a big pretraining dataset").
_GRADING_WORDS = frozenset(content_stems("big large huge massive good popular famous common standard typical well known real"))
_MENTION_WORDS = frozenset(content_stems("mention mentioned mentions any anywhere somewhere there named name names is are does do recommend recommended talk talked"))
_CHAPTER_NUMBER = re.compile(r"\b(?:chapter|ch\.?)\s*(\d{1,2})\b", re.I)
_CH_RANGE = re.compile(r"\bCh\.? ?(\d{1,2})(?:\s*-\s*(\d{1,2}))?\b")
_PURPOSE_WORDS = re.compile(r"\b(purpose|point|job|role|goal|aim|used for|why use)\b|\bfor\s*[?.!]*$", re.I)
_DIFFERENCE_WORDS = re.compile(r"^(?:diff\w*|compar\w*|contrast\w*|versus|vs|similar\w*|distinguish\w*|relat\w*)$")


#: Words of a where-question that ask for the place, not what is there.
_WHERE_WORDS = frozenset(content_stems("where which section part bit page heading lesson chapter course mention mentioned find "
                                       "located appear appears show shown shows has have contain contains figure number example "
                                       "list lists listed " + RECAP_WORDS))


def _wording(text: str, missing: list[str]) -> bool:
    """Whether the words a passage leaves unaddressed are only the student's wording: each an everyday English
    word or an inflection of one ("separates", "structured"), and no two side by side, which would be a phrase
    the lesson lacks ("beam search" is a term made of two everyday words)."""
    if not all(everyday(piece, inflected=True) for w in missing for piece in w.split("-")):
        return False
    said = words(text)
    spots = sorted(i for i, w in enumerate(said) if w in missing)
    return not any(b == a + 1 for a, b in pairwise(spots))


def _unsure(found: Answer, closest: str) -> Answer:
    """The answer, said to be the closest thing rather than the answer: the engine then names its
    section as the closest part, without presenting it as the source (see `turns.Answer.hedged`)."""
    found.text = f"I'm not sure the course answers exactly that; the closest is {closest}:\n{found.text}"
    found.meta["unsure"] = True
    return found


def _about_neighbour(found: Answer, subject: Concept, question: Question) -> bool:
    """The answer is about a concept the question names only as the setting of the one it asks about
    ("what is PPO *in RLHF*", "what does honesty mean *for a language model*"): a neighbour's passage
    that would be cited as the answer about the subject."""
    about = found.meta.get("term")
    if not about or about == subject.term.term:
        return False
    toks = tokens(question.text)
    return any(c.term.term == about and c.start >= subject.end and set(toks[subject.end:c.start]) <= _SETTING_WORDS
               for c in question.concepts)


def _compound_head(question: Question) -> Concept | None:
    """In "PPO loss function" two concepts touch: the second is the head noun, the first only modifies it.
    Three or more in a row ("helpfulness harmlessness honesty") are a list, not a compound."""
    if _run_of_names(question):
        return None
    for first, second in pairwise(question.concepts):
        if second.start == first.end:
            return second
    return None


def _name(concept: Concept) -> str:
    """The concept as the student named it, if that is one of its names ("ChatGPT", not "assistant")."""
    for name in concept.term.names:
        joined = " ".join(tokens(name))
        if concept.said in (joined, joined + "s"):
            return name
    return concept.term.term


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip())[0]


def _listed(question: Question) -> list[Concept]:
    """The concepts asked about together ("what are SFT and PPO?"): adjacent, joined by and/or/commas."""
    from .understanding import tokens
    toks = tokens(question.text)
    out = [question.concepts[0]]
    for prev, cur in pairwise(question.concepts):
        between = " ".join(toks[prev.end:cur.start])
        if not between and re.search(re.escape(prev.said) + r"\s*[,;/]\s*" + re.escape(cur.said), question.text, re.I):
            between = ","  # "SFT, PPO and the KL penalty": a comma the tokens don't keep
        if (not between and not _run_of_names(question)) or (between and not _JOINED.match(between)):
            break  # nothing between two: a compound ("PPO loss function"), not a list
        out.append(cur)
    return out


def _run_of_names(question: Question) -> bool:
    """The question names three or more concepts one after another with nothing between ("helpfulness harmlessness honesty")."""
    concepts = question.concepts
    return len(concepts) >= 3 and all(b.start == a.end for a, b in pairwise(concepts))


def _corrected(text: str, concepts: list[Concept]) -> str:
    """The question with each typo'd concept name replaced by the term, so passage search sees the real name."""
    for c in concepts:
        if c.score < 100:
            pattern = r"\b" + r"[\W_]+".join(re.escape(w) for w in c.said.split()) + r"\b"
            text = re.sub(pattern, c.term.term, text, count=1, flags=re.I)
    return text

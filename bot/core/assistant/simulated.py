"""The simulated instruction-tuned assistant: it reads an instruction and does it.

Each skill recognises the instructions it can carry out and answers from something real: the
course (retrieval with its source), the phrasebook, the table of capitals, a safe calculator,
an extractive summariser. The order of the skills is the order of trust: refuse what is
harmful, resolve follow-ups against the previous turn, then the specific skills, then the
course, and when nothing grounds an answer, say "I don't know" instead of inventing one.

The skills live in mixins by what they work on: `skills_text` (the student's own text),
`skills_world` (phrasebook and facts), `skills_concepts` (answers by intent about the terms a
question names, from `understanding`) and `skills_course` (lesson passages, lists, follow-ups).
This class holds the routing, the follow-ups that span them, small talk, and the honest "I don't
know". A message with several questions is answered part by part, each part said to be
unanswerable when it is; a term the student names wins over the history, and a pointer ("why
does it matter?") after a course answer is read as being about that answer's term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..content import Course
from ..replies import quote_user_text
from . import safety
from .coverage import aspect_words, gate_fails, register_vocabulary
from .faq_match import FaqIndex
from .intent_hold import mismatch
from .items import asks_for_them, items_of, ordinal, pointer_span, quoted_names, which
from .knowledge import Facts, Phrasebook
from .retrieval import CourseIndex
from .skills_concepts import DETAIL_PRESENT, ConceptSkills, _unsure
from .skills_course import CourseSkills, _lists_of
from .skills_sections import SectionSkills
from .skills_text import TextSkills
from .skills_world import OTHER_LANGUAGES, WorldSkills
from .text import STOPWORDS, clip, content_stems, everyday_stems, normalise, stem, strip_end, words
from .turns import MAX_ANSWER, REFERS, Answer, Turn, unit_line
from .understanding import SIMPLER_WORDS, Understanding, asks_source, intent_of, split_parts, tokens

#: Replies of these skills mean a part of a question went unanswered.
_UNANSWERED = ("unknown", "translate-unknown", "country-unknown")
#: After these, "and X?" means the same question about X, not a course concept.
_WORLD_SKILLS = ("translate", "translate-unknown", "capital", "country-fact", "country-unknown")
_PRONOUN = re.compile(r"\b(it|its|it's|they|them|their|this|that|these|those|each|each one)\b", re.I)
#: A demonstrative before a noun ("that data", "those pairs"): the noun says what is pointed at.
_DETERMINER = re.compile(r"\b(that|this|these|those)\s+([a-z][a-z-]+)\b", re.I)
#: A part that asks "which ones …" leaves out its noun ("which dataset is suggested for pretraining and which ones for
#: instruction tuning?"): the noun is the one the part before asked "which/what …" about.
_ELLIPTICAL = re.compile(r"^((?:(?:and|but|or|then)\s+)?(?:which|what)(?: other)?\s+)(ones?)\b", re.I)
_ASKED_NOUN = re.compile(r"^(?:(?:and|but|so|ok(?:ay)?)\s+)?(?:which|what)\s+(?:kinds? of\s+|types? of\s+)?([a-z][a-z-]{2,})\b", re.I)
_BARE_WHY_HOW = re.compile(r"^(?:(?:but|and|so|ok(?:ay)?)[, ]+)?(why|how)(?: (?:is|does|do) (?:that|it|this)(?: so| work| matter)?| so| come)?\s*[?!.]*$", re.I)
_NO_SPLIT = re.compile(r":|(?<![a-z])[\"']\S.*\S[\"'](?![a-z])", re.I)  # a quoted text, not the apostrophes of "H's … what's"
#: A request on a text ("summarise X and Y", "list A and B") is one request, unless "and also …" starts another.
_ONE_REQUEST = re.compile(r"^(?:summari[sz]e|rewrite|make|shorten|turn|convert|bullet|list)\b", re.I)
_ANOTHER_REQUEST = re.compile(r"\b(?:and|plus),?\s+also\b", re.I)
#: A short announcement before the questions ("Two questions: what …, and what …?"): not a quoted text.
_PREAMBLE = re.compile(r"^(?:[\w'-]+\s+){0,2}[\w'-]+:\s*(?=(?:what|whats|why|how|which|who|where|when)\b)", re.I)


_CLAUSES = re.compile(r"[,;.!?]+\s*|\s+(?:and|but|so|now)\s+(?=(?:how|what|why|which|when|where|can|could|should|do|does|is|are|explain|tell)\b)", re.I)
_ASKS = re.compile(r"^(?:so |and |now |but )?(?:how|what|whats|why|which|when|where|can|could|should|do|does|is|are|explain|tell|describe)\b", re.I)
_CHAPTER_NUMBER = re.compile(r"\b(?:chapter|ch\.?)\s*(\d{1,2})\b", re.I)
#: A chapter named as where something comes from, not as what is asked about ("the model from chapter 5").
_CHAPTER_PHRASE = re.compile(r"\s+(?:from|in|of|during|since|(?:back|like|as) in)\s+(?:the\s+)?(?:chapter|ch\.?)\s*(\d{1,2})\b(?!\s*(?:about|cover|teach))", re.I)


#: The words that make another chapter's term the time of a question, not its topic: "*after all the* pretraining".
_SCENE = r"\s*\b(?:after|before|beyond|following|once|past)(?:\s+(?:all|the|that|this|doing|its|some|of))*\s+"
_ASKS_NUMBER = re.compile(r"\bhow (?:many|much)\b|\bwhat (?:number|amount)\b", re.I)
#: Numbers that are part of a name ("Phase 2", "Chapter 7", "GPT-4"), not a quantity.
_NUMBERED_NAME = re.compile(r"\b(?:phase|step|stage|ch|chapter|part|section|gpt)\W{0,2}\d+\b|\bphase (?:one|two|three)\b", re.I)
_GIVES_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?|billions?)\b", re.I)


def _without_number(question: str, answer: Answer) -> Answer:
    """A question that asks how many, answered by a passage with no number in it: the passage is about the
    right thing but doesn't hold the answer ("how many responses per prompt? 4? 9?" → "multiple responses").
    Cited as the answer it would be the worst outcome, so the reply says first that the number isn't given."""
    if (not _ASKS_NUMBER.search(question) or not _confident(answer) or answer.skill not in ("course", "course-example", "course-more")
            or _GIVES_NUMBER.search(_NUMBERED_NAME.sub(" ", answer.text))):
        return answer
    answer.text = f"I don't know that number: the lesson doesn't give it, and I won't guess. What it does say:\n{answer.text}"
    answer.meta["missing"] = True
    return answer


def _with_asked_noun(part: str, before: str) -> str:
    """ "which ones for instruction tuning", after "which dataset is suggested for pretraining": "which datasets for
    instruction tuning". Answered without its noun, the part is about whatever concept it names (instruction tuning's
    definition, cited), and the question actually asked is dropped."""
    ellipsis, noun = _ELLIPTICAL.match(part), _ASKED_NOUN.match(before)
    if ellipsis is None or noun is None or noun.group(1).casefold() in STOPWORDS:
        return part
    word = noun.group(1)
    if ellipsis.group(2).casefold() == "ones" and not word.endswith("s"):
        word += "s"
    return ellipsis.group(1) + word + part[ellipsis.end():]


def _confident(answer: Answer) -> bool:
    """The answer gives the lesson's passage as its source, not a hedge, an "I don't know" or a missing detail."""
    return (answer.citation is not None and not answer.hedged and answer.skill not in _UNANSWERED
            and not answer.meta.get("missing"))


class SimulatedAssistant(TextSkills, WorldSkills, ConceptSkills, CourseSkills, SectionSkills):
    def __init__(self, course: Course, index: CourseIndex, phrasebook: Phrasebook, facts: Facts):
        self.course = course
        self.index = index
        self.phrasebook = phrasebook
        self.facts = facts
        everyday_stems()  # read once at start-up, not during a student's first question
        self.understanding = Understanding(course)
        register_vocabulary(  # the coverage gate's everyday-English test: term-name words and lesson words
            [*(t for c in course.chapters for term in c.glossary for name in term.names for t in words(name)),
             *(t for other in course.outline for phrase in other.vocabulary for t in words(phrase))],
            (w for doc in index.sections for u in doc.units for w in words(u.text)))
        self.faq = FaqIndex(course, self.understanding)
        self._skills = [self._social, self._rewrite, self._summarise, self._translate, self._arithmetic,
                        self._nickname, self._named_instances, self._labelled_item, self._concepts, self._named_section, self._list, self._facts, self._course]

    def answer(self, message: str, last: Turn | None = None, depth: str = "shallow") -> Answer:
        plain = normalise(message)
        text = polite_strip(plain)
        harm = safety.check(plain) or safety.check(text)
        if harm is not None:
            return Answer(safety.refusal(harm), "refusal", {"skill": "refusal", "category": harm.category})
        last = last or Turn()
        text = _about_my_english(text)
        aside = self._aside(text)
        if aside is not None:
            text, number = aside
        text = _PREAMBLE.sub("", text)
        one_request = _NO_SPLIT.search(text) or (_ONE_REQUEST.search(text) and not _ANOTHER_REQUEST.search(text))
        parts = [text] if one_request else split_parts(text)
        if len(parts) == 1 and parts[0] != text:
            text = parts[0]  # "thanks, and what is PPO?": the question is the part that counts
        if len(parts) > 1:
            answer = self._parts(parts, last, depth)
        else:
            answer = _without_number(text, self._one(text, last, depth))
        if aside is not None and answer.citation is not None:
            answer.text += f"\n(Side note: chapter {number} itself isn't in the content I have; this answer is chapter 7's.)"
        answer.text = clip(answer.text, MAX_ANSWER)
        listed = items_of(answer.text)
        if listed:
            answer.meta["items"] = listed[:8]  # kept in the history: "the second one" two turns later still means it
        return answer

    def _aside(self, text: str) -> tuple[str, int] | None:
        """Another chapter mentioned in passing ("my GPT is already pretrained in ch5, how do I …"): a clause
        names a chapter this course doesn't have, and another clause asks a question. The question is
        the one to answer; the other chapter is at most a side remark."""
        phrase = _CHAPTER_PHRASE.search(text)  # "the pretrained model from chapter 5": a premise inside the question
        if phrase is not None and self.course.chapter(int(phrase.group(1))) is None:
            question = " ".join((text[:phrase.start()] + text[phrase.end():]).split())
            if _ASKS.search(question) and len([w for w in words(question) if w not in STOPWORDS]) >= 3:
                return question, int(phrase.group(1))
        scene = self._scene(text)
        if scene is not None:
            return scene
        clauses = [c.strip() for c in _CLAUSES.split(text) if c and c.strip()]
        if len(clauses) < 2:
            return None
        mention = {c: int(m.group(1)) for c in clauses if (m := _CHAPTER_NUMBER.search(c)) and self.course.chapter(int(m.group(1))) is None}
        rest = [c for c in clauses if c not in mention]
        if not mention or not rest or not any(_ASKS.search(c) for c in rest):
            return None
        return " ".join(rest), next(iter(mention.values()))

    def _scene(self, text: str) -> tuple[str, int] | None:
        """Another chapter's term as the time of the question, not its topic ("why do we need instruction tuning
        *after all the pretraining*", "how are ChatGPT-style models trained *after pretraining*"): the question
        asks about a concept this chapter teaches, so the phrase is dropped and the notice that the other chapter
        isn't here becomes a side note. "What is pretraining?" still gets the notice: nothing else is asked."""
        if not any(not c.elsewhere for c in self.understanding.concepts(text)):
            return None
        folded = text.casefold()
        for hit in self.understanding.elsewhere(text):
            said = r"[\W_]+".join(re.escape(t) for t in tokens(text)[hit.start:hit.end])
            scene = re.search(_SCENE + said + r"\w*", folded)
            if scene is not None:
                return " ".join((text[:scene.start()] + text[scene.end():]).split()), hit.chapter.number
        return None

    def _parts(self, parts: list[str], last: Turn, depth: str) -> Answer:
        """A message with several questions: each answered, or said to be unanswerable, in order.
        A part that points back ("why is it needed?") refers to the concept of the part before it."""
        answers: list[tuple[str, Answer]] = []
        previous = last
        topic: str | None = None
        for n, part in enumerate(parts[:4]):
            part = _with_asked_noun(part, parts[n - 1]) if n else part
            concepts = [c for c in self.understanding.concepts(part) if not c.elsewhere]  # "what loss is it trained with": "it" is still the topic
            found = None
            if not concepts and topic and _PRONOUN.search(part) and not self.facts.find_country_in(part):
                part = _PRONOUN.sub(topic, part, count=1)
            elif not concepts and topic and (asked := intent_of(part))[0] in ("detail", "example", "simpler", "where") and not self.facts.find_country_in(part):
                alone = self._one(part, previous, depth)  # "… and how big are the datasets usually": answered on its own
                if _confident(alone) and (asked[1] is None or DETAIL_PRESENT[asked[1]].search(alone.text)):
                    # a detail only from a passage that holds one: "what value should beta be" is not "human values"
                    found = alone
                else:
                    part = f"{strip_end(part)} for {topic}"  # "explain PPO and give the formula": the formula for PPO
            elif concepts:
                topic = concepts[0].term.term
            found = found or self._one(part, previous, depth)
            answers.append((part, found))
            previous = Turn(found.meta, found.text)
            if found.meta.get("term") and _confident(found):
                topic = found.meta["term"]  # what the part's answer was about: "what kind of fine-tuning is X" is about X
        lines = []
        for part, found in answers:
            body = found.text if found.skill != "unknown" else (
                "I don't know: that isn't in the course or in anything else I have, and I won't guess.")
            if found.citation is not None and found is not answers[0][1] and found.citation != answers[0][1].citation:
                body += f"\n_({found.citation.text()})_"
            lines.append(f"**“{quote_user_text(clip(strip_end(part), 80))}”**: {body}")
        missed = [part for part, found in answers if found.skill in _UNANSWERED or found.meta.get("missing")]
        if missed and len(missed) < len(answers):
            lines.append("I answered the part" + ("s" if len(answers) - len(missed) > 1 else "") + " I know; I don't know "
                         + " or ".join(f"“{quote_user_text(clip(strip_end(p), 60))}”" for p in missed) + ".")
        cited = next((found for _, found in answers if found.citation is not None), answers[-1][1])
        return Answer("\n\n".join(lines), answers[-1][1].skill, dict(answers[-1][1].meta), cited.citation)

    def _one(self, text: str, last: Turn, depth: str) -> Answer:
        found = (self._named_instances(text, last, depth) if last.text else None) or self._followup(text, last)
        if found is None:
            text = self._resolve_pronoun(text, last)
        if found is None:
            for skill in self._skills:
                found = skill(text, last, depth)
                if found is not None:
                    break
        found = found or self._section_answer(text, depth) or self._unit_answer(text, depth) or self._unknown(text)
        return self._holding_intent(text, found, last, depth)

    def _holding_intent(self, text: str, found: Answer, last: Turn, depth: str) -> Answer:
        """The last check before a citation (see `intent_hold`): a cited answer that doesn't hold the asked intent
        about the asked concept is replaced by one that does (the asked concept's own definition), or else given
        as the closest part, named but not cited: a confident citation on the wrong passage is the worst outcome."""
        if not _confident(found):
            return found
        question = self.understanding.understand(text)
        why = mismatch(question, found.meta.get("term"), found.text)
        if why is None:
            return found
        asked = next((c for c in question.asked if not c.elsewhere), None)
        if why == "another term" and asked is not None:
            own = self._one(f"what is {asked.term.term}?", last, depth)
            if _confident(own) and own.meta.get("term") == asked.term.term:
                return own
        return _unsure(found, f"what it says about {found.meta.get('term') or 'it'}")

    # ---- follow-ups -----------------------------------------------------------------------

    _ALSO = re.compile(r"^(?:and|what about|how about|what of|same (?:for|in)|now|ok(?:ay)?,? (?:and|now))\b[\s,]*(?:(?:in|into|for|to|with|of)\s+)?(?P<x>[^?!]+?)\s*[?.!]*$", re.I)
    _IN_LANGUAGE = re.compile(r"^(?:(?:in|into|to)\s+)(?P<x>[a-zà-ÿ ]+?)\s*(?:please)?\s*[?.!]*$", re.I)
    #: A complaint about the last answer ("too much info", "I don't get it"): it asks for that answer, simpler.
    _TOO_MUCH = re.compile(r"\b(more simple|too (?:complicated|complex|technical|hard|long|much)|(?:so|very) (?:confusing|complicated)"
                           r"|i (?:still )?(?:don'?t|didn'?t|do not|did not) (?:get|understand) (?:it|that|this)|i'?m (?:lost|confused))\b", re.I)
    #: "Simpler" as the question's intent says it (understanding's words, "like I'm ten", "the simple version"), or a complaint.
    _SIMPLER = re.compile(f"{SIMPLER_WORDS.pattern}|{_TOO_MUCH.pattern}", re.I)
    _EXAMPLE = re.compile(r"\b(examples?|for instance|show me one|illustrate)\b", re.I)
    _MORE = re.compile(r"^(?:(?:can you |could you |please )?(?:tell me more|say more|more|go on|continue|elaborate|more details?|in more detail|go deeper|dig deeper|expand(?: on (?:that|it|this))?|explain (?:that|it|this) (?:in )?(?:more|further|in more detail|in detail)|explain further|why(?: is that)?|how so))\s*(?:please)?[?.!]*$", re.I)
    _WHERE = re.compile(r"\bwhere\b.*\b(lesson|chapter|course|read|find|explained|covered|discussed|come from|say)\b|\b(which|what) (section|part|page)\b|\bsource\b", re.I)

    def _followup(self, text: str, last: Turn) -> Answer | None:
        short = len(words(text)) <= 9
        found = self._sequence_followup(text, last) or self._item_followup(text, last) or self._opposite(text, last)
        if found is not None:
            return found
        if self.understanding.concepts(text) and last.skill not in _WORLD_SKILLS:
            return None  # a concept the student names wins over the history ("and France?" after a capital is not one)
        also = self._ALSO.match(text) or (self._IN_LANGUAGE.match(text) if short else None)
        if also and short:
            target = strip_end(also.group("x"))
            if last.skill in ("translate", "translate-unknown") and last.meta.get("language"):
                code = self.phrasebook.language(target)
                if code:
                    return self._translation(last.meta["phrase"], code)
                if target.casefold() in OTHER_LANGUAGES:
                    return self._no_language(target)
                if self.phrasebook.lookup(target) and not self.facts.country(target):
                    return self._translation(target, last.meta["language"])
            if last.skill in ("capital", "country-fact", "country-unknown"):
                country = self.facts.country(target) or self.facts.find_country_in(target)
                if country is not None:
                    return self._country_answer(country, last.meta.get("attribute", "capital"))
            if last.skill in ("course", "course-simpler", "course-example", "course-more", "list") and self.index.match_term(target):
                return self._course(target, last, "shallow")
        if (last.skill == "arithmetic" and short and REFERS.search(text + " ")) or (
                last.skill == "arithmetic" and re.match(r"^(?:now\s+|and\s+|then\s+)?(?:double|triple|halve|half|square|cube|plus|minus|times|divided|multiply|divide|add|subtract)\b", text, re.I)):
            found = self._arithmetic_on(text, last.meta.get("raw", ""))
            if found is not None:
                return found
        if last.skill in ("course", "course-simpler", "course-example", "course-more", "list") and short:
            if self._WHERE.search(text) and not asks_source(text):
                doc = self._topic_doc(last)
                if doc is not None:
                    return Answer(f"That is in Chapter {doc.chapter.number}, section *{doc.title}* ({doc.depth} depth): "
                                  f"`/lesson {doc.chapter.number} {doc.depth}` takes you there, or press the button.",
                                  "course-where", dict(last.meta, skill="course-where"), doc.citation)
            if self._SIMPLER.search(text) and (REFERS.search(text) or self._TOO_MUCH.search(text) or len(words(text)) <= 5
                                               or not self._names_something(text)):
                return self._simpler(last)
            if (self._EXAMPLE.search(text) and (REFERS.search(text) or (len(words(text)) <= 6 and not self._names_lesson_content(text)))
                    and intent_of(text)[0] != "detail"):
                # "an example?" is of the last answer; "an example of one pair" names what it wants, and "how many
                # examples do we need for that?" asks a number
                return self._example(last)
            if self._MORE.match(text) and not (_BARE_WHY_HOW.match(text) and last.meta.get("term")):
                return self._more(last)  # a bare "why?" about a term is asked about the term, below
        if short and last.skill is None and ((self._SIMPLER.search(text) and not self._names_something(text)) or self._MORE.match(text) or
                                            (self._EXAMPLE.search(text) and REFERS.search(text) and not self._names_lesson_content(text)) or
                                            (also and len(words(text)) <= 4 and not self._known_target(also.group("x")))):
            return Answer("I don't know what “that” refers to yet: we haven't talked about anything. "
                          "Ask me a full question, e.g. *What is RLHF?*, and then I can simplify it, give an example or go deeper.",
                          "unknown", {"skill": "unknown"})
        return None

    _NEXT = re.compile(r"^(?:(?:and|so|ok(?:ay)?|then)[, ]+)*(?:what(?:'s|s| is)?|which)?\s*(?:(?:comes|happens|is|follows|do (?:we|you) do|does it do)\s+)?"
                       r"(?:next|after(?:wards)?(?: (?:that|this|it|phase \w+|step \w+))?|then)\b|^(?:and )?then what\b|^what'?s next\b|^(?:and )?(?:after that|the next (?:one|step|phase|stage))\b"
                       r"|^(?:(?:and|so|ok(?:ay)?|then)[, ]+)*(?:what about |how about )?(?:in |for |during |at )?the (?:next|following) (?:one|step|phase|stage)\b", re.I)
    _PREVIOUS = re.compile(r"\b(?:before (?:that|this|it)|the (?:previous|one before|step before|phase before)|(?:what|which) (?:comes|came|happens|happened|is) (?:before|first)|precedes?)\b", re.I)

    def _sequence_followup(self, text: str, last: Turn) -> Answer | None:
        """"What comes next?" after an answer about one item of an ordered list (a phase, a step): the next
        (or previous) item of that list in the lesson, with the lines under it; at an end, that it is the end."""
        if not last.skill or not (last.skill.startswith("course") or last.skill == "list") or len(words(text)) > 10:
            return None
        step = 1 if self._NEXT.search(text) else -1 if self._PREVIOUS.search(text) else 0
        if not step or self.understanding.concepts(text):
            return None
        doc = self._topic_doc(last)
        if doc is None:
            return None
        said = set(content_stems(last.text))
        term = set(content_stems(last.meta.get("term") or ""))
        best, best_score = None, 0.0
        for intro, items in _lists_of(doc):
            if len(items) < 2:
                continue
            labelled = all(re.match(r"\W*(phase|step|stage|part)\s*\d", i, re.I) for i in items)
            for i, item in enumerate(items):
                own = set(content_stems(item.split("\n")[0]))
                if not own:
                    continue
                label = re.match(r"\W*((?:phase|step|stage|part)\s*\d+)", item, re.I)
                named = label is not None and re.search(r"\b" + re.escape(label.group(1)) + r"\b", last.text, re.I) is not None
                score = (len(own & said) / len(own) + (0.5 if term and term <= own else 0) + (0.3 if labelled else 0)
                         + (1.0 if named else 0))  # the last answer said "phase 3": that is the item it was about
                if score > best_score:
                    best, best_score = (intro, items, i), score
        if best is None or best_score < 0.8:
            return None
        intro, items, i = best
        current_item = last.meta.get("item")
        at = next(((intro_, items_, k) for intro_, items_ in _lists_of(doc) if len(items_) >= 2
                   for k, it in enumerate(items_) if current_item and it.split("\n")[0].rstrip(":") == current_item), None)
        if at is not None:  # the last answer was itself a step along this list: go on from where it left
            intro, items, i = at
        elif sum(set(content_stems(item.split("\n")[0])) <= said for item in items) > 1:
            return None  # the last answer gave the whole list ("the phases are …"): "next" after which one is not said
        j = i + step
        current = items[i].split("\n")[0].rstrip(":")
        meta = dict(last.meta, skill="course", term=None)
        if not 0 <= j < len(items):
            where = "last" if step > 0 else "first"
            return Answer(f"**{current}** is the {where} one the lesson lists" + (f" ({intro.rstrip(':')})" if intro else "")
                          + f"; it says nothing {'after' if step > 0 else 'before'} it there.", "course", meta, doc.citation)
        item = items[j].split("\n")[0].rstrip(":")
        lines = [f"{'After' if step > 0 else 'Before'} **{current}** comes **{item}**."]
        meta["item"] = item
        under = next((sub for lead, sub in _lists_of(doc) if lead.rstrip(":") == item), None)
        lines += [f"{n}. {x}" for n, x in enumerate(under or [], 1)]
        item_concepts = [c for c in self.understanding.concepts(item) if not c.elsewhere]
        if item_concepts:
            meta["term"] = item_concepts[-1].term.term
        return Answer("\n".join(lines), "course", meta, doc.citation)

    _OPPOSITE = re.compile(r"\b(opposite|the reverse|the other (?:one|way|kind|side)|contrary|counterpart)\b", re.I)

    def _opposite(self, text: str, last: Turn) -> Answer | None:
        """"What's it called when the opposite happens?" after a term: the term the glossary contrasts it with."""
        term = self._term_of(last) if last.skill and last.skill.startswith("course") else None
        if term is None or not term.contrast or not self._OPPOSITE.search(text) or len(words(text)) > 14:
            return None
        other, how = term.contrast[0]
        found = self.index.match_term(other)
        meta = dict(last.meta, skill="course", term=found[0].term if found else other)
        doc = self.index.section_for(*found) if found else None
        if doc is not None:
            meta.update(section=doc.title, depth=doc.depth, chapter=doc.chapter.number)
        else:
            doc = self._topic_doc(last)  # the other term has no section of its own: cite the one the last answer came from
        return Answer(f"The lesson contrasts **{term.term}** with **{other}**: {how}", "course", meta, doc.citation if doc else None)

    def _item_followup(self, text: str, last: Turn) -> Answer | None:
        """"Explain the second one", "which one uses GPT-4?", "list them": about the items of the last answer."""
        if not last.skill or not (last.skill.startswith("course") or last.skill in ("list", "chapter-summary")) or len(words(text)) > 14:
            return None
        items = items_of(last.text) or list(last.meta.get("items") or [])
        doc = self._topic_doc(last)
        if not items and doc is not None and len(doc.lists()) == 1:  # the answer named them in prose; its section lists them
            items = [re.sub(r"[*_`]", "", unit_line(u)) for u in next(iter(doc.lists().values()))]
        labelled = items_of("\n".join(u.text.split("\n", 1)[0] for u in doc.units if u.kind == "para")) if doc is not None else []
        if len(labelled) > len(items) and (not items or labelled[0][:12] == items[0][:12]):
            items = labelled  # the answer showed "Phase 1", "Phase 2"; the section has "Phase 3" too
        if not items:
            return None
        if asks_for_them(text):
            body = "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))
            return Answer(f"Here they are:\n{body}", "list", dict(last.meta, skill="list"), doc.citation if doc else None)
        if len(items) == 1 and len(quoted_names(items[0])) >= 2:
            items = quoted_names(items[0])  # the reply showed one item naming several titles: "the first one" is a title
        at = ordinal(text, len(items))
        span = pointer_span(text, len(items)) if at is not None else None
        if at is None:
            at = which(text, items)
        if at is None:
            return None
        item = items[at]
        head = re.split(r":| - | — ", item, maxsplit=1)[0]  # "Human-written: Hire annotators…": the item is its head
        named = [c for c in self.understanding.concepts(head) if not c.elsewhere] or [
            c for c in self.understanding.concepts(item) if not c.elsewhere]
        concept = max(named, key=lambda c: (c.end - c.start, -c.start), default=None)
        if span is not None:
            own = set(content_stems(item)) | set(content_stems(concept.term.term if concept else ""))
            rest = text[:span[0]] + " " + text[span[1]:]
            if [w for w in aspect_words(rest) if stem(w) not in own and w not in self._REQUEST_WORDS]:
                # "why is there a penalty in the last one?": a question about the item, not a request for it,
                # asked again with the item named, so it is answered (or said to be unknown) like any other
                name = concept.term.term if concept else head
                found = self._one(f"{text[:span[0]]}{name}{text[span[1]:]}", Turn(), "shallow")
                if _confident(found) and gate_fails(rest, found.text, [name], strict=False):  # a passage that doesn't say it: not the answer
                    return Answer(f"I don't know that about **{name}**: the lesson doesn't say, and I won't guess. It only lists it: {item}.",
                                  "course", dict(last.meta, skill="course", item=item, missing=True), doc.citation if doc else None)
                return found
        lines = [f"That one is **{item}**."]
        meta = dict(last.meta, skill="course", item=item)
        if concept is not None:
            lines.append(f"**{concept.term.term}**: {concept.term.definition}")
            meta["term"] = concept.term.term
            cdoc = self.index.section_for(concept.term, concept.chapter)
            doc = cdoc or doc
            if cdoc is not None:
                meta.update(section=cdoc.title, depth=cdoc.depth, chapter=cdoc.chapter.number)
        else:  # an item about another chapter ("Transformer architecture"): where it is taught, nothing invented
            outside = self.understanding.elsewhere(item)
            named_elsewhere = [c for c in self.understanding.concepts(item) if c.elsewhere]
            if outside:
                hit = outside[0]
                lines.append(f"It belongs to Chapter {hit.chapter.number} (*{hit.chapter.title}*), another part of the course: "
                             "I don't know more than the lesson's line, and I won't guess.")
            elif named_elsewhere:
                lines.append(f"It is taught in another part of the course ({named_elsewhere[0].term.elsewhere}): "
                             "I don't know more than the lesson's line, and I won't guess.")
        return Answer("\n".join(lines), "course", meta, doc.citation if doc else None)

    def _resolve_pronoun(self, text: str, last: Turn) -> str:
        """"why does it matter?" after an answer about RLHF is "why does RLHF matter?": a short question
        that points back and names no concept of its own is asked about the last answer's concept."""
        term = last.meta.get("term")
        if term and last.skill and last.skill.startswith("course") and (bare := _BARE_WHY_HOW.match(text)):
            return f"{bare.group(1)} {term}?"  # "why?" after SFT: "why SFT?"
        if not term or not last.skill or not last.skill.startswith("course") or len(words(text)) > 12 or not _PRONOUN.search(text):
            return text
        question = self.understanding.understand(text)
        if question.concepts and not (question.intent == "difference" and len(question.concepts) == 1):
            return text  # "how is it different from SFT?": the other side of the difference is the last concept
        pointed = _DETERMINER.search(text)
        if pointed is not None and self.index.idf(stem(pointed.group(2).lower())) and not _PRONOUN.search(text[:pointed.start()]):
            # "where do people get *that data* from?" after the dataset size: the noun names what is meant, so the
            # question is asked of the data, with the last term only where that noun is its own ("that penalty")
            names = {stem(w) for n in self._term_names(term) for w in words(n)}
            said = term if stem(pointed.group(2).lower()) in names else f"the {pointed.group(2)}"
            return text[:pointed.start()] + said + text[pointed.end():]
        return _PRONOUN.sub(lambda m: f"{term}'s" if m.group(1).lower() in ("its", "their") else term, text, count=1)

    def _term_names(self, term: str) -> Sequence[str]:
        """A glossary term's name and aliases, by its name (the history keeps the name only)."""
        return next((t.names for c in self.course.chapters for t in c.glossary if t.term == term), [term])

    _POINTER_WORDS = frozenset(["explain", "put", "say", "make", "it", "that", "this", "simpl", "simpler", "simply", "simple", "eli5", "like", "i'm",
                                "im", "five", "kid", "child", "plain", "english", "words", "terms", "language", "easier", "dumb", "down", "layman",
                                "less", "technical", "please", "again"])

    #: Words that ask for more, simpler or another form of an item: a request for it, not a question about it.
    _REQUEST_WORDS = _POINTER_WORDS | frozenset(["deeper", "further", "elaborate", "expand", "dig", "detail", "details", "simply",
                                                 "easier", "briefly", "shorter", "longer", "summary", "summarise", "summarize"])

    def _names_something(self, text: str) -> bool:
        """"explain gradient descent simply" names a topic; "explain that simply" only points back."""
        if [c for c in self.understanding.concepts(text) if not c.elsewhere]:
            return True  # "distillation... can you say it more simple": "it" is the term just named
        if REFERS.search(text):
            return False
        rest = [w for w in words(self._SIMPLER.sub(" ", text)) if w not in self._POINTER_WORDS and w not in STOPWORDS]
        return bool(rest)

    def _names_lesson_content(self, text: str) -> bool:
        """"That example about translating hello" is not a dangling "that": a pronoun followed by a noun phrase that
        names lesson content (words the lesson uses, beyond the pointing and example words) points at the lesson."""
        rest = [w for w in words(text) if w not in self._POINTER_WORDS and w not in STOPWORDS
                and not self._EXAMPLE.search(w) and w not in ("show", "give", "me", "one", "about", "with", "again")]
        return any(self.index.idf(stem(w)) for w in rest)

    def _known_target(self, target: str) -> bool:
        return bool(self.phrasebook.language(strip_end(target)) is None and self.facts.country(strip_end(target)))

    # ---- social ---------------------------------------------------------------------------

    _GREETING = re.compile(r"^(?:hi|hello|hey|hiya|howdy|hallo|hola|bonjour|ciao|greetings|yo|what'?s up|sup|wass?up|good (?:morning|afternoon|evening|day))\b[\s,!.]*(?:there|again|everyone|all|companion|bot|assistant|friend)?[\s!.]*(?::\)|🙂|👋)?$", re.I)
    _THANKS = re.compile(r"^(?:ok(?:ay)?[, ]+)?(?:thanks?|thank you|thx|ty|cheers|much appreciated|great,? thanks|awesome|perfect|nice|cool)\b.{0,30}$", re.I)
    _BYE = re.compile(r"^(?:(?:ok(?:ay)?|well|right|alright|thanks?)[,!. ]+)?(?:bye|bye-bye|goodbye|good night|see (?:you|ya)|cya|later|farewell|i'?m off|gotta go)\b.{0,20}$", re.I)
    _HOW_ARE_YOU = re.compile(r"\bhow are (?:you|u)\b|\bhow'?s it going\b|\bhow do you do\b", re.I)
    _IDENTITY = re.compile(r"\b(?:who|what)\b(?:\s+\w+){0,2}\s+(?:are|r) (?:you|u)\b|\b(?:is this|is it|are you|am i (?:talking|chatting|speaking) (?:to|with))\s+(?:really\s+)?(?:a |an |the )?(?:real|actual|genuine|true|human|person|bot|robot|ai|chatgpt|gpt|language model|model|llm|machine|computer)\b|\bwhat(?:'s| is) your name\b|\bare you (?:a |an |the )?(?:bot|robot|human|real|ai|chatgpt|gpt|person|model|llm|machine|language model)\b|\bintroduce yourself\b|\btell me about yourself\b|\bwho (?:made|built|created) you\b|\bhow do you work\b", re.I)
    _CAPABILITIES = re.compile(r"\bwhat (?:can|could) (?:you|u) (?:actually |really |even )?do\b|\bhow can you help\b|\bwhat do you do\b|^help\s*[?!.]*$|\bwhat are your (?:skills|capabilities|abilities)\b|\bwhat can i ask\b|\bwhat do you know\b", re.I)

    def _social(self, text: str, last: Turn, depth: str) -> Answer | None:
        if self._GREETING.match(text):
            return Answer("Hello! 👋 I'm the course's simulated instruction-tuned assistant. Ask me about the lesson "
                          "(*What is RLHF?*), for a translation, a capital, a summary or a sum. What would you like to do?",
                          "greeting", {"skill": "greeting"})
        if self._THANKS.match(text) and len(words(text)) <= 8:
            return Answer("You're welcome! Anything else? I can explain a part of Chapter 7, quiz you (`/quiz`), "
                          "or show you a base model next to me (`/compare`).", "thanks", {"skill": "thanks"})
        if self._BYE.match(text):
            return Answer("Goodbye! Your place in the lesson is saved: `/lesson` picks up where you left off.", "bye", {"skill": "bye"})
        if self._IDENTITY.search(text) or self._CAPABILITIES.search(text) or (self._HOW_ARE_YOU.search(text) and len(words(text)) <= 6):
            opening = ("I'm doing well, thanks for asking (as well as a program can). " if self._HOW_ARE_YOU.search(text) else "")
            return Answer(opening + IDENTITY, "identity", {"skill": "identity"})
        return None

    # ---- nothing grounded -----------------------------------------------------------------

    def _unknown(self, text: str) -> Answer:
        creative = self._CREATIVE.match(text)
        if creative:
            task = re.sub(r"\bme\b", "you", quote_user_text(clip(strip_end(creative.group(0)), 60)))
            return Answer(f"I don't know how to {task[:1].lower() + task[1:]}: I'm a simulated assistant with a fixed set of skills, "
                          "and writing something new is beyond them. A real instruction-tuned model would try, because "
                          "its instruction data included creative tasks like this one. I can explain the course, translate, "
                          "name capitals, summarise, list, rewrite or calculate.", "unknown", {"skill": "unknown"})
        if self.index.is_course_question(text):
            reason = "The course content I have doesn't cover that"
        else:
            reason = "That isn't in anything I have (the course lessons, a phrasebook and a table of world capitals)"
        return Answer(f"I don't know. {reason}, and I'd rather say so than make something up: that's the *honesty* RLHF aims for.\n"
                      "I can explain Chapter 7 (*What is RLHF?*), translate a phrase, name a capital, summarise, list, "
                      "rewrite or calculate. `/help` shows the commands.", "unknown", {"skill": "unknown"})


IDENTITY = ("I'm the course's **simulated instruction-tuned assistant**: not a neural network, but a small program that "
            "behaves the way Chapter 7 says an instruction-tuned model should. It follows your instruction instead of just "
            "continuing your text. I can:\n"
            "• answer questions about the course, and tell you which lesson section to read\n"
            "• translate everyday words and phrases (Spanish, French, German, Italian, Portuguese)\n"
            "• name the capital of any country\n"
            "• summarise a text or a chapter, list, rewrite (bullets, upper case, shorter) and calculate\n"
            "When I don't know, I say so. Try `/compare What is the capital of France?` to see what a base model "
            "does with the same prompt, or `/mode base` to talk to one.")


_POLITE_START = re.compile(r"^(?:(?:(?:hey|hi|hello)[,!]+(?=\s+\S+\s+\S+)|ok(?:ay)?|so|um+|please|kindly|can you|could you|would you|will you|"
                           r"can u|could u|i'?d like you to|i want you to|i need you to|help me)[\s,]+)+", re.I)
_POLITE_END = re.compile(r"[\s,]+(?:please|pls|thanks|thank you|for me)(?=[\s?.!]*$)", re.I)


#: The student saying English is not their first language: why they ask for it simply, not what they ask about.
_MY_ENGLISH = re.compile(r"[\s,;.!-]*\b(?:(?:because|since|as|cause|cuz)\s+)?(?:english (?:is not|isn'?t) my (?:first|native|main|mother) (?:language|tongue)"
                         r"|i'?m not (?:a )?native(?: english)?(?: speaker)?|my english is (?:not (?:very |so )?good|bad|weak|poor|limited))\b[\s,;.!]*", re.I)


def _about_my_english(text: str) -> str:
    """"More simple please, English is not my first language" → "more simple please": the aside would otherwise
    be read as a question about English (or a language) that the course can't answer. Alone, it asks for it simply."""
    rest = _MY_ENGLISH.sub(" ", text).strip(" ,;.!")
    if rest == text:
        return text
    return rest if rest else "explain that more simply"


def polite_strip(text: str) -> str:
    """Without the courtesy around an instruction: "Could you please translate X, thanks?" → "translate X?"."""
    stripped = _POLITE_END.sub("", _POLITE_START.sub("", text)).strip()
    return stripped if len(stripped) >= 2 else text

"""The simulated instruction-tuned assistant: it reads an instruction and does it.

Each skill recognises the instructions it can carry out and answers from something real: the
course (retrieval with its source), the phrasebook, the table of capitals, a safe calculator,
an extractive summariser. The order of the skills is the order of trust: refuse what is
harmful, resolve follow-ups against the previous turn, then the specific skills, then the
course, and when nothing grounds an answer, say "I don't know" instead of inventing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..content import Course
from ..replies import quote_user_text
from . import rewrite as rewriting
from . import safety
from .arithmetic import (
    OPERATOR_WORDS,
    ArithmeticError_,
    evaluate,
    find_expression,
    format_number,
)
from .knowledge import Country, Facts, Phrasebook
from .retrieval import Citation, CourseIndex, SectionDoc, Unit, expand
from .summarise import key_sentences
from .text import clip, content_stems, normalise, strip_end, words

MAX_ANSWER = 1800  # well inside Discord's 2,000 and Slack's 3,000 per section

#: Languages people ask for that the phrasebook does not have: answered honestly.
OTHER_LANGUAGES = set("""chinese mandarin cantonese russian arabic korean hindi bengali urdu swahili greek polish turkish
swedish norwegian danish finnish latin hebrew persian farsi thai vietnamese indonesian malay czech hungarian romanian
ukrainian irish welsh catalan esperanto klingon tagalog zulu""".split())
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
DEEP_WORDS = re.compile(r"\b(deep|deeper|detailed|in depth|in-depth|in detail|long|full|thorough|advanced|technical)\b", re.I)
SHALLOW_WORDS = re.compile(r"\b(shallow|short|brief|quick|simple|one[- ]line|tl;?dr)\b", re.I)


@dataclass
class Turn:
    """What the previous exchange was about, so a follow-up can build on it."""

    meta: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the assistant's previous reply

    @property
    def skill(self) -> str | None:
        return self.meta.get("skill")


@dataclass
class Answer:
    text: str
    skill: str
    meta: dict[str, Any] = field(default_factory=dict)
    citation: Citation | None = None


class SimulatedAssistant:
    def __init__(self, course: Course, index: CourseIndex, phrasebook: Phrasebook, facts: Facts):
        self.course = course
        self.index = index
        self.phrasebook = phrasebook
        self.facts = facts
        self._skills = [self._social, self._rewrite, self._summarise, self._translate, self._arithmetic,
                        self._list, self._facts, self._course]

    def answer(self, message: str, last: Turn | None = None, depth: str = "shallow") -> Answer:
        text = normalise(message)
        harm = safety.check(text)
        if harm is not None:
            return Answer(safety.refusal(harm), "refusal", {"skill": "refusal", "category": harm.category})
        last = last or Turn()
        found = self._followup(text, last)
        if found is None:
            for skill in self._skills:
                found = skill(text, last, depth)
                if found is not None:
                    break
        answer = found or self._unknown(text)
        answer.text = clip(answer.text, MAX_ANSWER)
        return answer

    # ---- follow-ups -----------------------------------------------------------------------

    _ALSO = re.compile(r"^(?:and|what about|how about|what of|same (?:for|in)|now|ok(?:ay)?,? (?:and|now))\b[\s,]*(?:(?:in|into|for|to|with|of)\s+)?(?P<x>[^?!]+?)\s*[?.!]*$", re.I)
    _IN_LANGUAGE = re.compile(r"^(?:(?:in|into|to)\s+)(?P<x>[a-zà-ÿ ]+?)\s*(?:please)?\s*[?.!]*$", re.I)
    _SIMPLER = re.compile(r"\b(simpl(?:er|y|ify|e terms)|eli5|like i'?m (?:five|5|a child|a kid)|plain (?:english|words|language)|easier|dumb it down|layman'?s?|less technical|i (?:still )?don'?t (?:get|understand) (?:it|that))\b", re.I)
    _EXAMPLE = re.compile(r"\b(examples?|for instance|show me one|illustrate)\b", re.I)
    _MORE = re.compile(r"^(?:(?:can you |could you |please )?(?:tell me more|say more|more|go on|continue|elaborate|more details?|in more detail|go deeper|dig deeper|expand(?: on (?:that|it|this))?|explain (?:that|it|this) (?:in )?(?:more|further|in more detail|in detail)|explain further|why(?: is that)?|how so))\s*(?:please)?[?.!]*$", re.I)
    _REFERS = re.compile(r"\b(that|it|this|those|them|the last one|your answer)\b", re.I)

    def _followup(self, text: str, last: Turn) -> Answer | None:
        short = len(words(text)) <= 9
        also = self._ALSO.match(text) or (self._IN_LANGUAGE.match(text) if short else None)
        if also and short:
            target = strip_end(also.group("x"))
            if last.skill == "translate":
                code = self.phrasebook.language(target)
                if code:
                    return self._translation(last.meta["phrase"], code)
                if target.casefold() in OTHER_LANGUAGES:
                    return self._no_language(target)
            if last.skill in ("capital", "country-fact", "country-unknown"):
                country = self.facts.country(target) or self.facts.find_country_in(target)
                if country is not None:
                    return self._country_answer(country, last.meta.get("attribute", "capital"))
            if last.skill in ("course", "course-simpler", "course-example", "course-more", "list"):
                if self.index.match_term(target):
                    return self._course(target, last, "shallow")
        if last.skill in ("course", "course-simpler", "course-example", "course-more", "list") and short:
            if self._SIMPLER.search(text) and (self._REFERS.search(text) or len(words(text)) <= 5):
                return self._simpler(last)
            if self._EXAMPLE.search(text) and (self._REFERS.search(text) or len(words(text)) <= 6):
                return self._example(last)
            if self._MORE.match(text):
                return self._more(last)
        if short and last.skill is None and (self._SIMPLER.search(text) or self._MORE.match(text) or
                                            (self._EXAMPLE.search(text) and self._REFERS.search(text)) or
                                            (also and len(words(text)) <= 4 and not self._known_target(also.group("x")))):
            return Answer("I don't know what “that” refers to yet: we haven't talked about anything. "
                          "Ask me a full question, e.g. *What is RLHF?*, and then I can simplify it, give an example or go deeper.",
                          "unknown", {"skill": "unknown"})
        return None

    def _known_target(self, target: str) -> bool:
        return bool(self.phrasebook.language(strip_end(target)) is None and self.facts.country(strip_end(target)))

    # ---- social ---------------------------------------------------------------------------

    _GREETING = re.compile(r"^(?:hi|hello|hey|hiya|howdy|hallo|hola|bonjour|ciao|greetings|yo|good (?:morning|afternoon|evening|day))\b[\s,!.]*(?:there|again|everyone|all|companion|bot|assistant|friend)?[\s!.]*(?::\)|🙂|👋)?$", re.I)
    _THANKS = re.compile(r"^(?:ok(?:ay)?[, ]+)?(?:thanks?|thank you|thx|ty|cheers|much appreciated|great,? thanks|awesome|perfect|nice|cool)\b.{0,30}$", re.I)
    _BYE = re.compile(r"^(?:bye|goodbye|good night|see (?:you|ya)|cya|later|farewell)\b.{0,20}$", re.I)
    _HOW_ARE_YOU = re.compile(r"\bhow are (?:you|u)\b|\bhow'?s it going\b|\bhow do you do\b", re.I)
    _IDENTITY = re.compile(r"\b(?:who|what) (?:are|r) (?:you|u)\b|\bwhat(?:'s| is) your name\b|\bare you (?:a |an |the )?(?:bot|robot|human|real|ai|chatgpt|gpt|person|model|llm|machine|language model)\b|\bintroduce yourself\b|\btell me about yourself\b|\bwho (?:made|built|created) you\b|\bhow do you work\b", re.I)
    _CAPABILITIES = re.compile(r"\bwhat (?:can|could) (?:you|u) do\b|\bhow can you help\b|\bwhat do you do\b|^help\s*[?!.]*$|\bwhat are your (?:skills|capabilities|abilities)\b|\bwhat can i ask\b|\bwhat do you know\b", re.I)

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

    # ---- rewriting and summarising -------------------------------------------------------------

    _PAYLOAD = re.compile(r"^(?P<how>[^:\n]{1,120}?)\s*(?::|\n)\s*(?P<body>.+)$", re.S)
    _QUOTED = re.compile(r"^(?P<how>.*?)[\"“](?P<body>[^\"”]{2,})[\"”](?P<tail>.*)$", re.S)
    _REWRITE_VERB = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:rewrite|re-write|reformat|format|turn|convert|make|put|change|transform|shorten|condense|trim|capitali[sz]e|uppercase|upper-case|lowercase|lower-case|write)\b", re.I)
    _SUMMARY_VERB = re.compile(r"\b(summari[sz]e|summary|sum up|sum it up|tl;?dr|recap|overview|key (?:points|takeaways)|main points|gist)\b", re.I)
    _CHAPTER = re.compile(r"\b(chapter|lesson|course|ch\.? ?\d+|this unit|module)\b", re.I)

    def _payload(self, text: str) -> tuple[str, str] | None:
        match = self._PAYLOAD.match(text)
        if match and len(match.group("body").strip()) >= 2:
            return match.group("how"), match.group("body").strip()
        match = self._QUOTED.match(text)
        if match:
            return match.group("how") + " " + match.group("tail"), match.group("body").strip()
        return None

    def _rewrite(self, text: str, last: Turn, depth: str) -> Answer | None:
        if not self._REWRITE_VERB.match(text) or self._SUMMARY_VERB.search(text.split(":")[0]):
            return None
        payload = self._payload(text)
        instruction, body = payload if payload else (text, "")
        how = rewriting.operation(instruction)
        if how is None:
            return None
        if not body and self._REFERS.search(instruction) and last.text:
            body = last.text
        if not body:
            return Answer("What should I rewrite? Put the text after a colon, e.g. *Rewrite as bullet points: data, "
                          "model and training*.", "rewrite-help", {"skill": "rewrite-help"})
        result = rewriting.rewrite(body, how)
        label = {"bullets": "As a bullet list", "numbered": "As a numbered list", "upper": "In upper case",
                 "lower": "In lower case", "title": "In title case", "shorter": "Shorter"}[how]
        return Answer(f"{label}:\n{quote_user_text(result)}", "rewrite", {"skill": "rewrite", "how": how})

    def _summarise(self, text: str, last: Turn, depth: str) -> Answer | None:
        head = text.split(":")[0]
        if not self._SUMMARY_VERB.search(head):
            return None
        payload = self._payload(text)
        if payload and len(payload[1]) > 40:
            return self._summary_of(payload[1])
        if self._CHAPTER.search(text) or (not payload and re.search(r"\b(rlhf|instruction tuning|fine-?tuning)\b", text, re.I)):
            number = re.search(r"\b(?:chapter|ch\.?)\s*(\d+)", text, re.I)
            chosen = "deep" if DEEP_WORDS.search(text) else "shallow" if SHALLOW_WORDS.search(text) else depth
            return self._chapter_summary(int(number.group(1)) if number else None, chosen)
        if self._REFERS.search(text) and last.text:
            return self._summary_of(last.text)
        if payload:
            return self._summary_of(payload[1])
        return Answer("What should I summarise? Paste the text after a colon (*Summarise: …*), or ask for a "
                      "chapter: *summarise chapter 7*, *a deep summary of the chapter*.", "summary-help", {"skill": "summary-help"})

    def _summary_of(self, body: str) -> Answer:
        chosen = key_sentences(body)
        if len(chosen) <= 1 and len(key_sentences(body, 5)) <= 1:
            return Answer(f"That is already a single sentence, so its summary is itself:\n> {quote_user_text(clip(body, 400))}",
                          "summary", {"skill": "summary"})
        summary = " ".join(chosen)
        return Answer(f"**Summary** (the sentences that carry it):\n{quote_user_text(summary)}", "summary", {"skill": "summary"})

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

    # ---- translation ----------------------------------------------------------------------

    _TRANSLATE = [
        re.compile(r"^(?:please\s+|can you\s+|could you\s+|would you\s+)?translate\s+(?:(?:the )?(?:word|phrase|sentence|expression)\s+)?(?P<p>.+?)\s+(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+(?: portuguese)?)\s*(?:please)?[?.!]*$", re.I),
        re.compile(r"^(?:please\s+|can you\s+|could you\s+)?translate\s+(?:this\s+|it\s+)?(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+)\s*[:,-]?\s*(?P<p>.+?)[?.!]*$", re.I),
        re.compile(r"\bhow (?:do|would|can|could|should) (?:you|i|we|one|they) (?:say|write|spell|translate)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*[?.!]*$", re.I),
        re.compile(r"\bwhat(?:'s| is| are)?\s+(?:the\s+)?(?P<l>[a-zà-ÿ]+)\s+(?:word|phrase|translation|term)s?\s+(?:for|of)\s+(?P<p>.+?)\s*[?.!]*$", re.I),
        re.compile(r"\b(?:what(?:'s| is)|whats)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*[?.!]*$", re.I),
        re.compile(r"^(?:say|write|tell me)\s+(?P<p>.+?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*(?:please)?[?.!]*$", re.I),
        re.compile(r"^(?P<p>[^?]{1,40}?)\s+in\s+(?P<l>[a-zà-ÿ]+)\s*(?:please)?\s*[?!.]*$", re.I),
        re.compile(r"^(?P<l>[a-zà-ÿ]+)\s+(?:for|of)\s+(?P<p>.+?)\s*\?$", re.I),
    ]

    def _translate(self, text: str, last: Turn, depth: str) -> Answer | None:
        for pattern in self._TRANSLATE:
            match = pattern.search(text)
            if not match:
                continue
            language = strip_end(match.group("l"))
            phrase = re.sub(r"^(?:the (?:word|phrase|sentence|expression)|the|a|an)\s+(?=\S)", "", strip_end(match.group("p")), flags=re.I)
            phrase = strip_end(phrase)
            code = self.phrasebook.language(language)
            if code is None:
                if language.casefold() in OTHER_LANGUAGES or text.lower().startswith("translate"):
                    return self._no_language(language)
                continue
            if not phrase:
                continue
            return self._translation(phrase, code)
        if re.match(r"^(?:please\s+)?translate\b", text, re.I):
            return Answer("Tell me what and into which language, e.g. *Translate 'thank you' to French*. I know "
                          + ", ".join(self.phrasebook.languages.values()) + ".", "translate-help", {"skill": "translate-help"})
        return None

    def _translation(self, phrase: str, code: str) -> Answer:
        language = self.phrasebook.languages[code]
        entry = self.phrasebook.lookup(phrase)
        meta = {"skill": "translate", "phrase": phrase, "language": code}
        if entry is None:
            sample = ", ".join(f"“{k}”" for k, _ in list(self.phrasebook.phrases.values())[:6])
            return Answer(f"I don't know how to say “{quote_user_text(clip(phrase, 80))}” in {language}: it isn't in my phrasebook "
                          f"({len(self.phrasebook.phrases)} everyday words and phrases, such as {sample}), and I won't guess. "
                          "A real instruction-tuned model learned translation from its training data; "
                          "I only know what ships with the course.", "translate-unknown", meta)
        english, translations = entry
        if code not in translations:
            return Answer(f"I don't know “{english}” in {language}: my phrasebook has no {language} entry for it.", "translate-unknown", meta)
        meta["phrase"] = english
        return Answer(f"{translations[code]}\n_(“{english}” in {language}.)_", "translate", meta)

    def _no_language(self, language: str) -> Answer:
        known = ", ".join(self.phrasebook.languages.values())
        return Answer(f"I don't know {quote_user_text(clip(language.capitalize(), 30))}, sorry: my phrasebook covers {known}.",
                      "translate-unknown", {"skill": "translate-unknown"})

    # ---- arithmetic -----------------------------------------------------------------------

    _CUE_WORDS = set("""what is s whats calculate compute evaluate solve how much work out can you could please the of answer to
    equals equal result do me tell quick math maths sum product quotient difference give i need know be would""".split())

    def _arithmetic(self, text: str, last: Turn, depth: str) -> Answer | None:
        expression = find_expression(text)
        if expression is None:
            return None
        converted = text.lower()  # with operator words as symbols, to see what is left over
        for pattern, repl in OPERATOR_WORDS:
            converted = re.sub(pattern, repl, converted)
        leftover = [w for w in words(converted.replace(expression, " ")) if w not in self._CUE_WORDS and not w.isdigit()]
        if len(leftover) > 1:
            return None
        shown = expression.replace("**", "^").replace("*", "×").replace("/", "÷").replace("sqrt", "√").replace("cbrt", "∛")
        shown = re.sub(r"\s*([×÷^+\-%])\s*", r" \1 ", shown).replace("( ", "(").strip()
        shown = re.sub(r"\(\s*-\s", "(-", shown)
        try:
            value = format_number(evaluate(expression))
        except ArithmeticError_ as exc:
            return Answer(f"I can't give a number for {shown}, because {exc}.", "arithmetic-error", {"skill": "arithmetic-error"})
        return Answer(f"{shown} = **{value}**", "arithmetic", {"skill": "arithmetic", "value": value})

    # ---- lists ----------------------------------------------------------------------------

    _LIST = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:list|enumerate|name|give me|tell me|what are|which are|outline)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+)?(?P<what>.+?)\s*[?.!]*$", re.I)

    def _list(self, text: str, last: Turn, depth: str) -> Answer | None:
        match = self._LIST.match(text)
        if not match:
            return None
        what = match.group("what")
        if re.search(r"\blanguages?\b", what, re.I) and re.search(r"\b(you|translate|speak|know)\b", what, re.I):
            names = list(self.phrasebook.languages.values())
            return Answer(f"I can translate into {len(names)} languages:\n" + "\n".join(f"{i}. {n}" for i, n in enumerate(names, 1)),
                          "list", {"skill": "list-languages"})
        if not self.index.is_course_question(what) or re.search(r"\bcapital", what, re.I):
            return None
        count = match.group("n")
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

    def _best_list(self, what: str, wanted: int | None) -> tuple[SectionDoc, list[str], str] | None:
        want = set(content_stems(what))
        best, best_score = None, 0.0
        for hit in self.index.search(what)[:6]:
            doc = hit.section
            for intro, items in _lists_of(doc):
                text_stems = set(content_stems(intro + " " + doc.title)) | {s for item in items for s in content_stems(item)}
                score = len(want & text_stems) + 0.3 * hit.score + (1.5 if wanted == len(items) else 0)
                heads = [content_stems(item)[:1] for item in items]
                if all(h and h[0] in want for h in heads):
                    score += 2  # "the phases of …" and every item is "Phase N …"
                if score > best_score:
                    best, best_score = (doc, items, intro), score
        return best if best_score >= 1.5 else None

    # ---- facts ----------------------------------------------------------------------------

    _CAPITAL = re.compile(r"\bcapital(?:\s+city)?\s+(?:of|for|in)\s+(?P<c>[^?!.,;]+)|(?P<c2>[\w .'-]+?)(?:'s|s')\s+capital\b|\b(?P<c3>[\w .'-]+?)\s+capital(?:\s+city)?\s*\??$", re.I)
    _REVERSE = re.compile(r"^(?:is\s+)?(?P<city>[\w .'-]+?)\s+(?:is\s+)?(?:the\s+)?capital\s+of\s+(?:which|what)\s+country|which country(?:'s| has| is)\s+(?:its\s+|the\s+)?capital(?: city)?(?: is)?\s+(?P<city2>[\w .'-]+?)\s*\??$|^(?P<city3>[\w .'-]+?) is the capital of\s*\??$", re.I)
    _LANGUAGE = re.compile(r"\b(?:language|languages)\b.*\b(?:spoken|speak|of|in)\b|\bwhat do (?:they|people) speak\b", re.I)
    _CURRENCY = re.compile(r"\b(currency|money)\b", re.I)
    _OTHER_ATTRIBUTE = re.compile(r"\b(population|how many people|inhabitants|president|prime minister|leader|king|queen|ruler|"
                                  r"area|how big|size|gdp|economy|weather|temperature|climate|time zone|timezone|what time|flag|"
                                  r"anthem|national (?:dish|animal|sport|flower)|founded|independence|religion|"
                                  r"tallest|largest city|biggest city|famous for|mayor|elevation|located|where is)\b", re.I)

    def _facts(self, text: str, last: Turn, depth: str) -> Answer | None:
        reverse = self._REVERSE.search(text)
        if reverse:
            city = strip_end(next(g for g in reverse.groups() if g))
            country = self.facts.by_capital(re.sub(r"^(?:is|the)\s+", "", city, flags=re.I))
            if country:
                return Answer(f"{country.capital} is the capital of {country.name}.", "capital", {"skill": "capital", "country": country.name})
            return Answer(f"I don't know a country whose capital is {quote_user_text(clip(city, 40))}: it isn't in my table of world capitals.",
                          "country-unknown", {"skill": "country-unknown"})
        if re.search(r"\bcapital", text, re.I):
            country = self.facts.find_country_in(text)
            if country is None:
                match = self._CAPITAL.search(text)
                if match:
                    name = strip_end(next(g for g in match.groups() if g))
                    name = re.sub(r"^(?:what(?:'s| is)?|which|where(?:'s| is)?|is|the|tell me)\s+", "", name, flags=re.I)
                    country = self.facts.country(name)
                    if country is None and not self.index.is_course_question(text):
                        return Answer(f"I don't know the capital of “{quote_user_text(clip(name, 40))}”: it isn't a country in my "
                                      "table of world capitals (the names are in English, e.g. *Germany*, *Japan*).",
                                      "country-unknown", {"skill": "country-unknown"})
            if country is not None and not (self._OTHER_ATTRIBUTE.search(text) and not re.search(r"\bcapital (?:city )?(?:of|for)\b", text, re.I)):
                return self._country_answer(country, "capital")
        country = self.facts.find_country_in(text)
        if country is not None:
            if self._LANGUAGE.search(text):
                return self._country_answer(country, "languages")
            if self._CURRENCY.search(text):
                return self._country_answer(country, "currency")
            attribute = self._OTHER_ATTRIBUTE.search(text)
            if attribute and not self.index.is_course_question(text):
                return self._not_in_table(country, attribute.group(1).lower())
        city = self._capital_city_in(text)
        if city is not None and self._OTHER_ATTRIBUTE.search(text):
            return self._not_in_table(city, self._OTHER_ATTRIBUTE.search(text).group(1).lower(), city_name=city.capital)
        return None

    def _capital_city_in(self, text: str) -> Country | None:
        for word in re.findall(r"[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+)*", text):
            found = self.facts.by_capital(word)
            if found:
                return found
        return None

    def _country_answer(self, country: Country, attribute: str) -> Answer:
        meta = {"skill": "capital" if attribute == "capital" else "country-fact", "country": country.name, "attribute": attribute}
        if attribute == "capital":
            note = f" ({country.note})" if country.note else ""
            return Answer(f"The capital of {country.name} is {country.capital}.{note}", "capital", meta)
        if attribute == "languages" and country.languages:
            spoken = " and ".join([", ".join(country.languages[:-1]), country.languages[-1]] if len(country.languages) > 1 else country.languages)
            return Answer(f"The main language{'s' if len(country.languages) > 1 else ''} of {country.name}: {spoken}.", "country-fact", meta)
        if attribute == "currency" and country.currency:
            return Answer(f"The currency of {country.name} is the {country.currency}.", "country-fact", meta)
        return self._not_in_table(country, "currency" if attribute == "currency" else "languages")

    def _not_in_table(self, country: Country, attribute: str, city_name: str | None = None) -> Answer:
        subject = city_name or country.name
        tip = (f"I can tell you that {city_name} is the capital of {country.name}." if city_name
               else f"I can tell you its capital: {country.capital}.")
        return Answer(f"I don't know the {attribute} of {subject}: my knowledge base has world capitals (and languages and "
                      f"currencies for some countries), not that, and I won't guess. {tip}",
                      "country-unknown", {"skill": "country-unknown", "country": country.name, "attribute": "capital"})

    # ---- the course -----------------------------------------------------------------------

    _DEFINITION = re.compile(r"^(?:so\s+)?(?:what(?:'s| is| are| does)|whats|define|definition of|meaning of|what do you mean by|explain|describe|tell me about|who is|what exactly is)\b|\bmean\??$|^[\w\s()-]{1,40}\?$", re.I)

    def _course(self, text: str, last: Turn, depth: str) -> Answer | None:
        if not self.index.is_course_question(text):
            return None
        matched = self.index.match_term(text)
        hits = self.index.search(text)
        term_doc = self.index.section_for(*matched) if matched else None
        docs = ([term_doc] if term_doc else []) + [h.section for h in hits[:3] if h.section is not term_doc]
        scored: list[tuple[float, int, SectionDoc, Unit]] = []
        query = set(content_stems(text))
        if matched:
            query -= set(content_stems(" ".join(matched[0].names)))
        for rank, doc in enumerate(docs):
            for unit in self.index.best_units(text, doc, k=3):
                overlap = len(set(_expand_stems(query)) & set(unit.stems))
                scored.append((overlap, -rank, doc, unit))
        scored.sort(key=lambda x: (-x[0], -x[1]))
        definitional = bool(self._DEFINITION.search(text)) or len(words(text)) <= 4
        if matched and (definitional or not scored or scored[0][0] < 2):
            term, _chapter = matched
            doc = term_doc
            lines = [f"**{term.term}**: {term.definition}"]
            extra = [u for _, _, d, u in scored if d is doc and _novel(u.text, term.definition)][:1]
            lines += [f"From the lesson: {_unit_line(u)}" for u in extra]
            meta = {"skill": "course", "term": term.term, "section": doc.title if doc else term.section,
                    "depth": doc.depth if doc else term.depth, "chapter": _chapter.number}
            return Answer("\n".join(lines), "course", meta, doc.citation if doc else None)
        if not scored or (scored[0][0] < 2 and (not hits or hits[0].score < 2.5)):
            return None
        best_doc = scored[0][2]
        units = [u for _, _, d, u in scored if d is best_doc][:2]
        units.sort(key=lambda u: best_doc.units.index(u))
        lines = [_unit_line(u) for u in units]
        meta = {"skill": "course", "term": matched[0].term if matched else None, "section": best_doc.title,
                "depth": best_doc.depth, "chapter": best_doc.chapter.number, "query": text}
        return Answer("\n".join(lines), "course", meta, best_doc.citation)

    def _topic_doc(self, last: Turn, depth: str | None = None) -> SectionDoc | None:
        meta = last.meta
        for doc in self.index.sections:
            if doc.title == meta.get("section") and doc.chapter.number == meta.get("chapter") and (depth is None or doc.depth == (depth or meta.get("depth"))):
                if depth is None and doc.depth != meta.get("depth"):
                    continue
                return doc
        return None

    def _term_of(self, last: Turn):
        name = last.meta.get("term")
        return next((t for t, _ in self.index.terms if t.term == name), None) if name else None

    def _simpler(self, last: Turn) -> Answer:
        term = self._term_of(last)
        topic = term.term if term else last.meta.get("section", "that")
        shallow = self.index.search(term.term if term else last.meta.get("query", topic), depth="shallow")
        core = (term.simple or _first_clause(term.definition)) if term else None
        if core is None:
            doc = self._topic_doc(last)
            unit = doc.units[0] if doc else None
            core = _first_clause(unit.text) if unit else None
        lines = [f"Put simply: {core}" if core else f"I don't know a simpler way to put {topic} than the lesson does."]
        cite = None
        if shallow and shallow[0].score > 1.5:
            doc = shallow[0].section
            lines.append(f"The lesson's short version, *{doc.title}*, starts: {_unit_line(doc.units[0])}")
            cite = doc.citation
        meta = dict(last.meta, skill="course-simpler")
        return Answer("\n".join(lines), "course-simpler", meta, cite or (self._topic_doc(last).citation if self._topic_doc(last) else None))

    def _example(self, last: Turn) -> Answer:
        term = self._term_of(last)
        topic = term.term if term else last.meta.get("section", "that")
        doc = self._topic_doc(last)
        if term is not None and term.example:
            return Answer(f"An example of {term.term}: {term.example}", "course-example", dict(last.meta, skill="course-example"),
                          doc.citation if doc else None)
        examples = self.index.example_units(doc) if doc else []
        if not examples:
            for hit in self.index.search(topic)[:4]:
                examples = self.index.example_units(hit.section)
                if examples:
                    doc = hit.section
                    break
        meta = dict(last.meta, skill="course-example")
        if not examples or doc is None:
            return Answer(f"I don't know a grounded example of {topic}: the lesson doesn't give one, and I won't make one up.",
                          "course-example", meta)
        lines = [f"An example of {topic}, from the lesson:"] + [f"• {_unit_line(u)}" for u in examples[:3]]
        return Answer("\n".join(lines), "course-example", meta, doc.citation)

    def _more(self, last: Turn) -> Answer:
        doc = self._topic_doc(last)
        term = self._term_of(last)
        if doc is not None and doc.depth == "shallow":
            deeper = self.index.search(term.term if term else doc.title, depth="deep")
            doc = deeper[0].section if deeper else doc
        if doc is None:
            return Answer("I don't know more than I said: that is all the course tells me.", "unknown", {"skill": "unknown"})
        body = "\n".join(f"• {_unit_line(u)}" if u.kind == "item" else _unit_line(u) for u in doc.units)
        meta = dict(last.meta, skill="course-more", section=doc.title, depth=doc.depth)
        return Answer(f"More from *{doc.title}*:\n{body}", "course-more", meta, doc.citation)

    # ---- nothing grounded -----------------------------------------------------------------

    def _unknown(self, text: str) -> Answer:
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


def _lists_of(doc: SectionDoc) -> list[tuple[str, list[str]]]:
    """The lists in a section with the line that introduces each; "Phase 1 - …" paragraphs form one too."""
    out: list[tuple[str, list[str]]] = []
    for units in doc.lists().values():
        first = doc.units.index(units[0])
        intro = doc.units[first - 1].text if first > 0 and doc.units[first - 1].kind == "para" else ""
        out.append((intro, [u.text for u in units]))
    steps = [u.text for u in doc.units if u.kind == "para" and re.match(r"^(phase|step|stage|part)\s*\d+", u.text, re.I)]
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


def _unit_line(unit: Unit) -> str:
    return unit.text.replace("\n", " — ").rstrip()


def _first_clause(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip())[0]
    sentence = re.sub(r"\s*\([^)]*\)", "", sentence)
    sentence = re.split(r";|\s—\s|, which\b|, so that\b", sentence)[0].strip().rstrip(".")
    return sentence + "."


def _novel(text: str, than: str) -> bool:
    a, b = set(content_stems(text)), set(content_stems(than))
    return bool(a) and len(a & b) / len(a) < 0.6


def _expand_stems(stems: set[str]) -> list[str]:
    return expand(list(stems))

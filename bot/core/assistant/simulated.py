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
from .retrieval import EXPANSIONS, Citation, CourseIndex, SectionDoc, Unit, expand
from .summarise import key_sentences
from .text import (
    STOPWORDS,
    clip,
    content_stems,
    normalise,
    sentences,
    stem,
    strip_end,
    words,
)

MAX_ANSWER = 1800
#: How much a lesson passage must share with a question (rarity-weighted) to answer it.
MIN_COURSE_SCORE = 2.0
#: …and how much of the question it must speak to.
MIN_COVERAGE = 0.5  # well inside Discord's 2,000 and Slack's 3,000 per section

#: Languages people ask for that the phrasebook does not have: answered honestly.
OTHER_LANGUAGES = set("""chinese mandarin cantonese russian arabic korean hindi bengali urdu swahili greek polish turkish
swedish norwegian danish finnish latin hebrew persian farsi thai vietnamese indonesian malay czech hungarian romanian
ukrainian irish welsh catalan esperanto klingon tagalog zulu""".split())
#: Words that say where to look, not what about.
GENERIC_COURSE_WORDS = frozenset(content_stems("lesson chapter course section mean means meaning explain explained say says "
                                               "talk talks suggest suggests recommend define definition describe tell work works"))
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
        text = polite_strip(normalise(message))
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
    _WHERE = re.compile(r"\bwhere\b.*\b(lesson|chapter|course|read|find|explained|covered|discussed|come from|say)\b|\b(which|what) (section|part|page)\b|\bsource\b", re.I)
    _REFERS = re.compile(r"\b(that|it|this|those|them|the last one|your answer)\b", re.I)

    def _followup(self, text: str, last: Turn) -> Answer | None:
        short = len(words(text)) <= 9
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
            if last.skill in ("course", "course-simpler", "course-example", "course-more", "list"):
                if self.index.match_term(target):
                    return self._course(target, last, "shallow")
        if last.skill == "arithmetic" and short and self._REFERS.search(text + " ") or (
                last.skill == "arithmetic" and re.match(r"^(?:now\s+|and\s+|then\s+)?(?:double|triple|halve|half|square|cube|plus|minus|times|divided|multiply|divide|add|subtract)\b", text, re.I)):
            found = self._arithmetic_on(text, last.meta.get("raw", ""))
            if found is not None:
                return found
        if last.skill in ("course", "course-simpler", "course-example", "course-more", "list") and short:
            if self._WHERE.search(text):
                doc = self._topic_doc(last)
                if doc is not None:
                    return Answer(f"That is in Chapter {doc.chapter.number}, section *{doc.title}* ({doc.depth} depth): "
                                  f"`/lesson {doc.chapter.number} {doc.depth}` takes you there, or press the button.",
                                  "course-where", dict(last.meta, skill="course-where"), doc.citation)
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

    _GREETING = re.compile(r"^(?:hi|hello|hey|hiya|howdy|hallo|hola|bonjour|ciao|greetings|yo|what'?s up|sup|wass?up|good (?:morning|afternoon|evening|day))\b[\s,!.]*(?:there|again|everyone|all|companion|bot|assistant|friend)?[\s!.]*(?::\)|🙂|👋)?$", re.I)
    _THANKS = re.compile(r"^(?:ok(?:ay)?[, ]+)?(?:thanks?|thank you|thx|ty|cheers|much appreciated|great,? thanks|awesome|perfect|nice|cool)\b.{0,30}$", re.I)
    _BYE = re.compile(r"^(?:(?:ok(?:ay)?|well|right|alright|thanks?)[,!. ]+)?(?:bye|bye-bye|goodbye|good night|see (?:you|ya)|cya|later|farewell|i'?m off|gotta go)\b.{0,20}$", re.I)
    _HOW_ARE_YOU = re.compile(r"\bhow are (?:you|u)\b|\bhow'?s it going\b|\bhow do you do\b", re.I)
    _IDENTITY = re.compile(r"\b(?:who|what)\b(?:\s+\w+){0,2}\s+(?:are|r) (?:you|u)\b|\b(?:is this|is it|are you|am i (?:talking|chatting|speaking) (?:to|with))\s+(?:really\s+)?(?:a |an |the )?(?:real|actual|genuine|true|human|person|bot|robot|ai|chatgpt|gpt|language model|model|llm|machine|computer)\b|\bwhat(?:'s| is) your name\b|\bare you (?:a |an |the )?(?:bot|robot|human|real|ai|chatgpt|gpt|person|model|llm|machine|language model)\b|\bintroduce yourself\b|\btell me about yourself\b|\bwho (?:made|built|created) you\b|\bhow do you work\b", re.I)
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

    _INSTRUCTION_END = re.compile(r"^(?P<how>[^.?!\n]{3,140}?[.?!])\s+(?P<body>\S.+)$", re.S)

    def _payload(self, text: str) -> tuple[str, str] | None:
        """Split "instruction: text" (or "instruction? text", or an instruction with the text in quotes)."""
        match = self._PAYLOAD.match(text)
        if match and len(match.group("body").strip()) >= 2:
            return match.group("how"), match.group("body").strip()
        match = self._QUOTED.match(text)
        if match:
            return match.group("how") + " " + match.group("tail"), match.group("body").strip()
        match = self._INSTRUCTION_END.match(text)
        if match and len(words(match.group("body"))) >= 6:
            return match.group("how"), match.group("body").strip()
        return None

    def _rewrite(self, text: str, last: Turn, depth: str) -> Answer | None:
        if not self._REWRITE_VERB.match(text):
            return None
        payload = self._payload(text)
        instruction, body = payload if payload else (text, "")
        if self._SUMMARY_VERB.search(instruction):
            return None
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
        payload = self._payload(text)
        head = payload[0] if payload else text
        if not self._SUMMARY_VERB.search(head):
            return None
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
        re.compile(r"\btranslate\s+(?:(?:the )?(?:word|phrase|sentence|expression)\s+)?(?P<p>.+?)\s+(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+(?: portuguese)?)\s*[?.!]*$", re.I),
        re.compile(r"\btranslate\s+(?:this\s+|it\s+)?(?:in|into|to)\s+(?P<l>[a-zà-ÿ]+)\s*[:,-]?\s*(?P<p>.+?)[?.!]*$", re.I),
        re.compile(r"\b(?:what(?:'s| is)|whats|give me|tell me)\s+(?:the\s+)?(?P<l>[a-zà-ÿ]+)\s+for\s+(?P<p>.+?)\s*[?.!]*$", re.I),
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
        if find_expression(text) is None:
            return None
        parts = sentences(text)
        if len(parts) > 1:  # "I'm aiming high. What is 45 * 2 + 1?": the sentence with the sum
            text = next((p for p in reversed(parts) if find_expression(p)), text)
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
        return Answer(f"{shown} = **{value}**", "arithmetic", {"skill": "arithmetic", "value": value, "raw": raw_number(evaluate(expression))})

    _ON_VALUE = [(r"\b(?:double)\b(?:\s+(?:that|it|this|the result|the answer))?", "{v} * 2"), (r"\btriple\b(?:\s+(?:that|it|this))?", "{v} * 3"),
                 (r"\b(?:halve|half of|half)\b(?:\s+(?:that|it|this))?", "{v} / 2"), (r"\bsquare (?:that|it|this)\b|\b(?:that|it) squared\b", "{v} ** 2"),
                 (r"\bcube (?:that|it|this)\b", "{v} ** 3"), (r"\b(?:that|it|this|the result|the answer)\b", "{v}")]

    def _arithmetic_on(self, text: str, raw: str) -> Answer | None:
        """A calculation on the previous result: "double that", "and minus 4", "divide it by 3"."""
        if not raw:
            return None
        value = f"({raw})"
        rewritten = text
        for pattern, template in self._ON_VALUE:
            new = re.sub(pattern, template.format(v=value), rewritten, count=1, flags=re.I)
            if new != rewritten:
                rewritten = new
                break
        else:
            rewritten = f"{value} {text}"  # "plus 5", "times 3"
        rewritten = re.sub(r"^(?:now|and|then)\s+", "", rewritten, flags=re.I)
        rewritten = re.sub(r"\b(?:multiply|divide)\s+(\([^)]*\))\s+by\b", lambda m: m.group(1) + (" * " if "multiply" in m.group(0).lower() else " / "), rewritten, flags=re.I)
        rewritten = re.sub(r"\badd\s+(\d+(?:\.\d+)?)\s+to\s+(\([^)]*\))", r"\2 + \1", rewritten, flags=re.I)
        rewritten = re.sub(r"\bsubtract\s+(\d+(?:\.\d+)?)\s+from\s+(\([^)]*\))", r"\2 - \1", rewritten, flags=re.I)
        return self._arithmetic(rewritten, Turn(), "shallow")

    # ---- lists ----------------------------------------------------------------------------

    _LIST = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:list|enumerate|name|give me|tell me|what are|which are|outline)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+)?(?P<what>.+?)\s*[?.!]*$", re.I)

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
        count = match.group("n") if match else None
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
        stems = content_stems(what)
        want = set(stems)
        head = set(expand(stems[:1]))  # the thing to list: "steps", "phases", "resources"
        best, best_score = None, 0.0
        for hit in self.index.search(what)[:6]:
            doc = hit.section
            for intro, items in _lists_of(doc):
                intro_stems = set(content_stems(intro)) | set(content_stems(doc.title))
                item_stems = {s for item in items for s in content_stems(item)}
                score = 2 * len(want & intro_stems) + len(want & item_stems - intro_stems) + 0.3 * hit.score
                score += 1.5 if wanted == len(items) else 0
                heads = [content_stems(item)[:1] for item in items]
                if all(h and h[0] in head for h in heads):
                    score += 2  # "the phases of …" and every item is "Phase N …"
                if score > best_score:
                    best, best_score = (doc, items, intro), score
        return best if best_score >= 1.5 else None

    # ---- facts ----------------------------------------------------------------------------

    _CAPITAL = re.compile(r"\bcapital(?:\s+city)?\s+(?:of|for|in)\s+(?P<c>[^?!.,;]+)|(?P<c2>[\w .'-]+?)(?:'s|s')\s+capital\b|\b(?P<c3>[\w .'-]+?)\s+capital(?:\s+city)?\s*\??$", re.I)
    _REVERSE = re.compile(r"^(?:is\s+)?(?P<city>[\w .'-]+?)\s+(?:is\s+)?(?:the\s+)?capital\s+of\s+(?:which|what)\s+country|which country(?:'s| has| is)\s+(?:its\s+|the\s+)?capital(?: city)?(?: is)?\s+(?P<city2>[\w .'-]+?)\s*\??$|^(?P<city3>[\w .'-]+?) is the capital of\s*\??$", re.I)
    _LANGUAGE = re.compile(r"\b(?:language|languages)\b.*\b(?:spoken|speak|of|in|there)\b|\b(?:they|people|you|we|i) speak\b", re.I)
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
                return Answer(f"{country.capital} is the capital of {country.the_name}.", "capital", {"skill": "capital", "country": country.name})
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
        if country is None and last.meta.get("country") and re.search(r"\b(there|its|it|they|their|that country|this country|the country)\b", text, re.I):
            country = self.facts.country(last.meta["country"])
            if country is not None and not (self._LANGUAGE.search(text) or self._CURRENCY.search(text) or self._OTHER_ATTRIBUTE.search(text)
                                            or re.search(r"\bcapital\b", text, re.I)):
                country = None
            if country is not None and re.search(r"\bcapital\b", text, re.I):
                return self._country_answer(country, "capital")
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
            return Answer(f"The capital of {country.the_name} is {country.capital}.{note}", "capital", meta)
        if attribute == "languages" and country.languages:
            spoken = " and ".join([", ".join(country.languages[:-1]), country.languages[-1]] if len(country.languages) > 1 else country.languages)
            return Answer(f"The main language{'s' if len(country.languages) > 1 else ''} of {country.the_name}: {spoken}.", "country-fact", meta)
        if attribute == "currency" and country.currency:
            return Answer(f"The currency of {country.the_name} is the {country.currency}.", "country-fact", meta)
        return self._not_in_table(country, "currency" if attribute == "currency" else "languages")

    def _not_in_table(self, country: Country, attribute: str, city_name: str | None = None) -> Answer:
        subject = city_name or country.the_name
        tip = (f"I can tell you that {city_name} is the capital of {country.the_name}." if city_name
               else f"I can tell you its capital: {country.capital}.")
        return Answer(f"I don't know the {attribute} of {subject}: my knowledge base has world capitals (and languages and "
                      f"currencies for some countries), not that, and I won't guess. {tip}",
                      "country-unknown", {"skill": "country-unknown", "country": country.name, "attribute": "capital"})

    # ---- the course -----------------------------------------------------------------------

    _HOW_WHY = re.compile(r"^\s*(?:so\s+)?(?:why|how|which|where|when|in what way)\b", re.I)
    _DEFINITION = re.compile(r"^(?:so\s+)?(?:what(?:'s| is| are| does)|whats|define|definition of|meaning of|what do you mean by|explain|describe|tell me about|who is|what exactly is)\b|\bmean\??$|^[\w\s()-]{1,40}\?$", re.I)

    def _course(self, text: str, last: Turn, depth: str) -> Answer | None:
        if not self.index.is_course_question(text):
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
        if self._coverage(asked, doc, self._passage_units(doc, unit)) < MIN_COVERAGE:
            return self._not_said(text, matched, stems) if matched else None  # it shares a word, not the question
        lines = self._passage(doc, unit)
        runner_up = next((u for sc, d, u in ranked[1:4] if d is doc and sc >= 0.6 * score and _unit_line(u) not in "\n".join(lines)), None)
        if runner_up is not None and unit.kind != "item":
            lines.append(_unit_line(runner_up))
        meta = {"skill": "course", "term": matched[0].term if matched else None, "section": doc.title,
                "depth": doc.depth, "chapter": doc.chapter.number, "query": text}
        return Answer("\n".join(lines), "course", meta, doc.citation)

    def _coverage(self, asked: set[str], doc: SectionDoc, units: list[Unit]) -> float:
        """How much of what was asked (rarity-weighted; words the course never uses weigh most) a passage speaks to."""
        have = {s for u in units for s in u.stems} | set(content_stems(doc.title))
        unseen = 1.25 * self.index.max_idf
        total = covered = 0.0
        for stem_ in asked:
            weight = self.index.idf(stem_) or unseen
            total += weight
            if stem_ in have or any(e in have for e in EXPANSIONS.get(stem_, ())):
                covered += weight
        return covered / total if total else 0.0

    _FACT_QUESTION = re.compile(r"^\s*(?:who|whom|whose|when|where|in what year|what year|how (?:many|much|long|old))\b", re.I)

    def _not_said(self, text: str, matched, stems: set[str]) -> Answer:
        """A question about a known term that the lesson does not answer: what it does say, honestly framed."""
        answer = self._definition(*matched, stems)
        if self._FACT_QUESTION.match(text):
            answer.text = (f"I don't know: the lesson doesn't say that about {matched[0].term}, and I won't guess. "
                           f"What it does say:\n{answer.text}")
        return answer

    def _definition(self, term, chapter, stems: set[str]) -> Answer:
        doc = self.index.section_for(term, chapter)
        lines = [f"**{term.term}**: {term.definition}"]
        if doc is not None:
            extra = [u for u in self.index.best_units(" ".join(stems), doc, k=2) if _novel(u.text, term.definition)][:1]
            lines += [f"From the lesson: {_unit_line(u)}" for u in extra]
        meta = {"skill": "course", "term": term.term, "section": doc.title if doc else term.section,
                "depth": doc.depth if doc else term.depth, "chapter": chapter.number}
        return Answer("\n".join(lines), "course", meta, doc.citation if doc else None)

    @staticmethod
    def _passage_units(doc: SectionDoc, unit: Unit) -> list[Unit]:
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
            return [unit] + lists[following.list_id][:8]
        return [unit]

    def _passage(self, doc: SectionDoc, unit: Unit) -> list[str]:
        return [f"• {_unit_line(u)}" if u.kind == "item" else _unit_line(u) for u in self._passage_units(doc, unit)]

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

    _CREATIVE = re.compile(r"^(?:write|compose|draw|sing|paint|invent|make up|generate|create)\b(?P<what>.{0,60})|^tell me (?P<what2>a (?:joke|story|poem|riddle)|something funny)", re.I)

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


_POLITE_START = re.compile(r"^(?:(?:(?:hey|hi|hello)[,!]+(?=\s+\S+\s+\S+)|ok(?:ay)?|so|um+|please|kindly|can you|could you|would you|will you|"
                           r"can u|could u|i'?d like you to|i want you to|i need you to|help me)[\s,]+)+", re.I)
_POLITE_END = re.compile(r"[\s,]+(?:please|pls|thanks|thank you|for me)(?=[\s?.!]*$)", re.I)


def polite_strip(text: str) -> str:
    """Without the courtesy around an instruction: "Could you please translate X, thanks?" → "translate X?"."""
    stripped = _POLITE_END.sub("", _POLITE_START.sub("", text)).strip()
    return stripped if len(stripped) >= 2 else text


def raw_number(value) -> str:
    """A result as an expression the calculator reads back (for "double that")."""
    from fractions import Fraction

    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return repr(float(value))


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

"""Skills on text the student gives: rewrite it, summarise it, calculate with it.

A mixin of `SimulatedAssistant`: each skill returns an `Answer`, or None when the message is not
an instruction it carries out.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..replies import quote_user_text
from . import rewrite as rewriting
from .arithmetic import (
    OPERATOR_WORDS,
    ArithmeticError_,
    evaluate,
    find_expression,
    format_number,
    numbers_to_digits,
)
from .skills_base import SkillBase
from .skills_sections import is_completion
from .summarise import key_sentences
from .text import clip, sentences, words
from .turns import REFERS, Answer, Turn

DEEP_WORDS = re.compile(r"\b(deep|deeper|detailed|in depth|in-depth|in detail|long|full|thorough|advanced|technical)\b", re.I)
SHALLOW_WORDS = re.compile(r"\b(shallow|short|brief|quick|simple|one[- ]line|tl;?dr)\b", re.I)


class TextSkills(SkillBase):
    # ---- rewriting and summarising -------------------------------------------------------------

    _PAYLOAD = re.compile(r"^(?P<how>[^:\n]{1,120}?)\s*(?::|\n)\s*(?P<body>.+)$", re.S)
    _QUOTED = re.compile(r"^(?P<how>.*?)[\"“](?P<body>[^\"”]{2,})[\"”](?P<tail>.*)$", re.S)
    _REWRITE_VERB = re.compile(r"^(?:please\s+|can you\s+|could you\s+)?(?:rewrite|re-write|reformat|format|turn|convert|make|put|change|transform|shorten|condense|trim|capitali[sz]e|uppercase|upper-case|lowercase|lower-case|write)\b", re.I)
    _SUMMARY_VERB = re.compile(r"\b(summari[sz]e|summary|sum up|sum it up|tl;?dr|recap|overview|key (?:points|takeaways)|main points|gist)\b", re.I)
    _WHOLE_COURSE = re.compile(r"\b(?:whole|entire|full|all the|this|the) course\b|\bcourse (?:as a whole|overall)\b|\b(?:whole|entire|full|llm) pipeline\b|\bpipeline recap\b", re.I)
    _ASKS_IN_IT = re.compile(r"\b(?:which|who|when|where|how (?:many|much))\b", re.I)
    _ONE_CHAPTER = re.compile(r"\b(?<!which )(?<!what )(?:chapter|lesson|ch\.? ?\d+|this unit|module)\b", re.I)
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
        if not body and REFERS.search(instruction) and last.text:
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
        if not self._SUMMARY_VERB.search(head) or (not payload and re.search(r"\bexamples?\b", text, re.I)):
            return None  # "the summarize-a-paragraph example" asks for the lesson's example, not a summary
        if not payload and self._ASKS_IN_IT.search(text):
            return None  # "in the pipeline recap, which chapter was pretraining?": a question about the recap, not a request for one
        if payload and len(payload[1]) > 40:
            return self._summary_of(payload[1])
        if not payload and not self._CHAPTER.search(text):
            named = self._summary_of_concept(text)  # "summarise the alignment tax": its section, not the chapter
            if named is not None:
                return named
        if not payload and self._WHOLE_COURSE.search(text) and not self._ONE_CHAPTER.search(text):
            recap = self._section_answer(text, depth)  # "the recap of the whole course": the completion section, not chapter 7's
            if recap is not None and recap.citation is not None and is_completion(recap.meta.get("section") or "", self.course.chapters[-1].completion_section):
                return recap
        if self._CHAPTER.search(text) or (not payload and re.search(r"\b(rlhf|instruction tuning|fine-?tuning)\b", text, re.I)):
            number = re.search(r"\b(?:chapter|ch\.?)\s*(\d+)", text, re.I)
            chosen = "deep" if DEEP_WORDS.search(text) else "shallow" if SHALLOW_WORDS.search(text) else depth
            return self._chapter_summary(int(number.group(1)) if number else None, chosen)
        if REFERS.search(text) and last.text:
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

    # ---- arithmetic -----------------------------------------------------------------------

    _CUE_WORDS = frozenset({"what", "is", "s", "whats", "calculate", "compute", "evaluate", "solve", "how", "much", "work", "out", "can", "you", "could",
                              "please", "the", "of", "answer", "to", "equals", "equal", "result", "do", "me", "tell", "quick", "math", "maths", "sum",
                              "product", "quotient", "difference", "give", "i", "need", "know", "be", "would", "happens", "happen", "if", "get", "gets",
                              "does", "come", "comes", "by", "and", "from"})

    def _arithmetic(self, text: str, last: Turn, depth: str) -> Answer | None:
        if find_expression(text) is None:
            return None
        parts = sentences(text)
        if len(parts) > 1:  # "I'm aiming high. What is 45 * 2 + 1?": the sentence with the sum
            text = next((p for p in reversed(parts) if find_expression(p)), text)
        expression = find_expression(text)
        if expression is None:
            return None
        converted = numbers_to_digits(text.lower())  # with operator words as symbols, to see what is left over
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

    _ON_VALUE = ((r"\b(?:double)\b(?:\s+(?:that|it|this|the result|the answer))?", "{v} * 2"), (r"\btriple\b(?:\s+(?:that|it|this))?", "{v} * 3"),
                 (r"\b(?:halve|half of|half)\b(?:\s+(?:that|it|this))?", "{v} / 2"), (r"\bsquare (?:that|it|this)\b|\b(?:that|it) squared\b", "{v} ** 2"),
                 (r"\bcube (?:that|it|this)\b", "{v} ** 3"), (r"\b(?:that|it|this|the result|the answer)\b", "{v}"))

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


def raw_number(value: Fraction | float) -> str:
    """A result as an expression the calculator reads back (for "double that")."""
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return repr(float(value))

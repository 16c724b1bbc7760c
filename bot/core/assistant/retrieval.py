"""Retrieval over the course: lesson sections and glossary terms, each answer with its source.

The lesson is parsed with markdown-it into units (paragraphs and list items) under their
section heading, at each depth. Sections are ranked with BM25 over Snowball stems; a
glossary term named in the question wins outright. A question reaches the course only if it
uses the course's vocabulary (glossary names and a short list of the field's words), so
"What is the population of Paris?" is not answered from a lesson that happens to mention Paris.
BM25 is twenty lines here; the packaged implementations pull in numpy for a corpus this small.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .. import actions
from ..content import Chapter, Course
from ..glossary import GlossaryTerm
from ..lessons import heading_key
from .text import content_stems, stem, words

#: Words of the field that make a question a course question even without a glossary term.
DOMAIN_WORDS = ["model", "models", "llm", "llms", "gpt", "chatgpt", "transformer", "transformers", "attention", "token", "tokens", "tokenization",
                "tokenizer", "embedding", "embeddings", "pretraining", "pretrain", "pretrained", "training", "train", "trained", "fine-tuning",
                "finetuning", "fine-tune", "finetune", "tuning", "tuned", "instruction", "instructions", "dataset", "datasets", "data", "annotator",
                "annotators", "label", "labels", "labelled", "reward", "rewards", "ppo", "rlhf", "sft", "kl", "divergence", "penalty", "alignment",
                "aligned", "align", "helpful", "helpfulness", "harmless", "harmlessness", "honest", "honesty", "hallucinate", "hallucination",
                "hallucinating", "preference", "preferences", "human", "feedback", "reinforcement", "supervised", "distillation", "distil",
                "parameters", "params", "weights", "loss", "gradient", "base", "assistant", "chat", "chatbot", "completion", "complete", "completer",
                "autocomplete", "prompt", "prompts", "response", "responses", "pair", "pairs", "alpaca", "dolly", "pile", "eleutherai", "hugging",
                "face", "pytorch", "jax", "paper", "papers", "chapter", "course", "lesson", "tax", "phase", "phases", "rank", "ranking", "ranked",
                "policy", "optimization", "optimisation", "proximal", "drift", "capability"]
DOMAIN_STEMS = frozenset(stem(w) for w in DOMAIN_WORDS)
#: Question words that only ask "how much": mapped to the stems that answer them in text.
EXPANSIONS = {"big": ("size", "typic"), "large": ("size", "typic"), "mani": ("size", "typic"), "much": ("size",), "larg": ("size",),
              "size": ("typic",), "purpos": ("prevent",),
              "step": ("phase",), "stage": ("phase",), "phase": ("step",), "valu": ("help", "harmless", "honesti"),
              "goal": ("align",), "cost": ("tax", "trade"), "downsid": ("tax", "trade", "reduc"),
              "gather": ("collect",), "get": ("collect",), "sourc": ("collect",), "next": ("what",)}


@dataclass(frozen=True)
class Citation:
    chapter: int
    chapter_title: str
    section: str
    depth: actions.Depth
    line: int

    def text(self) -> str:
        return f"📖 Source: Chapter {self.chapter} ({self.chapter_title}) › *{self.section}*, {self.depth} depth"

    @property
    def action(self) -> str:
        return actions.LessonNear(self.chapter, self.depth, self.line).format()


@dataclass
class Unit:
    """A paragraph or list item of the lesson, under its section, at one depth."""

    text: str
    kind: str  # "para" | "item"
    list_id: int | None
    stems: list[str]


@dataclass
class SectionDoc:
    chapter: Chapter
    depth: actions.Depth
    title: str
    line: int
    units: list[Unit] = field(default_factory=list)
    stems: Counter = field(default_factory=Counter)
    callouts: list[Unit] = field(default_factory=list)  # the web page's panel callouts ("Try the Chat →"), for questions about them

    @property
    def citation(self) -> Citation:
        return Citation(self.chapter.number, self.chapter.title, self.title, self.depth, self.line)

    def lists(self) -> dict[int, list[Unit]]:
        out: dict[int, list[Unit]] = {}
        for unit in self.units:
            if unit.list_id is not None:
                out.setdefault(unit.list_id, []).append(unit)
        return out


@dataclass(frozen=True)
class Hit:
    score: float
    section: SectionDoc


_MD = MarkdownIt("commonmark")


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return re.sub(r"[ \t]+", " ", "".join(parts)).strip()


def parse_sections(chapter: Chapter, depth: actions.Depth) -> list[SectionDoc]:
    """The lesson at one depth as sections of units (callouts about the web page's panels skipped)."""
    lesson = chapter.lesson
    top = next((s for s in lesson.sections[depth] if s.level == 1), None)
    text = top.text if top else "\n\n".join(s.text for s in lesson.sections[depth] if s.level == 2)
    docs: list[SectionDoc] = []
    current: SectionDoc | None = None
    quote = 0
    list_stack: list[int] = []
    next_list = 0
    pending_heading = False
    tokens = _MD.parse(text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            pending_heading = True
        elif tok.type == "inline" and pending_heading:
            pending_heading = False
            title = _inline_text(tok)
            section = lesson.section(title, depth)
            current = SectionDoc(chapter, depth, section.title if section else title, section.line if section else 1)
            docs.append(current)
        elif tok.type == "blockquote_open":
            quote += 1
        elif tok.type == "blockquote_close":
            quote -= 1
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            next_list += 1
            list_stack.append(next_list)
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif tok.type == "inline" and current is not None and quote:
            body = _inline_text(tok)
            if body:
                current.callouts.append(Unit(body, "para", None, content_stems(body)))
        elif tok.type == "inline" and current is not None and not quote:
            body = _inline_text(tok)
            if not body:
                continue
            in_item = bool(list_stack) and i >= 2 and tokens[i - 2].type == "list_item_open"
            unit = Unit(body, "item" if in_item else "para", list_stack[-1] if in_item else None, content_stems(body))
            current.units.append(unit)
    for doc in docs:
        doc.stems = Counter(content_stems(doc.title) * 2 + [s for u in doc.units for s in u.stems])
    return [d for d in docs if d.units]


class CourseIndex:
    """Every chapter's sections at both depths, and the glossaries, ready to search."""

    def __init__(self, course: Course):
        self.course = course
        self.sections: list[SectionDoc] = []
        self.terms: list[tuple[GlossaryTerm, Chapter]] = []
        for chapter in course.chapters:
            for depth in actions.DEPTHS:
                self.sections += parse_sections(chapter, depth)
            self.terms += [(t, chapter) for t in chapter.glossary]
        self._df: Counter = Counter()
        for doc in self.sections:
            self._df.update(set(doc.stems))
        self._avg = sum(sum(d.stems.values()) for d in self.sections) / max(len(self.sections), 1)
        self.vocabulary = set(DOMAIN_STEMS)
        for chapter in course.chapters:  # what the lesson names in bold ("**Key Resources**") is the course's vocabulary too
            for depth_sections in chapter.lesson.sections.values():
                for section in depth_sections:
                    for label in re.findall(r"\*\*([^*\n]{3,60})\*\*", section.text):
                        self.vocabulary.update(s for s in content_stems(label) if len(s) >= 4)
        for term, _ in self.terms:
            for name in term.names:
                self.vocabulary.update(content_stems(name))
        self._names = sorted(((tuple(words(name)), term, chapter) for term, chapter in self.terms for name in term.names),
                             key=lambda n: (-len(n[0]), -len(" ".join(n[0]))))
        self.units = [(doc, unit) for doc in self.sections for unit in doc.units]
        unit_df: Counter = Counter()
        for doc, unit in self.units:
            unit_df.update(set(unit.stems) | set(content_stems(doc.title)))
        self._unit_idf = {s: math.log(1 + len(self.units) / c) for s, c in unit_df.items()}
        self.max_idf = max(self._unit_idf.values(), default=1.0)
        self._titles = {id(doc): set(content_stems(doc.title)) for doc in self.sections}

    # ---- looking things up ------------------------------------------------------------------

    def is_course_question(self, query: str) -> bool:
        return self.match_term(query) is not None or any(s in self.vocabulary for s in content_stems(query))

    def match_term(self, query: str) -> tuple[GlossaryTerm, Chapter] | None:
        """The glossary term the query names (longest name first, whole words only)."""
        found = words(query)
        joined = " " + " ".join(found) + " "
        for name, term, chapter in self._names:
            if name and " " + " ".join(name) + " " in joined:
                return term, chapter
            if len(name) == 1 and len(name[0]) > 3 and name[0].endswith("s") is False and " " + name[0] + "s " in joined:
                return term, chapter
        return None

    def section_for(self, term: GlossaryTerm, chapter: Chapter) -> SectionDoc | None:
        want = heading_key(term.section)
        return next((d for d in self.sections if d.chapter is chapter and d.depth == term.depth and heading_key(d.title) == want), None)

    def search(self, query: str, depth: str | None = None, chapter: int | None = None) -> list[Hit]:
        stems = expand(content_stems(query))
        n = len(self.sections)
        hits = []
        for doc in self.sections:
            if (depth and doc.depth != depth) or (chapter and doc.chapter.number != chapter):
                continue
            length = sum(doc.stems.values())
            score = 0.0
            for s in set(stems):
                tf = doc.stems.get(s, 0)
                if not tf:
                    continue
                idf = math.log(1 + (n - self._df[s] + 0.5) / (self._df[s] + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / self._avg))
            if score > 0:
                hits.append(Hit(score, doc))
        hits.sort(key=lambda h: (-h.score, h.section.depth != "deep"))
        return hits

    def rank_units(self, stems: set[str]) -> list[tuple[float, SectionDoc, Unit]]:
        """Every unit scored by the rarity-weighted words it shares with the query (its heading counts half)."""
        out = []
        for doc, unit in self.units:
            own = stems & set(unit.stems)
            title = (stems & self._titles[id(doc)]) - own
            score = sum(self._unit_idf.get(s, 0) for s in own) + 0.5 * sum(self._unit_idf.get(s, 0) for s in title)
            if score > 0:
                out.append((score + (0.01 if doc.depth == "deep" else 0), doc, unit))
        out.sort(key=lambda x: -x[0])
        return out

    def idf(self, stem_: str) -> float:
        return self._unit_idf.get(stem_, 0.0)

    def passages(self, query: str, k: int = 3) -> list[SectionDoc]:
        """The sections that best ground an answer: the named term's section first, then the top hits."""
        matched = self.match_term(query)
        first = self.section_for(*matched) if matched else None
        rest = [h.section for h in self.search(query) if h.section is not first]
        return ([first] if first else []) + rest[: k - (1 if first else 0)]

    def best_units(self, query: str, doc: SectionDoc, k: int = 2) -> list[Unit]:
        """The units of a section that share the most with the query, in lesson order."""
        want = set(expand(content_stems(query)))
        scored = [(len(want & set(u.stems)) + 0.01 * len(u.stems) ** 0.5, i) for i, u in enumerate(doc.units)]
        scored = [x for x in scored if x[0] >= 1]
        chosen = sorted(i for _, i in sorted(scored, reverse=True)[:k])
        return [doc.units[i] for i in chosen]

    def example_units(self, doc: SectionDoc) -> list[Unit]:
        """Units of a section that show an example: quotes, `e.g.`, Input/Target pairs, rankings."""
        cues = re.compile(r"(e\.g\.|for example|such as|\"[^\"]*\s[^\"]*\"|input:|target:|>\s*response|\buser\b:)", re.I)
        return [u for u in doc.units if cues.search(u.text)]


def expand(stems: list[str]) -> list[str]:
    """The stems plus the words that answer them ("big" → "size")."""
    out = list(stems)
    for s in stems:
        out += EXPANSIONS.get(s, ())
    return out

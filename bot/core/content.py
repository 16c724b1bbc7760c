"""Loading and checking the course in `content/`: course.yaml, and per chapter lesson.md, quiz.yaml and an optional glossary.yaml.

Every problem is reported as `file:line: what is wrong`, all of them at once, so an
instructor fixes a tree in one pass. Text damaged by a wrong decoding (UTF-8 read as
cp1252: `â†’` for `→`) is repaired with ftfy and reported as a warning at its line, because
instructors paste from the same tools that damaged the course site's page.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ftfy

from .faq import FaqEntry, check_faq
from .glossary import GlossaryTerm, check_glossary
from .inputs import is_ascii_number
from .outline import OutlineChapter, check_outline
from .lessons import PANEL_ACTIONS, Lesson, Problem, build_lesson, heading_key
from .questions import DEFAULT_THRESHOLD, QUESTION_DEPTHS, QUESTION_TYPES, Question, normalise
from .yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_CHOICES = 8
MAX_CHOICE_LABEL = 75  # a choice becomes a button label (Slack's limit is 75)
MAX_PROMPT = 1000

_COMMON = {"id", "type", "depth", "prompt", "explanation", "hint"}
_FIELDS = {
    "single": _COMMON | {"choices", "answer"},
    "multiple": _COMMON | {"choices", "answers"},
    "true_false": _COMMON | {"answer"},
    "short": _COMMON | {"accept", "reject", "threshold"},
    "ordering": _COMMON | {"items"},
}


@dataclass
class Chapter:
    number: int
    title: str
    folder: str
    lesson: Lesson
    questions: list[Question]
    completion_section: str | None = None
    glossary: list[GlossaryTerm] = field(default_factory=list)
    faq: list[FaqEntry] = field(default_factory=list)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass
class Course:
    title: str
    chapters: list[Chapter]
    root: Path
    warnings: list[Problem] = field(default_factory=list)
    outline: list[OutlineChapter] = field(default_factory=list)  # the course's other chapters (see outline.py)

    def chapter(self, number: int) -> Chapter | None:
        return next((c for c in self.chapters if c.number == number), None)

    def question(self, key: str) -> Question | None:
        """A question by its course-wide key, `chapter:id`."""
        number, _, qid = key.partition(":")
        chapter = self.chapter(int(number)) if is_ascii_number(number) else None
        return chapter.question(qid) if chapter else None


class ContentError(Exception):
    """The content has errors; `problems` lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _read(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """Read a UTF-8 file, repairing mojibake line by line and warning where it did."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, "not valid UTF-8: save the file as UTF-8"))
        return None
    lines = raw.split("\n")
    for n, line in enumerate(lines):
        fixed = ftfy.fix_encoding(line)
        if fixed != line:
            bad = [a for a, b in zip(line.split(), fixed.split()) if a != b]
            problems.append(Problem(shown, n + 1, f"repaired mis-decoded text (mojibake): {' '.join(bad)[:60]!r} → {ftfy.fix_encoding(' '.join(bad))[:60]!r}", "warning"))
            lines[n] = fixed
    return "\n".join(lines)


def _suggest(key: str, allowed: set[str]) -> str:
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _QuizChecker:
    """Builds Question objects from quiz.yaml, collecting every problem it finds."""

    def __init__(self, shown: str, chapter: int, problems: list[Problem]):
        self.shown, self.chapter, self.problems = shown, chapter, problems

    def err(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def text(self, q: LineDict, key: str, required: bool = True) -> str | None:
        value = q.get(key)
        if value is None:
            if required:
                self.err(q.line, f"question {q.get('id', '?')!r} has no {key}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.err(q.line_of(key), f"{key} must be non-empty text")
            return None
        return value.strip()

    def positions(self, q: LineDict, key: str, count: int) -> list[int] | None:
        value = q.get(key)
        values = value if isinstance(value, list) else [value]
        if value is None or (isinstance(value, list) and not value):
            self.err(q.line, f"question {q.get('id', '?')!r} has no {key}")
            return None
        out = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                self.err(q.line_of(key), f"{key} must be the position of a choice (1 to {count}), got {v!r}")
                return None
            if not 1 <= v <= count:
                self.err(q.line_of(key), f"{key} {v} is out of range: there are {count} choices (1 to {count})")
                return None
            out.append(v - 1)
        if len(set(out)) != len(out):
            self.err(q.line_of(key), f"{key} lists the same choice twice")
            return None
        return sorted(out)

    def strings(self, q: LineDict, key: str, low: int, high: int, label_limit: int | None) -> tuple[str, ...] | None:
        value = q.get(key)
        if not isinstance(value, list):
            self.err(q.line_of(key) if key in q else q.line, f"question {q.get('id', '?')!r} needs a list of {key}")
            return None
        if not low <= len(value) <= high:
            self.err(q.line_of(key), f"{key} must have {low} to {high} entries, has {len(value)}")
            return None
        out = []
        for i, v in enumerate(value):
            line = value.line_of(i) if isinstance(value, LineList) else q.line_of(key)
            if not isinstance(v, (str, int, float)) or isinstance(v, bool) or not str(v).strip():
                self.err(line, f"{key} entry {i + 1} must be non-empty text")
                return None
            if label_limit and len(str(v)) > label_limit:
                self.err(line, f"{key} entry {i + 1} is {len(str(v))} characters; a choice must fit a button ({label_limit})")
            out.append(str(v).strip())
        if len({s.casefold() for s in out}) != len(out):
            self.err(q.line_of(key), f"{key} has duplicate entries")
            return None
        return tuple(out)

    def rejects(self, q: LineDict, reject: tuple[str, ...], accept: tuple[str, ...]) -> tuple[str, ...]:
        """Each near miss must be something a student could type, and never an accepted answer."""
        accepted = {normalise(a): a for a in accept}
        items = q["reject"]
        for i, no in enumerate(reject):
            line = items.line_of(i) if isinstance(items, LineList) else q.line_of("reject")
            key = normalise(no)
            if not key:
                self.err(line, f"reject entry {i + 1} ({no!r}) is empty once normalised (case, punctuation, a leading article)")
            elif key in accepted:
                self.err(line, f"reject entry {i + 1} ({no!r}) is also accepted (as {accepted[key]!r}): a near miss cannot be right and wrong")
        return reject

    def question(self, q: Any, index: int, where: int, seen: dict[str, int]) -> Question | None:
        if not isinstance(q, LineDict):
            self.err(where, f"question {index + 1} must be a mapping with id, type, prompt, …")
            return None
        before = len(self.problems)
        qid = q.get("id")
        if not isinstance(qid, str) or not _ID.match(qid):
            self.err(q.line_of("id") if "id" in q else q.line, f"question {index + 1} needs an id of lowercase letters, digits and hyphens, got {qid!r}")
            qid = None
        elif qid in seen:
            self.err(q.line_of("id"), f"duplicate question id {qid!r} (first used at line {seen[qid]})")
        else:
            seen[qid] = q.line_of("id")
        kind = q.get("type")
        if kind not in QUESTION_TYPES:
            self.err(q.line_of("type") if "type" in q else q.line, f"unknown question type {kind!r}: use one of {', '.join(QUESTION_TYPES)}{_suggest(kind, set(QUESTION_TYPES))}")
            return None
        depth = q.get("depth", "both")
        if depth not in QUESTION_DEPTHS:
            self.err(q.line_of("depth"), f"depth must be one of {', '.join(QUESTION_DEPTHS)}, got {depth!r}")
        for key in q:
            if key not in _FIELDS[kind]:
                self.err(q.key_lines[key], f"unknown field {key!r} for a {kind} question{_suggest(key, _FIELDS[kind])}")
        prompt = self.text(q, "prompt")
        if prompt and len(prompt) > MAX_PROMPT:
            self.err(q.line_of("prompt"), f"prompt is {len(prompt)} characters; keep it under {MAX_PROMPT}")
        explanation = self.text(q, "explanation")
        hint = self.text(q, "hint", required=False)
        fields: dict[str, Any] = {}
        if kind in ("single", "multiple"):
            choices = self.strings(q, "choices", 2, MAX_CHOICES, MAX_CHOICE_LABEL)
            if choices:
                fields["choices"] = choices
                key = "answer" if kind == "single" else "answers"
                if kind == "single" and isinstance(q.get("answer"), list):
                    self.err(q.line_of("answer"), "a single-choice question has one answer; use type multiple for several")
                elif (correct := self.positions(q, key, len(choices))) is not None:
                    fields["correct"] = tuple(correct)
        elif kind == "true_false":
            answer = q.get("answer")
            if not isinstance(answer, bool):
                self.err(q.line_of("answer") if "answer" in q else q.line, f"a true_false answer must be true or false, got {answer!r}")
            fields["truth"] = answer
        elif kind == "short":
            accept = self.strings(q, "accept", 1, 20, None)
            if accept:
                fields["accept"] = accept
            if "reject" in q:  # near misses that name another concept: wrong even though close
                reject = self.strings(q, "reject", 1, 20, None)
                if reject:
                    fields["reject"] = self.rejects(q, reject, accept or ())
            threshold = q.get("threshold", DEFAULT_THRESHOLD)
            if isinstance(threshold, bool) or not isinstance(threshold, int) or not 50 <= threshold <= 100:
                self.err(q.line_of("threshold"), f"threshold must be a whole number from 50 to 100, got {threshold!r}")
            else:
                fields["threshold"] = threshold
        elif kind == "ordering":
            items = self.strings(q, "items", 2, MAX_CHOICES, MAX_CHOICE_LABEL)
            if items:
                fields["items"] = items
        if len(self.problems) > before or not (qid and prompt and explanation):
            return None
        return Question(id=qid, chapter=self.chapter, type=kind, depth=depth, prompt=prompt,
                        explanation=explanation, hint=hint, line=q.line, **fields)

    def quiz(self, data: Any) -> list[Question]:
        if not isinstance(data, LineDict):
            self.err(1, "quiz.yaml must be a mapping with chapter and questions")
            return []
        for key in data:
            if key not in ("chapter", "questions"):
                self.err(data.key_lines[key], f"unknown field {key!r} in quiz.yaml{_suggest(key, {'chapter', 'questions'})}")
        if "chapter" in data and data["chapter"] != self.chapter:
            self.err(data.line_of("chapter"), f"chapter is {data['chapter']!r} but course.yaml lists this folder as chapter {self.chapter}")
        items = data.get("questions")
        if not isinstance(items, LineList) or not items:
            self.err(data.line_of("questions") if "questions" in data else data.line, "quiz.yaml has no questions")
            return []
        seen: dict[str, int] = {}
        questions = [self.question(q, i, items.line_of(i), seen) for i, q in enumerate(items)]
        return [q for q in questions if q]


def _parse_yaml(path: Path, shown: str, problems: list[Problem]) -> Any:
    text = _read(path, shown, problems)
    if text is None:
        return None
    try:
        data, duplicates = load_yaml(text)
    except YamlSyntaxError as exc:
        problems.append(Problem(shown, exc.line, exc.message))
        return None
    for line, key in duplicates:
        problems.append(Problem(shown, line, f"duplicate key {key!r}: the later value would silently win"))
    if data is None:  # an empty file, only comments, or a bare `null` / `~`: never a valid document
        content = [n for n, line in enumerate(text.split("\n"), 1) if line.strip() and not line.lstrip().startswith("#")]
        problems.append(Problem(shown, content[0] if content else 1,
                                f"{path.name} is empty (or only null): it must be a mapping, see README *Writing content*"))
    return data


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_course(root: Path) -> tuple[Course | None, list[Problem]]:
    """Load the course and every problem found (errors and warnings)."""
    root = Path(root)
    problems: list[Problem] = []
    course_file = root / "course.yaml"
    shown = _shown(course_file)
    if not course_file.is_file():
        return None, [Problem(shown, 1, f"no course.yaml in {_shown(root)}")]
    data = _parse_yaml(course_file, shown, problems)
    if data is None:
        return None, problems
    if not isinstance(data, LineDict):
        return None, problems + [Problem(shown, 1, "course.yaml must be a mapping with title and chapters")]
    for key in data:
        if key not in ("title", "chapters", "panels", "outline"):
            problems.append(Problem(shown, data.key_lines[key], f"unknown field {key!r}{_suggest(key, {'title', 'chapters', 'panels', 'outline'})}"))
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(Problem(shown, data.line_of("title"), "course.yaml needs a title"))
        title = "Course"

    panels: dict[str, str] = {}
    for i, panel in enumerate(data.get("panels") or []):
        line = data["panels"].line_of(i)
        if not isinstance(panel, dict) or not isinstance(panel.get("title"), str) or panel.get("action") not in PANEL_ACTIONS:
            problems.append(Problem(shown, line, f"a panel needs a title and an action ({', '.join(PANEL_ACTIONS)})"))
            continue
        panels[heading_key(panel["title"])] = panel["action"]

    entries = data.get("chapters")
    if not isinstance(entries, LineList) or not entries:
        problems.append(Problem(shown, data.line_of("chapters") if "chapters" in data else data.line, "course.yaml lists no chapters"))
        entries = LineList()
    chapters: list[Chapter] = []
    numbers: dict[int, int] = {}
    for i, entry in enumerate(entries):
        line = entries.line_of(i)
        if not isinstance(entry, LineDict):
            problems.append(Problem(shown, line, "a chapter needs number, folder and title"))
            continue
        for key in entry:
            if key not in ("number", "folder", "title", "completion_section"):
                problems.append(Problem(shown, entry.key_lines[key], f"unknown chapter field {key!r}{_suggest(key, {'number', 'folder', 'title', 'completion_section'})}"))
        number, folder, ctitle = entry.get("number"), entry.get("folder"), entry.get("title")
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            problems.append(Problem(shown, entry.line_of("number"), f"chapter number must be a whole number, got {number!r}"))
            continue
        if number in numbers:
            problems.append(Problem(shown, entry.line_of("number"), f"chapter {number} is listed twice (first at line {numbers[number]})"))
            continue
        numbers[number] = entry.line_of("number")
        if not isinstance(folder, str) or not folder.strip():
            problems.append(Problem(shown, entry.line, f"chapter {number} has no folder"))
            continue
        if not isinstance(ctitle, str) or not ctitle.strip():
            problems.append(Problem(shown, entry.line, f"chapter {number} has no title"))
            continue
        chapter_dir = root / folder
        if not chapter_dir.is_dir():
            problems.append(Problem(shown, entry.line_of("folder"), f"chapter {number} is listed but its folder {folder!r} does not exist"))
            continue
        chapter = _read_chapter(chapter_dir, number, ctitle.strip(), folder, panels, problems)
        if chapter is None:
            continue
        completion = entry.get("completion_section")
        if completion is not None:
            if not isinstance(completion, str) or not all(chapter.lesson.section(completion, d) for d in chapter.lesson.sections):
                problems.append(Problem(shown, entry.line_of("completion_section"), f"completion_section {completion!r} is not a heading of chapter {number}'s lesson at both depths"))
            else:
                chapter.completion_section = completion
        chapters.append(chapter)
    taught = {n for c in chapters for t in c.glossary if t.elsewhere is None for n in t.names}
    outline = check_outline(data.get("outline"), shown, data.line_of("outline") if "outline" in data else data.line,
                            set(numbers), taught, problems)
    course = Course(title=title.strip(), chapters=chapters, root=root,
                    warnings=[p for p in problems if p.severity == "warning"], outline=outline)
    return course, problems


def _read_chapter(folder: Path, number: int, title: str, name: str, panels: dict[str, str], problems: list[Problem]) -> Chapter | None:
    lesson_path, quiz_path = folder / "lesson.md", folder / "quiz.yaml"
    ok = True
    for path in (lesson_path, quiz_path):
        if not path.is_file():
            problems.append(Problem(_shown(path), 1, f"chapter {number} has no {path.name}"))
            ok = False
    if not ok:
        return None
    shown = _shown(lesson_path)
    text = _read(lesson_path, shown, problems)
    if text is None:
        return None
    lesson, lesson_problems = build_lesson(number, text, shown, panels)
    problems += lesson_problems
    quiz_shown = _shown(quiz_path)
    data = _parse_yaml(quiz_path, quiz_shown, problems)
    questions = _QuizChecker(quiz_shown, number, problems).quiz(data) if data is not None else []
    for depth in ("shallow", "deep"):
        if data is not None and questions and not any(q.at_depth(depth) for q in questions):
            problems.append(Problem(quiz_shown, 1, f"no question covers depth {depth}", "warning"))
    glossary: list[GlossaryTerm] = []
    glossary_path = folder / "glossary.yaml"
    if glossary_path.is_file():
        glossary_shown = _shown(glossary_path)
        glossary_data = _parse_yaml(glossary_path, glossary_shown, problems)
        if glossary_data is not None:
            glossary = check_glossary(glossary_data, glossary_shown, lesson, _suggest, problems)
    faq: list[FaqEntry] = []
    faq_path = folder / "faq.yaml"
    if faq_path.is_file():
        faq_data = _parse_yaml(faq_path, _shown(faq_path), problems)
        faq = check_faq(faq_data, _shown(faq_path), lesson, _suggest, problems) if faq_data is not None else []
    return Chapter(number=number, title=title, folder=name, lesson=lesson, questions=questions, glossary=glossary, faq=faq)


def check_content(root: Path) -> list[Problem]:
    """Every problem in the content tree, errors and warnings, in file order."""
    return read_course(root)[1]


def load_course(root: Path) -> Course:
    """The course, or ContentError listing every error (warnings stay on `course.warnings`)."""
    course, problems = read_course(root)
    errors = [p for p in problems if p.severity == "error"]
    if errors or course is None:
        raise ContentError(errors or problems)
    return course

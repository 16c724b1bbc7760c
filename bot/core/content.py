"""Loading and checking the course in `content/`: course.yaml, and per chapter lesson.md, quiz.yaml and
the optional glossary.yaml, faq.yaml and lab.yaml.

Every file is read by declared models (the file models here, the question types in questions.py,
the glossary, FAQ and outline entries in their modules; see content_schema.py), then checked
across entries and files: duplicate ids and chapter numbers, a folder that is missing, a cited
section the lesson lacks. Every problem is reported as `file:line: what is wrong`, all of them at
once, so an instructor fixes a tree in one pass. Text damaged by a wrong decoding (UTF-8 read as
cp1252: `â†’` for `→`) is repaired with ftfy and reported as a warning at its line, because
instructors paste from the same tools that damaged the course site's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import ftfy
from pydantic import Field

from .content_schema import ContentModel, Source, entries, one_of, text, whole_number
from .faq import FaqEntry, read_faq
from .glossary import GlossaryTerm, read_glossary
from .inputs import is_ascii_number
from .lab.lab_content import Lab, read_lab
from .lessons import DEPTHS, PANEL_ACTIONS, Lesson, Problem, build_lesson, heading_key
from .outline import OutlineChapter, read_outline
from .questions import QUESTION_KINDS, Question
from .yamlsource import LineList, YamlSyntaxError, load_yaml


class QuizFile(ContentModel):
    """A chapter's quiz.yaml: its chapter number (optional, must match course.yaml) and its questions."""

    shape: ClassVar[str] = "quiz.yaml must be a mapping with chapter and questions"
    unknown: ClassVar[str] = "unknown field {key!r} in quiz.yaml{suggestion}"
    missing_fields: ClassVar[dict[str, str]] = {"questions": "quiz.yaml has no questions"}

    chapter: Annotated[int | None, whole_number("chapter must be a whole number, got {value!r}", optional=True)] = None
    questions: Annotated[LineList, entries("quiz.yaml has no questions")]


class PanelEntry(ContentModel):
    """A course-site panel that becomes a bot action (`Try the Chat` → chat)."""

    shape: ClassVar[str] = f"a panel needs a title and an action ({', '.join(PANEL_ACTIONS)})"
    missing: ClassVar[str] = shape
    unknown: ClassVar[str] = "unknown panel field {key!r}{suggestion}"

    title: Annotated[str, text(shape)]
    action: Annotated[str, one_of(tuple(PANEL_ACTIONS), shape)]


class ChapterEntry(ContentModel):
    """A chapter of course.yaml, with a content folder here."""

    shape: ClassVar[str] = "a chapter needs number, folder and title"
    unknown: ClassVar[str] = "unknown chapter field {key!r}{suggestion}"
    missing_fields: ClassVar[dict[str, str]] = {"number": "chapter number must be a whole number, got None",
                                                "folder": "chapter {number} has no folder", "title": "chapter {number} has no title"}

    number: Annotated[int, whole_number("chapter number must be a whole number, got {value!r}")]
    folder: Annotated[str, text("chapter {number} has no folder")]
    title: Annotated[str, text("chapter {number} has no title")]
    completion_section: Annotated[str | None, text("completion_section must be a heading of the lesson, got {value!r}", optional=True)] = None


class CourseFile(ContentModel):
    """course.yaml: the title, the chapters in order, the panels that become actions, and the outline."""

    shape: ClassVar[str] = "course.yaml must be a mapping with title and chapters"
    missing_fields: ClassVar[dict[str, str]] = {"title": "course.yaml needs a title", "chapters": "course.yaml lists no chapters"}

    title: Annotated[str, text("course.yaml needs a title")]
    chapters: Annotated[LineList, entries("course.yaml lists no chapters")]
    panels: Annotated[LineList, entries("panels must be a list of panels, each with a title and an action", allow_empty=True)] = Field(default_factory=LineList)
    outline: Annotated[LineList, entries("outline must be a list of chapters, each with number, title and vocabulary", allow_empty=True)] = Field(
        default_factory=LineList)


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
    lab: Lab = field(default_factory=lambda: Lab([], []))  # the RLHF lab's instructions and prompts (lab.yaml)

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
        bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, bad_line, "not valid UTF-8: save the file as UTF-8"))
        return None
    lines = raw.split("\n")
    for n, line in enumerate(lines):
        fixed = ftfy.fix_encoding(line)
        if fixed != line:
            bad = [a for a, b in zip(line.split(), fixed.split(), strict=False) if a != b]
            problems.append(Problem(shown, n + 1, f"repaired mis-decoded text (mojibake): {' '.join(bad)[:60]!r} → {ftfy.fix_encoding(' '.join(bad))[:60]!r}", "warning"))
            lines[n] = fixed
    return "\n".join(lines)


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
    source = Source(_shown(course_file), problems)
    if not course_file.is_file():
        return None, [Problem(source.shown, 1, f"no course.yaml in {_shown(root)}")]
    data = _parse_yaml(course_file, source.shown, problems)
    if data is None:
        return None, problems
    course = source.read(CourseFile, data, 1)
    if course is None:
        return None, problems
    panels = {heading_key(panel.title): panel.action for panel, _ in source.read_each(PanelEntry, course.panels)}
    chapters: list[Chapter] = []
    numbers: dict[int, int] = {}
    for entry, raw in source.read_each(ChapterEntry, course.chapters):
        if entry.number in numbers:
            source.error(raw.line_of("number"), f"chapter {entry.number} is listed twice (first at line {numbers[entry.number]})")
            continue
        numbers[entry.number] = raw.line_of("number")
        chapter_dir = root / entry.folder
        if not chapter_dir.is_dir():
            source.error(raw.line_of("folder"), f"chapter {entry.number} is listed but its folder {entry.folder!r} does not exist")
            continue
        chapter = _read_chapter(chapter_dir, entry, panels, problems)
        if chapter is None:
            continue
        completion = entry.completion_section
        if completion is not None and not all(chapter.lesson.section(completion, d) for d in chapter.lesson.sections):
            source.error(raw.line_of("completion_section"), f"completion_section {completion!r} is not a heading of chapter {entry.number}'s lesson at both depths")
        chapters.append(chapter)
    taught = {n for c in chapters for t in c.glossary if t.elsewhere is None for n in t.names}
    outline = read_outline(course.outline, source, set(numbers), taught)
    return Course(title=course.title, chapters=chapters, root=root,
                  warnings=[p for p in problems if p.severity == "warning"], outline=outline), problems


def _read_chapter(folder: Path, entry: ChapterEntry, panels: dict[str, str], problems: list[Problem]) -> Chapter | None:
    lesson_path, quiz_path = folder / "lesson.md", folder / "quiz.yaml"
    missing = [path for path in (lesson_path, quiz_path) if not path.is_file()]
    for path in missing:
        problems.append(Problem(_shown(path), 1, f"chapter {entry.number} has no {path.name}"))
    if missing:
        return None
    text = _read(lesson_path, _shown(lesson_path), problems)
    if text is None:
        return None
    lesson, lesson_problems = build_lesson(entry.number, text, _shown(lesson_path), panels)
    problems += lesson_problems
    questions = _read_quiz(Source(_shown(quiz_path), problems), quiz_path, entry.number)
    glossary_path, faq_path = folder / "glossary.yaml", folder / "faq.yaml"
    glossary: list[GlossaryTerm] = _read_optional(glossary_path, problems, lambda data, source: read_glossary(data, source, lesson), [])
    faq: list[FaqEntry] = _read_optional(faq_path, problems, lambda data, source: read_faq(data, source, lesson), [])
    lab = _read_optional(folder / "lab.yaml", problems, lambda data, source: read_lab(data, source, lesson, entry.number), Lab([], []))
    return Chapter(number=entry.number, title=entry.title, folder=entry.folder, lesson=lesson, questions=questions,
                   completion_section=entry.completion_section, glossary=glossary, faq=faq, lab=lab)


def _read_quiz(source: Source, path: Path, number: int) -> list[Question]:
    """The valid questions of a chapter's quiz.yaml; every problem goes to `source`."""
    data = _parse_yaml(path, source.shown, source.problems)
    quiz = source.read(QuizFile, data, 1) if data is not None else None
    if quiz is None:
        return []
    if quiz.chapter is not None and quiz.chapter != number:
        source.error(data.line_of("chapter"), f"chapter is {quiz.chapter!r} but course.yaml lists this folder as chapter {number}")
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for question, raw in source.read_each(QUESTION_KINDS, quiz.questions, chapter=number):
        if question.id in seen:
            source.error(raw.line_of("id"), f"duplicate question id {question.id!r} (first used at line {seen[question.id]})")
            continue
        seen[question.id] = raw.line_of("id")
        questions.append(question)
    for depth in DEPTHS:
        if questions and not any(q.at_depth(depth) for q in questions):
            source.problems.append(Problem(source.shown, 1, f"no question covers depth {depth}", "warning"))
    return questions


Read = TypeVar("Read")


def _read_optional(path: Path, problems: list[Problem], read: Callable[[Any, Source], Read], empty: Read) -> Read:
    """An optional file of a chapter (glossary.yaml, faq.yaml, lab.yaml), read by `read`; `empty` when it is absent."""
    if not path.is_file():
        return empty
    source = Source(_shown(path), problems)
    data = _parse_yaml(path, source.shown, problems)
    return read(data, source) if data is not None else empty


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

"""Content checking: every problem named by file and line, mojibake repaired, the real chapter split right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import DEFAULT_CONTENT_DIR
from bot.core.content import ContentError, check_content, load_course
from bot.core.lessons import PAGE_LIMIT, build_depth, split_depths

ROOT = Path(__file__).resolve().parents[1]

COURSE = """title: Test course
chapters:
  - number: 1
    folder: ch01
    title: One
"""
LESSON = """# One

<!-- SHALLOW -->
Short words.
<!-- /SHALLOW -->

<!-- DEEP -->
Long words.
<!-- /DEEP -->
"""
QUIZ_HEAD = "chapter: 1\nquestions:\n"
GOOD_Q = """  - id: q1
    type: single
    depth: both
    prompt: "Pick B"
    choices: ["A thing", "B thing"]
    answer: 2
    explanation: "Because."
"""


def tree(tmp_path: Path, lesson: str = LESSON, quiz: str = QUIZ_HEAD + GOOD_Q, course: str = COURSE) -> Path:
    (tmp_path / "ch01").mkdir(exist_ok=True)
    (tmp_path / "course.yaml").write_text(course, encoding="utf-8")
    (tmp_path / "ch01" / "lesson.md").write_text(lesson, encoding="utf-8")
    (tmp_path / "ch01" / "quiz.yaml").write_text(quiz, encoding="utf-8")
    return tmp_path


def errors(root: Path) -> list[str]:
    return [str(p) for p in check_content(root) if p.severity == "error"]


def only_error(root: Path) -> str:
    found = errors(root)
    assert len(found) == 1, found
    return found[0]


def test_a_good_tree_has_no_problems(tmp_path):
    assert check_content(tree(tmp_path)) == []


@pytest.mark.parametrize("question, line, words", [
    ('  - id: q2\n    type: essay\n    prompt: "x"\n    explanation: "y"\n', 11, "unknown question type 'essay'"),
    ('  - id: q2\n    type: single\n    prompt: "x"\n    choices: [a, b, c, d]\n    answer: 5\n    explanation: "y"\n', 14, "answer 5 is out of range: there are 4 choices"),
    ('  - id: q2\n    type: multiple\n    prompt: "x"\n    choices: [a, b]\n    answers: [1, 3]\n    explanation: "y"\n', 14, "answers 3 is out of range"),
    ('  - id: q1\n    type: true_false\n    prompt: "x"\n    answer: true\n    explanation: "y"\n', 10, "duplicate question id 'q1' (first used at line 3)"),
    ('  - id: q2\n    type: true_false\n    prompt: "x"\n    answer: true\n', 10, "question 'q2' has no explanation"),
    ('  - id: q2\n    type: true_false\n    prompt: "x"\n    answer: maybe\n    explanation: "y"\n', 13, "must be true or false"),
    ('  - id: q2\n    type: short\n    prompt: "x"\n    accept: ["a"]\n    threshold: 20\n    explanation: "y"\n', 14, "threshold must be a whole number from 50 to 100"),
    ('  - id: q2\n    type: single\n    prompt: "x"\n    choices: [a, b]\n    anwser: 1\n    explanation: "y"\n', 14, "unknown field 'anwser' for a single question (did you mean 'answer'?)"),
    ('  - id: q2\n    type: ordering\n    prompt: "x"\n    items: [a]\n    explanation: "y"\n', 13, "items must have 2 to 8 entries"),
])
def test_question_errors_name_file_and_line(tmp_path, question, line, words):
    found = [p for p in errors(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + question)) if words in p]
    assert found, errors(tmp_path)
    problem = found[0]
    assert problem.startswith(f"ch01/quiz.yaml:{line}: ") or f"/ch01/quiz.yaml:{line}: " in problem, problem
    assert words in problem


def test_every_problem_is_reported_in_one_pass(tmp_path):
    broken = QUIZ_HEAD + "".join(
        f'  - id: b{i}\n    type: single\n    prompt: "x"\n    choices: [a, b]\n    answer: 9\n    explanation: "y"\n' for i in range(3))
    assert len(errors(tree(tmp_path, quiz=broken))) == 3
    with pytest.raises(ContentError) as caught:
        load_course(tmp_path)
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("lesson, line, words", [
    ("# T\n<!-- DEEP -->\ntext\n", 2, "<!-- DEEP --> is never closed"),
    ("# T\n<!-- DEEP -->\na\n<!-- SHALLOW -->\nb\n<!-- /SHALLOW -->\n<!-- /DEEP -->\n", 4, "cannot nest"),
    ("# T\ntext\n<!-- /SHALLOW -->\n", 3, "closes a block that was never opened"),
    ("# T\n<!-- deep: start -->\ntext\n", 2, "malformed depth marker"),
])
def test_depth_marker_errors(tmp_path, lesson, line, words):
    found = [p for p in errors(tree(tmp_path, lesson=lesson)) if words in p]
    assert found and f"lesson.md:{line}: " in found[0], errors(tmp_path)


def test_empty_depth_and_missing_folder_and_yaml_syntax(tmp_path):
    lesson = "# Title\n<!-- SHALLOW -->\nOnly shallow.\n<!-- /SHALLOW -->\n"
    assert "the lesson has no text at depth deep" in only_error(tree(tmp_path, lesson=lesson))

    course = COURSE + "  - number: 2\n    folder: ch02\n    title: Two\n"
    problem = only_error(tree(tmp_path, course=course))
    assert "course.yaml:7: chapter 2 is listed but its folder 'ch02' does not exist" in problem

    bad_yaml = QUIZ_HEAD + GOOD_Q + "  - id: [unclosed\n"
    problem = only_error(tree(tmp_path, course=COURSE, quiz=bad_yaml))
    assert "quiz.yaml:11: YAML syntax error" in problem  # the list is still open at the end


def test_code_block_longer_than_a_page_is_an_error_at_its_line(tmp_path):
    code = "```\n" + ("x = 1\n" * (PAGE_LIMIT // 6 + 10)) + "```\n"
    problem = only_error(tree(tmp_path, lesson="# T\n\nIntro.\n\n" + code))
    assert "lesson.md:5: code block is" in problem and "longer than one page" in problem
    assert "at depth shallow and deep" in problem  # shared text: reported once


def test_mojibake_is_repaired_with_a_warning(tmp_path):
    lesson = "# T\n\n## From Autocomplete â†’ Assistant ðŸ¤–\n\nBoth depths.\n"
    root = tree(tmp_path, lesson=lesson)
    problems = check_content(root)
    assert [p.severity for p in problems] == ["warning"]
    assert "lesson.md:3: warning: repaired mis-decoded text" in str(problems[0])
    course = load_course(root)
    page = course.chapters[0].lesson.pages["deep"][0]
    assert "From Autocomplete → Assistant 🤖" in page.text


def test_the_real_course_checks_clean_and_splits_its_depths():
    course = load_course(DEFAULT_CONTENT_DIR)
    lesson = course.chapter(7).lesson
    shallow = "\n".join(p.text for p in lesson.pages["shallow"])
    deep = "\n".join(p.text for p in lesson.pages["deep"])
    assert "From Autocomplete → Assistant 🤖" in shallow and "From Autocomplete" not in deep
    assert "Reinforcement Learning from Human Feedback" in deep and "Reinforcement Learning from Human Feedback" not in shallow
    assert "Congratulations! 🎉" in shallow and "Congratulations! 🎉" in deep
    assert "What's Next?" in deep and "What's Next?" not in shallow
    for text in (shallow, deep):
        assert "â" not in text and "ðŸ" not in text and "<!--" not in text
        assert "The panel" not in text  # the course-site panel became an action
    assert all(len(p.text) <= PAGE_LIMIT for d in ("shallow", "deep") for p in lesson.pages[d])
    assert "chat" in lesson.pages["shallow"][0].actions
    raw = (DEFAULT_CONTENT_DIR / "ch07-fine-tuning-to-follow-instructions" / "lesson.md").read_text(encoding="utf-8")
    assert "â" not in raw and "ðŸ" not in raw
    questions = course.chapter(7).questions
    assert len(questions) >= 24
    assert {q.type for q in questions} == {"single", "multiple", "true_false", "short", "ordering"}
    assert any(q.at_depth("shallow") and q.depth != "both" for q in questions)
    assert any(q.at_depth("deep") and q.depth != "both" for q in questions)


def test_pages_break_at_headings_and_never_inside_a_code_block():
    blocks = []
    for i in range(8):
        blocks.append(f"## Section {i}\n\n" + ("Some words here. " * 12).strip())
        blocks.append("```python\n" + "\n".join(f"line_{i}_{j} = {j}" for j in range(8)) + "\n```")
        blocks.append("- item one of section\n- item two of section\n- item three of section")
    text = "\n\n".join(blocks)
    numbered = list(enumerate(text.split("\n"), start=1))
    pages, sections, problems = build_depth(numbered, "x.md", "deep", {}, limit=400)
    assert not problems and len(pages) > 4
    assert all(len(p.text) <= 400 for p in pages)
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    for page in pages:
        assert page.text.count("```") % 2 == 0  # code blocks whole
        assert page.text.startswith("## ") or page.title.endswith("(continued)")
    joined = "\n\n".join(p.text for p in pages)
    assert joined.replace("\n\n", "\n") == text.replace("\n\n", "\n")  # nothing lost or reordered


def test_split_depths_keeps_common_text_in_both():
    depths, problems = split_depths("A\n<!-- SHALLOW -->\nS\n<!-- /SHALLOW -->\n<!-- DEEP -->\nD\n<!-- /DEEP -->\nZ\n", "x.md")
    assert not problems
    assert [t for _, t in depths["shallow"]] == ["A", "S", "Z"]
    assert [t for _, t in depths["deep"]] == ["A", "D", "Z"]
    assert [n for n, _ in depths["deep"]] == [1, 6, 8]


def test_content_check_command(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "bot", "content", "check"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q.replace("answer: 2", "answer: 7"))
    bad = subprocess.run([sys.executable, "-m", "bot", "content", "check", str(broken)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "quiz.yaml:8: answer 7 is out of range" in bad.stdout

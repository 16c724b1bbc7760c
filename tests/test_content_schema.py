"""The declared content schema: each question type's model refuses its own wrong shapes at their
line, unknown fields get a "did you mean", and valid content round-trips through the models."""

from __future__ import annotations

import pytest

from bot.core.config import DEFAULT_CONTENT_DIR
from bot.core.content import load_course
from bot.core.questions import QUESTION_KINDS, OrderingQuestion, SingleQuestion
from bot.core.yamlsource import LineList, load_yaml

from tests.test_content_errors import COURSE, GOOD_Q, QUIZ_HEAD, errors, only_error, tree

CH07 = "ch07-fine-tuning-to-follow-instructions"


def question(kind: str, body: str, qid: str = "q2") -> str:
    """A question after GOOD_Q (lines 3-9), so its `- id:` is line 10 and `type:` line 11."""
    return f'  - id: {qid}\n    type: {kind}\n    prompt: "x"\n{body}    explanation: "y"\n'


@pytest.mark.parametrize("kind, body, line, words", [
    ("single", "    choices: [a, b, c]\n    answer: [1, 2]\n", 14, "a single-choice question has one answer; use type multiple for several"),
    ("single", "    choices: [a, b]\n    answer: two\n", 14, "answer must be the position of a choice (1 to 2), got 'two'"),
    ("single", "    answer: 1\n", 10, "question 'q2' needs a list of choices"),
    ("single", "    choices: [a, A]\n    answer: 1\n", 13, "choices has duplicate entries"),
    ("multiple", "    choices: [a, b, c]\n    answers: [1, 1]\n", 14, "answers lists the same choice twice"),
    ("multiple", "    choices: [a, b, c]\n    answers: []\n", 14, "question 'q2' has no answers"),
    ("multiple", "    choices: [a, b, c, d, e, f, g, h, i]\n    answers: [1]\n", 13, "choices must have 2 to 8 entries, has 9"),
    ("true_false", "", 10, "a true_false answer must be true or false, got None"),
    ("true_false", "    answer: 1\n", 13, "a true_false answer must be true or false, got 1"),
    ("short", '    accept: "PPO"\n', 13, "question 'q2' needs a list of accept"),
    ("short", "    accept: [PPO]\n    threshold: true\n", 14, "threshold must be a whole number from 50 to 100, got True"),
    ("short", "    accept:\n      - PPO\n      - \"\"\n", 15, "accept entry 2 must be non-empty text"),
    ("ordering", "    items:\n      - first\n      - " + "x" * 80 + "\n", 15, "items entry 2 is 80 characters; a choice must fit a button (75)"),
    ("ordering", "    items: first\n", 13, "question 'q2' needs a list of items"),
])
def test_each_question_type_refuses_its_own_wrong_shapes_at_their_line(tmp_path, kind, body, line, words):
    found = only_error(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + question(kind, body)))
    assert f"ch01/quiz.yaml:{line}: {words}" in found, found


def test_a_question_field_of_another_type_is_unknown_for_this_one(tmp_path):
    body = "    accept: [PPO]\n    items: [a, b]\n"
    found = only_error(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + question("short", body)))
    assert "quiz.yaml:14: unknown field 'items' for a short question" in found


def test_the_chapter_is_set_by_course_yaml_not_written_in_a_question(tmp_path):
    found = only_error(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + question("true_false", "    answer: true\n    chapter: 1\n")))
    assert "quiz.yaml:14: unknown field 'chapter' for a true_false question" in found


def test_a_misspelt_question_type_gets_a_suggestion_at_its_line(tmp_path):
    found = only_error(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + question("singel", "    choices: [a, b]\n    answer: 1\n")))
    assert "quiz.yaml:11: unknown question type 'singel': use one of single, multiple, true_false, short, ordering (did you mean 'single'?)" in found


@pytest.mark.parametrize("where, text, line, words", [
    ("quiz", QUIZ_HEAD.replace("questions:", "questoins:") + GOOD_Q, 2, "unknown field 'questoins' in quiz.yaml (did you mean 'questions'?)"),
    ("course", COURSE.replace("    title: One", "    title: One\n    complete_section: One"), 6,
     "unknown chapter field 'complete_section' (did you mean 'completion_section'?)"),
    ("course", COURSE + "panel:\n  - title: Try the Chat\n    action: chat\n", 6, "unknown field 'panel' (did you mean 'panels'?)"),
    ("glossary", "terms:\n  - term: words\n    definition: Words.\n    section: One\n    depth: deep\n    alias: [w]\n", 6,
     "unknown field 'alias' (did you mean 'aliases'?)"),
    ("faq", "questions:\n  - question: Why?\n    paraphrase: [\"How come?\"]\n    answer: So.\n    section: One\n    depth: deep\n", 3,
     "unknown field 'paraphrase' (did you mean 'paraphrases'?)"),
])
def test_an_unknown_field_gets_a_did_you_mean(tmp_path, where, text, line, words):
    root = tree(tmp_path, course=text) if where == "course" else tree(tmp_path, quiz=text) if where == "quiz" else tree(tmp_path)
    if where in ("glossary", "faq"):
        (root / "ch01" / f"{where}.yaml").write_text(text, encoding="utf-8")
    found = errors(root)  # (a misspelt `questions` also leaves the quiz without questions)
    assert any(f"{where}.yaml:{line}: {words}" in e for e in found), found


def test_a_broken_question_hides_none_of_the_others_problems(tmp_path):
    quiz = QUIZ_HEAD + GOOD_Q + question("single", "    choices: [a]\n    answer: 1\n") + question("true_false", "    answer: yes\n", qid="q1")
    found = errors(tree(tmp_path, quiz=quiz))
    assert any("quiz.yaml:13: choices must have 2 to 8 entries, has 1" in e for e in found), found
    assert any("quiz.yaml:16: duplicate question id 'q1' (first used at line 3)" in e for e in found), found


def test_the_real_quiz_round_trips_through_its_models():
    """Every question of the course, dumped, is the mapping written in quiz.yaml (with the defaults
    it left out), and validating the dump gives the same question back."""
    course = load_course(DEFAULT_CONTENT_DIR)
    data, _ = load_yaml((DEFAULT_CONTENT_DIR / CH07 / "quiz.yaml").read_text(encoding="utf-8"))
    written = {raw["id"]: raw for raw in data["questions"]}
    questions = course.chapter(7).questions
    assert len(questions) == len(written)
    for q in questions:
        dumped = q.model_dump()
        assert dumped.pop("chapter") == 7
        raw = {k: tuple(v) if isinstance(v, LineList) else v.strip() if isinstance(v, str) else v for k, v in written[q.id].items()}
        assert {k: dumped[k] for k in raw} == raw, q.id
        assert set(dumped) - set(raw) <= {"depth", "hint", "reject", "threshold"}, q.id
        assert QUESTION_KINDS.adapter.validate_python(q.model_dump()) == q


def test_each_question_class_carries_its_own_behaviour():
    single = SingleQuestion(id="s", chapter=7, prompt="Pick", explanation="So", choices=("Alpha", "Beta"), answer=2)
    assert single.correct == (1,) and single.typed_answer() == "B" and single.correct_answer() == "B) Beta"
    assert single.answer_help() == "Answer with one letter, A–B."
    order = OrderingQuestion(id="o", chapter=7, prompt="Order", explanation="So", items=("one", "two", "three"))
    assert order.is_correct(order.parse_answer(order.typed_answer(5), 5))
    assert order.correct_answer() == "one → two → three"
    assert not hasattr(order, "choices")  # a type's fields are its own

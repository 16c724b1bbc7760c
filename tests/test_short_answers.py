"""Short answers: typos pass, a different word does not, and near misses listed as `reject` fail.

Also the content checks that go with it: `reject` is checked like `accept`, and an empty or
`null` YAML document is an error with its file and line instead of a silently empty quiz.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import DEFAULT_CONTENT_DIR
from bot.core.content import check_content, load_course
from bot.core.questions import Question, ShortQuestion

from tests.test_content_errors import GOOD_Q, QUIZ_HEAD, errors, only_error, tree

COURSE = load_course(DEFAULT_CONTENT_DIR)


def question(qid: str) -> Question:
    found = COURSE.question(f"7:{qid}")
    assert found is not None, qid
    return found


@pytest.mark.parametrize("qid, wrong", [
    ("reward-model-name", "reward modeling"), ("reward-model-name", "Reward Modelling"), ("reward-model-name", "reward"),
    ("reward-model-name", "reward function"), ("distillation", "instillation"), ("distillation", "Instilation"),
    ("distillation", "distribution"), ("ppo-name", "DPO"), ("ppo-name", "TRPO"), ("ppo-name", "PPP"),
    ("document-completer", "completion"), ("document-completer", "complete"),
    ("alignment-tax", "alignment"), ("alignment-tax", "alignment task"),
])
def test_the_wrong_concept_is_wrong(qid, wrong):
    assert not question(qid).is_correct(wrong)


@pytest.mark.parametrize("qid, typo", [
    ("reward-model-name", "reward model"), ("reward-model-name", "Reward modle"), ("reward-model-name", "rewardmodel"),
    ("reward-model-name", "RM"), ("reward-model-name", "the reward model"), ("distillation", "distilation"),
    ("distillation", "distillaton"), ("distillation", "knowlege distillation"), ("ppo-name", "ppo"),
    ("ppo-name", "proximal policy optimisation"), ("document-completer", "completer"),
    ("document-completer", "document completer"), ("alignment-tax", "allignment tax"),
])
def test_typos_of_the_right_concept_pass(qid, typo):
    assert question(qid).is_correct(typo)


def test_every_listed_near_miss_of_the_course_is_refused_and_every_accepted_answer_passes():
    shorts = [q for c in COURSE.chapters for q in c.questions if q.type == "short"]
    assert shorts and all(q.reject for q in shorts)  # the chapter's short questions all list near misses
    for q in shorts:
        assert all(q.is_correct(ok) for ok in q.accept), q.id
        assert not any(q.is_correct(no) for no in q.reject), q.id


def test_reject_wins_over_fuzzy_but_never_over_an_exact_accepted_answer():
    base = ShortQuestion(id="q", chapter=7, depth="deep", prompt="?", explanation="!", accept=("Paris",))
    assert base.is_correct("Pariss")
    strict = ShortQuestion(id="q", chapter=7, depth="deep", prompt="?", explanation="!", accept=("Paris",), reject=("Pariss",))
    assert not strict.is_correct("Pariss") and not strict.is_correct("parisss")  # typos of a near miss too
    assert strict.is_correct("paris") and strict.is_correct("The Paris")
    assert not strict.is_correct("") and not strict.is_correct("\u200b")


def short_q(extra: str) -> str:
    return f"""  - id: s1
    type: short
    depth: both
    prompt: "Name it"
    accept: ["reward model", "RM"]
{extra}    explanation: "Because."
"""


@pytest.mark.parametrize("extra, line, message", [
    ('    reject: "reward modeling"\n', 15, "needs a list of reject"),
    ('    reject: []\n', 15, "reject must have 1 to 20 entries"),
    ('    reject: ["reward modeling", 3.5, null]\n', 15, "reject entry 3 must be non-empty text"),
    ('    reject:\n      - reward modeling\n      - Reward Model\n', 17, "is also accepted"),
    ('    reject: ["reward modeling", "Reward Modeling"]\n', 15, "duplicate entries"),
    ('    reject:\n      - "?!"\n', 16, "empty once normalised"),
])
def test_content_check_checks_reject(tmp_path: Path, extra, line, message):
    found = only_error(tree(tmp_path, quiz=QUIZ_HEAD + GOOD_Q + short_q(extra)))
    assert f"quiz.yaml:{line}:" in found and message in found, found


def test_reject_belongs_to_short_questions_only(tmp_path: Path):
    quiz = QUIZ_HEAD + GOOD_Q.replace('    answer: 2\n', '    answer: 2\n    reject: ["C thing"]\n')
    assert "unknown field 'reject' for a single question" in only_error(tree(tmp_path, quiz=quiz))


@pytest.mark.parametrize("text, line", [("", 1), ("\n\n", 1), ("# nothing yet\n", 1), ("null\n", 1), ("# empty\n~\n", 2), ("---\n", 1)])
def test_an_empty_or_null_quiz_is_an_error_with_its_line(tmp_path: Path, text, line):
    found = only_error(tree(tmp_path, quiz=text))
    assert f"quiz.yaml:{line}:" in found and "empty" in found, found


def test_empty_course_and_glossary_are_errors(tmp_path: Path):
    root = tree(tmp_path)
    (root / "ch01" / "glossary.yaml").write_text("# terms to come\n", encoding="utf-8")
    assert "glossary.yaml:1:" in only_error(root) and "empty" in only_error(root)
    (root / "course.yaml").write_text("", encoding="utf-8")
    found = [str(p) for p in check_content(root) if p.severity == "error"]
    assert any("course.yaml:1:" in f and "empty" in f for f in found), found
    assert errors(tree(tmp_path))  # course.yaml rewritten: only the glossary error is left

"""Each question type: reading typed answers, correcting what cannot be read, and judging."""

from __future__ import annotations

import pytest

from bot.core.actions import LiveAnswer, QuizAnswer
from bot.core.questions import (
    AnswerError,
    MultipleQuestion,
    OrderingQuestion,
    ShortQuestion,
    SingleQuestion,
    TrueFalseQuestion,
    normalise,
)

SINGLE = SingleQuestion(id="s", chapter=7, depth="both", prompt="Pick", explanation="Because", choices=("Alpha", "Beta", "Gamma", "Delta"), answer=2)
MULTI = MultipleQuestion(id="m", chapter=7, depth="deep", prompt="Pick all", explanation="Because", choices=("Help", "Harm", "Verbose", "Honest"), answers=(1, 2, 4))
TF = TrueFalseQuestion(id="t", chapter=7, depth="deep", prompt="RLHF replaces SFT", explanation="No", answer=False)
SHORT = ShortQuestion(id="p", chapter=7, depth="deep", prompt="Which algorithm?", explanation="PPO", accept=("PPO", "Proximal Policy Optimization"), threshold=90)
CITY = ShortQuestion(id="c", chapter=7, depth="both", prompt="Capital of France?", explanation="Paris", accept=("Paris",))
ORDER = OrderingQuestion(id="o", chapter=7, depth="deep", prompt="Order", explanation="SFT first", items=("SFT", "Reward modeling", "PPO"))


def test_normalise():
    assert normalise("  The Reward-Model! ") == "reward model"
    assert normalise("Proximal Pölicy Óptimization") == "proximal policy optimization"
    assert normalise("an apple") == "apple"


@pytest.mark.parametrize("typed", ["b", "B", "B)", "2", " b. ", "Beta"])
def test_single_reads_letters_numbers_and_the_choice_itself(typed):
    assert SINGLE.parse_answer(typed) == [1]
    assert SINGLE.is_correct(SINGLE.parse_answer(typed))


@pytest.mark.parametrize("typed, words", [("E", "there are 4, A–D"), ("5", "there are 4"), ("A C", "one answer"), ("", "empty")])
def test_single_corrects_what_it_cannot_read(typed, words):
    with pytest.raises(AnswerError, match=words):
        SINGLE.parse_answer(typed)


@pytest.mark.parametrize("typed", ["A B D", "a,b,d", "ABD", "1 2 4", "D B A A"])
def test_multiple_needs_exactly_the_right_set(typed):
    assert MULTI.is_correct(MULTI.parse_answer(typed))
    assert not MULTI.is_correct(MULTI.parse_answer("A B"))
    assert not MULTI.is_correct(MULTI.parse_answer("A B C D"))


def test_true_false_words():
    assert TF.parse_answer("False") is False and TF.parse_answer("yes") is True and TF.parse_answer("n") is False
    assert TF.is_correct(TF.parse_answer("f")) and not TF.is_correct(TF.parse_answer("true"))
    with pytest.raises(AnswerError, match="true"):
        TF.parse_answer("perhaps")


def test_short_answers_are_fuzzy_within_the_threshold():
    assert SHORT.is_correct("ppo") and SHORT.is_correct("Proximal policy optimisation")
    assert not SHORT.is_correct("PPP") and not SHORT.is_correct("policy")
    assert CITY.is_correct("paris.") and CITY.is_correct("Pariss")
    assert not CITY.is_correct("paris london rome")  # whole-string match: listing guesses does not win
    with pytest.raises(AnswerError, match="too long"):
        CITY.parse_answer("x" * 500)


def test_ordering_reads_the_letters_as_shown():
    seed = 1234
    shown = ORDER.display_order(seed)
    assert shown != [0, 1, 2] and sorted(shown) == [0, 1, 2] and ORDER.display_order(seed) == shown
    right = " ".join("ABC"[shown.index(i)] for i in range(3))
    assert ORDER.is_correct(ORDER.parse_answer(right, seed))
    assert ORDER.is_correct(ORDER.parse_answer(right.replace(" ", ""), seed))
    assert not ORDER.is_correct(ORDER.parse_answer("A B C", seed))
    with pytest.raises(AnswerError, match="exactly once"):
        ORDER.parse_answer("A A B", seed)


def test_asking_gives_each_type_its_controls():
    single = SINGLE.ask("Q1", QuizAnswer(1, 0), 0)
    assert [b.action for b in single.buttons] == [f"quiz:1:0:a:{c}" for c in "ABCD"]
    multi = MULTI.ask("Q1", QuizAnswer(1, 0), 0)
    assert multi.choices.max_values == 4 and multi.choices.action == "quiz:1:0:a:"
    assert SHORT.ask("Q1", QuizAnswer(1, 0), 0).text_input is not None
    order = ORDER.ask("Q1", QuizAnswer(1, 0), 7)
    assert order.text_input is not None and "**A)**" in order.text
    assert [b.label for b in TF.ask("Q1", LiveAnswer(3, 0), 0).buttons] == ["True", "False"]

"""Each question type: reading typed answers, correcting what cannot be read, and judging."""

from __future__ import annotations

import pytest

from bot.core.actions import LiveAnswer, QuizAnswer
from bot.core.questions import (
    AnswerError,
    Question,
    ask,
    display_order,
    is_correct,
    normalise,
    parse_answer,
)

SINGLE = Question("s", 7, "single", "both", "Pick", "Because", choices=("Alpha", "Beta", "Gamma", "Delta"), correct=(1,))
MULTI = Question("m", 7, "multiple", "deep", "Pick all", "Because", choices=("Help", "Harm", "Verbose", "Honest"), correct=(0, 1, 3))
TF = Question("t", 7, "true_false", "deep", "RLHF replaces SFT", "No", truth=False)
SHORT = Question("p", 7, "short", "deep", "Which algorithm?", "PPO", accept=("PPO", "Proximal Policy Optimization"), threshold=90)
CITY = Question("c", 7, "short", "both", "Capital of France?", "Paris", accept=("Paris",))
ORDER = Question("o", 7, "ordering", "deep", "Order", "SFT first", items=("SFT", "Reward modeling", "PPO"))


def test_normalise():
    assert normalise("  The Reward-Model! ") == "reward model"
    assert normalise("Proximal Pölicy Óptimization") == "proximal policy optimization"
    assert normalise("an apple") == "apple"


@pytest.mark.parametrize("typed", ["b", "B", "B)", "2", " b. ", "Beta"])
def test_single_reads_letters_numbers_and_the_choice_itself(typed):
    assert parse_answer(SINGLE, typed) == [1]
    assert is_correct(SINGLE, parse_answer(SINGLE, typed))


@pytest.mark.parametrize("typed, words", [("E", "there are 4, A–D"), ("5", "there are 4"), ("A C", "one answer"), ("", "empty")])
def test_single_corrects_what_it_cannot_read(typed, words):
    with pytest.raises(AnswerError, match=words):
        parse_answer(SINGLE, typed)


@pytest.mark.parametrize("typed", ["A B D", "a,b,d", "ABD", "1 2 4", "D B A A"])
def test_multiple_needs_exactly_the_right_set(typed):
    assert is_correct(MULTI, parse_answer(MULTI, typed))
    assert not is_correct(MULTI, parse_answer(MULTI, "A B"))
    assert not is_correct(MULTI, parse_answer(MULTI, "A B C D"))


def test_true_false_words():
    assert parse_answer(TF, "False") is False and parse_answer(TF, "yes") is True and parse_answer(TF, "n") is False
    assert is_correct(TF, parse_answer(TF, "f")) and not is_correct(TF, parse_answer(TF, "true"))
    with pytest.raises(AnswerError, match="true"):
        parse_answer(TF, "perhaps")


def test_short_answers_are_fuzzy_within_the_threshold():
    assert is_correct(SHORT, "ppo") and is_correct(SHORT, "Proximal policy optimisation")
    assert not is_correct(SHORT, "PPP") and not is_correct(SHORT, "policy")
    assert is_correct(CITY, "paris.") and is_correct(CITY, "Pariss")
    assert not is_correct(CITY, "paris london rome")  # whole-string match: listing guesses does not win
    with pytest.raises(AnswerError, match="too long"):
        parse_answer(CITY, "x" * 500)


def test_ordering_reads_the_letters_as_shown():
    seed = 1234
    shown = display_order(ORDER, seed)
    assert shown != [0, 1, 2] and sorted(shown) == [0, 1, 2] and display_order(ORDER, seed) == shown
    right = " ".join("ABC"[shown.index(i)] for i in range(3))
    assert is_correct(ORDER, parse_answer(ORDER, right, seed))
    assert is_correct(ORDER, parse_answer(ORDER, right.replace(" ", ""), seed))
    assert not is_correct(ORDER, parse_answer(ORDER, "A B C", seed))
    with pytest.raises(AnswerError, match="exactly once"):
        parse_answer(ORDER, "A A B", seed)


def test_asking_gives_each_type_its_controls():
    single = ask(SINGLE, "Q1", QuizAnswer(1, 0), 0)
    assert [b.action for b in single.buttons] == [f"quiz:1:0:a:{c}" for c in "ABCD"]
    multi = ask(MULTI, "Q1", QuizAnswer(1, 0), 0)
    assert multi.choices.max_values == 4 and multi.choices.action == "quiz:1:0:a:"
    assert ask(SHORT, "Q1", QuizAnswer(1, 0), 0).text_input is not None
    order = ask(ORDER, "Q1", QuizAnswer(1, 0), 7)
    assert order.text_input is not None and "**A)**" in order.text
    assert [b.label for b in ask(TF, "Q1", LiveAnswer(3, 0), 0).buttons] == ["True", "False"]

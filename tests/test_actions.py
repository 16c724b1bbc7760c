"""The action grammar (bot/core/actions.py) and where the core places its replies.

Every action round-trips through its id; anything the companion could not have written, however
it was forged, is `InvalidAction` and nothing else; every id a button carries fits Discord's
100 characters. The core, not an adapter, says which replies replace the pressed message.
"""

from __future__ import annotations

import random
import string

import pytest

from bot.core import actions, quiz
from bot.core.actions import InvalidAction, parse
from bot.core.command_line import canonical
from bot.core.commands import COMMANDS
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.inputs import MAX_ID
from bot.core.users import Actor

SEED = 15
ROUNDS = 400


def number(rng: random.Random) -> int:
    return rng.choice([0, 1, rng.randrange(2, 1000), rng.randrange(MAX_ID + 1), MAX_ID])


def depth(rng: random.Random) -> str:
    return rng.choice(actions.DEPTHS)


def answer_text(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + " :,|#-éß€😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40])))


def random_action(rng: random.Random) -> actions.Action:
    """Any action, with random valid fields."""
    makers = [
        lambda: actions.LessonPage(number(rng), depth(rng), number(rng)),
        lambda: actions.LessonNear(number(rng), depth(rng), number(rng)),
        lambda: actions.QuizStart(number(rng), rng.choice([None, *actions.DEPTHS])),
        lambda: actions.QuizAnswer(number(rng), number(rng), answer_text(rng)),
        lambda: actions.QuizHint(number(rng), number(rng)),
        lambda: actions.LiveAnswer(number(rng), number(rng), answer_text(rng)),
        lambda: actions.LiveSkip(number(rng)),
        lambda: actions.LiveStop(number(rng)),
        lambda: actions.ResetConfirm(number(rng)),
        actions.ContinueReading, actions.ReviewStart, actions.ProgressShow, actions.ProgressCard, actions.ChatOpen, actions.ForgetConfirm,
        actions.ForgetCancel, actions.ResetCancel,
        # the RLHF lab's
        lambda: actions.LabDemo(number(rng), "c", rng.choice(["why-kl-penalty", "a", "x1-2-3"]), answer_text(rng)),
        lambda: actions.LabDemo(number(rng), "p", str(number(rng)), answer_text(rng)),
        lambda: actions.LabPropose(number(rng), answer_text(rng)),
        lambda: actions.LabRank(number(rng), answer_text(rng)),
        lambda: actions.LabFlag(number(rng), rng.choice(actions.FLAG_REASONS)),
        lambda: actions.LabReview(number(rng), rng.choice(actions.REVIEW_DECISIONS)),
        actions.LabMenu, actions.LabWriteStart, actions.LabRankStart, actions.LabFlagStart, actions.LabRewardShow, actions.LabBoardShow,
    ]
    return rng.choice(makers)()


def test_every_action_round_trips():
    rng = random.Random(SEED)
    seen = set()
    for _ in range(ROUNDS):
        action = random_action(rng)
        seen.add(type(action))
        assert parse(action.format()) == action, action
    assert seen == set(actions.Action.__args__)  # every kind of action was tried


def test_button_ids_fit_discord():
    """The longest id a button carries: every number at its bound, a button's longest answer."""
    big = MAX_ID
    longest = [actions.LessonPage(big, "shallow", big), actions.LessonNear(big, "shallow", big), actions.QuizStart(big, "shallow"),
               actions.QuizAnswer(big, big, "false"), actions.QuizHint(big, big), actions.LiveAnswer(big, big, "false"),
               actions.LiveSkip(big), actions.LiveStop(big), actions.ResetConfirm(big), actions.ContinueReading(),
               actions.ResetCancel(), actions.LabDemo(big, "c", "x" * 40), actions.LabDemo(big, "p", str(big)), actions.LabPropose(big),
               actions.LabRank(big), actions.LabFlag(big, "off-topic"), actions.LabReview(big, "remove")]
    assert max(len(a.format()) for a in longest) <= actions.MAX_ACTION_ID


def test_typed_text_goes_into_an_answers_template_only():
    assert parse("quiz:12:3:a:", typed="A,C") == actions.QuizAnswer(12, 3, "A,C")
    assert parse("live:4:0:a:", typed="attention") == actions.LiveAnswer(4, 0, "attention")
    for action_id in ("quiz:12:3:a:B", "lesson:7:deep:2", "quiz:12:3:hint", "forget:confirm"):
        with pytest.raises(InvalidAction):
            parse(action_id, typed="x")
    assert actions.takes_typed("quiz:12:3:a:") and not actions.takes_typed("quiz:12:3:a:B")
    assert not actions.takes_typed("quiz:12:3:a:" + "x" * 200)


FORGED = ["", ":", "::::", "lesson", "lesson:", "lesson:7", "lesson:7:deep", "lesson:7:deep:1:2", "lesson:7:middle:1",
          "lesson:7:deep:L", "lesson:7:deep:L-1", "lesson:7:deep:²", "lesson:٣:deep:1", "lesson:7:DEEP:1", "lesson:continue:x",
          "quiz", "quiz:1", "quiz:1:2", "quiz:start", "quiz:start:", "quiz:start:7:", "quiz:start:7:medium", "quiz:start:7:deep:x",
          "quiz:1:2:hint:x", "quiz:1:2:b:A", "quiz:-1:0:a:B", "quiz:1e3:0:a:B", f"quiz:{MAX_ID + 1}:0:a:B",
          "quiz:100000000000000000000:0:a:B", "quiz: 1:0:a:B", "live:1", "live:1:2", "live:1:2:b:A", "live:1:skip:x",
          "live:x:stop", "review:stop", "review:start:1", "progress:reset", "progress:reset:", "progress:reset:1:2", "forget:maybe",
          "chat:close", "Lesson:7:deep:1", " lesson:7:deep:1", "lesson:7:deep:1 ", "\x00", "quiz:1:0:a:" + "x" * 5000]


def test_forged_ids_are_invalid_actions_and_nothing_else():
    for action_id in FORGED:
        with pytest.raises(InvalidAction):
            parse(action_id)
    rng = random.Random(SEED)
    alphabet = "lesonquizvrfgtaphdckmL:0123456789²٣-_ |#\u200b\ud83d"
    valid_ids = [random_action(rng).format() for _ in range(50)]
    for _ in range(3000):
        if rng.random() < 0.5:  # a valid id, mutated
            chars = list(rng.choice(valid_ids))
            for _ in range(rng.randrange(1, 4)):
                at = rng.randrange(len(chars) + 1)
                match rng.randrange(3):
                    case 0:
                        chars.insert(at, rng.choice(alphabet))
                    case 1 if chars:
                        del chars[min(at, len(chars) - 1)]
                    case _ if chars:
                        chars[min(at, len(chars) - 1)] = rng.choice(alphabet)
            candidate = "".join(chars)
        else:
            candidate = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        try:
            action = parse(candidate)
        except InvalidAction:
            continue
        assert action.format() == candidate  # whatever is accepted is exactly an id the companion writes
    for junk in (None, 7, b"quiz:1:0:a:B", ["lesson:continue"]):
        with pytest.raises(InvalidAction):
            parse(junk)


def test_the_questions_adapters_may_ask():
    assert actions.needs_instructor_role("live:3:skip") and actions.needs_instructor_role("progress:reset:9")
    assert not actions.needs_instructor_role("live:3:0:a:B") and not actions.needs_instructor_role("live:x:skip")


def test_every_listed_command_has_a_reader():
    assert all(canonical(c.name) == c.name for c in COMMANDS)
    assert canonical("prev") == "next" and canonical("frobnicate") is None


# ---- the core decides placement ----------------------------------------------------------------

@pytest.fixture
async def core(database):
    companion = await Companion.create(Settings(database=database, content_dir=DEFAULT_CONTENT_DIR), fuzzing=False)
    yield companion
    await companion.close()


async def test_the_core_says_which_replies_replace_the_pressed_message(core):
    ann = Actor("test", "ann", "Ann", "g1", "c1")
    page = await core.lesson(ann, 7, "deep")
    assert page.ephemeral and not page.replaces  # a command's answer is a new message, for Ann alone
    turned = await core.handle_action(ann, next(b.action for b in page.buttons if b.label.startswith("Next")))
    assert turned.kind == "lesson" and turned.replaces
    switched = await core.handle_action(ann, next(b.action for b in page.buttons if b.label.startswith("Switch")))
    assert switched.kind == "lesson" and switched.replaces
    missing = await core.handle_action(ann, actions.LessonPage(99, "deep", 1).format())
    assert missing.kind == "error" and not missing.replaces
    forged = await core.handle_action(ann, "lesson:7:deep:²")
    assert forged.kind == "error" and not forged.replaces and actions.NO_LONGER_VALID in forged.text
    started = await core.quiz(ann, 7, 2)
    hint = next((b.action for b in started.buttons if b.action.endswith(":hint")), None)
    if hint is not None:
        assert not (await core.handle_action(ann, hint)).replaces  # an aside
    attempt = parse(started.choices.action if started.choices else started.text_input.action if started.text_input else started.buttons[0].action)
    row, question = await quiz.current_question(core.ctx, ann)
    assert row["id"] == attempt.attempt
    right = question.typed_answer(row["seed"])
    step = await core.handle_action(ann, actions.QuizAnswer(attempt.attempt, 0).format(), typed=right)
    assert step.kind == "question" and step.replaces
    stale = await core.handle_action(ann, actions.QuizAnswer(attempt.attempt, 0, "B").format())
    assert stale.kind == "error" and not stale.replaces
    board = await core.leaderboard(ann)
    assert not board.ephemeral and board.kind == "leaderboard"  # the channel's

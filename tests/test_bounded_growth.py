"""Bounded growth: attempts are pruned without losing what progress, the leaderboard and reviews
need; row-creating commands are rate-limited per user; ended live sessions' message rows go.

Real SQLite files, the real chapter-7 content, and a ManualClock for every rate limit."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.core import live_messages, quiz
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, ConfigError, Settings, load_settings
from bot.core.questions import LETTERS
from bot.core.quiz import KEEP_ABANDONED, KEEP_FINISHED
from bot.core.ratelimit import MAX_BUCKETS, RateLimiter
from bot.core.users import Actor
from bot.core.command_line import handle_text

CHAPTER = 7


def wrong_answer(question, seed: int) -> str:
    if question.type == "single":
        return LETTERS[(question.correct[0] + 1) % len(question.choices)]
    if question.type == "multiple":
        return LETTERS[next(i for i in range(len(question.choices)) if i not in question.correct)]
    if question.type == "true_false":
        return "false" if question.truth else "true"
    if question.type == "short":
        return "banana bread"
    shown = question.display_order(seed)
    return " ".join(LETTERS[p] for p in range(len(shown)))


@pytest.fixture
def settings(database) -> Settings:
    return Settings(database=database, content_dir=DEFAULT_CONTENT_DIR,
                    live_question_seconds=20, live_reveal_seconds=0)


@pytest.fixture
async def core(settings):
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()


def student(name: str, guild: str | None = "guild-1") -> Actor:
    return Actor("test", name, name.title(), guild=guild, channel="general" if guild else None)


async def open_attempt(core: Companion, user_id: str) -> dict:
    attempt, _ = await quiz.current_question(core.ctx, student(user_id))
    return attempt


async def answer_all(core: Companion, actor: Actor, right: int) -> None:
    """Answer the open attempt to its end: the first `right` answers correct, the rest wrong."""
    attempt = await open_attempt(core, actor.user_id)
    keys = json.loads(attempt["question_keys"])
    for position, key in enumerate(keys):
        question = core.course.question(key)
        text = question.typed_answer(attempt["seed"]) if position < right else wrong_answer(question, attempt["seed"])
        reply = await core.handle_action(actor, f"quiz:{attempt['id']}:{position}:a:{text}")
        assert reply.kind != "error", reply.text


async def attempts_of(core: Companion, user_id: str) -> list[dict]:
    return await core.store.run(lambda conn: [dict(r) for r in conn.execute(
        "SELECT t.* FROM quiz_attempts t JOIN users u ON u.id = t.user_pk WHERE u.user_id = ? ORDER BY t.id", (user_id,))])


async def test_5000_quizzes_leave_a_bounded_number_of_rows_and_a_bounded_export(core):
    ann, bob = student("ann"), student("bob")
    clock = core.clock
    # A perfect 5-question quiz first: the best score, which passes, and must survive everything below.
    assert (await core.quiz(ann, CHAPTER, 5)).kind != "error"
    await answer_all(core, ann, right=5)
    # And a missed question, which joins the review queue.
    await core.quiz(ann, CHAPTER, 5)
    await answer_all(core, ann, right=3)
    cards_before = await core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM review_cards").fetchone()[0])
    assert cards_before >= 1
    await core.quiz(bob, CHAPTER, 5)
    await answer_all(core, bob, right=4)  # 4 correct: ann leads with 5

    finished = 2
    sizes = []
    for n in range(5000):
        clock.advance(3)  # the pace the default limit (20 a minute) allows, for more than four hours
        reply = await handle_text(core, ann, f"/quiz {CHAPTER} 50")
        assert reply.kind != "error", reply.text
        if n % 100 == 0:  # now and then one answer, and the quiz left
            attempt = await open_attempt(core, "ann")
            question = core.course.question(json.loads(attempt["question_keys"])[0])
            await core.handle_action(ann, f"quiz:{attempt['id']}:0:a:{wrong_answer(question, attempt['seed'])}")
        if n % 200 == 0:  # and a short quiz taken to its end, never better than the first
            clock.advance(3)
            assert (await core.quiz(ann, CHAPTER, 5)).kind != "error"
            await answer_all(core, ann, right=2)
            finished += 1
        if n in (2499, 4999):
            export = await handle_text(core, ann, "/my-data")
            sizes.append(len(export.files[0].content))

    attempts = await attempts_of(core, "ann")
    by_status = {s: sum(a["status"] == s for a in attempts) for s in ("open", "abandoned", "finished")}
    assert by_status["open"] == 1
    assert by_status["abandoned"] <= KEEP_ABANDONED
    assert by_status["finished"] <= KEEP_FINISHED + 2  # the latest, plus each quiz length's best
    answers = await core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM quiz_answers").fetchone()[0])
    assert answers <= (KEEP_ABANDONED + KEEP_FINISHED + 2) * 50
    # The export stopped growing: as big after 5,000 quizzes as after 2,500, and small.
    assert sizes[1] <= sizes[0] * 1.1 and sizes[1] < 100_000, sizes

    # Everything progress, the leaderboard and the review queue read survived.
    progress = await core.progress(ann)
    assert f"best 5/5 · {finished} attempts · passed" in progress.text, progress.text
    board = await core.leaderboard(ann)
    assert board.text.index("Ann") < board.text.index("Bob")
    assert await core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM review_cards").fetchone()[0]) >= cards_before


async def test_a_new_quiz_deletes_unanswered_attempts_and_keeps_the_best(core):
    ann = student("ann")
    await core.quiz(ann, CHAPTER, 3)
    first = await open_attempt(core, "ann")
    await core.quiz(ann, CHAPTER, 3)
    # The unanswered attempt is gone, not kept as "abandoned"; its old buttons say it ended.
    assert [a["id"] for a in await attempts_of(core, "ann")] == [first["id"] + 1]
    question = core.course.question(json.loads(first["question_keys"])[0])
    stale = await core.handle_action(ann, f"quiz:{first['id']}:0:a:{question.typed_answer(first['seed'])}")
    assert stale.kind == "error" and "already ended" in stale.text

    # A 3-question perfect quiz and a perfect 5-question one: both bests are kept (different lengths),
    # and a dozen worse ones afterwards are trimmed to the latest KEEP_FINISHED.
    await answer_all(core, ann, right=3)
    await core.quiz(ann, CHAPTER, 5)
    await answer_all(core, ann, right=5)
    for _ in range(KEEP_FINISHED + 5):
        core.clock.advance(60)
        await core.quiz(ann, CHAPTER, 5)
        await answer_all(core, ann, right=1)
    core.clock.advance(60)
    await core.quiz(ann, CHAPTER, 5)  # pruning happens when an attempt starts
    finished = [a for a in await attempts_of(core, "ann") if a["status"] == "finished"]
    assert len(finished) == KEEP_FINISHED + 2
    assert {(a["correct"], len(json.loads(a["question_keys"]))) for a in finished} >= {(3, 3), (5, 5)}
    # The attempts pruned are still counted, by the latest finished one.
    assert sum(1 + a["pruned_before"] for a in finished) == KEEP_FINISHED + 7
    assert f"best 5/5 · {KEEP_FINISHED + 7} attempts · passed" in (await core.progress(ann)).text


async def test_only_the_latest_abandoned_attempts_with_answers_are_kept(core):
    ann = student("ann")
    ids = []
    for _ in range(KEEP_ABANDONED + 4):
        core.clock.advance(60)
        await core.quiz(ann, CHAPTER, 5)
        attempt = await open_attempt(core, "ann")
        ids.append(attempt["id"])
        question = core.course.question(json.loads(attempt["question_keys"])[0])
        await core.handle_action(ann, f"quiz:{attempt['id']}:0:a:{question.typed_answer(attempt['seed'])}")
    core.clock.advance(60)
    await core.quiz(ann, CHAPTER, 5)
    kept = [a["id"] for a in await attempts_of(core, "ann") if a["status"] == "abandoned"]
    assert kept == ids[-KEEP_ABANDONED:]


async def test_row_creating_commands_are_rate_limited_per_user_and_command(settings):
    clock = ManualClock()
    core = await Companion.create(replace(settings, start_rate=(3, 30.0), chat_rate=(2, 10.0)), clock=clock, fuzzing=False)
    try:
        ann, bob = student("ann"), student("bob")
        for _ in range(3):
            assert (await handle_text(core, ann, "/quiz 7 2")).kind != "error"
        refused = await handle_text(core, ann, "/quiz 7 2")
        assert refused.kind == "error" and refused.ephemeral
        assert refused.text == "You're starting quizzes very fast — try again in 10 seconds."
        attempts = len(await attempts_of(core, "ann"))
        assert (await core.handle_action(ann, "quiz:start:7")).text == refused.text  # the "Try again" button too
        assert len(await attempts_of(core, "ann")) == attempts  # a refusal creates nothing
        # Someone else, and another command, have their own allowance.
        assert (await handle_text(core, bob, "/quiz 7 2")).kind != "error"
        assert (await handle_text(core, ann, "/my-data")).kind == "export"
        assert (await handle_text(core, ann, "/live 7 1")).kind == "live"
        assert (await handle_text(core, ann, "/chat hello")).kind != "error"
        assert (await handle_text(core, ann, "hi again")).kind != "error"
        chat = await handle_text(core, ann, "and again")
        assert chat.text == "You're sending messages very fast — try again in 5 seconds."
        clock.advance(9)
        assert "try again in 1 second." in (await handle_text(core, ann, "/quiz 7 2")).text
        clock.advance(1)
        assert (await handle_text(core, ann, "/quiz 7 2")).kind != "error"
        assert "very fast" in (await handle_text(core, ann, "/quiz 7 2")).text
        clock.advance(30)  # a whole window later: a full allowance again
        for _ in range(3):
            assert (await handle_text(core, ann, "/quiz 7 2")).kind != "error"
        for _ in range(3):
            await handle_text(core, ann, "/compare hello")
            await handle_text(core, ann, "/review")
        assert "asking for comparisons very fast" in (await handle_text(core, ann, "/compare hello")).text
        assert "starting reviews very fast" in (await handle_text(core, ann, "/review")).text
        await core.live_stop(ann)
        for _ in range(3):
            assert (await handle_text(core, ann, "/live 7 1")).kind == "live"
            await core.live_stop(ann)
        assert "starting live quizzes very fast" in (await handle_text(core, ann, "/live 7 1")).text
        for _ in range(3):
            assert (await handle_text(core, ann, "/my-data")).kind == "export"
        assert "exporting your data very fast" in (await handle_text(core, ann, "/my-data")).text
    finally:
        await core.close()


async def test_rate_limits_can_be_turned_off(settings):
    core = await Companion.create(replace(settings, start_rate=None), clock=ManualClock(), fuzzing=False)
    try:
        for _ in range(50):
            assert (await handle_text(core, student("ann"), "/quiz 7 1")).kind != "error"
    finally:
        await core.close()


def test_rate_limit_settings():
    assert load_settings({}, dotenv=False).start_rate == (20, 60.0)
    assert load_settings({}, dotenv=False).chat_rate == (30, 60.0)
    assert load_settings({"COMPANION_RATE_LIMIT": "5/10"}, dotenv=False).start_rate == (5, 10.0)
    assert load_settings({"COMPANION_CHAT_RATE_LIMIT": "off"}, dotenv=False).chat_rate is None
    assert load_settings({"COMPANION_RATE_LIMIT": "0"}, dotenv=False).start_rate is None
    for bad in ("5", "five/10", "5/0", "0/10", "5/-1"):
        with pytest.raises(ConfigError, match="COMPANION_RATE_LIMIT"):
            load_settings({"COMPANION_RATE_LIMIT": bad}, dotenv=False)
    with pytest.raises(ConfigError, match="COMPANION_LIVE_POLL_SECONDS"):
        load_settings({"COMPANION_LIVE_POLL_SECONDS": "0"}, dotenv=False)


def test_the_limiter_forgets_idle_users_instead_of_growing():
    clock = ManualClock()
    limiter = RateLimiter(clock)
    for n in range(MAX_BUCKETS + 500):
        assert limiter.check("quiz", "test", f"u{n}", (2, 60.0)) is None
        if n % 1000 == 0:
            clock.advance(31)  # everyone before is full again by the time the table is full
    assert len(limiter._buckets) <= MAX_BUCKETS
    # A user still inside their window is remembered.
    assert limiter.check("quiz", "test", "busy", (1, 60.0)) is None
    assert limiter.check("quiz", "test", "busy", (1, 60.0)) is not None


async def test_an_ended_sessions_message_rows_are_deleted_after_its_last_events(core):
    """live_messages as an adapter uses it: a row per question's message, found again for the
    reveal, deleted once the session has ended."""
    host = student("host")
    seen_at_reveal = []

    async def adapter(event):
        if event.kind == "question":
            await live_messages.record(core.store, live_messages.LiveMessage(
                event.session_id, event.question_index, "test", "C1", f"{event.question_index}.0"))
        elif event.kind == "closed":
            shown = await live_messages.find(core.store, "test", event.session_id, event.question_index)
            seen_at_reveal.append(shown.message_id)

    core.live.subscribe(adapter)
    count = lambda c: c.execute("SELECT COUNT(*) FROM live_messages").fetchone()[0]  # noqa: E731
    await handle_text(core, host, "/live 7 2")
    core.clock.advance(21)
    await core.live.advance_due()
    assert await core.store.run(count) == 2
    core.clock.advance(21)
    await core.live.advance_due()  # the last question closes (its message still there) and the session ends
    assert seen_at_reveal == ["0.0", "1.0"]
    assert await core.store.run(count) == 0
    # Stopped by hand, too.
    core.clock.advance(60)
    await handle_text(core, host, "/live 7 3")
    assert await core.store.run(count) == 1
    await handle_text(core, host, "/live stop")
    assert await core.store.run(count) == 0


async def test_message_rows_left_by_sessions_that_ended_elsewhere_are_swept_at_start(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    try:
        await handle_text(core, student("host"), "/live 7 2")
        await handle_text(core, student("host", guild="guild-2"), "/live 7 2")

        # As the adapter of a process that then died would have left them.
        for session_id in await core.store.run(lambda c: [r[0] for r in c.execute("SELECT id FROM live_sessions")]):
            await live_messages.record(core.store, live_messages.LiveMessage(session_id, 0, "test", "C", "1.0"))
        await core.store.run(lambda c: c.execute("UPDATE live_sessions SET phase = 'ended', phase_ends_at = NULL WHERE guild = 'guild-1'"))
    finally:
        await core.close()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    try:
        await core.live.advance_due()
        left = await core.store.run(lambda c: c.execute(
            "SELECT s.guild FROM live_messages m JOIN live_sessions s ON s.id = m.session_id").fetchall())
        assert [r[0] for r in left] == ["guild-2"]  # the running session's message stays
    finally:
        await core.close()

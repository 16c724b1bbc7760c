"""Live quiz rules (who may start, one per channel, stale sessions), streaks, per-guild leaderboards, reviews."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.core import quiz
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.live import points_for
from bot.core.progress import streak
from bot.core.users import Actor
from bot.core.command_line import handle_text


@pytest.fixture
def settings(database) -> Settings:
    return Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=30, live_reveal_seconds=0)


@pytest.fixture
async def companion(settings):
    core = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield core
    await core.close()


def person(name: str, guild: str | None = "g1", channel: str = "quiz", instructor: bool = False) -> Actor:
    return Actor("test", name, name.title(), guild, channel if guild else None, is_instructor=instructor)


def test_points_formula():
    assert points_for(True, 0, 30) == 1000
    assert points_for(True, 15, 30) == 750
    assert points_for(True, 30, 30) == 500
    assert points_for(True, 99, 30) == 500
    assert points_for(False, 1, 30) == 0


async def test_who_may_start_and_where(settings):
    core = await Companion.create(replace(settings, live_starters="instructors"), clock=ManualClock(), fuzzing=False)
    try:
        refused = await handle_text(core, person("ann"), "/live 7")
        assert refused.kind == "error" and "instructors" in refused.text
        assert (await handle_text(core, person("teach", instructor=True), "/live 7 2")).kind == "live"
        again = await handle_text(core, person("teach", instructor=True), "/live 7")
        assert "already running" in again.text
        elsewhere = await handle_text(core, person("teach", channel="other", instructor=True), "/live 7 1")
        assert elsewhere.kind == "live"  # another channel may have its own
        dm = await handle_text(core, person("teach", guild=None, instructor=True), "/live 7")
        assert dm.kind == "error" and "channel" in dm.text
    finally:
        await core.close()


async def test_a_session_left_for_too_long_is_closed_cleanly_at_restart(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    await handle_text(core, person("host"), "/live 7 3")
    session = await core.store.run(lambda c: dict(c.execute("SELECT * FROM live_sessions").fetchone()))
    question = core.course.question(json.loads(session["question_keys"])[0])
    await core.handle_action(person("ann"), f"live:{session['id']}:0:a:{question.typed_answer(session['seed'])}")
    await core.close()

    clock.advance(hours=2)  # the companion was down
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    events = []

    async def collect(event):
        events.append(event)

    core.live.subscribe(collect)
    try:
        await core.live.advance_due()
        assert [e.kind for e in events] == ["closed", "ended"]
        assert "offline" in events[-1].reply.text and "Ann" in events[-1].reply.text
        reason = await core.store.run(lambda c: c.execute("SELECT end_reason FROM live_sessions").fetchone()[0])
        assert reason == "interrupted"
        assert (await handle_text(core, person("host"), "/live 7 1")).kind == "live"  # the channel is free again
    finally:
        await core.close()


async def test_without_a_reveal_pause_the_next_question_opens_at_once(companion):
    events = []

    async def collect(event):
        events.append(event.kind)

    companion.live.subscribe(collect)
    await handle_text(companion, person("host"), "/live 7 2")
    companion.clock.advance(seconds=30)
    await companion.live.advance_due()
    assert events == ["question", "closed", "question"]
    await handle_text(companion, person("host"), "/live skip")
    assert events[-2:] == ["closed", "ended"]


def test_streak_counts_consecutive_days():
    from datetime import date

    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-05"]
    assert streak(days, date(2026, 1, 5)) == 1
    assert streak(days, date(2026, 1, 4)) == 3  # yesterday counts until today is missed
    assert streak(days, date(2026, 1, 7)) == 0


async def test_streak_and_leaderboard_per_guild(companion):
    ann, bob, cat = person("ann"), person("bob"), person("cat", guild="g2")
    for day in range(3):
        await companion.lesson(ann, 7)
        companion.clock.advance(days=1)
    assert "Streak: 4 days" in (await companion.progress(ann)).text  # three days of reading, and today
    for who in (ann, bob, cat):
        await handle_text(companion, who, "/quiz 7 3")
        for _ in range(3):
            attempt, question = await quiz.current_question(companion.ctx, who)
            answer = question.typed_answer(attempt["seed"]) if who is not bob else "zzz"
            await handle_text(companion, who, "/answer " + answer)
    board = (await companion.leaderboard(ann)).text
    assert "**Ann** — 300 pts" in board and "Cat" not in board
    assert "Bob" not in board  # no points, no row
    assert "**Cat** — 300 pts" in (await companion.leaderboard(cat)).text
    assert "server or workspace" in (await companion.leaderboard(person("ann", guild=None))).text


async def test_review_moves_a_card_later_when_answered_right(companion):
    ann = person("ann")
    await handle_text(companion, ann, "/quiz 7 1")
    await handle_text(companion, ann, "/answer zzzz")  # wrong, or unreadable: try until it is recorded wrong
    cards = await companion.store.run(lambda c: c.execute("SELECT question_key, due FROM review_cards").fetchall())
    if not cards:  # "zzzz" could not be read for this question type: answer wrongly in its own terms
        attempt, question = await quiz.current_question(companion.ctx, ann)
        wrong = {"single": lambda: "A" if question.correct != (0,) else "B", "true_false": lambda: "false" if question.truth else "true",
                 "multiple": lambda: "A B C D", "ordering": lambda: " ".join("ABCDEFGH"[: len(question.items)])}[question.type]()
        await handle_text(companion, ann, "/answer " + wrong)
        cards = await companion.store.run(lambda c: c.execute("SELECT question_key, due FROM review_cards").fetchall())
    (key, due_before), = cards
    companion.clock.advance(hours=1)
    review = await companion.review(ann)
    assert "1 question due" in review.text
    attempt = await companion.store.run(lambda c: dict(c.execute("SELECT * FROM quiz_attempts WHERE kind = 'review'").fetchone()))
    reply = await handle_text(companion, ann, "/answer " + companion.course.question(key).typed_answer(attempt["seed"]))
    assert "Correct" in reply.text and "Review finished: 1/1" in reply.text
    due_after = await companion.store.run(lambda c: c.execute("SELECT due FROM review_cards").fetchone()[0])
    assert due_after > due_before
    assert "Nothing is due" in (await companion.review(ann)).text

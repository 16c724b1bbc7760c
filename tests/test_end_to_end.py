"""End to end through the Companion facade, on the real chapter-7 content and a real SQLite file.

These walk the paths a student and an instructor take: read, quiz to the end, complete the
course, play a live quiz with a crowd, restart in the middle, export and forget.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core import quiz
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.questions import LETTERS
from bot.core.reading import Position
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
    return " ".join(LETTERS[p] for p in range(len(shown)))  # the shuffled order is never the right one


@pytest.fixture
def settings(database) -> Settings:
    return Settings(database=database, content_dir=DEFAULT_CONTENT_DIR,
                    live_question_seconds=20, live_reveal_seconds=5)


@pytest.fixture
async def companion(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    yield core
    await core.close()


def student(name: str, guild: str | None = "guild-1", instructor: bool = False) -> Actor:
    return Actor("test", name, name.title(), guild=guild, channel="general" if guild else None, is_instructor=instructor)


async def current_question(core: Companion, user_id: str):
    return await quiz.current_question(core.ctx, student(user_id))


async def test_lesson_pages_remember_position_and_depth(companion):
    ann = student("ann")
    assert await companion.last_position(ann) is None  # never read: nothing to continue
    first = await companion.lesson(ann, CHAPTER, "deep")
    assert first.page.number == 1 and first.page.total >= 2
    nxt = next(b for b in first.buttons if b.label.startswith("Next"))
    second = await companion.handle_action(ann, nxt.action)
    assert second.page.number == 2
    # No arguments: where Ann left off, at her depth.
    again = await handle_text(companion, ann, "/lesson")
    assert again.page.number == 2 and "deep depth" in again.text
    assert await companion.last_position(ann) == Position(CHAPTER, "deep", 2)  # what Slack's App Home offers to continue
    # Switching depth keeps her in the same part of the lesson.
    switch = next(b for b in again.buttons if b.label.startswith("Switch to shallow"))
    shallow = await companion.handle_action(ann, switch.action)
    assert "shallow depth" in shallow.text
    assert any(b.action == "chat:open" for b in shallow.buttons), "the chat panel callout is an action"
    out_of_range = await handle_text(companion, ann, "/lesson 7 deep 99")
    assert out_of_range.kind == "error" and "1–" in out_of_range.text
    bad = await handle_text(companion, ann, "/lesson 7 medium")
    assert bad.kind == "error" and "Usage" in bad.text


async def test_solo_quiz_to_the_end_then_course_complete(companion):
    ann = student("ann")
    start = await handle_text(companion, ann, "/quiz 7 6")
    assert start.ephemeral and "Question 1 of 6" in start.text
    # A malformed answer is corrected and not counted.
    attempt, question = await current_question(companion, "ann")
    if question.type in ("single", "multiple", "ordering"):
        bad = await handle_text(companion, ann, "/answer Z")
        assert bad.kind == "error"
        assert (await current_question(companion, "ann"))[0]["position"] == 0
    for _ in range(6):
        attempt, question = await current_question(companion, "ann")
        reply = await handle_text(companion, ann, "/answer " + question.typed_answer(attempt["seed"]))
        assert "Correct" in reply.text, (question.id, reply.text)
        assert question.explanation in reply.text
    assert "Quiz finished: 6/6" in reply.text and "Passed" in reply.text
    assert "complete the chapter" in reply.text  # the lesson is not read yet
    # Reading the whole lesson at one depth completes the chapter and the course.
    pages = companion.course.chapter(CHAPTER).lesson.pages["shallow"]
    for number in range(1, len(pages) + 1):
        page = await companion.lesson(ann, CHAPTER, "shallow", number)
    assert "You have completed" in page.text
    progress = await companion.progress(ann)
    assert "1/1 chapters complete" in progress.text and "passed" in progress.text


async def passed_quiz(companion, actor) -> str:
    """Take a 6-question chapter quiz and answer every question right: the last reply's text."""
    await handle_text(companion, actor, "/quiz 7 6")
    for _ in range(6):
        attempt, question = await current_question(companion, actor.user_id)
        reply = await handle_text(companion, actor, "/answer " + question.typed_answer(attempt["seed"]))
    assert "Quiz finished: 6/6" in reply.text
    return reply.text


async def test_the_course_is_completed_by_the_quiz_that_completes_it_and_never_again(companion):
    """The lesson read first: the passing quiz that completes the course says so (the student's
    rows read once, with the attempt and without it); a second passing quiz does not."""
    ann = student("ann")
    for number in range(1, len(companion.course.chapter(CHAPTER).lesson.pages["shallow"]) + 1):
        assert "You have completed" not in (await companion.lesson(ann, CHAPTER, "shallow", number)).text
    assert "You have completed" in await passed_quiz(companion, ann)
    assert "You have completed" not in await passed_quiz(companion, ann)


async def test_the_course_is_completed_by_the_one_page_that_completes_it_in_any_order(companion):
    """The lesson page reads the student's pages once, with the page just read: the completion
    is shown on the first read of the page that makes the course complete (here not the last
    page: the pages are read last first), never on an earlier page, a page read again, or a
    page of the other depth read afterwards."""
    ann = student("ann")
    await handle_text(companion, ann, "/quiz 7 6")
    for _ in range(6):
        attempt, question = await current_question(companion, "ann")
        await handle_text(companion, ann, "/answer " + question.typed_answer(attempt["seed"]))
    pages = companion.course.chapter(CHAPTER).lesson.pages["deep"]
    order = list(range(len(pages), 0, -1))  # the last page first, the first page last
    shown = [("You have completed" in (await companion.lesson(ann, CHAPTER, "deep", number)).text) for number in order]
    assert shown == [False] * (len(pages) - 1) + [True]
    again = await companion.lesson(ann, CHAPTER, "deep", 1)
    other = await companion.lesson(ann, CHAPTER, "shallow", 1)
    assert "You have completed" not in again.text and "You have completed" not in other.text
    assert "1/1 chapters complete" in (await companion.progress(ann)).text


async def test_missed_questions_come_back_for_review(companion):
    ann = student("ann")
    await handle_text(companion, ann, "/quiz 7 2")
    for _ in range(2):
        attempt, question = await current_question(companion, "ann")
        reply = await handle_text(companion, ann, "/answer " + wrong_answer(question, attempt["seed"]))
        assert "Not quite" in reply.text
    not_yet = await companion.review(ann)
    assert "Nothing is due" in not_yet.text
    companion.clock.advance(days=1)
    review = await companion.review(ann)
    assert "Review" in review.text and "2 questions due" in review.text


async def test_live_quiz_with_a_crowd_counts_each_answer_once_and_survives_a_restart(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    events = []

    async def collect(event):
        events.append(event)

    core.live.subscribe(collect)
    host = student("host")
    await handle_text(core, host, "/live 7 3")
    question_event = events[-1]
    assert question_event.kind == "question"
    players = [student(f"p{i:02d}") for i in range(60)]
    session, question = await core.live.current_question(host)
    seed = session["seed"]
    prefix = f"live:{question_event.session_id}:0:a:"
    answers = [prefix + (question.typed_answer(seed) if i % 3 else wrong_answer(question, seed)) for i in range(60)]
    clock.advance(seconds=4)
    # Everyone clicks at the same instant, and the first ten click twice.
    replies = await asyncio.gather(*[core.handle_action(p, a) for p, a in zip(players + players[:10], answers + answers[:10])])
    recorded = sum("recorded" in r.text for r in replies)
    twice = sum("already answered" in r.text for r in replies)
    assert (recorded, twice) == (60, 10)
    count = await core.store.run(lambda c: c.execute("SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers").fetchone())
    assert tuple(count) == (60, 60)

    # Restart in the middle of the question: a new process on the same database file.
    await core.close()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    core.live.subscribe(collect)
    late = student("late")
    reply = await core.handle_action(late, prefix + question.typed_answer(seed))
    assert "recorded" in reply.text
    again = await core.handle_action(players[0], answers[0])
    assert "already answered" in again.text

    clock.advance(seconds=20)
    await core.live.advance_due()
    closed = events[-1]
    assert closed.kind == "closed"
    assert "41 of 61 answers correct" in closed.reply.text  # 40 right in the crowd + the late one
    # Points: correct at 4 s of 20 → round(1000 × (1 − 4/20/2)) = 900.
    points = await core.store.run(lambda c: c.execute("SELECT DISTINCT points FROM live_answers WHERE correct = 1 AND answered_at < ?",
                                                      ("9999",)).fetchall())
    assert {p[0] for p in points} <= {900, 1000} and (900,) in [tuple(p) for p in points]
    refused = await core.handle_action(players[20], answers[20])
    assert "closed" in refused.text

    # A student may not stop someone else's quiz; the host may.
    assert "Only the person" in (await handle_text(core, players[1], "/live stop")).text
    await handle_text(core, host, "/live stop")
    assert events[-1].kind == "ended" and "Final leaderboard" in events[-1].reply.text
    await core.close()


async def test_export_and_forget_me_remove_every_row(companion):
    ann, bob = student("ann"), student("bob")
    await companion.lesson(ann, CHAPTER, "deep")
    await handle_text(companion, ann, "/quiz 7 2")
    await handle_text(companion, bob, "/quiz 7 2")
    export = await handle_text(companion, ann, "/my-data")
    data = json.loads(export.files[0].content)
    assert data["user"]["user_id"] == "ann" and data["pages_read"] and data["quiz_attempts"]
    confirm = await handle_text(companion, ann, "/forget-me")
    assert any(b.action == "forget:confirm" for b in confirm.buttons)
    await companion.handle_action(ann, "forget:confirm")

    schema = await companion.store.tables()

    def rows_about(conn, user_id):
        found = 0
        for table, columns in schema.items():
            for column in ("user_pk", "starter_pk"):
                if column in columns:
                    found += conn.execute(
                        f"SELECT COUNT(*) FROM {table} WHERE {column} NOT IN (SELECT id FROM users)"
                        f" OR {column} IN (SELECT id FROM users WHERE user_id = ?)", (user_id,)).fetchone()[0]
        return found + conn.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (user_id,)).fetchone()[0]

    assert await companion.store.run(rows_about, "ann") == 0
    assert await companion.store.run(rows_about, "bob") > 0


async def test_instructor_commands_are_checked_on_the_server(companion):
    refused = await handle_text(companion, student("ann"), "/course stats")
    assert refused.kind == "error" and "instructor" in refused.text
    allowed = await handle_text(companion, student("teacher", instructor=True), "/course stats")
    assert "Class statistics" in allowed.text


async def test_user_text_never_forms_a_mention(companion):
    mallory = Actor("test", "m", "@everyone <!channel>", guild="guild-1", channel="general")
    await handle_text(companion, mallory, "/quiz 7 1")
    attempt, question = await current_question(companion, "m")
    await handle_text(companion, mallory, "/answer " + question.typed_answer(attempt["seed"]))
    board = await companion.leaderboard(mallory)
    assert "@everyone" not in board.text and "<!channel>" not in board.text
    unknown = await handle_text(companion, mallory, "/@everyone")
    assert "@everyone" not in unknown.text


async def test_the_live_loop_moves_sessions_on_the_injected_clock(companion):
    events = []

    async def collect(event):
        events.append(event.kind)

    companion.live.subscribe(collect)
    loop_task = asyncio.create_task(companion.live.run())
    try:
        await handle_text(companion, student("host"), "/live 7 2")
        for seconds, expected in ((20, ["question", "closed"]), (5, ["question", "closed", "question"]),
                                  (20, ["question", "closed", "question", "closed", "ended"])):
            companion.clock.advance(seconds=seconds)
            for _ in range(400):  # the loop reads the database on the store's thread: give it a moment
                if events == expected:
                    break
                await asyncio.sleep(0.005)
            assert events == expected
        assert "No live quiz is running" in (await handle_text(companion, student("host"), "/live status")).text
    finally:
        loop_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop_task


async def test_a_restart_mid_quiz_loses_nothing(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    ann = student("ann")
    await handle_text(core, ann, "/quiz 7 4")
    attempt, question = await current_question(core, "ann")
    first_answer = question.typed_answer(attempt["seed"])
    await handle_text(core, ann, "/answer " + first_answer)
    stale_button = f"quiz:{attempt['id']}:0:a:{first_answer}"  # the first question's answer, pressed again
    order_before = json.loads(attempt["question_keys"])
    await core.close()

    core = await Companion.create(settings, clock=clock, fuzzing=False)
    try:
        resumed, question = await current_question(core, "ann")
        assert resumed["id"] == attempt["id"] and resumed["position"] == 1 and resumed["correct"] == 1
        assert json.loads(resumed["question_keys"]) == order_before
        for _ in range(3):
            resumed, question = await current_question(core, "ann")
            reply = await handle_text(core, ann, "/answer " + question.typed_answer(resumed["seed"]))
        assert "Quiz finished: 4/4" in reply.text
        # a button from before the restart, for a question already answered: nothing is counted twice
        assert "already" in (await core.handle_action(ann, stale_button)).text
        answers = await core.store.run(lambda conn: conn.execute(
            "SELECT COUNT(*), SUM(correct) FROM quiz_answers WHERE attempt_id = ?", (attempt["id"],)).fetchone())
        assert tuple(answers) == (4, 4)
    finally:
        await core.close()


async def test_instructor_reload_keeps_good_content_and_reset_clears_a_student(tmp_path, settings):
    import shutil
    from dataclasses import replace

    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    core = await Companion.create(replace(settings, content_dir=content), clock=ManualClock(), fuzzing=False)
    teacher = student("teacher", instructor=True)
    try:
        await core.lesson(student("ann"), CHAPTER, "deep")
        asked = await handle_text(core, teacher, "/course reset ann")
        assert "Reset the progress of **Ann**" in asked.text and asked.kind == "confirm"
        assert "1/3 pages" in (await core.progress(student("ann"))).text  # nothing happens before the confirmation
        confirm = next(b for b in asked.buttons if b.style == "danger")
        assert "Reset the progress of **Ann**" in (await core.handle_action(teacher, confirm.action)).text
        assert "0/3 pages" in (await core.progress(student("ann"))).text
        quiz = content / "ch07-fine-tuning-to-follow-instructions" / "quiz.yaml"
        quiz.write_text(quiz.read_text(encoding="utf-8").replace("answer: 2", "answer: 9", 1), encoding="utf-8")
        refused = await handle_text(core, teacher, "/course reload")
        assert "stays loaded" in refused.text and "quiz.yaml:" in refused.text and "out of range" in refused.text
        assert len(core.course.chapter(CHAPTER).questions) >= 24  # the old course is still there
        assert "instructor" in (await handle_text(core, student("ann"), "/course reload")).text
    finally:
        await core.close()


async def test_the_export_covers_every_table_about_a_user(companion):
    from bot.core.privacy import USER_TABLES

    def tables_with_user_columns(schema):
        return {table for table, columns in schema.items() if set(columns) & {"user_pk", "starter_pk"}}

    covered = {sql.split(" FROM ")[1].split()[0] for sql in USER_TABLES.values()}
    assert tables_with_user_columns(await companion.store.tables()) <= covered

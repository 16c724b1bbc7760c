"""A person's own operations (a lesson page, a quiz answer or hint) at READ COMMITTED under the
person's row lock (`users.OWN_ROWS`, `touch_user`): one person's transactions run one after
another; different people's never fail each other. PostgreSQL only where transactions are held
open side by side (SQLite writes one at a time); the outcomes are checked on both engines."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from test_answer_batch import count_retries, hold_open, side_by_side, until, waiting_for_a_lock

from bot.core import instructor, quiz, reading
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.users import Actor

TEACHER = Actor("test", "teacher", "Teacher", "g1", "c1", is_instructor=True)


def student(i: int) -> Actor:
    return Actor("test", f"s{i}", f"Student {i}", "g1", "c1")


@pytest.fixture
async def pg_core(postgres_url):
    companion = await Companion.create(Settings(database=postgres_url, content_dir=DEFAULT_CONTENT_DIR), clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()


async def quiz_started(core, actor: Actor) -> tuple[int, str]:
    """Start a two-question quiz: (its attempt id, the first question's right answer as an action id)."""
    await core.quiz(actor, 7, 2)
    row = await core.store.read(lambda c: c.execute(
        "SELECT t.id, t.seed, t.question_keys FROM quiz_attempts t JOIN users u ON u.id = t.user_pk"
        " WHERE u.user_id = ? AND t.status = 'open'", (actor.user_id,)).fetchone())
    question = core.course.question(json.loads(row[2])[0])
    return row[0], f"quiz:{row[0]}:0:a:{question.typed_answer(row[1])}"


async def answers_of(core, attempt: int) -> int:
    return await core.store.read(lambda c: c.execute("SELECT COUNT(*) FROM quiz_answers WHERE attempt_id = ?", (attempt,)).fetchone()[0])


async def test_the_same_answer_pressed_twice_at_once_is_recorded_once(core):
    """Both engines: the second press of the same answer, sent together, is 'already answered'."""
    attempt, action = await quiz_started(core, student(1))
    first, second = await asyncio.gather(core.handle_action(student(1), action), core.handle_action(student(1), action))
    texts = sorted([first.text, second.text], key=lambda t: "already answered" in t)
    assert "Correct" in texts[0] and "already answered" in texts[1]
    assert await answers_of(core, attempt) == 1


async def test_a_persons_second_answer_waits_for_the_first_then_finds_it(pg_core, postgres_url, monkeypatch):
    """The first press's transaction has written, not committed; the second press waits for the
    person's row, then reads the first's answer: one answer recorded, the second told so."""
    core = pg_core
    attempt, action = await quiz_started(core, student(1))
    written, release = threading.Event(), threading.Event()
    hold_open(monkeypatch, quiz, "_answer", written, release)
    first = asyncio.ensure_future(core.handle_action(student(1), action))
    await until(written.is_set, "the first answer written")
    monkeypatch.undo()  # the second press runs as it would
    second = asyncio.ensure_future(core.handle_action(student(1), action))
    await until(lambda: waiting_for_a_lock(postgres_url) == 1, "the second press to wait for the person's row")
    assert not second.done()
    release.set()
    assert "Correct" in (await first).text
    assert "already answered" in (await second).text
    assert await answers_of(core, attempt) == 1


async def test_two_people_reading_their_first_pages_side_by_side_never_fail_each_other(pg_core, monkeypatch):
    """Two people's first reads, each kept open until both have read their rows and inserted
    their page (the moment two SERIALIZABLE transactions over the same small index pages failed
    each other): neither is run again, and both pages are recorded."""
    core = pg_core
    met = side_by_side(monkeypatch, reading, "_choose", 2)
    retries = count_retries(monkeypatch, core.store)
    replies = await asyncio.gather(core.lesson(student(1), 7, "deep", 1), core.lesson(student(2), 7, "deep", 2))
    assert [r.kind for r in replies] == ["lesson", "lesson"]
    assert met == [True, True] and not retries
    pages = await core.store.read(lambda c: c.execute(
        "SELECT u.user_id, p.page FROM pages_read p JOIN users u ON u.id = p.user_pk ORDER BY u.user_id").fetchall())
    assert [tuple(p) for p in pages] == [("s1", 1), ("s2", 2)]


async def test_an_instructors_reset_waits_for_the_students_answer_under_way(pg_core, postgres_url, monkeypatch):
    """The student's answer has written, not committed, when the instructor confirms a reset: the
    reset waits for it, then deletes it with the rest; the answer is not lost half-way (no
    dangling error), and nothing of the attempt is left."""
    core = pg_core
    attempt, action = await quiz_started(core, student(1))
    student_pk = await core.store.read(lambda c: c.execute("SELECT id FROM users WHERE user_id = 's1'").fetchone()[0])
    written, release = threading.Event(), threading.Event()
    hold_open(monkeypatch, quiz, "_answer", written, release)
    answering = asyncio.ensure_future(core.handle_action(student(1), action))
    await until(written.is_set, "the answer written")
    await core.lesson(TEACHER, 7)  # the teacher is a member of the server too
    resetting = asyncio.ensure_future(core.handle_action(TEACHER, f"progress:reset:{student_pk}"))
    await until(lambda: waiting_for_a_lock(postgres_url) == 1, "the reset to wait for the student's row")
    assert not resetting.done()
    release.set()
    assert "Correct" in (await answering).text
    assert "Reset the progress" in (await resetting).text
    assert await answers_of(core, attempt) == 0


async def test_a_students_answer_during_an_instructors_reset_waits_and_finds_the_quiz_gone(pg_core, postgres_url, monkeypatch):
    """The reset has deleted, not committed, when the student answers: the answer waits for the
    student's row (locked by the reset), then finds no quiz: a clear refusal, not a foreign-key
    error on an attempt deleted under it."""
    core = pg_core
    attempt, action = await quiz_started(core, student(1))
    student_pk = await core.store.read(lambda c: c.execute("SELECT id FROM users WHERE user_id = 's1'").fetchone()[0])
    await core.lesson(TEACHER, 7)
    deleted, release = threading.Event(), threading.Event()
    hold_open(monkeypatch, instructor, "_reset", deleted, release)
    resetting = asyncio.ensure_future(core.handle_action(TEACHER, f"progress:reset:{student_pk}"))
    await until(deleted.is_set, "the reset's deletes written")
    monkeypatch.undo()
    answering = asyncio.ensure_future(core.handle_action(student(1), action))
    await until(lambda: waiting_for_a_lock(postgres_url) == 1, "the answer to wait for the student's row")
    release.set()
    assert "Reset the progress" in (await resetting).text
    reply = await answering
    assert reply.kind == "error" and "quiz" in reply.text and "went wrong" not in reply.text, reply.text
    assert await answers_of(core, attempt) == 0

"""The PostgreSQL engine's round trips: each transaction in pipeline mode (bot/core/postgres_store.py,
*Round trips*) and the user rows found once per process (`PgConnection.visit`).

Round trips are counted on the wire, not timed: libpq's trace of every pooled connection, where
each turn from the client sending (`F`) to the server answering (`B`) is one round trip. Errors
queued in a pipeline surface where the operation reads a result, or at the COMMIT, and roll the
whole transaction back; a failure queued before an operation's own exception is raised first."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import pq

from bot.core import postgres_store, quiz
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.engines import open_store
from bot.core.refusal import Refusal
from bot.core.users import Actor, touch_user

CHAPTER = 7


class Wire:
    """libpq's trace of every connection the store opens, in one file."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.mark = 0
        self.connections: list[psycopg.Connection] = []

    def configure(self, raw: psycopg.Connection) -> None:
        self.connections.append(raw)
        self._trace(raw)

    def _trace(self, raw: psycopg.Connection) -> None:
        raw.pgconn.trace(self.fd)
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _flush(self) -> None:
        """libpq buffers its trace: stopping it writes what it holds (between operations, when
        every connection is idle); then it starts again."""
        for raw in self.connections:
            if not raw.closed:
                raw.pgconn.untrace()
                self._trace(raw)

    def start(self) -> None:
        self._flush()
        self.mark = self.path.stat().st_size

    def round_trips(self) -> int:
        """Turns from the client's messages to the server's since `start`."""
        self._flush()
        with self.path.open(encoding="utf-8", errors="replace") as f:
            f.seek(self.mark)
            sides = [line.split("\t", 1)[0] for line in f if line[:2] in ("F\t", "B\t")]
        return sum(1 for before, after in itertools.pairwise(sides) if before == "F" and after == "B")

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def wire(tmp_path, monkeypatch):
    traced = Wire(tmp_path / "wire.trace")
    configure = postgres_store._configure

    def configure_and_trace(raw: psycopg.Connection) -> None:
        configure(raw)
        traced.configure(raw)

    monkeypatch.setattr(postgres_store, "_configure", configure_and_trace)
    yield traced
    traced.close()


@pytest.fixture
async def core(postgres_url, wire):
    settings = Settings(database=postgres_url, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=600, live_reveal_seconds=0)
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()


@pytest.fixture
async def store(postgres_url):
    opened = await open_store(postgres_url)
    yield opened
    await opened.close()


def reader(n: int = 1) -> Actor:
    return Actor("test", f"reader{n}", f"Reader {n}", guild="guild-1", channel="general")


async def round_trips(wire: Wire, op) -> int:
    wire.start()
    await op
    return wire.round_trips()


# ---- round trips per operation ------------------------------------------------------------------

async def test_an_operation_costs_a_round_trip_per_read_it_waits_for_and_one_for_the_commit(core, wire):
    """BEGIN goes with the first statement and the writes whose results are not read with the
    COMMIT: the floor (a read, three writes, each awaited, then COMMIT) takes six round trips.
    The lesson page (user, place, the page's insert, COMMIT) takes four, and one more for the
    student's rows on a first read of the page; progress five; a solo quiz answer (its button)
    six. Before the pipeline they took 16, 9 and 10."""
    ann = reader()
    await core.lesson(ann, CHAPTER, "deep", 1)  # the user exists; their day and guild are found from now on
    await core.lesson(ann, CHAPTER, "deep", 2)
    assert await round_trips(wire, core.lesson(ann, CHAPTER, "deep", 3)) == 5  # a first read: the student's rows
    assert await round_trips(wire, core.lesson(ann, CHAPTER, "deep", 3)) == 4  # read again
    assert await round_trips(wire, core.lesson(ann)) == 5  # where they left off: one read more
    assert await round_trips(wire, core.progress(ann)) == 5
    await core.quiz(ann, CHAPTER, 5)
    trips = []
    for _ in range(3):
        attempt, question = await quiz.current_question(core.ctx, ann)
        button = f"quiz:{attempt['id']}:{attempt['position']}:a:{question.typed_answer(attempt['seed'])}"
        trips.append(await round_trips(wire, core.handle_action(ann, button)))
    assert trips == [6, 6, 6]


async def test_a_known_users_day_and_guild_are_not_written_again_by_the_same_process(core, wire):
    """The store's SeenUsers: from the second operation of a person on, only their row is read
    (activity day and guild found there are not tried again), on paths that give no visit of
    their own (the lesson page)."""
    ann = reader()
    statements: list[str] = []
    execute = postgres_store.PgConnection.execute

    def counting(self, sql, params=()):
        statements.append(sql.split("(")[0])
        return execute(self, sql, params)

    await core.lesson(ann, CHAPTER, "deep", 1)  # creates the user, writes the day and guild
    await core.lesson(ann, CHAPTER, "deep", 1)  # finds them there
    postgres_store.PgConnection.execute = counting
    try:
        await core.lesson(ann, CHAPTER, "deep", 1)
    finally:
        postgres_store.PgConnection.execute = execute
    assert not [s for s in statements if "activity_days" in s or "memberships" in s]
    assert len(statements) == 5  # the user; their place; the place and the page written; the depth


# ---- the user cache and /forget-me ----------------------------------------------------------------

async def test_a_user_forgotten_by_another_process_gets_their_day_and_guild_written_again(postgres_url):
    """Two stores on one database stand for two replicas. Replica A knows Ann's day and guild;
    replica B forgets her (`/forget-me` deletes her row and, by cascade, the rest); Ann's next
    click on A creates her row anew and writes her day and guild again, and A's cache does not
    skip them (a row created by the transaction consults nothing)."""
    a, b = await open_store(postgres_url), await open_store(postgres_url)
    try:
        ann, now = reader(), ManualClock().now()
        for _ in range(3):
            first = await a.run(touch_user, ann, now)
        await b.run(lambda c: c.execute("DELETE FROM users WHERE id = ?", (first,)))
        again = await a.run(touch_user, ann, now)
        assert again != first
        rows = await a.read(lambda c: (c.execute("SELECT COUNT(*) FROM activity_days WHERE user_pk = ?", (again,)).fetchone()[0],
                                       c.execute("SELECT COUNT(*) FROM memberships WHERE user_pk = ?", (again,)).fetchone()[0]))
        assert rows == (1, 1)
    finally:
        await a.close()
        await b.close()


async def test_the_user_cache_keeps_nothing_from_a_transaction_that_rolled_back(store):
    """A day found there by an insert in a transaction that then failed is not remembered: the
    next transaction tries it again (a count of -1 or 1 from a rolled-back attempt is no 'found')."""
    ann, now = reader(), ManualClock().now()
    await store.run(touch_user, ann, now)

    def touched_then_refused(conn):
        touch_user(conn, ann, now.replace(day=now.day % 27 + 1))
        touch_user(conn, ann, now.replace(day=now.day % 27 + 1))  # finds its own uncommitted row
        raise Refusal("no")

    with pytest.raises(Refusal):
        await store.run(touched_then_refused)
    user_pk = await store.run(touch_user, ann, now.replace(day=now.day % 27 + 1))
    days = await store.read(lambda c: c.execute("SELECT COUNT(*) FROM activity_days WHERE user_pk = ?", (user_pk,)).fetchone()[0])
    assert days == 2


# ---- errors in a pipeline -------------------------------------------------------------------------

def _insert_user(conn, user_id: str) -> None:
    conn.execute("INSERT INTO users(platform, user_id, display_name, created_at) VALUES ('t', ?, 'X', 'now')", (user_id,))


async def _users(store) -> list[str]:
    return await store.read(lambda c: [r[0] for r in c.execute("SELECT user_id FROM users WHERE platform = 't' ORDER BY user_id")])


async def test_a_constraint_error_of_a_write_never_read_is_raised_at_the_commit_and_rolls_back(store):
    def twice(conn):
        _insert_user(conn, "a")
        _insert_user(conn, "b")
        _insert_user(conn, "b")  # its result is never read: the failure comes with the COMMIT

    with pytest.raises(pg_errors.UniqueViolation):
        await store.run(twice)
    assert await _users(store) == []
    await store.run(_insert_user, "c")  # the connection is usable again
    assert await _users(store) == ["c"]


async def test_a_failure_is_raised_where_the_operation_reads_a_result_after_it(store):
    seen = []

    def read_after(conn):
        _insert_user(conn, "a")
        _insert_user(conn, "a")
        seen.append("before the read")
        conn.execute("SELECT 1").fetchone()
        seen.append("after the read")

    with pytest.raises(pg_errors.UniqueViolation):
        await store.run(read_after)
    assert seen == ["before the read"] and await _users(store) == []


async def test_a_refusal_mid_transaction_rolls_back_the_writes_sent_before_it(store):
    def refused(conn):
        _insert_user(conn, "a")
        assert conn.execute("SELECT COUNT(*) FROM users WHERE platform = 't'").fetchone()[0] == 1
        _insert_user(conn, "b")
        raise Refusal("not today")

    for _ in range(2 * postgres_store.PostgresStore.POOL_SIZE):  # every pooled connection, past psycopg's prepare threshold
        with pytest.raises(Refusal):
            await store.run(refused)
    assert await _users(store) == []


async def test_a_failure_queued_before_a_refusal_is_raised_instead_of_the_refusal(store):
    """As without the pipeline, where the failing statement would have raised before the
    operation got as far as refusing."""
    def refused_after_a_failure(conn):
        _insert_user(conn, "a")
        _insert_user(conn, "a")
        raise Refusal("decided on a transaction that had already failed")

    with pytest.raises(pg_errors.UniqueViolation) as raised:
        await store.run(refused_after_a_failure)
    assert isinstance(raised.value.__context__, Refusal) or raised.value.__context__ is None
    assert await _users(store) == []


async def test_a_savepoint_rolled_back_after_a_refusal_keeps_the_rest_of_the_transaction(store):
    """The live answers' batch (bot/core/answer_batch.py): each answer between SAVEPOINT and
    RELEASE, a refused one rolled back alone, all in one pipelined transaction."""
    def batch(conn):
        for user_id, refuse in (("a", False), ("b", True), ("c", False)):
            conn.execute("SAVEPOINT answer")
            _insert_user(conn, user_id)
            if refuse:
                conn.execute("ROLLBACK TO SAVEPOINT answer")
            conn.execute("RELEASE SAVEPOINT answer")

    await store.run(batch)
    assert await _users(store) == ["a", "c"]


async def test_rowcount_in_a_pipeline_is_the_statements_own(store):
    def counts(conn):
        sql = "INSERT INTO users(platform, user_id, display_name, created_at) VALUES ('t', 'a', 'A', 'now') ON CONFLICT DO NOTHING"
        return conn.execute(sql).rowcount, conn.execute(sql).rowcount

    assert await store.run(counts) == (1, 0)


async def test_prepared_statements_survive_failures_in_a_pipeline(store):
    """psycopg prepares a statement run often by queueing its PREPARE; one queued after a
    failing statement is skipped with it. The store forgets the connection's prepared
    statements after a failure, so the statement is prepared again rather than run as one that
    does not exist."""
    def fail_then_more(conn):
        _insert_user(conn, "a")
        _insert_user(conn, "a")  # fails; everything queued after it is skipped
        for n in range(8):
            conn.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (str(n),))

    def the_same_statements(conn):
        return sum(conn.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (str(n),)).fetchone()[0] for n in range(8))

    await store.run(_insert_user, "z")
    for _ in range(3 * postgres_store.PostgresStore.POOL_SIZE):
        with pytest.raises(pg_errors.UniqueViolation):
            await store.run(fail_then_more)
        assert await store.run(the_same_statements) == 0

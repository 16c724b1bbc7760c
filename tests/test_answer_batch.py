"""Live answers in bursts: group commit (bot/core/answer_batch.py) and the user row written only
when it changed (`touch_user` with `SeenUsers`). Real Companion, real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from datetime import UTC, datetime

import psycopg
import pytest

from bot.core import answer_batch, privacy
from bot.core.answer_batch import IN_FLIGHT, MAX_BATCH, AnswerBatch, _each_answer
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.engines import open_store
from bot.core.refusal import Refusal
from bot.core.store import StoreBusy
from bot.core.users import Actor, SeenUsers, touch_user


def player(i: int | str, name: str | None = None) -> Actor:
    return Actor("test", f"p{i}", name or f"Player {i}", "g1", "quiz")


HOST = player("host", "Host")


async def open_question(core, questions: int = 2):
    """A live quiz in the players' channel: (session id, its seed, the open question)."""
    await core.live.start(HOST, 7, questions)
    session, question = await core.live.current_question(HOST)
    return session["id"], session["seed"], question


async def answers_in(core, session: int) -> tuple[int, int]:
    return await core.store.read(lambda c: tuple(c.execute(
        "SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers WHERE session_id = ?", (session,)).fetchone()))


async def test_two_hundred_answers_at_once_are_each_recorded_exactly_once_in_a_few_transactions(core):
    session, seed, question = await open_question(core)
    players = [player(i) for i in range(200)]
    before = core.live.answers.transactions
    replies = await asyncio.gather(*[core.live.answer(p, session, 0, question.typed_answer(seed)) for p in players])
    assert all("Answer recorded" in r.text and r.kind == "live-ack" for r in replies)
    assert await answers_in(core, session) == (200, 200)
    # Written together: far fewer transactions than answers (all 200 arrived in one tick).
    assert core.live.answers.transactions - before <= -(-200 // MAX_BATCH) + 1
    # A second press by each is refused, and still counts once.
    again = await asyncio.gather(*[core.live.answer(p, session, 0, question.typed_answer(seed)) for p in players[:20]],
                                 return_exceptions=True)
    assert all(isinstance(r, Refusal) and "already answered" in str(r) for r in again)
    assert await answers_in(core, session) == (200, 200)


async def test_a_burst_of_several_batches_is_written_with_the_engines_batches_in_flight(core, monkeypatch):
    """More than two batches' worth at once: SQLite is handed two batches at a time (the next
    queued behind the one written), PostgreSQL three (each on a connection of its own, at READ
    COMMITTED, so they never fail each other); every answer is recorded once either way."""
    session, seed, question = await open_question(core)
    run, writing, peak = core.store.run, 0, 0

    async def counting(fn, *args, **options):
        nonlocal writing, peak
        batch = fn is _each_answer
        writing += batch
        peak = max(peak, writing)
        try:
            return await run(fn, *args, **options)
        finally:
            writing -= batch

    monkeypatch.setattr(core.store, "run", counting)
    n = 2 * MAX_BATCH + 100
    replies = await asyncio.gather(*[core.live.answer(player(i), session, 0, question.typed_answer(seed)) for i in range(n)])
    assert all("Answer recorded" in r.text for r in replies)
    assert await answers_in(core, session) == (n, n)
    assert peak == IN_FLIGHT[core.store.engine] == (2 if core.store.engine == "sqlite" else 3)


async def test_a_refused_answer_in_a_batch_answers_its_user_and_loses_no_other(core):
    session, seed, question = await open_question(core)
    await core.live.answer(player(0), session, 0, question.typed_answer(seed))  # answers first, alone
    burst = [core.live.answer(player(i), session, 0, question.typed_answer(seed)) for i in range(1, 30)]
    burst.insert(10, core.live.answer(player(0), session, 0, question.typed_answer(seed)))  # a second answer
    burst.insert(20, core.live.answer(player("newcomer"), session, 0, "   "))  # an empty answer, by someone new
    results = await asyncio.gather(*burst, return_exceptions=True)
    assert isinstance(results[10], Refusal) and "already answered" in str(results[10])
    assert isinstance(results[20], Refusal)
    others = [r for i, r in enumerate(results) if i not in (10, 20)]
    assert all("Answer recorded" in r.text for r in others)
    assert await answers_in(core, session) == (30, 30)
    # The refused answer's own writes were rolled back with it: the newcomer was never stored.
    assert await core.store.read(lambda c: c.execute("SELECT COUNT(*) FROM users WHERE user_id = 'pnewcomer'").fetchone()[0]) == 0


async def test_an_answer_that_breaks_the_batch_fails_alone_and_the_others_are_written(core):
    """A constraint error (not a refusal) fails the shared transaction; every answer is then
    written on its own, so the failing one gets its own error and none of the others is lost."""
    batch = AnswerBatch(core.store)

    def enrol(conn, user_id: str, name: str | None) -> int:
        return conn.execute("INSERT INTO users(platform, user_id, display_name, created_at) VALUES ('t', ?, ?, '2026-01-05')"
                            " RETURNING id", (user_id, name)).fetchone()[0]

    calls = [batch.run(enrol, f"u{i}", None if i == 7 else f"U{i}") for i in range(25)]  # u7: NOT NULL violated
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[7], (sqlite3.IntegrityError, psycopg.errors.IntegrityError))  # each engine's own error
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 7)
    stored = await core.store.read(lambda c: [r[0] for r in c.execute("SELECT user_id FROM users WHERE platform = 't'")])
    assert sorted(stored) == sorted(f"u{i}" for i in range(25) if i != 7)
    assert batch.transactions == 1 + 25  # the batch that failed, then each answer on its own


async def test_a_storage_fault_reaches_every_answer_of_the_batch_without_retrying(core):
    batch = AnswerBatch(core.store)

    def busy(conn, i: int) -> int:
        if i == 3:
            raise StoreBusy("database is locked")
        return i

    results = await asyncio.gather(*[batch.run(busy, i) for i in range(10)], return_exceptions=True)
    assert all(isinstance(r, StoreBusy) for r in results)
    assert batch.transactions == 1


async def test_answers_arriving_while_a_batch_is_written_form_the_next_batches(core):
    """No answer waits for a timer: a lone answer is written at once, and answers arriving while
    batches are being written are collected into the next ones."""
    session, seed, question = await open_question(core)
    lone = await core.live.answer(player("first"), session, 0, question.typed_answer(seed))
    assert "Answer recorded" in lone.text and core.live.answers.transactions == 1
    waves = []
    for wave in range(5):
        waves.append(asyncio.gather(*[core.live.answer(player(f"{wave}-{i}"), session, 0, question.typed_answer(seed))
                                      for i in range(40)]))
        await asyncio.sleep(0)
    assert all("Answer recorded" in r.text for replies in await asyncio.gather(*waves) for r in replies)
    assert await answers_in(core, session) == (201, 201)
    assert core.live.answers.transactions < 1 + 200 // 10


# ---- the user's row: written only when something changed ------------------------------------------

async def rows_of(core, user_id: str):
    def read(conn):
        user = conn.execute("SELECT id, display_name FROM users WHERE user_id = ?", (user_id,)).fetchone()
        days = [r[0] for r in conn.execute("SELECT day FROM activity_days WHERE user_pk = ? ORDER BY day", (user[0],))]
        guilds = [r[0] for r in conn.execute("SELECT guild FROM memberships WHERE user_pk = ?", (user[0],))]
        return user[1], days, guilds
    return await core.store.read(read)


async def test_a_player_who_renames_themselves_is_shown_with_the_new_name(core):
    session, seed, question = await open_question(core)
    await core.live.answer(player(1, "Ann"), session, 0, question.typed_answer(seed))
    await core.live.skip(HOST, session)  # the next question
    _s, next_question = await core.live.current_question(HOST)
    await core.live.answer(player(1, "Annie"), session, 1, next_question.typed_answer(seed))
    name, _days, _guilds = await rows_of(core, "p1")
    assert name == "Annie"


async def test_a_new_day_is_still_recorded_for_the_streak_once_the_days_before_are_remembered(core):
    session, seed, _question = await open_question(core, questions=3)
    for index in range(3):
        if index == 2:  # past midnight, once the first day is remembered (found there by the second answer)
            assert len(core.live.seen._known) == 2  # that day, and the guild
            core.ctx.clock.advance(days=1)
        if index:
            await core.live.skip(HOST, session)  # the next question opens now
        _s, current = await core.live.current_question(HOST)
        reply = await core.live.answer(player(1), session, index, current.typed_answer(seed))
        assert "Answer recorded" in reply.text
    _name, days, guilds = await rows_of(core, "p1")
    assert days == ["2026-01-05", "2026-01-06"] and guilds == ["test:g1"]


async def test_the_user_row_is_not_rewritten_when_nothing_changed(tmp_path):
    """A click by someone known writes nothing: the database's change counter does not move."""
    store = await open_store(tmp_path / "c.db")
    try:
        seen = SeenUsers()
        now = datetime(2026, 1, 5, 12, tzinfo=UTC)
        actor = player(1)
        first = await store.run(touch_user, actor, now, seen.visit())

        def changes_of_touch(conn, visit) -> tuple[int, int, int]:
            before = conn.total_changes
            pk = touch_user(conn, actor, now, visit)
            return pk, conn.total_changes - before, len(visit.found)
        visit = seen.visit()
        assert await store.run(changes_of_touch, visit) == (first, 0, 2)  # the day and guild found there
        visit.keep()
        assert await store.run(changes_of_touch, seen.visit()) == (first, 0, 0)  # and now not even tried
        assert len(seen._known) == 2
    finally:
        await store.close()


async def test_a_rolled_back_transaction_leaves_nothing_remembered(tmp_path):
    """Only rows found already there are remembered: the first activity of a day, rolled back with
    its transaction (a refused answer), is written again by the next click."""
    store = await open_store(tmp_path / "c.db")
    try:
        seen = SeenUsers()
        now = datetime(2026, 1, 5, 12, tzinfo=UTC)
        await store.run(touch_user, player(1), now, seen.visit())

        def refused(conn, visit):
            touch_user(conn, player(1), now.replace(day=6), visit)
            touch_user(conn, player(1), now.replace(day=6), visit)  # finds its own uncommitted row
            raise Refusal("too late")
        with pytest.raises(Refusal):
            await store.run(refused, seen.visit())  # never kept: it did not commit
        await store.run(touch_user, player(1), now.replace(day=6), seen.visit())
        days = await store.read(lambda c: [r[0] for r in c.execute("SELECT day FROM activity_days ORDER BY day")])
        assert days == ["2026-01-05", "2026-01-06"]
    finally:
        await store.close()


async def test_a_forgotten_player_who_comes_back_is_recorded_afresh(core):
    session, seed, question = await open_question(core)
    await core.live.answer(player(1), session, 0, question.typed_answer(seed))
    with pytest.raises(Refusal):  # answered already; the day and the guild are found there
        await core.live.answer(player(1), session, 0, question.typed_answer(seed))
    await privacy.forget(core.ctx, player(1))
    reply = await core.live.answer(player(1), session, 0, question.typed_answer(seed))
    assert "Answer recorded" in reply.text
    _name, days, guilds = await rows_of(core, "p1")
    assert days == ["2026-01-05"] and guilds == ["test:g1"]
    assert await answers_in(core, session) == (1, 1)


# ---- through discord.py and the stand-in --------------------------------------------------------

async def test_fifty_players_pressing_at_once_on_discord_are_each_recorded_once(database):
    """50 students press a live question's button in the same instant, through the unmodified
    discord.py client: every one is acknowledged privately with "Answer recorded" (a reply with
    no components: no view is built for it), every answer is in the database exactly once, and
    they were written in far fewer transactions than answers."""
    from discord_harness import Bot, discord_settings
    from discord_standin import CHANNEL_ID, DiscordStandIn, User, custom_ids, embed_text

    standin = await DiscordStandIn().start()
    bot = Bot(standin, discord_settings(database, standin, live_question_seconds=600))
    await bot.start()
    try:
        assert bot.core is not None
        host = User.make("Host")
        for _ in range(50):  # until the question is one answered with a button (not a menu or a form)
            await standin.answer(await standin.slash(host, "live start", [{"name": "chapter", "type": 4, "value": 7},
                                                                          {"name": "questions", "type": 4, "value": 1}]))
            message = (await standin.wait_for(lambda: [m for m in standin.channel_messages(CHANNEL_ID)
                                                       if any(c.startswith("live:") for c in custom_ids(m))]))[-1]
            buttons = [c for c in custom_ids(message) if ":a:" in c]
            if buttons and not any(c.startswith(("m|", "t|")) for c in custom_ids(message)):
                break
            await standin.answer(await standin.slash(host, "live stop"))
        session = int(buttons[0].split(":")[1])
        before = bot.core.live.answers.transactions
        players = [User.make(f"Player {i:02d}") for i in range(50)]
        exchanges = await asyncio.gather(*[standin.click(p, message, buttons[i % len(buttons)]) for i, p in enumerate(players)])
        acks = await asyncio.gather(*[standin.answer(ex) for ex in exchanges])
        assert all("Answer recorded" in embed_text(a) and a["flags"] & 64 and not a["components"] for a in acks)
        assert await answers_in(bot.core, session) == (50, 50)
        assert bot.core.live.answers.transactions - before <= 25
    finally:
        await bot.stop()
        await standin.close()
    assert not standin.late and not standin.limit_problems


# ---- PostgreSQL: batches side by side, and answers racing the close ------------------------------

@pytest.fixture
async def pg_core(postgres_url):
    """The `core` fixture's companion, on PostgreSQL only: these tests hold one transaction open
    while another runs, which SQLite (one transaction at a time, on one thread) cannot do."""
    settings = Settings(database=postgres_url, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=30, live_reveal_seconds=0)
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()


def hold_open(monkeypatch, owner, name: str, done: threading.Event, release: threading.Event) -> None:
    """Make `owner.name` (an operation function) set `done` once it has run, then keep its
    transaction open (locks held, nothing committed) until `release` is set."""
    original = getattr(owner, name)

    def held(*args, **kwargs):
        result = original(*args, **kwargs)
        done.set()
        assert release.wait(60), "never released"
        return result

    monkeypatch.setattr(owner, name, held)


def side_by_side(monkeypatch, owner, name: str, parties: int) -> list[bool]:
    """Make `owner.name` (an operation function) keep its transaction open, once it has run,
    until `parties` of them have: the list returned gets True for each that met the others."""
    together, met = threading.Barrier(parties), []
    original = getattr(owner, name)

    def meeting(*args, **kwargs):
        result = original(*args, **kwargs)
        met.append(together.wait(30) is not None)
        return result

    monkeypatch.setattr(owner, name, meeting)
    return met


def count_retries(monkeypatch, store) -> list[int]:
    """The PostgreSQL store's transactions run again after a conflict (`_RetryGate.alone`): one
    entry each in the list returned."""
    gate, retries = store._gate, []

    def counted_alone():
        retries.append(1)
        return type(gate).alone(gate)

    monkeypatch.setattr(gate, "alone", counted_alone)
    return retries


async def until(condition, what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"waited too long for {what}")


def waiting_for_a_lock(url: str) -> int:
    """How many of the database's transactions are waiting for a lock another one holds."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event_type = 'Lock'").fetchone()[0]


async def test_batches_written_side_by_side_on_postgresql_never_fail_each_other(pg_core, monkeypatch):
    """IN_FLIGHT batches of the same question's answers, each kept open until all of them have
    written every answer (the moment two SERIALIZABLE batches used to fail each other): none is
    run again, and each answer is recorded exactly once."""
    core = pg_core
    session, seed, question = await open_question(core)
    met = side_by_side(monkeypatch, answer_batch, "_each_answer", IN_FLIGHT["postgresql"])  # every batch open, all answers written
    retries = count_retries(monkeypatch, core.store)
    n = IN_FLIGHT["postgresql"] * MAX_BATCH
    replies = await asyncio.gather(*[core.live.answer(player(i), session, 0, question.typed_answer(seed)) for i in range(n)])
    assert all("Answer recorded" in r.text for r in replies)
    assert met == [True] * IN_FLIGHT["postgresql"] and not retries
    assert core.live.answers.transactions == IN_FLIGHT["postgresql"]
    assert await answers_in(core, session) == (n, n)


async def test_an_answer_holding_the_session_is_counted_by_the_close_that_waits_for_it(pg_core, postgres_url, monkeypatch):
    """An answer read its question open and has written, not yet committed, when the deadline
    passes: the clock's close waits for its commit and counts it."""
    core = pg_core
    session, seed, question = await open_question(core)
    written, release = threading.Event(), threading.Event()
    hold_open(monkeypatch, answer_batch, "_each_answer", written, release)
    answering = asyncio.ensure_future(core.live.answer(player(1), session, 0, question.typed_answer(seed)))
    await until(written.is_set, "the answer written")
    core.clock.advance(seconds=31)
    closing = asyncio.ensure_future(core.live.advance_due())
    await until(lambda: waiting_for_a_lock(postgres_url) == 1, "the close to wait for the answer")
    assert not closing.done()
    release.set()
    assert "Answer recorded" in (await answering).text
    [closed, opened] = await closing
    assert closed.kind == "closed" and "1 of 1 answer correct." in closed.reply.text
    assert opened.kind == "question" and opened.question_index == 1
    assert await answers_in(core, session) == (1, 1)


async def test_an_answer_reading_a_session_being_closed_waits_and_is_too_late(pg_core, postgres_url, monkeypatch):
    """The question is being closed (skipped), not yet committed, when an answer to it comes in
    before its deadline: the answer waits for the close and is refused, never recorded uncounted."""
    core = pg_core
    session, seed, question = await open_question(core)
    moved, release = threading.Event(), threading.Event()
    hold_open(monkeypatch, core.live, "_control_tx", moved, release)
    skipping = asyncio.ensure_future(core.live.skip(HOST))
    await until(moved.is_set, "the question closed")
    answering = asyncio.ensure_future(core.live.answer(player(1), session, 0, question.typed_answer(seed)))
    await until(lambda: waiting_for_a_lock(postgres_url) == 1, "the answer to wait for the close")
    assert not answering.done()
    release.set()
    with pytest.raises(Refusal, match="Too late"):
        await answering
    assert "Skipped" in (await skipping).text
    assert await answers_in(core, session) == (0, 0)


class CountingConnection:
    """A connection that counts the statements run through it, by their first words."""

    def __init__(self, conn, counts: Counter):
        self.conn, self.counts = conn, counts

    def execute(self, sql: str, params=()):
        self.counts[" ".join(sql.split()[:2])] += 1
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows):
        self.counts[" ".join(sql.split()[:2])] += 1
        return self.conn.executemany(sql, rows)


async def test_a_batch_of_known_players_costs_two_statements_an_answer_on_postgresql(core, monkeypatch):
    """Players already recorded answer at once: no savepoints (nobody is refused after writing),
    and on PostgreSQL the session's row, share-locked, is read once for the batch: per answer, the
    player's row and the answer's insert. A newcomer refused after their user row was written
    makes the batch be written again with savepoints, and the session read again after the
    refused answer's savepoint (and its lock) is rolled back."""
    session, seed, _question = await open_question(core, questions=3)
    n = 40
    for index in (0, 1):  # recorded: their user rows, then their day and guild (found there, so not tried again)
        _row, question = await core.live.current_question(HOST)
        await asyncio.gather(*[core.live.answer(player(i), session, index, question.typed_answer(seed)) for i in range(n)])
        await core.live.skip(HOST)
    _row, question = await core.live.current_question(HOST)
    counts: Counter = Counter()
    run = core.store.run

    async def counting(fn, *args, **options):
        return await run(lambda conn, *a: fn(CountingConnection(conn, counts), *a), *args, **options)

    monkeypatch.setattr(core.store, "run", counting)
    before = core.live.answers.transactions
    replies = await asyncio.gather(*[core.live.answer(player(i), session, 2, question.typed_answer(seed)) for i in range(n)])
    assert all("Answer recorded" in r.text for r in replies) and core.live.answers.transactions == before + 1
    postgres = core.store.engine == "postgresql"
    assert counts.total() == 2 * n + (1 if postgres else n) and not counts["SAVEPOINT answer"]

    counts.clear()
    before = core.live.answers.transactions
    burst = [core.live.answer(player("newcomer"), session, 2, "   ")]  # first, so it takes the session's lock
    burst += [core.live.answer(player(i), session, 2, question.typed_answer(seed)) for i in range(n, n + 5)]
    results = await asyncio.gather(*burst, return_exceptions=True)
    assert isinstance(results[0], Refusal) and all("Answer recorded" in r.text for r in results[1:])
    assert core.live.answers.transactions == before + 2  # without savepoints, then again with them
    assert counts["SAVEPOINT answer"] == 6 and counts["ROLLBACK TO"] == 1
    assert counts["SELECT *"] == (1 + 2 if postgres else 1 + 6)
    assert await answers_in(core, session) == (3 * n + 5, n + 5)

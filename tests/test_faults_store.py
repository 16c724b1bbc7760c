"""The fault suite, inside the process: the connection threads, the store under an outside lock,
a failed disk, a failed start, and a steady stream of writes (the write-ahead log stays bounded)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading

import pytest

from bot.core.config import load_settings
from bot.core.engines import open_store
from bot.core.sqlite_store import SQLiteStore
from bot.core.sqlite_thread import THREAD_NAME_PREFIX, SQLiteThread
from bot.core.store import MigrationError, Store, StoreBusy, StoreFailed

pytestmark = pytest.mark.asyncio


def _workers() -> list[threading.Thread]:
    """The store's connection threads now running."""
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME_PREFIX) and t.is_alive()]


def _all_stopped(before: list[threading.Thread]) -> list[threading.Thread]:
    """The store's connection threads started since `before` that are still running after a grace."""
    left = [t for t in _workers() if t not in before]
    for t in left:
        t.join(timeout=5)
    return [t for t in left if t.is_alive()]


async def _store(tmp_path, name="s.db") -> Store:
    return await asyncio.wait_for(open_store(tmp_path / name), 30)


# ---- the connection threads --------------------------------------------------------------------

async def test_a_store_runs_on_two_named_threads_of_its_own_and_closing_ends_them(tmp_path):
    """The leak checks here and in conftest.py find the store's threads by name: they must see them."""
    before = _workers()
    store = await _store(tmp_path)
    try:
        opened = [t for t in _workers() if t not in before]
        assert len(opened) == 2 and all(t.daemon for t in opened)
        ran_on = await store.run(lambda c: threading.current_thread())
        assert ran_on in opened and ran_on is not threading.current_thread()
        assert await store.read(lambda c: threading.current_thread()) is ran_on  # one thread: never interleaved
    finally:
        await store.close()
    assert _all_stopped(before) == []


async def test_calls_run_in_order_on_the_thread_and_their_errors_come_back(tmp_path):
    before = _workers()
    conn = await SQLiteThread.open(str(tmp_path / "t.db"), "test")
    try:
        await conn.call(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))
        await asyncio.gather(*[conn.call(lambda c, i=i: c.execute("INSERT INTO t VALUES (?)", (i,))) for i in range(50)])
        assert [r[0] for r in await conn.call(lambda c: c.execute("SELECT x FROM t ORDER BY rowid").fetchall())] == list(range(50))
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await conn.call(lambda c: c.execute("SELECT * FROM missing"))
        with pytest.raises(ZeroDivisionError):
            await conn.call(lambda c: 1 / 0)
        assert await conn.call(lambda c, a, b: a + b, 40, 2) == 42  # the thread serves on after errors
    finally:
        await conn.close()
    await conn.close()  # twice is harmless
    with pytest.raises(ValueError, match="closed"):
        await conn.call(lambda c: 1)
    assert _all_stopped(before) == []


async def test_a_call_whose_caller_gave_up_still_runs_whole(tmp_path):
    conn = await SQLiteThread.open(str(tmp_path / "t.db"), "test")
    try:
        await conn.call(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))
        started = threading.Event()

        def slow_insert(c):
            started.set()
            threading.Event().wait(0.2)
            c.execute("INSERT INTO t VALUES (1)")

        waiting = asyncio.ensure_future(conn.call(slow_insert))
        while not started.is_set():
            await asyncio.sleep(0.005)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert await conn.call(lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0]) == 1
    finally:
        await conn.close()


async def test_interrupt_from_the_event_loop_stops_a_running_statement(tmp_path):
    conn = await SQLiteThread.open(str(tmp_path / "t.db"), "test")
    try:
        endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
        running = asyncio.ensure_future(conn.call(lambda c: c.execute(endless).fetchone()))
        for _ in range(1000):
            await asyncio.sleep(0.01)
            conn.interrupt()
            if running.done():
                break
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            await asyncio.wait_for(running, 5)
        assert await conn.call(lambda c: c.execute("SELECT 7").fetchone()[0]) == 7
    finally:
        await conn.close()
    conn.interrupt()  # closed: nothing to interrupt, no error


async def test_a_connection_that_cannot_be_made_or_is_given_up_on_leaves_no_thread(tmp_path):
    before = _workers()
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await SQLiteThread.open(str(tmp_path / "no-such-folder" / "t.db"), "test")
    opening = asyncio.ensure_future(SQLiteThread.open(str(tmp_path / "t.db"), "test"))
    await asyncio.sleep(0)  # the thread has started; it may or may not have connected yet
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert _all_stopped(before) == []


# ---- an outside write lock ----------------------------------------------------------------------

async def test_reads_answer_while_another_connection_holds_the_write_lock_and_writes_get_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(SQLiteStore, "BUSY_TIMEOUT_MS", 300)
    store = await _store(tmp_path)
    try:
        await store.run(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))
        await store.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
        outside = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
        outside.execute("BEGIN IMMEDIATE")  # a backup, a sqlite3 shell…
        outside.execute("INSERT INTO t VALUES (2)")
        try:
            assert await asyncio.wait_for(store.read(lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0]), 30) == 1
            with pytest.raises(StoreBusy) as busy:
                await asyncio.wait_for(store.run(lambda c: c.execute("INSERT INTO t VALUES (3)")), 30)
            assert "try again" in busy.value.reply_text
            assert store.failure is None  # busy is not a failure: the store goes on
        finally:
            outside.execute("COMMIT")
            outside.close()
        await store.run(lambda c: c.execute("INSERT INTO t VALUES (3)"))
        assert await store.read(lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0]) == 3
    finally:
        await store.close()


# ---- a failed database --------------------------------------------------------------------------

async def test_a_fatal_error_fails_the_store_for_good_and_wakes_the_watcher(tmp_path, monkeypatch):
    monkeypatch.setattr(Store, "FAILURE_GRACE_SECONDS", 0.01)
    before = _workers()
    store = await _store(tmp_path)
    await store.run(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))
    await store.read(lambda c: c.execute("PRAGMA query_only=ON").fetchall())  # SQLite answers as for a read-only file: SQLITE_READONLY
    never = asyncio.Event()
    watched = asyncio.ensure_future(store.watch(never.wait()))
    with pytest.raises(StoreFailed) as failed:
        await store.run(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    assert failed.value.reason == "read-only" and "stopping" in failed.value.reply_text
    with pytest.raises(StoreFailed):  # every later call fails at once, reads too
        await asyncio.wait_for(store.read(lambda c: c.execute("SELECT 1").fetchone()), 5)
    with pytest.raises(StoreFailed):  # the work it watched is cancelled and the failure raised
        await asyncio.wait_for(watched, 30)
    await asyncio.wait_for(store.close(), 30)
    assert _all_stopped(before) == []


async def test_an_error_of_the_code_is_not_a_storage_fault(tmp_path):
    store = await _store(tmp_path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await store.run(lambda c: c.execute("SELECT * FROM no_such_table"))
        assert store.failure is None
        assert await store.read(lambda c: c.execute("SELECT 41 + 1").fetchone()[0]) == 42
    finally:
        await store.close()


async def test_a_failing_migration_at_open_closes_every_connection(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_broken.sql").write_text("THIS IS NOT SQL;")
    before = _workers()
    with pytest.raises(MigrationError, match="0002_broken.sql"):
        await asyncio.wait_for(open_store(tmp_path / "m.db", migrations=folder), 30)
    assert _all_stopped(before) == []


async def test_a_database_that_cannot_be_opened_leaves_no_thread(tmp_path):
    (tmp_path / "not-a-db").write_bytes(b"this is not an SQLite file, " * 100)
    before = _workers()
    with pytest.raises(StoreFailed, match="not a database"):
        await asyncio.wait_for(open_store(tmp_path / "not-a-db"), 30)
    assert _all_stopped(before) == []


async def test_a_start_that_fails_after_the_store_opened_closes_it(tmp_path, monkeypatch):
    from bot.core import assistant
    from bot.core.companion import Companion

    def broken(core):
        raise RuntimeError("the assistant could not be built")

    monkeypatch.setattr(assistant.Assistant, "build", staticmethod(broken))
    settings = load_settings({"COMPANION_DB": str(tmp_path / "c.db")}, dotenv=False)
    before = _workers()
    with pytest.raises(RuntimeError, match="could not be built"):
        await asyncio.wait_for(Companion.create(settings), 60)
    assert _all_stopped(before) == []


# ---- a bounded write-ahead log ------------------------------------------------------------------

async def test_steady_writes_from_several_tasks_keep_the_wal_under_its_bound(tmp_path, monkeypatch):
    """Before the bound, PASSIVE checkpoints under steady writes never let SQLite rewind the log,
    and it grew without limit (634 MB beside a 12 MB database). Here several tasks write for a
    few seconds, many times the bound in all, and the WAL file never passes it."""
    limit = 128 * 1024
    monkeypatch.setattr(SQLiteStore, "WAL_LIMIT_BYTES", limit)
    bound = SQLiteStore.wal_bound(limit)
    store = await _store(tmp_path, "w.db")
    wal = tmp_path / "w.db-wal"
    written = 0
    largest = 0
    stop = asyncio.Event()

    async def writer(who: int) -> None:
        nonlocal written
        body = os.urandom(4096)
        while not stop.is_set():
            await store.run(lambda c: c.execute("INSERT INTO t(who, body) VALUES (?, ?)", (who, body)))
            written += len(body)
            await asyncio.sleep(0)

    async def watch() -> None:
        nonlocal largest
        while not stop.is_set():
            largest = max(largest, wal.stat().st_size if wal.exists() else 0)
            await asyncio.sleep(0.002)

    try:
        await store.run(lambda c: c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER, body BLOB)"))
        tasks = [asyncio.ensure_future(writer(i)) for i in range(4)] + [asyncio.ensure_future(watch())]
        await asyncio.sleep(3)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert written > 3 * bound, f"only {written} bytes written: too little to test a bound of {bound}"
        assert largest <= bound, f"the WAL reached {largest} bytes, over its bound of {bound}"
        for _ in range(200):  # idle: within a round or two, the log is emptied
            if not wal.exists() or wal.stat().st_size == 0:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the WAL of an idle store still holds {wal.stat().st_size} bytes")
    finally:
        await store.close()

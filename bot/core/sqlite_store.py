"""The SQLite engine of the store (bot/core/store.py): one connection on a thread of its own, WAL,
foreign keys, and schema migrations.

Every core operation is a plain function over a `sqlite3.Connection` that `SQLiteStore.run`
executes as one transaction on the connection's own thread (`SQLiteThread`, bot/core/sqlite_thread.py):
one hop to the thread per operation instead of one per statement (each hop costs about 0.1 ms),
and no two operations ever interleave, because the thread runs them one at a time. That is
what makes a burst of simultaneous answers safe without an asyncio lock. `SQLiteStore.read` is the
same for operations that only read: a deferred transaction that never takes the write lock, so
WAL lets it read while another process (a backup, a `sqlite3` shell) holds a write transaction.

SQLite's result codes are sorted into StoreBusy (busy, locked: longer than `BUSY_TIMEOUT_MS`)
and StoreFailed (read-only, disk full, I/O error, corrupt, cannot open) by `storage_error`.

The write-ahead log is bounded: checkpoints run on a second connection in the background
(PASSIVE, which never blocks a writer), and when the WAL file passes `WAL_LIMIT_BYTES`, or when
the store is idle, a TRUNCATE checkpoint resets it to zero bytes; `journal_size_limit` trims
the file whenever SQLite rewinds it. See `bench/RESULTS.md` ("The write-ahead log").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .config import MIGRATIONS_DIR
from .sqlite_thread import SQLiteThread
from .store import SCHEMA_MIGRATIONS_DDL, Migration, MigrationError, Store, StoreBusy, StoreError, StoreFailed, current_version, pending_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")


# SQLite's primary result codes (the low byte of the extended code).
_BUSY_CODES = {5: "busy", 6: "locked"}
_FATAL_CODES = {3: "permission denied", 8: "read-only", 10: "disk I/O error", 11: "corrupt", 13: "disk full",
                14: "cannot open the file", 15: "locking protocol error", 26: "not a database"}


def storage_error(exc: sqlite3.Error) -> StoreError | None:
    """The StoreBusy or StoreFailed that `exc` means, or None for an error that is not the storage's."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _BUSY_CODES:
        return StoreBusy(str(exc))
    if primary in _FATAL_CODES:
        return StoreFailed(_FATAL_CODES[primary], str(exc))
    if primary is None and "database is locked" in str(exc):  # raised without a code by some paths
        return StoreBusy(str(exc))
    return None


class SQLiteStore(Store):
    engine = "sqlite"

    #: How often the background connection copies the write-ahead log into the database.
    CHECKPOINT_SECONDS = 0.5
    #: When a write takes the WAL file past this size, a TRUNCATE checkpoint right after it empties
    #: the log (`_reset_wal`), and SQLite trims the file to this size whenever it rewinds it
    #: (`journal_size_limit`). See bench/RESULTS.md, "The write-ahead log".
    WAL_LIMIT_BYTES = 16 * 1024 * 1024
    #: How long a write waits for another process's write lock before raising StoreBusy.
    BUSY_TIMEOUT_MS = 5000
    #: How long a reset of the WAL may wait for another process (its reader, its checkpoint) before
    #: it gives up for a round; our writers wait behind it meanwhile. (Our own background
    #: checkpoint is interrupted and waited for.)
    RESET_WAIT_MS = 100

    @staticmethod
    def wal_bound(limit: int) -> int:
        """The most the WAL file holds with `WAL_LIMIT_BYTES = limit` while no other process keeps a
        read transaction open (SQLite cannot empty a log a reader still uses): the limit plus the
        one transaction that crossed it (each of ours writes a few pages), with a wide margin."""
        return limit + 256 * 1024

    def __init__(self, db: SQLiteThread, path: str, checkpointer: SQLiteThread | None = None):
        super().__init__()
        self._db = db
        self.path = path
        self._checkpointer = checkpointer
        self._wal = f"{path}-wal"
        self._writes = 0  # writes so far: the checkpoint loop's measure of "idle"
        self._checkpointer_busy = False  # a background checkpoint is running (a reset interrupts it)
        self._next_reset = 0.0  # monotonic time: after a reset was refused (a reader elsewhere), not before then
        self._reset_error: sqlite3.Error | None = None  # a reset that failed, for the loop thread to judge
        self._checkpoints = asyncio.create_task(self._checkpoint_loop()) if checkpointer else None

    @classmethod
    async def connect(cls, path: str | Path, migrate: bool = True, migrations: Path = MIGRATIONS_DIR) -> SQLiteStore:
        """Open (creating if needed) the database and bring its schema up to date.

        Checkpoints (copying the WAL into the database file, with its fsync) run on a second
        connection in the background instead of inside whichever request happens to cross
        SQLite's threshold, so no student's click pays for them.

        On any failure everything opened so far is closed again (a connection left open would
        leave its thread and its file handle behind in a process that is about to report the
        failure), and a storage fault is raised as StoreFailed or StoreBusy; a failing migration
        as MigrationError.
        """
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await SQLiteThread.open(path, "store")
        except sqlite3.Error as exc:  # the thread has ended: nothing to close
            problem = storage_error(exc)
            if problem is None:
                raise
            raise problem from exc
        store: SQLiteStore | None = None
        checkpointer = None
        try:
            await db.call(_into_wal, cls.BUSY_TIMEOUT_MS)
            pragmas = ["PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"]
            if path != ":memory:":
                pragmas += ["PRAGMA wal_autocheckpoint=0", f"PRAGMA journal_size_limit={cls.WAL_LIMIT_BYTES}"]
            await db.call(_settle, pragmas, sqlite3.Row)
            if path != ":memory:":
                checkpointer = await SQLiteThread.open(path, "checkpointer")
                await checkpointer.call(_settle, [
                    f"PRAGMA busy_timeout={cls.BUSY_TIMEOUT_MS}", f"PRAGMA journal_size_limit={cls.WAL_LIMIT_BYTES}"])
            store = cls(db, path, checkpointer)
            if migrate:
                await store.migrate(migrations=migrations)
            return store
        except BaseException as exc:
            if store is not None:
                await store.close()
            else:
                for conn in (checkpointer, db):
                    await _close_quietly(conn)
            problem = storage_error(exc) if isinstance(exc, sqlite3.Error) else None
            if problem is None:
                raise
            raise problem from exc

    # ---- transactions ---------------------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any, isolation: str = "serializable") -> T:
        """Run `fn(conn, *args)` as one write transaction on the database thread, in one hop.
        Every `isolation` is the same here: the thread runs one transaction at a time."""
        self._isolation(isolation)
        result = await self._call("BEGIN IMMEDIATE", fn, args)
        self._writes += 1
        if self._reset_error is not None:  # the write is committed; the reset after it met a failing disk
            problem, self._reset_error = storage_error(self._reset_error), None
            if isinstance(problem, StoreFailed):
                self._fail(problem)
        return result

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)`, which only reads, as one deferred transaction: it takes no write
        lock, so it answers while another process holds one (WAL readers never wait for writers)."""
        return await self._call("BEGIN", fn, args)

    async def _call(self, begin: str, fn: Callable[..., T], args: tuple) -> T:
        if self.failure is not None:
            raise self.failure
        try:
            return await self._db.call(self._transaction, begin, fn, args)
        except sqlite3.Error as exc:
            self._raise_sorted(exc, storage_error(exc))

    def _transaction(self, conn: sqlite3.Connection, begin: str, fn: Callable[..., T], args: tuple) -> T:
        """On the database thread: `fn(conn, *args)` between `begin` and COMMIT (ROLLBACK if it raises)."""
        conn.execute(begin)
        try:
            result = fn(conn, *args)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a failed disk may refuse even this; SQLite rolls back anyway
                    conn.execute("ROLLBACK")
            raise
        if begin != "BEGIN" and self._checkpointer is not None and _size(self._wal) > self.WAL_LIMIT_BYTES:
            self._reset_wal(conn)  # one stat() per write, about a microsecond; a reset once per limit
        return result

    # ---- checkpoints and closing ------------------------------------------------------------

    async def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints in the background (they never block a writer), and a TRUNCATE
        checkpoint, which empties the log, whenever the store has been idle for a round."""
        writes_seen = self._writes
        while True:
            await asyncio.sleep(self.CHECKPOINT_SECONDS)
            idle = self._writes == writes_seen
            writes_seen = self._writes
            if _size(self._wal) == 0:
                continue
            try:
                self._checkpointer_busy = True
                try:
                    await self._checkpoint("TRUNCATE" if idle else "PASSIVE")
                finally:
                    self._checkpointer_busy = False
            except sqlite3.Error as exc:  # busy now, or interrupted for a reset: the next round catches up
                log.debug("background checkpoint skipped: %s", exc)
                problem = storage_error(exc)
                if isinstance(problem, StoreFailed):
                    self._fail(problem)
                    return

    async def _checkpoint(self, mode: str) -> tuple[int, int, int]:
        """A checkpoint on the background connection: (busy, frames in the log, frames copied)."""
        assert self._checkpointer is not None  # the loop and `close` call this only while there is one
        return await self._checkpointer.call(_wal_checkpoint, mode)

    def _reset_wal(self, conn: sqlite3.Connection) -> None:
        """On the database thread, right after the write that took the log past the limit: copy
        what the background checkpoints have not copied yet, sync, and truncate the log to zero.

        Under steady writes a PASSIVE checkpoint never catches up with the last frame, so SQLite
        never rewinds the log; a TRUNCATE on the background connection would starve, because our
        writers, one after another on this connection, always get the lock first; and a reset
        queued behind them would come after every write already queued (hundreds, under a
        burst). Here nothing of ours can write meanwhile, so the log stays within one transaction
        of the limit. The write that crossed it, and those queued behind, wait for the reset: a
        few milliseconds to a few tens, once per `WAL_LIMIT_BYTES` written, about what SQLite's
        own automatic checkpoint costs every 4 MiB. A background checkpoint under way is
        interrupted (it holds the checkpoint lock); the short busy timeout means a reader in
        another process (a backup) can postpone the reset, never hold our writers for long.
        """
        checkpointer = self._checkpointer  # read once: `close` may let go of it meanwhile
        if checkpointer is None or time.monotonic() < self._next_reset:
            return
        conn.execute(f"PRAGMA busy_timeout={self.RESET_WAIT_MS}").fetchall()
        started = time.monotonic()
        try:
            while True:
                # A checkpoint holding the checkpoint lock makes this one fail at once (SQLite calls no
                # busy handler for that lock): ours is interrupted and waited for (it lets go at once,
                # or after the sync it may be in); another process's, for RESET_WAIT_MS.
                ours = self._checkpointer_busy
                if ours:
                    checkpointer.interrupt()  # thread-safe; a no-op if it has just finished
                busy, _log, _done = _wal_checkpoint(conn, "TRUNCATE")
                if not busy:
                    return
                ours = ours or self._checkpointer_busy  # it may have started meanwhile
                if time.monotonic() - started > (self.BUSY_TIMEOUT_MS if ours else self.RESET_WAIT_MS) / 1000:
                    self._next_reset = time.monotonic() + self.CHECKPOINT_SECONDS  # a reader elsewhere: later
                    return
                time.sleep(0.001)
        except sqlite3.Error as exc:  # the write before it is committed: report this one later
            log.debug("resetting the WAL failed: %s", exc)
            self._reset_error = exc
            self._next_reset = time.monotonic() + self.CHECKPOINT_SECONDS
        finally:
            conn.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}").fetchall()

    async def close(self) -> None:
        """Close both connections and stop their threads, whatever state the database is in."""
        if self._checkpoints:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._checkpoints
            self._checkpoints = None
        if self._checkpointer is not None:
            if self.failure is None:
                try:
                    await self._checkpoint("TRUNCATE")
                except (sqlite3.Error, ValueError) as exc:
                    log.warning("final checkpoint of %s skipped: %s", self.path, exc)
            await _close_quietly(self._checkpointer)
            self._checkpointer = None
        await _close_quietly(self._db)

    # ---- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return await self._db.call(current_version)

    async def migrate(self, target: int | None = None, migrations: Path = MIGRATIONS_DIR) -> list[Migration]:
        """Apply every pending migration up to `target` (default: all); returns those applied."""
        pending = pending_migrations(migrations, target)
        applied = await self._db.call(_apply_migrations, pending)
        for m in applied:
            log.info("applied migration %04d_%s", m.version, m.name)
        return applied

    @staticmethod
    def _catalog(conn: sqlite3.Connection) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]
        columns = {name: [c[1] for c in conn.execute(f'PRAGMA table_info("{name}")')] for name in names}
        references = {name: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')} for name in names}
        return columns, references

    async def renumber(self) -> None:
        """Nothing to do: SQLite numbers a new INTEGER PRIMARY KEY after the highest in the table."""

    async def lead(self, job: str) -> bool:
        """Always: processes sharing one SQLite file each advance their own platforms' sessions,
        and every step is a compare-and-set under SQLite's single write lock (bot/core/live.py),
        so two processes racing for one step move it once. There is no connection-scoped lock
        that a killed process would release, so leadership here would outlive its holder."""
        return True


def _settle(conn: sqlite3.Connection, pragmas: list[str], row_factory: Any = None) -> None:
    """Set the connection's row factory, and run each PRAGMA and read its result to the end, so that
    no statement stays active on the connection (an active one would also keep an interrupt meant
    for a checkpoint from clearing)."""
    conn.row_factory = row_factory
    for pragma in pragmas:
        conn.execute(pragma).fetchall()


def _into_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Set the busy timeout and switch the file to WAL, trying again while it is busy. Two
    processes opening a new file at once both switch it from the rollback journal; the switch
    needs the file alone, and SQLite answers one of them "locked" at once, without waiting,
    instead of letting each wait for the other's lock (a deadlock). Once the other has switched
    (or committed), this one's switch goes through."""
    conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}").fetchall()
    give_up = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if not isinstance(storage_error(exc), StoreBusy) or time.monotonic() > give_up:
                raise
            time.sleep(0.005)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _wal_checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """A checkpoint, its result row read (an unread statement would stay active, and an interrupt
    meant for it would then stick to the connection)."""
    return tuple(conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone())


async def _close_quietly(conn: SQLiteThread | None) -> None:
    """Close a connection; its thread stops even when closing the file fails."""
    if conn is None:
        return
    try:
        await conn.close()
    except Exception as exc:  # the thread has ended all the same
        log.warning("closing the database connection failed: %s", exc)


def _apply_migrations(conn: sqlite3.Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply, in order, every migration not yet recorded. Numbers may have gaps (they are reserved
    per branch), so a lower number that lands later is still applied, not skipped."""
    conn.execute(SCHEMA_MIGRATIONS_DDL)
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    applied = []
    for m in migrations:
        if m.version in done:
            continue
        sql = m.path.read_text(encoding="utf-8")
        # executescript runs the file as written; BEGIN/COMMIT around it make file and record one transaction.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n;INSERT INTO schema_migrations(version, name) VALUES ({m.version}, '{m.name}');\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # a failed disk may refuse even this; SQLite rolls back anyway
                    conn.execute("ROLLBACK")
            with contextlib.suppress(sqlite3.Error):
                if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (m.version,)).fetchone():
                    continue  # another process sharing the file applied it after we looked: nothing to do
            raise MigrationError(f"{m.path.name}: {exc}") from exc
        applied.append(m)
    return applied

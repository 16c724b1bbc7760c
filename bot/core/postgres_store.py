"""The PostgreSQL engine of the store (bot/core/store.py), for several replicas on one database.

The core's operations are the same plain functions `fn(conn, *args)` as on SQLite. Here `conn`
is a `PgConnection`: the sqlite3 surface they use (`execute(sql, params)` with `?`
placeholders, `executemany`, a cursor with `fetchone`/`fetchall`/`rowcount`, iteration, rows by
index and by column name) over a psycopg connection from a pool. Each operation runs on one of
`POOL_SIZE` worker threads (as SQLite's runs on its own thread: one hop per operation) inside ONE
transaction:

- `run`: SERIALIZABLE. The core was written for SQLite, where write transactions never
  interleave; SERIALIZABLE gives the same outcome as running them one after another (a
  read-then-insert of a new user, an answer racing the clock's close of its question), and a
  transaction that would break that is rolled back by PostgreSQL with a serialization failure
  and run again here, with a short random pause, until `BUSY_TIMEOUT_MS` has passed (then
  StoreBusy). Operation functions only read and write through `conn`, so running one again is
  safe. A transaction run again runs alone among this process's (`_RetryGate`): two of our own
  that keep aborting each other would otherwise go on doing so until the timeout.
- `run(…, isolation="read committed")`: READ COMMITTED, for an operation written so that it
  needs no more (`ISOLATION_LEVELS` in bot/core/store.py): live answers, whose batches insert
  side by side into the same index pages, which SERIALIZABLE's predicate locks see as conflicts
  (two batches in flight aborted each other until busy). Such an operation locks the rows it
  relies on with `share_lock` (`FOR SHARE`). A deadlock is run again as above.
- `read`: REPEATABLE READ: one snapshot for the whole operation, no predicate locks. (Not READ
  ONLY: on SQLite a read that happens to write still works, and must here too.)

Round trips: each round trip to the server costs more than the statement it carries, so a
transaction runs in psycopg's pipeline mode. A statement is sent when executed, and the operation
waits only when it reads a result (`fetchone`, `fetchall`, iteration, `rowcount`): BEGIN goes
with the first statement, and writes whose results are not read go with the next read or with
the COMMIT, which is one round trip with them. A statement that fails is raised where its
result is read, at the latest at the COMMIT; whatever is raised, the transaction is rolled back
(one round trip with what is still queued), and a failure queued before an exception of the
operation's own (a `Refusal`) is raised instead of it, as it would have been without the
pipeline (`_attempt`). And every transaction's connection carries a visit of the store's
`SeenUsers` (bot/core/users.py), so that a person's activity day and guild, once found recorded
by this process, are not written again on any path: the user's row is still read every time
(another replica may have deleted it, `/forget-me`, and a row created anew consults nothing).

Faults are sorted as on SQLite (`storage_error`): a lock held elsewhere past `lock_timeout`, a
deadlock, serialization failures past the timeout → StoreBusy; the connection lost, the server
shut down, read-only, disk full, I/O error, corrupt, cannot connect → StoreFailed (the process
answers and exits 1). A pooled connection that turns out broken before its transaction's COMMIT
was sent (nothing of it can have been committed) is replaced once, after the pool has dropped
every other broken one, and the transaction run again before that counts as a failure: a server
restarted between two requests costs nothing.

`lead(job)`: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
so exactly one replica runs a job (the live-quiz clock of a platform); if that replica dies its
connection goes and PostgreSQL releases the lock, and the next replica to ask takes it over.

Migrations are the same files as SQLite's, translated by `postgres_ddl` (the few dialect
differences, in one place), all pending ones applied in one transaction (one commit, one fsync)
under an advisory lock so replicas starting together apply each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from .config import MIGRATIONS_DIR, database_label
from .store import SCHEMA_MIGRATIONS_DDL, Migration, MigrationError, Store, StoreBusy, StoreError, StoreFailed, current_version, pending_migrations
from .users import SeenUsers, Visit

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Names of the worker threads that run operations (tests look for leftovers by this prefix).
THREAD_NAME_PREFIX = "companion-postgres"


# ---- the dialect --------------------------------------------------------------------------------

_LITERAL = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*)")


@functools.lru_cache(maxsize=4096)
def placeholders(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (and a literal `%` as `%%`), outside quotes and comments."""
    parts = _LITERAL.split(sql)
    for i in range(0, len(parts), 2):  # the even parts are outside literals and comments
        parts[i] = parts[i].replace("%", "%%").replace("?", "%s")
    return "".join(parts)


_DDL_TYPES = [
    # An INTEGER PRIMARY KEY that is not a reference is SQLite's rowid alias: numbered by the
    # database when not given. PostgreSQL's equivalent is an identity column (explicit values,
    # as `companion db copy` writes, still allowed: BY DEFAULT).
    (re.compile(r"\bINTEGER(\s+NOT\s+NULL)?\s+PRIMARY\s+KEY\b(?!\s+REFERENCES)", re.IGNORECASE),
     "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),  # SQLite's INTEGER holds 64 bits; PostgreSQL's 32
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),  # SQLite's REAL is 8 bytes; PostgreSQL's 4
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
]


def postgres_ddl(sql: str) -> str:
    """A migration written for SQLite, as PostgreSQL runs it: the one place the dialects differ.

    Migrations keep to the portable style (README: `INTEGER PRIMARY KEY` ids, TEXT ISO
    timestamps, INTEGER 0/1 booleans, `REFERENCES … ON DELETE CASCADE`); what PostgreSQL spells
    differently is only the column types, translated here outside quoted text and comments, so
    a new migration needs no work of its own."""
    parts = _LITERAL.split(sql)
    for i in range(0, len(parts), 2):
        for pattern, replacement in _DDL_TYPES:
            parts[i] = pattern.sub(replacement, parts[i])
    return "".join(parts)


class _NumberLoader(Loader):
    """NUMERIC results (PostgreSQL's SUM of integers, AVG) as SQLite gives them: an int when
    whole, else a float (psycopg's default, Decimal, would not mix with the core's arithmetic or JSON)."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        return int(text) if text.lstrip("-").isdigit() else float(text)


class Row(tuple):
    """A result row readable by index and by column name, as sqlite3.Row is (`keys()`, `dict(row)`)."""

    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"_index": {name: i for i, name in enumerate(names)}})


def _rows(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    """psycopg row factory: `Row`s whose names come from the cursor's description."""
    if cursor.description is None:
        return tuple
    cls = _row_class(tuple(c.name for c in cursor.description))
    return cls


class PgCursor(psycopg.Cursor):
    """psycopg's cursor, whose `rowcount` waits for its statement's result in pipeline mode as
    `fetchone()` does (psycopg's own would be -1 until some later statement fetched it)."""

    @property
    def rowcount(self) -> int:
        self._fetch_pipeline()  # what psycopg's fetch methods call first; nothing outside a pipeline
        return self._rowcount


class PgConnection:
    """The sqlite3 surface the core's operation functions use, over one psycopg connection.

    `visit`: the transaction's use of the store's `SeenUsers`, which `touch_user` takes when its
    caller gives none: on every path, a person's day and guild found recorded once are not
    written again by this process (module docstring, *Round trips*)."""

    #: What locks the `users` rows a SELECT reads until the commit (bot/core/users.py `person_lock`):
    #: FOR NO KEY UPDATE, which waits for and blocks the same lock and updates, not the inserts
    #: that reference the row (an answer's or a page's own rows).
    PERSON_LOCK = " FOR NO KEY UPDATE"

    def __init__(self, raw: psycopg.Connection, visit: Visit | None = None):
        self.raw = raw
        self.visit = visit

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        if params:
            return self.raw.execute(placeholders(sql), tuple(params))
        return self.raw.execute(sql)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(placeholders(sql), [tuple(r) for r in rows])
        return cursor


def _attempt(raw: psycopg.Connection, begin: str, fn: Callable[..., T], args: tuple, sent: list[str], visit: Visit) -> T:
    """`fn(PgConnection(raw), *args)` between `begin` and COMMIT in pipeline mode (module
    docstring, *Round trips*); if anything fails, what went wrong first is raised and the
    connection is left with no transaction (`_clean_up`).

    When the operation raises (a `Refusal`), ROLLBACK is queued behind what it sent and goes in
    the one round trip that ends the pipeline; a queued statement that had failed before (its
    result not yet read) is what went wrong first, and is raised instead, as it would have been
    without the pipeline: a serialization failure is then run again, not answered with a refusal
    decided on a snapshot that could not commit. `sent` gets the statement that ends the
    transaction once it is sent (a COMMIT sent on a connection that then broke may have been
    committed). `visit` is kept once the transaction has committed."""
    failure: BaseException | None = None
    failed_statement = False  # a statement failed, whatever is raised: the pipeline skipped what followed it
    result: Any = None
    try:
        with raw.pipeline():
            raw.execute(begin)
            try:
                result = fn(PgConnection(raw, visit), *args)
            except BaseException as exc:
                failure = exc
                end = "ROLLBACK"
            else:
                end = "COMMIT"
            if not (raw.closed or raw.broken):
                sent.append(end)
                try:
                    raw.execute(end)
                except psycopg.Error as queued:  # an earlier statement's failure, read while sending it
                    failure, failed_statement = _first(failure, queued), True
    except psycopg.Error as queued:  # a statement (or the COMMIT) whose result had not been read
        failure, failed_statement = _first(failure, queued), True
    if failure is not None:
        _clean_up(raw, failed_statement or isinstance(failure, psycopg.Error))
        raise failure
    visit.keep()
    return result


def _first(failure: BaseException | None, queued: psycopg.Error) -> BaseException:
    """What went wrong first: `failure` (raised by the operation or read earlier), or `queued`, a
    statement's failure read later. A database error read in the operation stays first (what
    follows it only says that the pipeline was aborted); anything else raised by the operation
    came after a queued statement's failure."""
    if isinstance(failure, psycopg.Error) or (failure is not None and isinstance(queued, pg_errors.PipelineAborted)):
        return failure
    return queued


def _clean_up(raw: psycopg.Connection, failed_statement: bool) -> None:
    """After a failed attempt: roll back whatever is left of its transaction (a ROLLBACK queued
    after a failed statement is skipped with everything else up to the end of the pipeline).

    After a statement failed, also forget the connection's prepared statements. psycopg prepares a
    statement run often (`prepare_threshold`) by queueing its PREPARE before it, and from then on
    counts it as prepared; one queued after the failed statement was skipped, and psycopg would go
    on running a statement that does not exist. psycopg offers no public way to drop its count
    (a DEALLOCATE ALL of our own resets it only sometimes), so its own is used: it empties the
    cache and sends DEALLOCATE ALL with the next statement (psycopg is pinned, pyproject.toml)."""
    if raw.closed or raw.broken:
        return
    if failed_statement:
        raw._prepared.clear()
    if raw.info.transaction_status != TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            raw.execute("ROLLBACK")


# ---- faults -------------------------------------------------------------------------------------

_BUSY_STATES = {"40001": "serialization conflicts", "40P01": "deadlock", "55P03": "lock not available", "57014": "statement timeout",
                "53300": "too many connections"}
_FATAL_STATES = {"25006": "read-only", "53100": "disk full", "53200": "out of memory", "58030": "disk I/O error",
                 "XX001": "corrupt", "XX002": "corrupt", "57P01": "the server shut down", "57P02": "the server crashed",
                 "57P03": "the server is not accepting connections", "42501": "permission denied", "3D000": "no such database",
                 "28P01": "authentication failed", "28000": "authentication failed"}


def storage_error(exc: BaseException) -> StoreError | None:
    """The StoreBusy or StoreFailed that `exc` means, or None for an error that is not the storage's."""
    if isinstance(exc, PoolTimeout):
        return StoreFailed("cannot connect", str(exc))
    state = getattr(exc, "sqlstate", None)
    if state in _BUSY_STATES:
        return StoreBusy(f"{_BUSY_STATES[state]}: {exc}")
    if state in _FATAL_STATES:
        return StoreFailed(_FATAL_STATES[state], str(exc))
    if state is not None and state.startswith("08"):
        return StoreFailed("connection lost", str(exc))
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) and state is None:
        return StoreFailed("connection lost", str(exc).strip() or type(exc).__name__)
    return None


def _lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a name (the same in every replica and version)."""
    return int.from_bytes(hashlib.blake2b(f"companion:{name}".encode(), digest_size=8).digest(), "big", signed=True)


class _RetryGate:
    """Every transaction of the process runs through this gate: side by side as a rule
    (`together`), but one run again after a serialization failure or deadlock waits until the
    others under way have finished and runs with none beside it (`alone`); new ones wait behind
    it meanwhile. Only another replica can then conflict with it, so the retries of two of our
    own transactions that conflict with each other end after one round instead of repeating until
    the timeout. The common path costs a lock taken twice; the exclusive path only follows a
    conflict."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0  # transactions running together
        self._alone = 0  # transactions waiting to run alone, or running alone (at most one runs)
        self._alone_running = False

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._alone == 0)
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._changed:
            self._alone += 1
            self._changed.wait_for(lambda: self._running == 0 and not self._alone_running)
            self._alone_running = True
        try:
            yield
        finally:
            with self._changed:
                self._alone -= 1
                self._alone_running = False
                self._changed.notify_all()


def _configure(raw: psycopg.Connection) -> None:
    raw.adapters.register_loader("numeric", _NumberLoader)
    raw.row_factory = _rows
    raw.cursor_factory = PgCursor


class PostgresStore(Store):
    engine = "postgresql"

    #: Connections (and worker threads) per process. Each replica opens this many, plus one for `lead`.
    POOL_SIZE = 8
    #: How long a write waits for a lock held elsewhere, and how long a transaction may keep being
    #: run again after serialization failures, before StoreBusy.
    BUSY_TIMEOUT_MS = 5000
    #: How long to wait for a connection (the server unreachable) before StoreFailed.
    CONNECT_TIMEOUT_SECONDS = 5.0

    def __init__(self, url: str, pool: ConnectionPool, executor: ThreadPoolExecutor):
        super().__init__()
        self.url = url
        self.path = database_label(url)
        self._pool = pool
        self._executor = executor
        self._leader: psycopg.Connection | None = None  # the connection holding this process's `lead` locks
        self._led: set[str] = set()
        self._leader_lock = threading.Lock()
        self._gate = _RetryGate()
        self._closed = False
        #: Users' activity days and guilds this process has found recorded (`PgConnection.visit`).
        self.seen_users = SeenUsers()

    @classmethod
    def _connection_kwargs(cls) -> dict[str, Any]:
        return {"autocommit": True, "options": f"-c lock_timeout={cls.BUSY_TIMEOUT_MS}",
                "connect_timeout": max(1, round(cls.CONNECT_TIMEOUT_SECONDS))}

    @classmethod
    async def connect(cls, url: str, migrate: bool = True, migrations: Path = MIGRATIONS_DIR) -> PostgresStore:
        """Open a pool on the database at `url` and bring its schema up to date. On any failure
        everything opened is closed again; a storage fault is raised as StoreFailed or StoreBusy,
        a failing migration as MigrationError."""
        pool = ConnectionPool(url, min_size=1, max_size=cls.POOL_SIZE, kwargs=cls._connection_kwargs(), configure=_configure,
                              timeout=cls.CONNECT_TIMEOUT_SECONDS, open=False, name="companion")
        executor = ThreadPoolExecutor(max_workers=cls.POOL_SIZE, thread_name_prefix=THREAD_NAME_PREFIX)
        store = cls(url, pool, executor)
        try:
            await store._in_thread(pool.open, True, cls.CONNECT_TIMEOUT_SECONDS)
            if migrate:
                await store.migrate(migrations=migrations)
            return store
        except BaseException as exc:
            await store.close()
            problem = storage_error(exc)
            if problem is None:
                raise
            raise problem from exc

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ---- transactions ---------------------------------------------------------------------

    #: Rows a SELECT ending with this are locked against updates until the transaction ends.
    share_lock = " FOR SHARE"

    async def run(self, fn: Callable[..., T], *args: Any, isolation: str = "serializable") -> T:
        """Run `fn(conn, *args)` as one transaction at `isolation` (SERIALIZABLE unless asked for
        READ COMMITTED: see `ISOLATION_LEVELS`), again after a serialization failure or deadlock."""
        return await self._call(self._isolation(isolation), fn, args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)`, which only reads, on one snapshot (REPEATABLE READ)."""
        return await self._call("repeatable read", fn, args)

    async def _call(self, isolation: str, fn: Callable[..., T], args: tuple) -> T:
        if self.failure is not None:
            raise self.failure
        try:
            return await self._in_thread(self._transaction, isolation, fn, args)
        except (psycopg.Error, PoolTimeout) as exc:
            self._raise_sorted(exc, storage_error(exc))

    def _transaction(self, isolation: str, fn: Callable[..., T], args: tuple) -> T:
        """On a worker thread: `fn(PgConnection, *args)` in one transaction at `isolation`, run
        again (alone among this process's transactions, `_RetryGate`) after a serialization failure or
        deadlock: once in any case (a long transaction, a batch of answers under load, may have
        used up the time in its first attempt, and alone it can only meet another replica's
        conflicts), then again until BUSY_TIMEOUT_MS has passed."""
        begin = f"BEGIN ISOLATION LEVEL {isolation.upper()}"
        give_up = time.monotonic() + self.BUSY_TIMEOUT_MS / 1000
        pause = 0.001
        gate = self._gate.together
        while True:
            try:
                with gate():
                    return self._once(begin, fn, args)
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                if gate == self._gate.alone and time.monotonic() + pause > give_up:
                    raise
                time.sleep(pause * random.uniform(0.5, 1.5))
                pause = min(pause * 2, 0.05)
                gate = self._gate.alone

    def _once(self, begin: str, fn: Callable[..., T], args: tuple) -> T:
        """One attempt of the transaction (`_attempt`). A pooled connection found broken before
        its COMMIT was sent (the server restarted while it idled: nothing of this transaction can
        have been committed) is replaced once, after the pool has dropped every other broken one,
        and the attempt made again on a new one."""
        for fresh in (False, True):
            with self._pool.connection() as raw:
                sent: list[str] = []
                try:
                    return _attempt(raw, begin, fn, args, sent, self.seen_users.visit())
                except psycopg.OperationalError:
                    if fresh or not (raw.closed or raw.broken) or "COMMIT" in sent:
                        raise
                    self._pool.check()
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _catalog(conn: PgConnection) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN information_schema.tables t"
                " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position"):
            columns.setdefault(table, []).append(column)
        references: dict[str, set[str]] = {table: set() for table in columns}
        for table, referenced in conn.execute(
                "SELECT k.conrelid::regclass::text, k.confrelid::regclass::text FROM pg_constraint k"
                " JOIN pg_namespace n ON n.oid = k.connamespace WHERE k.contype = 'f' AND n.nspname = current_schema()"):
            references.setdefault(table, set()).add(referenced)
        return columns, references

    async def renumber(self) -> None:
        """Each identity column's sequence restarts after the highest id in its table."""
        def renumber(conn: PgConnection) -> None:
            for table, column in conn.execute(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                             f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)")

        await self._call("serializable", renumber, ())

    # ---- leading a job --------------------------------------------------------------------

    async def lead(self, job: str) -> bool:
        if self.failure is not None:
            raise self.failure
        try:
            return await self._in_thread(self._lead, job)
        except psycopg.Error as exc:
            self._raise_sorted(exc, storage_error(exc))

    def _lead(self, job: str) -> bool:
        with self._leader_lock:
            if self._closed:
                return False
            if self._leader is not None:
                try:
                    self._leader.execute("SELECT 1")
                except psycopg.Error:  # its connection went, and the locks with it: ask again on a new one
                    log.warning("lost the database connection holding %s; asking again", ", ".join(sorted(self._led)) or "no lead")
                    with contextlib.suppress(psycopg.Error):
                        self._leader.close()
                    self._leader, self._led = None, set()
            if job in self._led:
                return True
            if self._leader is None:
                self._leader = psycopg.connect(self.url, **self._connection_kwargs())
            row = self._leader.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(job),)).fetchone()
            if row is not None and row[0]:
                self._led.add(job)
                log.info("this process now leads %s", job)
                return True
            return False

    # ---- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        return await self._call("serializable", current_version, ())

    async def migrate(self, target: int | None = None, migrations: Path = MIGRATIONS_DIR) -> list[Migration]:
        """Apply every pending migration up to `target` (default: all) in ONE transaction (see
        `_apply_pending`); returns those applied. A failing migration raises MigrationError after
        those before it are committed, as on SQLite; a storage fault (StoreBusy, StoreFailed)
        commits none."""
        pending = pending_migrations(migrations, target)
        try:
            applied, failed = await self._in_thread(self._apply_pending, pending)
        except (psycopg.Error, PoolTimeout) as exc:
            self._raise_sorted(exc, storage_error(exc))
        for m in applied:
            log.info("applied migration %04d_%s", m.version, m.name)
        if failed is not None:
            broken, error = failed
            raise MigrationError(f"{broken.path.name}: {error}") from error
        return applied

    def _apply_pending(self, pending: list[Migration]) -> tuple[list[Migration], tuple[Migration, psycopg.Error] | None]:
        """On a worker thread: the migrations not yet recorded, each with its row in
        `schema_migrations`, all in one transaction (PostgreSQL's DDL is transactional): one commit,
        so one WAL fsync for the lot instead of one per file (on a new database that was most of the
        start-up, bench/RESULTS.md), and on an up-to-date database a single short transaction.

        An advisory lock taken first, held to the commit, makes replicas starting together apply
        each migration once: the second waits (up to `lock_timeout`, BUSY_TIMEOUT_MS, for the whole
        run, then StoreBusy: its supervisor starts it again), then (READ COMMITTED: each statement
        sees what was committed before it) finds them recorded. Each migration runs under a savepoint: a failing
        one is undone alone and the ones before it are committed, leaving the database at the
        version before the failure, as SQLite's engine does; returned as (applied, (migration, error))."""
        applied: list[Migration] = []
        with self._pool.connection() as raw:
            raw.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key("migrations"),))
                raw.execute(SCHEMA_MIGRATIONS_DDL)
                done = {row[0] for row in raw.execute("SELECT version FROM schema_migrations")}
                for m in pending:
                    if m.version in done:
                        continue
                    raw.execute("SAVEPOINT migration")
                    try:
                        raw.execute(postgres_ddl(m.path.read_text(encoding="utf-8")))
                        raw.execute("INSERT INTO schema_migrations(version, name) VALUES (%s, %s)", (m.version, m.name))
                    except psycopg.Error as exc:
                        if storage_error(exc) is not None:
                            raise
                        raw.execute("ROLLBACK TO SAVEPOINT migration")
                        raw.execute("COMMIT")
                        return applied, (m, exc)
                    raw.execute("RELEASE SAVEPOINT migration")
                    applied.append(m)
                raw.execute("COMMIT")
                return applied, None
            except BaseException:
                if not raw.closed:
                    with contextlib.suppress(psycopg.Error):
                        raw.execute("ROLLBACK")
                raise

    # ---- closing --------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the pool, the leading connection (releasing its locks) and the worker threads."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            with self._leader_lock:
                if self._leader is not None:
                    with contextlib.suppress(psycopg.Error):
                        # Released here, before closing: the server would release them only once
                        # its backend has noticed the connection gone, a moment after this returns,
                        # and a replica asking meanwhile would be refused a lead nobody holds.
                        self._leader.execute("SELECT pg_advisory_unlock_all()")
                    with contextlib.suppress(psycopg.Error):
                        self._leader.close()
                    self._leader = None
            try:
                self._pool.close(timeout=1.0)
            except Exception as exc:  # the threads stop all the same
                log.warning("closing the database pool failed: %s", exc)

        await asyncio.get_running_loop().run_in_executor(None, shut)
        await asyncio.get_running_loop().run_in_executor(None, functools.partial(self._executor.shutdown, wait=True))

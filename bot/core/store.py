"""The store: what the core asks of a database, whichever engine holds it.

Every core operation is a plain function `fn(conn, *args)` over a connection with the sqlite3
surface (`conn.execute(sql, params)` with `?` placeholders, a cursor with `fetchone`,
`fetchall`, `rowcount`, iteration; rows readable by index and by column name). `Store.run`
executes it as ONE write transaction, `Store.read` as one transaction that only reads. The SQL
is one portable dialect (see README, *Writing content* → SQL rules): `INSERT … ON CONFLICT`,
`RETURNING id`, `?` placeholders, no engine-only functions, so the same text runs on both.

Two engines implement the interface, each in its own module, chosen by `open_store`
(bot/core/engines.py) from the database setting (`COMPANION_DB`):

- a path: SQLite (`bot/core/sqlite_store.py`), the embedded default, one file, nothing to install;
- a `postgresql://` (or `postgres://`) URL: PostgreSQL (`bot/core/postgres_store.py`), for
  several replicas on one database.

Storage faults are sorted into two kinds, raised by `run` and `read` on either engine:

- `StoreBusy`: the database is locked or busy (another process holds a lock for longer than the
  engine's timeout; on PostgreSQL also a transaction that kept losing serialization conflicts).
  Transient: the user is told "busy, try again in a moment" and the process lives on.
- `StoreFailed`: read-only, disk full, I/O error, corrupt, cannot open, the server gone. Fatal:
  the store remembers it (every later call raises it at once), `wait_failed()` wakes up, the
  current user is answered if possible, and the process closes everything and exits non-zero,
  so that a supervisor sees it and restarts it once an operator has fixed the database.

Any other database error (a bug: a constraint, a syntax error) propagates unchanged.

The schema comes only from the numbered SQL files in `migrations/`, applied in order, each whole
or not at all together with its row in `schema_migrations`, the same files on both engines (SQLite:
one transaction per file; PostgreSQL: all pending files in one transaction, one savepoint each). A
failing file leaves the database at the version before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from .config import MIGRATIONS_DIR

log = logging.getLogger(__name__)
T = TypeVar("T")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


class StoreError(Exception):
    """A storage fault the user should hear about in plain words (`reply_text`)."""

    reply_text = "⚠️ The database is not available right now. Please try again later."


class StoreBusy(StoreError):
    """The database is locked by someone else for longer than the busy timeout: try again soon."""

    reply_text = "⏳ The database is busy right now (another program is using it). Please try again in a moment."


class StoreFailed(StoreError):
    """The database cannot be used any more (read-only, disk full, I/O error, corrupt, gone): stop."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason} ({detail})")
        self.reason = reason

    @property
    def reply_text(self) -> str:  # type: ignore[override]
        return (f"⚠️ The companion cannot save to its database ({self.reason}), so it is stopping. "
                "Nothing from this request was saved; please try again once it is back.")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def pending_migrations(folder: Path, target: int | None) -> list[Migration]:
    """The migrations in `folder` up to `target` (all when None), in order: what `migrate` may
    apply; each engine skips those already recorded."""
    return [m for m in find_migrations(folder) if target is None or m.version <= target]


def find_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(Path(folder).glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{folder}: two migrations share a number")
    return found


#: The table of applied migrations, created by the store itself (both engines, same SQL).
SCHEMA_MIGRATIONS_DDL = ("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")


def current_version(conn: Any) -> int:
    """The highest migration applied (0 on a new database), on either engine's connection."""
    conn.execute(SCHEMA_MIGRATIONS_DDL)
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def dependency_order(references: dict[str, set[str]]) -> list[str]:
    """The tables, each after those it references (alphabetical where the order is free)."""
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(references):
        ready = sorted(t for t, needs in references.items() if t not in placed and needs - {t} <= placed)
        if not ready:
            raise MigrationError(f"the tables reference each other in a cycle: {sorted(set(references) - placed)}")
        ordered += ready
        placed.update(ready)
    return ordered


#: What `Store.run(…, isolation=…)` takes, for engines whose write transactions can interleave
#: (PostgreSQL; SQLite runs them one at a time, so every level is its serializable one):
#: - "serializable", the default: the outcome of running the write transactions one after another,
#:   whatever the operation reads and writes; a transaction that would break that is run again;
#: - "read committed": each statement sees what was committed before it began. For an operation
#:   written so that transactions over different rows never wait for or fail each other: it
#:   decides with `INSERT … ON CONFLICT` instead of a read then a write, and locks the rows it
#:   relies on (`share_lock`), so a transaction changing them waits for its commit (live answers,
#:   many batches at once, against the live clock's close: bot/core/live.py).
ISOLATION_LEVELS = ("serializable", "read committed")


class Store:
    """The interface both engines implement, and the failure handling they share."""

    #: After a fatal failure, how long in-flight replies get before the process is stopped.
    FAILURE_GRACE_SECONDS = 0.5

    #: The engine's name ("sqlite" or "postgresql"), and where its database is (a path or a URL
    #: without its password), for messages.
    engine = ""
    path = ""

    def __init__(self) -> None:
        #: The fatal failure, once there has been one; every later call raises it at once.
        self.failure: StoreFailed | None = None
        self._failed = asyncio.Event()

    #: The clause a SELECT ends with to lock the rows it reads against other transactions'
    #: updates until it commits (PostgreSQL: `FOR SHARE`), for an operation run at "read
    #: committed" that relies on a row staying as it read it. SQLite needs none: its write
    #: transactions never interleave.
    share_lock = ""

    # ---- what each engine provides ----------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any, isolation: str = "serializable") -> T:
        """Run `fn(conn, *args)` as one write transaction, at `isolation` (one of `ISOLATION_LEVELS`)."""
        raise NotImplementedError

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)`, which only reads, as one transaction that takes no write lock."""
        raise NotImplementedError

    @staticmethod
    def _isolation(level: str) -> str:
        """`level`, checked to be one of `ISOLATION_LEVELS` (for the engines' `run`)."""
        if level not in ISOLATION_LEVELS:
            raise ValueError(f"unknown isolation level {level!r}")
        return level

    async def close(self) -> None:
        raise NotImplementedError

    async def schema_version(self) -> int:
        raise NotImplementedError

    async def migrate(self, target: int | None = None, migrations: Path = MIGRATIONS_DIR) -> list[Migration]:
        """Apply every pending migration up to `target` (default: all); returns those applied."""
        raise NotImplementedError

    async def tables(self) -> dict[str, list[str]]:
        """Every table in the database and its columns, each table after the tables it references:
        the order in which `companion db copy` writes them, and what tests check the schema by."""
        columns, references = await self.read(self._catalog)
        return {table: columns[table] for table in dependency_order(references)}

    @staticmethod
    def _catalog(conn: Any) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        """(columns of each table, in order; the other tables each one references), from the engine's catalog."""
        raise NotImplementedError

    async def renumber(self) -> None:
        """After rows were written with their ids given (`companion db copy`): make the ids the
        database numbers next come after the highest one there."""
        raise NotImplementedError

    async def lead(self, job: str) -> bool:
        """Whether this process holds the lead on `job` (taking it if free): a recurring job that
        exactly one process sharing the database should do at a time (the live-quiz clock of a
        platform). Held until the process exits or loses its connection; then another process
        asking takes it over."""
        raise NotImplementedError

    # ---- failure --------------------------------------------------------------------------

    def _raise_sorted(self, exc: BaseException, problem: StoreError | None) -> NoReturn:
        """Raise an engine's error as what it is: `problem` (busy, or failed — remembered, so that
        every later call fails at once and `wait_failed` wakes up), or, when the engine's error is
        no storage fault (a bug: a constraint, a syntax error), the error itself unchanged."""
        if problem is None:
            raise exc
        if isinstance(problem, StoreFailed):
            self._fail(problem)
        raise problem from exc

    def _fail(self, problem: StoreFailed) -> None:
        if self.failure is None:
            log.error("the database %s failed: %s; the companion stops", self.path, problem)
            self.failure = problem
            self._failed.set()

    async def wait_failed(self) -> None:
        """Return never while the store works; raise its StoreFailed (after a short grace, so the
        user of the failing request is answered) once it has failed. Run it beside the adapters."""
        await self._failed.wait()
        await asyncio.sleep(self.FAILURE_GRACE_SECONDS)
        assert self.failure is not None  # set before the event
        raise self.failure

    async def watch(self, work: Awaitable[T]) -> T:
        """Await `work` unless the store fails first: then cancel it and raise the StoreFailed."""
        task = asyncio.ensure_future(work)
        watcher = asyncio.ensure_future(self.wait_failed())
        try:
            await asyncio.wait([task, watcher], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (task, watcher):
                if not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t
        if task.done() and not task.cancelled():
            return task.result()
        watcher.result()  # wait_failed only ever ends by raising the StoreFailed
        raise AssertionError("the store's failure watcher ended without a failure")

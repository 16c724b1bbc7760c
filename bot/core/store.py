"""The SQLite store: one aiosqlite connection, WAL, foreign keys, and schema migrations.

The schema comes only from the numbered SQL files in `migrations/`, applied in order, each
in one transaction together with its row in `schema_migrations`.

Every core operation is a plain function over a `sqlite3.Connection` that `Store.run` executes
as one transaction on aiosqlite's worker thread: one hop to the thread per operation instead
of one per statement (each hop costs about 0.1 ms), and no two operations ever interleave,
because the worker runs them one at a time. That is what makes a burst of simultaneous
answers safe without an asyncio lock.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .config import MIGRATIONS_DIR

log = logging.getLogger(__name__)
T = TypeVar("T")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


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


class Store:
    #: How often the background connection copies the write-ahead log into the database.
    CHECKPOINT_SECONDS = 0.5

    def __init__(self, db: aiosqlite.Connection, path: str, checkpointer: aiosqlite.Connection | None = None):
        self._db = db
        self.path = path
        self._checkpointer = checkpointer
        self._checkpoints = asyncio.create_task(self._checkpoint_loop()) if checkpointer else None

    @classmethod
    async def open(cls, path: str | Path, migrate: bool = True, migrations: Path = MIGRATIONS_DIR) -> Store:
        """Open (creating if needed) the database and bring its schema up to date.

        Checkpoints (copying the WAL into the database file, with its fsync) run on a second
        connection in the background instead of inside whichever request happens to cross
        SQLite's threshold, so no student's click pays for them.
        """
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        checkpointer = None
        if path != ":memory:":
            await db.execute("PRAGMA wal_autocheckpoint=0")
            checkpointer = await aiosqlite.connect(path, isolation_level=None)
            await checkpointer.execute("PRAGMA busy_timeout=5000")
        store = cls(db, path, checkpointer)
        if migrate:
            await store.migrate(migrations=migrations)
        return store

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.CHECKPOINT_SECONDS)
            try:
                await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:  # busy now: the next round catches up
                log.debug("background checkpoint skipped: %s", exc)

    async def close(self) -> None:
        if self._checkpoints:
            self._checkpoints.cancel()
            try:
                await self._checkpoints
            except asyncio.CancelledError:
                pass
            await self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._checkpointer.close()
        await self._db.close()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` as one transaction on the database thread, in one hop."""
        return await self._db._execute(self._transaction, fn, args)  # aiosqlite's queue to its thread

    def _transaction(self, fn: Callable[..., T], args: tuple) -> T:
        conn = self._db._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn, *args)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def schema_version(self) -> int:
        return await self._db._execute(_current_version, self._db._conn)

    async def migrate(self, target: int | None = None, migrations: Path = MIGRATIONS_DIR) -> list[Migration]:
        """Apply every pending migration up to `target` (default: all); returns those applied."""
        pending = [m for m in find_migrations(migrations) if target is None or m.version <= target]
        applied = await self._db._execute(_apply_migrations, self._db._conn, pending)
        for m in applied:
            log.info("applied migration %04d_%s", m.version, m.name)
        return applied


def _current_version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


def _apply_migrations(conn: sqlite3.Connection, migrations: list[Migration]) -> list[Migration]:
    """Apply, in order, every migration not yet recorded. Numbers may have gaps (they are reserved
    per branch), so a lower number that lands later is still applied, not skipped."""
    _current_version(conn)
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
                conn.execute("ROLLBACK")
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (m.version,)).fetchone():
                continue  # another process sharing the file applied it after we looked: nothing to do
            raise MigrationError(f"{m.path.name}: {exc}") from exc
        applied.append(m)
    return applied

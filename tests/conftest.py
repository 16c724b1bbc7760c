"""Shared fixtures, and a test-session guard: a test that leaves a database connection open
fails the run.

The suite runs on both databases: `database` (and `core`, and every Settings the tests build
from it) is parametrized over SQLite (a file in the test's folder) and PostgreSQL (a fresh
database per test on a private server the suite starts once, with pgserver: PostgreSQL's
binaries as a wheel). Tests of one engine's own faults (SQLite's WAL, file permissions,
PostgreSQL's server stopping) use the engine directly.

Each of the store's connections runs on a thread of its own (bot/core/sqlite_thread.py). Those
threads are daemons, so one a test never closed would not hang the run; it would go unnoticed,
so they are looked for by name. Any other non-daemon thread left running would keep the
interpreter alive after pytest is done, and CI would wait for its time limit instead of
reporting the failure; both end the run with a failure instead.
"""

import asyncio
import itertools
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.sqlite_thread import THREAD_NAME_PREFIX


class PostgresServer:
    """A private PostgreSQL server for the test session, and fresh databases on it."""

    TEMPLATE = "companion_template"

    def __init__(self):
        import pgserver

        # Its own folder, not pytest's tmp_path: pytest prunes old base folders of earlier runs
        # (another run may start meanwhile), which would pull the data directory from under the server.
        self.folder = Path(tempfile.mkdtemp(prefix="companion-postgres-"))
        self.server = pgserver.get_server(self.folder, cleanup_mode="stop")
        self.uri = self.server.get_uri()  # postgresql://postgres:@/postgres?host=FOLDER
        self._names = itertools.count()
        # Tests measure behaviour, not durability: no fsync (a killed companion process loses
        # nothing by it; only a crash of this server would, and it holds only test databases).
        self.admin("ALTER SYSTEM SET synchronous_commit = off", "ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
        self._template_ready = False

    def admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.uri, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def url(self, name: str) -> str:
        return self.uri.replace("/postgres?", f"/{name}?", 1)

    def create(self, migrated: bool = True) -> str:
        """A new database (byte order collation, as SQLite compares text), migrated unless asked
        not to: copied from a template migrated once per session."""
        name = f"t{os.getpid()}_{next(self._names)}"
        if migrated and not self._template_ready:
            from bot.core.engines import open_store

            self.admin(f"CREATE DATABASE {self.TEMPLATE} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")

            async def migrate():
                await (await open_store(self.url(self.TEMPLATE))).close()

            asyncio.run(migrate())
            self._template_ready = True
        template = self.TEMPLATE if migrated else "template0"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template} LC_COLLATE 'C' LC_CTYPE 'C'")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.split("?")[0].rsplit("/", 1)[1]
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, migrated PostgreSQL database for one test (dropped after it)."""
    url = postgres_server.create()
    yield url
    postgres_server.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """The test's database, once per engine: a SQLite file, or a postgresql:// URL."""
    if request.param == "sqlite":
        return tmp_path / "companion.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database with no schema yet, once per engine: a SQLite file not yet created, or a new
    PostgreSQL database (not copied from the suite's migrated template)."""
    if request.param == "sqlite":
        yield tmp_path / "new.db"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create(migrated=False)
    yield url
    server.drop(url)


@pytest.fixture
async def core(database):
    """A companion on the real course and a fresh database (each engine), with a hand-moved
    clock, no FSRS fuzzing, 30-second live questions and no pause between them. A test file may
    define its own."""
    settings = Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=30, live_reveal_seconds=0)
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()

_exit_status = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    leaked = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or (thread.daemon and not thread.name.startswith(THREAD_NAME_PREFIX)):
            continue
        thread.join(timeout=2)
        if thread.is_alive():
            leaked.append(thread.name)
    if leaked:
        print(f"\nFAILED: {len(leaked)} thread(s) left running by the tests (an unclosed Store?): "
              f"{', '.join(leaked)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status["code"] or 1)

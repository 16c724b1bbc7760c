"""The schema comes only from migrations/, and an older database upgrades without losing a row,
on both engines: on a new database, a partly migrated one, with two processes starting at once,
and with a migration that fails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.engines import open_store
from bot.core.store import MigrationError, find_migrations

ROOT = Path(__file__).resolve().parents[1]


async def recorded(store) -> list[int]:
    """The versions in schema_migrations, each as often as it is recorded."""
    return await store.read(lambda c: sorted(r[0] for r in c.execute("SELECT version FROM schema_migrations")))


async def test_fresh_database_is_migrated_with_wal_and_foreign_keys(tmp_path):
    store = await open_store(tmp_path / "new.db")
    try:
        assert await store.schema_version() == find_migrations()[-1].version
        pragmas = await store.run(lambda c: (c.execute("PRAGMA journal_mode").fetchone()[0], c.execute("PRAGMA foreign_keys").fetchone()[0]))
        assert pragmas == ("wal", 1)
        assert await store.migrate() == []  # nothing left to apply
    finally:
        await store.close()


async def test_a_fresh_database_gets_every_migration_once(empty_database):
    store = await open_store(empty_database)
    try:
        assert await store.schema_version() == find_migrations()[-1].version
        assert await recorded(store) == [m.version for m in find_migrations()]
        assert await store.migrate() == []
    finally:
        await store.close()


async def database_at(path: str | Path, version: int, fill) -> None:
    """A database file as an older release left it: migrated up to `version`, then `fill(conn)`."""
    store = await open_store(path, migrate=False)
    try:
        await store.migrate(target=version)
        assert await store.schema_version() == version
        await store.run(fill)
    finally:
        await store.close()


async def test_an_old_database_upgrades_without_losing_rows(empty_database):
    path = empty_database

    def fill(conn):
        conn.execute("INSERT INTO users(id, platform, user_id, display_name, created_at) VALUES (1, 'discord', '42', 'Ada', '2026-01-01')")
        conn.execute("INSERT INTO pages_read VALUES (1, 7, 'deep', 1, '2026-01-01')")
        conn.execute("INSERT INTO quiz_attempts(id, user_pk, chapter, seed, question_keys, position, correct, status, started_at)"
                     " VALUES (5, 1, 7, 99, '[\"7:hola\"]', 1, 1, 'finished', '2026-01-01')")
        conn.execute("INSERT INTO quiz_answers VALUES (5, 0, '7:hola', '\"Hola\"', 1, 0, '2026-01-01')")

    await database_at(path, 1, fill)
    store = await open_store(path)  # start-up applies what is pending
    try:
        assert await store.schema_version() == find_migrations()[-1].version

        def read(conn):
            return (conn.execute("SELECT display_name FROM users").fetchall(),
                    conn.execute("SELECT COUNT(*) FROM pages_read").fetchone()[0],
                    conn.execute("SELECT kind, correct FROM quiz_attempts WHERE id = 5").fetchone(),
                    conn.execute("SELECT answer FROM quiz_answers").fetchone()[0])

        users, pages, attempt, answer = await store.run(read)
        assert [u[0] for u in users] == ["Ada"] and pages == 1
        assert tuple(attempt) == ("quiz", 1) and answer == '"Hola"'
    finally:
        await store.close()


async def test_a_failing_migration_changes_nothing(empty_database, tmp_path):
    """The failing file is undone whole, those before it in the same run stay applied (the
    database is at the version before the failure), those after it are not run; once it is
    fixed, the next start applies it and the rest."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_broken.sql").write_text("CREATE TABLE b (x INTEGER);\nTHIS IS NOT SQL;")
    (folder / "0003_after.sql").write_text("CREATE TABLE c (x INTEGER);")
    store = await open_store(empty_database, migrate=False)
    try:
        with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
            await store.migrate(migrations=folder)
        assert set(await store.tables()) == {"schema_migrations", "a"}
        assert await store.schema_version() == 1
        (folder / "0002_broken.sql").write_text("CREATE TABLE b (x INTEGER);")
        assert [m.version for m in await store.migrate(migrations=folder)] == [2, 3]
        assert set(await store.tables()) == {"schema_migrations", "a", "b", "c"}
        assert await recorded(store) == [1, 2, 3]
    finally:
        await store.close()


async def test_stores_starting_together_apply_each_migration_once(empty_database):
    """Two stores (two connections, as two replicas have) opening a new database at once."""
    stores = await asyncio.gather(*[open_store(empty_database) for _ in range(2)])
    try:
        for store in stores:
            assert await recorded(store) == [m.version for m in find_migrations()]
    finally:
        for store in stores:
            await store.close()


def test_two_processes_migrating_at_once_apply_each_migration_once(empty_database, tmp_path):
    env = {**os.environ, "COMPANION_DB": str(empty_database)}
    runs = [subprocess.Popen([sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    latest = find_migrations()[-1].version
    assert all(f"schema version {latest}" in out for out, _ in outputs), outputs
    applied = [m for out, _ in outputs for m in out.split("applied: ", 1)[1].rstrip(")\n").split(", ") if m != "none pending"]
    assert sorted(applied) == [f"{m.version:04d}_{m.name}" for m in find_migrations()]  # each by one of them, once


def test_db_migrate_command_is_idempotent(tmp_path):
    env = {**os.environ, "COMPANION_DB": str(tmp_path / "cli.db")}
    first = subprocess.run([sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0 and f"schema version {find_migrations()[-1].version}" in first.stdout
    assert "0001_init" in first.stdout
    second = subprocess.run([sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "none pending" in second.stdout


async def test_a_migration_numbered_into_a_gap_is_applied_when_it_lands(empty_database, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_base.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0003_later.sql").write_text("CREATE TABLE c (x INTEGER);", encoding="utf-8")
    store = await open_store(empty_database, migrations=folder)
    try:
        (folder / "0002_reserved.sql").write_text("CREATE TABLE b (x INTEGER);", encoding="utf-8")
        applied = await store.migrate(migrations=folder)
        assert [m.version for m in applied] == [2]
        assert {"a", "b", "c"} <= set(await store.tables())
        assert await store.migrate(migrations=folder) == []
    finally:
        await store.close()

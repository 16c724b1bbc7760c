"""The schema comes only from migrations/, and an older database upgrades without losing a row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.engines import open_store
from bot.core.store import MigrationError, find_migrations

ROOT = Path(__file__).resolve().parents[1]


async def test_fresh_database_is_migrated_with_wal_and_foreign_keys(tmp_path):
    store = await open_store(tmp_path / "new.db")
    try:
        assert await store.schema_version() == find_migrations()[-1].version
        pragmas = await store.run(lambda c: (c.execute("PRAGMA journal_mode").fetchone()[0], c.execute("PRAGMA foreign_keys").fetchone()[0]))
        assert pragmas == ("wal", 1)
        assert await store.migrate() == []  # nothing left to apply
    finally:
        await store.close()


async def database_at(path: Path, version: int, fill) -> None:
    """A database file as an older release left it: migrated up to `version`, then `fill(conn)`."""
    store = await open_store(path, migrate=False)
    try:
        await store.migrate(target=version)
        assert await store.schema_version() == version
        await store.run(fill)
    finally:
        await store.close()


async def test_an_old_database_upgrades_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"

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


async def test_a_failing_migration_changes_nothing(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_broken.sql").write_text("CREATE TABLE b (x INTEGER);\nTHIS IS NOT SQL;")
    store = await open_store(tmp_path / "m.db", migrate=False)
    try:
        with pytest.raises(MigrationError, match="0002_broken.sql"):
            await store.migrate(migrations=folder)
        tables = await store.run(lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})
        assert "a" in tables and "b" not in tables
        assert await store.schema_version() == 1
    finally:
        await store.close()


def test_db_migrate_command_is_idempotent(tmp_path):
    env = {**os.environ, "COMPANION_DB": str(tmp_path / "cli.db")}
    first = subprocess.run([sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0 and f"schema version {find_migrations()[-1].version}" in first.stdout
    assert "0001_init" in first.stdout
    second = subprocess.run([sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "none pending" in second.stdout


async def test_a_migration_numbered_into_a_gap_is_applied_when_it_lands(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_base.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0003_later.sql").write_text("CREATE TABLE c (x INTEGER);", encoding="utf-8")
    store = await open_store(tmp_path / "gap.db", migrations=folder)
    try:
        (folder / "0002_reserved.sql").write_text("CREATE TABLE b (x INTEGER);", encoding="utf-8")
        applied = await store.migrate(migrations=folder)
        assert [m.version for m in applied] == [2]
        tables = await store.run(lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})
        assert {"a", "b", "c"} <= tables
        assert await store.migrate(migrations=folder) == []
    finally:
        await store.close()

"""Which engine a database setting names, opened: the one factory of stores.

`COMPANION_DB` is a path (SQLite, bot/core/sqlite_store.py) or a `postgresql://` URL
(PostgreSQL, bot/core/postgres_store.py); the companion, the CLI and the tools open their store
here, so nothing else chooses an engine. (A module of its own: the engines import the interface
in bot/core/store.py, so the interface cannot import them back.) PostgreSQL's engine is imported
only when a URL names it: psycopg's import costs about 150 ms that a SQLite start-up need not pay.
"""

from __future__ import annotations

from pathlib import Path

from .config import MIGRATIONS_DIR, is_postgres_url
from .sqlite_store import SQLiteStore
from .store import Store


async def open_store(database: str | Path, migrate: bool = True, migrations: Path = MIGRATIONS_DIR) -> Store:
    """Open the database (creating a SQLite file if needed) and bring its schema up to date."""
    if is_postgres_url(database):
        from .postgres_store import PostgresStore

        return await PostgresStore.connect(str(database), migrate=migrate, migrations=migrations)
    return await SQLiteStore.connect(database, migrate=migrate, migrations=migrations)

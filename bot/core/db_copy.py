"""`companion db copy FROM TO`: a whole database from one engine to the other (SQLite ↔ PostgreSQL),
so a class can start embedded and move to a server without losing anyone's progress.

The target is brought to the source's schema by the same migrations, and must hold no rows.
Every table is then written in dependency order (a table after those it references) with its
ids as they were, in ONE transaction on the target: a copy that fails leaves the target as
empty as it was. PostgreSQL's id sequences are then moved past the highest id copied, so the
next new row does not collide. Finally both sides are read again and compared table by table,
row count and a checksum over every row (in a canonical order, values in a canonical form), so
"copied" means "verified equal", not "no error was raised".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import database_label, is_postgres_url
from .engines import open_store


class CopyError(Exception):
    """The copy was refused or did not verify; the message is one line."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    checksum: str


def _canonical(value: Any) -> Any:
    """A value as both engines give it back, for the checksum: bytes as hex, floats by their repr."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, float):
        return {"float": repr(value)}
    return value


def _digest(rows: list[tuple]) -> str:
    lines = sorted(json.dumps([_canonical(v) for v in row], ensure_ascii=True) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _read_all(conn: Any, tables: dict[str, list[str]]) -> dict[str, list[tuple]]:
    return {table: [tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table}")] for table, columns in tables.items()}


def _write_all(conn: Any, tables: dict[str, list[str]], data: dict[str, list[tuple]]) -> None:
    for table, columns in tables.items():
        if data[table]:
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", data[table])


def _row_counts(conn: Any, tables: list[str]) -> dict[str, int]:
    return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}


def _versions(conn: Any) -> list[int]:
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


async def copy_database(source: str | Path, target: str | Path) -> list[TableCopy]:
    """Copy every row of `source` into the empty `target` and verify it; the tables copied.
    Raises CopyError (or a StoreError, MigrationError) on any problem."""
    if str(source) == str(target):
        raise CopyError("FROM and TO are the same database")
    if not is_postgres_url(source) and not Path(source).is_file():
        raise CopyError(f"{source} does not exist")
    src = await open_store(source, migrate=False)
    try:
        versions = await src.read(_versions) if "schema_migrations" in await src.tables() else []
        if not versions:
            raise CopyError(f"{database_label(source)} has no schema (is it a companion database?)")
        dst = await open_store(target, migrate=False)
        try:
            await dst.migrate(target=versions[-1])
            if await dst.read(_versions) != versions:
                raise CopyError(f"the schemas differ: {database_label(source)} has migrations {versions}, "
                                f"{database_label(target)} {await dst.read(_versions)}")
            tables = {t: c for t, c in (await src.tables()).items() if t != "schema_migrations"}
            target_tables = {t: c for t, c in (await dst.tables()).items() if t != "schema_migrations"}
            if {t: sorted(c) for t, c in tables.items()} != {t: sorted(c) for t, c in target_tables.items()}:
                raise CopyError("the two databases' tables or columns differ")
            filled = {t: n for t, n in (await dst.read(_row_counts, list(tables))).items() if n}
            if filled:
                raise CopyError(f"{database_label(target)} is not empty ({', '.join(f'{t}: {n} rows' for t, n in sorted(filled.items()))}); "
                                "copy into a new database")
            data = await src.read(_read_all, tables)
            await dst.run(_write_all, tables, data)
            await dst.renumber()
            copied = [TableCopy(t, len(rows), _digest(rows)) for t, rows in data.items()]
            written = await dst.read(_read_all, tables)
            for entry in copied:
                got = written[entry.table]
                if len(got) != entry.rows or _digest(got) != entry.checksum:
                    raise CopyError(f"table {entry.table} did not verify: {entry.rows} rows read, {len(got)} in the copy"
                                    + (" with different values" if len(got) == entry.rows else ""))
            return copied
        finally:
            await dst.close()
    finally:
        await src.close()

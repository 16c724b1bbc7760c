"""`companion`: the single entry point.

    companion                         run: Discord/Slack when their tokens are set, else the console
    companion console [--jsonl] [--user NAME]
    companion discord sync [--guild ID] | invite
    companion slack manifest
    companion content check [DIR]     validate the course; every problem as file:line: message
    companion db migrate              apply pending migrations to COMPANION_DB
    companion db copy FROM TO         copy a whole database (a SQLite file or a postgresql:// URL) into an empty one

Problems a person can fix (a bad setting, invalid content, a database that cannot be opened)
end with a short message and a non-zero exit, never a traceback.

The database decides the process's life (see bot/core/store.py): a busy database is answered
"try again in a moment" and the process lives on; a failed one (read-only, disk full, I/O
error, corrupt, a failing migration) ends it, at start or at any later moment, with one line
on stderr and exit status 1, after answering the current user where it can and closing every
connection (each runs on a thread of its own: bot/core/sqlite_thread.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.adapters import AdapterError
from bot.core.config import ConfigError, Settings, database_label, is_postgres_url, load_settings
from bot.core.content import ContentError, check_content
from bot.core.store import MigrationError, StoreError

if TYPE_CHECKING:
    from bot.core.companion import Companion


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="companion", description="Course Companion: lessons, quizzes and live quizzes in chat.")
    sub = parser.add_subparsers(dest="command")
    console = sub.add_parser("console", help="run the companion in this terminal")
    console.add_argument("--jsonl", action="store_true", help="read and write one JSON object per line (for scripts)")
    console.add_argument("--user", default=None, help="who you are at the start (default: student)")
    content = sub.add_parser("content", help="course content tools")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate the content tree")
    check.add_argument("dir", nargs="?", default=None, help="content folder (default: COMPANION_CONTENT_DIR)")
    discord = sub.add_parser("discord", help="Discord tools")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True)
    sync = discord_sub.add_parser("sync", help="register the slash commands with Discord (globally, or in one guild)")
    sync.add_argument("--guild", type=int, action="append", default=None, help="a guild id (repeatable); default: global")
    discord_sub.add_parser("invite", help="print the OAuth2 URL that adds the bot to a server")
    slack = sub.add_parser("slack", help="Slack tools")
    slack_sub = slack.add_subparsers(dest="slack_command", required=True)
    slack_sub.add_parser("manifest", help="print the Slack app manifest (paste it at api.slack.com/apps)")
    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="apply pending migrations")
    copy = db_sub.add_parser("copy", help="copy a whole database into an empty one (SQLite ↔ PostgreSQL), verified row for row")
    copy.add_argument("source", metavar="FROM", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", metavar="TO", help="a SQLite file or a postgresql:// URL (empty, or not yet created)")
    return parser


def _content_check(directory: Path) -> int:
    problems = check_content(directory)
    for p in problems:
        print(p)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        print(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} in {directory}", file=sys.stderr)
        return 1
    print(f"content OK: {directory} ({warnings} warning{'s' * (warnings != 1)})", file=sys.stderr)
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.core.engines import open_store

    store = await open_store(settings.database, migrate=False)
    try:
        applied = await store.migrate()
        version = await store.schema_version()
    finally:
        await store.close()
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none pending"
    print(f"{database_label(settings.database)}: schema version {version} (applied: {names})")
    return 0


def _database(value: str) -> str | Path:
    return value if is_postgres_url(value) else Path(value)


async def _copy(source: str, target: str) -> int:
    """`companion db copy FROM TO`: one line on success; one line on stderr and exit 1 on any failure."""
    from bot.core.db_copy import copy_database

    try:
        copied = await copy_database(_database(source), _database(target))
    except Exception as exc:  # refused, unreachable, failed to verify: one line, never a traceback
        detail = " ".join(str(exc).split()) or type(exc).__name__
        print(f"companion: db copy failed: {detail}", file=sys.stderr)
        return 1
    rows = sum(t.rows for t in copied)
    print(f"copied {rows} rows in {len(copied)} tables from {database_label(_database(source))} to "
          f"{database_label(_database(target))}; verified: every table's row count and checksum match")
    return 0


async def _run(settings: Settings, mode: str | None, user: str | None) -> int:
    from bot.adapters.console.adapter import quiet_terminal_logging, run_console
    from bot.core.companion import Companion

    platforms = mode is None and bool(settings.discord_token or settings.slack_bot_token)
    console_mode = mode or ("interactive" if not platforms and sys.stdin.isatty() and sys.stdout.isatty() else "plain")
    if console_mode == "interactive":
        quiet_terminal_logging()  # before start-up logs its INFO lines over the terminal
    companion = await Companion.create(settings)
    try:
        for warning in companion.course.warnings:
            logging.getLogger("bot.content").warning("%s", warning)
        if platforms:
            return await _run_platforms(companion, settings)
        await companion.store.watch(run_console(companion, console_mode, user or "student"))
    finally:
        await companion.close()
    return 0


async def _run_platforms(companion: Companion, settings: Settings) -> int:
    """Discord and/or Slack, side by side on one core, until interrupted."""
    runners, platforms = [], set()
    if settings.discord_token:
        from bot.adapters.discord.runner import run_discord

        runners.append(run_discord(companion, settings))
        platforms.add("discord")
    if settings.slack_bot_token:
        from bot.adapters.slack.runner import run_slack

        runners.append(run_slack(companion, settings))
        platforms.add("slack")
    # Only these platforms' live quizzes are advanced here: another process on the same database
    # (the console, or the other platform run separately) advances and shows its own.
    async with companion.live.running(platforms):
        await companion.store.watch(_first_failure(runners))
    return 0


async def _first_failure(coroutines: Iterable[Awaitable[None]]) -> None:
    """Run side by side until all end; when one fails, cancel the others and raise its error."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"companion: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "content":
            return _content_check(Path(args.dir) if args.dir else settings.content_dir)
        if args.command == "db":
            if args.db_command == "copy":
                return asyncio.run(_copy(args.source, args.target))
            return asyncio.run(_migrate(settings))
        if args.command == "discord":
            from bot.adapters.discord.cli import main as discord_main

            return discord_main(args, settings)
        if args.command == "slack":
            from bot.adapters.slack.cli import main as slack_main

            return slack_main(args, settings)
        mode = ("jsonl" if args.jsonl else None) if args.command == "console" else None
        return asyncio.run(_run(settings, mode, getattr(args, "user", None)))
    except ContentError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print("companion: the content has errors (above); fix them and start again.", file=sys.stderr)
        return 1
    except MigrationError as exc:
        print(f"companion: migration failed, nothing of it applied: {exc}", file=sys.stderr)
        return 1
    except (sqlite3.Error, OSError, StoreError) as exc:
        print(f"companion: cannot use the database {database_label(settings.database)}: {exc} (set COMPANION_DB)", file=sys.stderr)
        return 1
    except AdapterError as exc:
        print(f"companion: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`companion db copy FROM TO`: a course's whole database from SQLite to PostgreSQL and back, ids
kept, verified row for row; a non-empty or unreachable target is refused with one line and exit 1."""

from __future__ import annotations

import asyncio

from bot.cli import main
from bot.core.clock import ManualClock
from bot.core.command_line import handle_text
from bot.core.companion import Companion
from bot.core.config import Settings
from bot.core.db_copy import _read_all
from bot.core.engines import open_store
from bot.core.users import Actor
from tests.test_console_hardening import COURSE, LESSON
from tests.test_postgres import TWO_QUESTIONS


async def _populate(database, content) -> None:
    """A little of everything: lessons read, quizzes, review cards, a live quiz with answers, chat."""
    core = await Companion.create(Settings(database=database, content_dir=content, live_reveal_seconds=0),
                                  clock=ManualClock(), fuzzing=False)
    try:
        people = [Actor("test", name, name.title(), guild="g", channel="c") for name in ("ann", "bob", "cy")]
        for who in people:
            await handle_text(core, who, "/lesson 1")
            await handle_text(core, who, "/quiz 1 2")
            await handle_text(core, who, "/answer A")
            await handle_text(core, who, "/answer A")  # one of the two is wrong: a review card
            await handle_text(core, who, "hello")
        await handle_text(core, people[0], "/live 1 2")
        for who in people:
            await handle_text(core, who, "/answer B")
        core.clock.advance(seconds=31)
        await core.live.advance_due()
        await handle_text(core, people[1], "/forget-me")  # a gap in the ids, to be kept as it is
        await core.handle_action(people[1], "forget:confirm")
    finally:
        await core.close()


async def _contents(database) -> dict[str, list[tuple]]:
    store = await open_store(database, migrate=False)
    try:
        tables = {t: c for t, c in (await store.tables()).items() if t != "schema_migrations"}
        return {t: sorted(rows, key=repr) for t, rows in (await store.read(_read_all, tables)).items()}
    finally:
        await store.close()


def tiny_course(tmp_path):
    content = tmp_path / "content"
    (content / "ch").mkdir(parents=True)
    (content / "course.yaml").write_text(COURSE)
    (content / "ch" / "lesson.md").write_text(LESSON)
    (content / "ch" / "quiz.yaml").write_text(TWO_QUESTIONS)
    return content


def test_sqlite_to_postgresql_and_back_keeps_every_row_and_id(tmp_path, postgres_server, capsys):
    original = tmp_path / "course.db"
    content = tiny_course(tmp_path)
    asyncio.run(_populate(original, content))
    target = postgres_server.create(migrated=False)
    back = tmp_path / "back.db"
    try:
        assert main(["db", "copy", str(original), target]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and out[0].startswith("copied ") and "verified" in out[0]
        before = asyncio.run(_contents(original))
        assert sum(map(len, before.values())) > 15 and before["live_answers"] and before["quiz_answers"] and before["pages_read"]
        assert asyncio.run(_contents(target)) == before  # every row, ids included

        async def carry_on_there():
            """The copy is a working database: new rows get new ids after the copied ones."""
            core = await Companion.create(Settings(database=target, content_dir=content), clock=ManualClock(), fuzzing=False)
            try:
                progress = await handle_text(core, Actor("test", "ann", "Ann", guild="g", channel="c"), "/progress")
                await handle_text(core, Actor("test", "dee", "Dee", guild="g", channel="c"), "/quiz 1 2")
                ids = await core.store.read(lambda c: [r[0] for r in c.execute("SELECT id FROM users ORDER BY id")])
                return progress.text, ids
            finally:
                await core.close()

        progress, ids = asyncio.run(carry_on_there())
        assert "One" in progress and ids == sorted(set(ids)) and ids[-1] > max(r[0] for r in before["users"])

        assert main(["db", "copy", target, str(back)]) == 0
        after = asyncio.run(_contents(back))
        assert {t: rows for t, rows in after.items() if t not in ("users", "activity_days", "memberships", "quiz_attempts")} \
            == {t: rows for t, rows in before.items() if t not in ("users", "activity_days", "memberships", "quiz_attempts")}
        assert set(before["users"]) < set(after["users"])  # and dee, who arrived on PostgreSQL
    finally:
        postgres_server.drop(target)


def test_a_non_empty_target_is_refused_in_one_line(tmp_path, postgres_url, capsys):
    source = tmp_path / "course.db"
    content = tiny_course(tmp_path)
    asyncio.run(_populate(source, content))
    asyncio.run(_populate(postgres_url, content))
    before = asyncio.run(_contents(postgres_url))
    assert main(["db", "copy", str(source), postgres_url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("companion: db copy failed:") and "not empty" in err[0]
    assert asyncio.run(_contents(postgres_url)) == before  # untouched


def test_an_unreachable_target_or_a_missing_source_is_one_line_and_exit_1(tmp_path, capsys):
    source = tmp_path / "course.db"
    asyncio.run(_populate(source, tiny_course(tmp_path)))
    assert main(["db", "copy", str(source), f"postgresql://nobody@/none?host={tmp_path}/no-server&connect_timeout=1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("companion: db copy failed:")
    assert main(["db", "copy", str(tmp_path / "missing.db"), str(tmp_path / "new.db")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0] and not (tmp_path / "missing.db").exists()
    (tmp_path / "other.db").write_bytes(b"")  # a file, but no companion's
    assert main(["db", "copy", str(tmp_path / "other.db"), str(tmp_path / "new.db")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no schema" in err[0]

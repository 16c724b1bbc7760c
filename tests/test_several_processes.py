"""Several processes on one database: two Companions with their own Store connections on one
real SQLite file, as two processes (Discord and Slack run separately, say) would have.

Each advances only the live sessions of the platforms it serves, each event is emitted exactly
once even when both see a deadline pass, and a session whose process exited mid-question is
taken over by another serving its platform. The last test runs two real `companion` processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.users import Actor
from bot.core.command_line import handle_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=tmp_path / "shared.db", content_dir=DEFAULT_CONTENT_DIR,
                    live_question_seconds=30, live_reveal_seconds=0, live_poll_seconds=2)


def host(platform: str = "test") -> Actor:
    return Actor(platform, "host", "Host", guild="g1", channel="quiz")


class Process:
    """One companion process: its own Store connection, the events its adapters were given."""

    def __init__(self, core: Companion, name: str):
        self.core, self.name = core, name
        self.events: list[tuple[str, int, int]] = []
        core.live.subscribe(self._collect)

    async def _collect(self, event) -> None:
        self.events.append((event.kind, event.session_id, event.question_index))

    @classmethod
    async def start(cls, settings: Settings, clock: ManualClock, name: str) -> Process:
        return cls(await Companion.create(settings, clock=clock, fuzzing=False), name)


async def until(condition, what: str, timeout: float = 20.0) -> None:
    """Wait (generously) for something the loops do in the background."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def a_round_of(*processes: Process) -> None:
    """Wait until every running loop has completed a whole round that began after this call."""
    for p in processes:
        await until(lambda: p.core.live.asleep_until is not None, f"{p.name}'s loop to wait")
        mark = p.core.live.rounds
        p.core.live._changed.set()  # wake it now rather than at its next poll
        await until(lambda: p.core.live.rounds > mark, f"a round of {p.name}'s loop")


async def test_only_the_process_serving_the_platform_advances_and_shows_a_session(settings):
    clock = ManualClock()
    slack, discord = await Process.start(settings, clock, "slack"), await Process.start(settings, clock, "discord")
    try:
        async with discord.core.live.running({"discord"}):
            async with slack.core.live.running({"slack"}):
                await handle_text(slack.core, host("slack"), "/live 7 3")
                clock.advance(31)
                await until(lambda: len(slack.events) == 3, "the Slack process to close question 1 and open question 2")
                await a_round_of(slack, discord)
                assert [e[0] for e in slack.events] == ["question", "closed", "question"]
                assert discord.events == []
            # The Slack process exits: the Discord process must still leave the session alone.
            await slack.core.close()
            slack.core = None
            for _ in range(2):
                clock.advance(31)
                await a_round_of(discord)
            assert discord.events == []
            phase = await discord.core.store.run(lambda c: tuple(c.execute("SELECT phase, current FROM live_sessions").fetchone()))
            assert phase == ("question", 1)  # untouched, waiting for a process that serves Slack
    finally:
        for p in (slack, discord):
            if p.core is not None:
                await p.core.close()


async def test_two_loops_serving_one_platform_emit_each_event_exactly_once(settings):
    clock = ManualClock()
    a, b = await Process.start(settings, clock, "a"), await Process.start(settings, clock, "b")
    try:
        async with a.core.live.running({"test"}), b.core.live.running({"test"}):
            await handle_text(a.core, host(), "/live 7 4")
            session = await a.core.store.run(lambda c: dict(c.execute("SELECT * FROM live_sessions").fetchone()))
            question = a.core.course.question(json.loads(session["question_keys"])[0])
            assert (await b.core.handle_action(Actor("test", "ann", "Ann", "g1", "quiz"),
                                               f"live:{session['id']}:0:a:{question.typed_answer(session['seed'])}")).kind == "live-ack"
            for step in range(4):
                clock.advance(31)
                expected = 1 + 2 * (step + 1)  # question 1, then closed + next (closed + ended at the last)
                await until(lambda: len(a.events) + len(b.events) >= expected, f"step {step + 1}")
                await a_round_of(a, b)
            await a_round_of(a, b)
        everything = a.events + b.events
        counts = Counter(everything)
        assert all(n == 1 for n in counts.values()), counts
        kinds = Counter(e[0] for e in everything)
        assert kinds == {"question": 4, "closed": 4, "ended": 1}
        ended = await a.core.store.run(lambda c: tuple(c.execute("SELECT phase, end_reason FROM live_sessions").fetchone()))
        assert ended == ("ended", "finished")
    finally:
        await a.core.close()
        await b.core.close()


async def test_a_session_left_mid_question_by_a_process_that_exited_is_taken_over(settings):
    clock = ManualClock()
    a, b = await Process.start(settings, clock, "a"), await Process.start(settings, clock, "b")
    try:
        async with b.core.live.running({"test"}):
            await a_round_of(b)
            await until(lambda: b.core.live.asleep_until is not None, "B to wait, with nothing running")
            assert b.core.live.asleep_until == clock.now() + timedelta(seconds=settings.live_poll_seconds)
            async with a.core.live.running({"test"}):
                await handle_text(a.core, host(), "/live 7 2")
                await a_round_of(a)  # B is not woken: only its own poll of the database can tell it
            await a.core.close()  # mid-question, before its deadline
            a.core = None
            assert b.events == []
            clock.advance(31)  # B never heard of the session: its poll of the database finds it due
            await until(lambda: len(b.events) == 2, "B to close question 1 and open question 2")
            assert [e[0] for e in b.events] == ["closed", "question"]
            clock.advance(31)
            await until(lambda: len(b.events) == 4, "B to finish the session")
            assert [e[0] for e in b.events][2:] == ["closed", "ended"]
        assert [e[0] for e in a.events] == ["question"]
    finally:
        for p in (a, b):
            if p.core is not None:
                await p.core.close()


async def test_a_step_is_a_compare_and_set_so_a_stale_view_moves_nothing(settings):
    """Two processes that both read a session as due: the second, acting on what it read, loses."""
    clock = ManualClock()
    a, b = await Process.start(settings, clock, "a"), await Process.start(settings, clock, "b")
    try:
        await handle_text(a.core, host(), "/live 7 3")
        stale = await b.core.store.run(lambda c: c.execute("SELECT * FROM live_sessions").fetchone())
        clock.advance(31)
        assert [e.kind for e in await a.core.live.advance_due()] == ["closed", "question"]
        live = b.core.live
        assert await b.core.store.run(lambda c: live._step(c, stale, clock.now())) == []
        assert await b.core.store.run(lambda c: live._finish(c, stale, clock.now(), "stopped")) == []
        row = await b.core.store.run(lambda c: tuple(c.execute("SELECT phase, current, end_reason FROM live_sessions").fetchone()))
        assert row == ("question", 1, None)
        assert b.events == [] and [e[0] for e in a.events] == ["question", "closed", "question"]
    finally:
        await a.core.close()
        await b.core.close()


def _companion(db: Path, *, stdin=subprocess.PIPE) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "COMPANION_"))}
    env.update(COMPANION_DB=str(db), COMPANION_LIVE_QUESTION_SECONDS="5", COMPANION_LIVE_REVEAL_SECONDS="0",
               COMPANION_LIVE_POLL_SECONDS="0.2", COMPANION_LOG_LEVEL="warning")
    return subprocess.Popen([sys.executable, "-m", "bot", "console", "--jsonl"], cwd=db.parent, env=env, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_migration_applied_by_another_process_meanwhile_is_skipped_not_an_error(tmp_path):
    """Two processes starting on a new file both find a migration pending; the one that gets the
    write lock second must see it recorded and carry on (it used to fail: "table … already exists")."""
    import sqlite3

    from bot.core.sqlite_store import _apply_migrations
    from bot.core.store import find_migrations

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER);", encoding="utf-8")
    migrations = find_migrations(folder)
    mine = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    other = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        def the_other_process_goes_first(statement: str) -> None:
            if statement.startswith("BEGIN IMMEDIATE") and not other.execute(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'a'").fetchone()[0]:
                _apply_migrations(other, migrations)  # after we read what was done, before we lock

        mine.set_trace_callback(the_other_process_goes_first)
        assert _apply_migrations(mine, migrations) == []  # nothing left for us, and no error
        mine.set_trace_callback(None)
        assert [r[0] for r in mine.execute("SELECT version FROM schema_migrations ORDER BY version")] == [1, 2]
    finally:
        mine.close()
        other.close()


def _lines(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout, line by line, read on a thread so the test can wait with a timeout."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    return lines


def test_two_real_processes_one_exits_mid_question_and_the_other_carries_on(tmp_path):
    db = tmp_path / "two.db"
    waiting = _companion(db)  # B: up first, with nothing to do
    try:
        lines = _lines(waiting)
        waiting.stdin.write('{"user": "someone", "text": "/help"}\n')
        waiting.stdin.flush()
        assert '"reply"' in lines.get(timeout=60)  # B is up (and the database migrated)
        starter = _companion(db)  # A: starts a live quiz and exits at the end of its input, mid-question
        out, err = starter.communicate('{"user": "host", "text": "/live 7 1"}\n', timeout=60)
        assert starter.returncode == 0, err
        events = [json.loads(line) for line in out.splitlines() if '"event"' in line]
        assert [(e["event"], e["question"]) for e in events] == [("question", 1)]  # numbered from 1
        # B, which never saw the quiz start, closes it at its deadline: it polls the database.
        seen = []
        while ("ended", 1) not in seen:
            line = lines.get(timeout=60)
            assert line is not None, f"B exited after showing {seen}"
            if '"event"' in line:
                event = json.loads(line)
                seen.append((event["event"], event["question"]))
        assert seen == [("closed", 1), ("ended", 1)]
    finally:
        waiting.stdin.close()
        try:
            waiting.wait(timeout=30)
        except subprocess.TimeoutExpired:
            waiting.kill()
            waiting.wait()
        waiting.stderr.close()


@pytest.mark.parametrize("tokens, expected", [({"discord_token": "x"}, {"discord"}), ({"slack_bot_token": "x"}, {"slack"}),
                                              ({"discord_token": "x", "slack_bot_token": "x"}, {"discord", "slack"})])
async def test_the_platform_runner_serves_the_live_quizzes_of_the_adapters_it_runs(settings, monkeypatch, tokens, expected):
    from dataclasses import replace

    import bot.adapters.discord.runner as discord_runner
    import bot.adapters.slack.runner as slack_runner
    from bot.cli import _run_platforms

    seen = []

    async def adapter(companion, _settings):
        await until(lambda: companion.live.rounds >= 1, "the live loop's first round")
        seen.append(companion.live.platforms)

    monkeypatch.setattr(discord_runner, "run_discord", adapter)
    monkeypatch.setattr(slack_runner, "run_slack", adapter)
    core = await Companion.create(replace(settings, **tokens), clock=ManualClock(), fuzzing=False)
    try:
        assert await _run_platforms(core, core.settings) == 0
    finally:
        await core.close()
    assert seen and all(platforms == expected for platforms in seen)

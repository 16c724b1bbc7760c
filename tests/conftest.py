"""Shared fixtures, and a test-session guard: a test that leaves a database connection open
fails the run instead of hanging it.

aiosqlite runs each connection on a non-daemon thread, so a connection a failing test never
closed would keep the interpreter alive after pytest is done, and CI would wait for its time
limit instead of reporting the failure.
"""

import os
import sys
import threading

import pytest

from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings


@pytest.fixture
async def core(tmp_path):
    """A companion on the real course and a fresh database, with a hand-moved clock, no FSRS
    fuzzing, 30-second live questions and no pause between them. A test file may define its own."""
    settings = Settings(database=tmp_path / "companion.db", content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=30, live_reveal_seconds=0)
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
        if thread is threading.main_thread() or thread.daemon:
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

"""Shared fixtures, and a test-session guard: a test that leaves a database connection open
fails the run.

Each of the store's connections runs on a thread of its own (bot/core/sqlite_thread.py). Those
threads are daemons, so one a test never closed would not hang the run; it would go unnoticed,
so they are looked for by name. Any other non-daemon thread left running would keep the
interpreter alive after pytest is done, and CI would wait for its time limit instead of
reporting the failure; both end the run with a failure instead.
"""

import os
import sys
import threading

import pytest

from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.sqlite_thread import THREAD_NAME_PREFIX


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

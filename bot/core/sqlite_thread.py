"""One sqlite3 connection on a thread of its own, driven from asyncio through public APIs only.

The store runs each whole transaction as one function on the connection's thread: one hop per
operation instead of one per statement, and no two operations interleave because the thread
runs them one at a time (see bot/core/store.py). aiosqlite offers that only through private
attributes (`_execute`, `_conn`) that any release may change, so this module does the little it
takes with the standard library: a thread, a queue of calls, and `call_soon_threadsafe` to hand
each result back to the event loop.

The connection is created on its thread and used only there, so `check_same_thread` keeps its
default. The one exception is `interrupt()`, which SQLite and Python's sqlite3 allow from any
thread: the store uses it to stop a background checkpoint that holds the lock a reset needs.

Why a thread and a queue rather than `ThreadPoolExecutor(max_workers=1)` + `run_in_executor`:
both hop to one thread, but the executor wraps each call in a `concurrent.futures.Future` and
chains it to an asyncio one. Measured on the shared 2-core machine, interleaved, 60 rounds of
500 calls: a call that does nothing took 1.6 times as long through the executor as through this
class (medians 195 and 127 µs), and a small write transaction 1.6 times too (342 and 203 µs);
this class matched aiosqlite's own queue within 2% (bench/RESULTS.md, "The store's thread").
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Every connection thread's name starts with this, so tests can count ours and only ours.
THREAD_NAME_PREFIX = "companion-sqlite"

_CLOSE = object()  # the queued call that closes the connection and ends the thread


def _deliver(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    """On the event loop: settle the caller's future, unless the caller has stopped waiting."""
    if future.done():  # cancelled: the call ran anyway (a transaction is never cut in half)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _reply(future: asyncio.Future | None, result: Any = None, error: BaseException | None = None) -> None:
    """From the connection's thread: hand a result to the future's event loop (if anyone waits)."""
    if future is None:
        return
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        future.get_loop().call_soon_threadsafe(_deliver, future, result, error)


class SQLiteThread:
    """A sqlite3 connection that lives on one thread; `call(fn, *args)` runs `fn(conn, *args)` there.

    The thread is a daemon. Every path still closes every connection (`close`, and `open` on a
    failure; the tests count these threads by name and fail on one left running), but should a
    future bug miss one, a non-daemon thread would keep the interpreter from ever exiting: a
    process that failed to start would hang with its message printed, and no supervisor would
    restart it. A daemon thread cut off at exit leaves the file as a killed process does, which
    SQLite recovers from on the next open (tests/test_faults_kill.py).
    """

    def __init__(self, path: str, role: str):
        self.path = path
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._connection: sqlite3.Connection | None = None  # set on the thread once connected; for interrupt()
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name=f"{THREAD_NAME_PREFIX} {role} {path}", daemon=True)

    @classmethod
    async def open(cls, path: str, role: str) -> SQLiteThread:
        """Start a thread and connect on it (autocommit: the caller writes BEGIN and COMMIT itself).
        If connecting fails, the thread has ended when the sqlite3.Error is raised."""
        opened = cls(path, role)
        connected = asyncio.get_running_loop().create_future()
        opened._calls.put((connected, None, ()))
        opened._thread.start()
        try:
            await connected
        except BaseException:
            # Connecting failed (the thread has ended already) or was given up on (cancelled): the
            # thread then closes the connection it is making, and ends.
            opened._closing = True
            opened._calls.put((None, _CLOSE, ()))
            raise
        return opened

    def _serve(self) -> None:
        connected, _, _ = self._calls.get()
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except BaseException as exc:
            _reply(connected, error=exc)
            return
        self._connection = conn
        _reply(connected, self)
        while True:
            future, fn, args = self._calls.get()
            if fn is _CLOSE:
                break
            try:
                result = fn(conn, *args)
            except BaseException as exc:
                _reply(future, error=exc)
            else:
                _reply(future, result)
        self._connection = None
        try:
            conn.close()
        except BaseException as exc:
            _reply(future, error=exc)
        else:
            _reply(future)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the connection's thread, after every call queued before it."""
        if self._closing:
            raise ValueError(f"the connection to {self.path} is closed")
        future = asyncio.get_running_loop().create_future()
        self._calls.put((future, fn, args))
        return await future

    def interrupt(self) -> None:
        """From any thread: make the statement running on the connection fail with SQLITE_INTERRUPT
        (a no-op when none is running)."""
        conn = self._connection
        if conn is not None:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed just now: nothing to interrupt
                conn.interrupt()

    async def close(self) -> None:
        """Close the connection after the calls already queued, and end the thread. The thread ends
        even when closing the file fails; that error is raised afterwards."""
        if self._closing:
            return
        self._closing = True
        future = asyncio.get_running_loop().create_future()
        self._calls.put((future, _CLOSE, ()))
        await future

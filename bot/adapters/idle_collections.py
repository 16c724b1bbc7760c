"""Full garbage collections between bursts, not in them.

CPython starts a full collection (one that walks every tracked object) after ten collections of
its middle generation, once the objects promoted since the last one are a quarter of the old
ones. A burst of interactions (a class answering a live question at once) makes that happen
several times a second, and each walks every object then alive, which in a burst is thousands of
interactions still in flight, each with its requests, tasks and discord.py objects: measured in
the Discord benchmark, 100-560 ms a collection, about a quarter of the event loop's time in a
burst, enough to make acknowledgements miss Discord's 3 s.

`IdleCollections` turns CPython's automatic full collections off and runs them itself, at the
same pace (`FULL_EVERY` middle-generation collections), as soon as the adapter is not busy (no
interaction being handled: the heap is then at its smallest, a few tens of milliseconds to walk,
and no acknowledgement is waiting), and in any case after `MOST_PUT_OFF`, so that a busy spell
that never ends cannot keep garbage forever. The young generations are collected
as before. The thresholds are the process's: the first started sets them, the last stopped
puts back what was there.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable

#: CPython's own pace: a full collection after this many middle-generation collections.
FULL_EVERY = 10
#: Collect even while busy once this many middle-generation collections have gone by.
MOST_PUT_OFF = 100
#: How often (seconds) the collector looks.
INTERVAL = 0.25
#: Larger than any count the process will reach: automatic full collections never start.
NEVER = 2**30

_started: list[IdleCollections] = []
_saved: tuple[int, int, int] | None = None


def put_off_since_last_full() -> int:
    """Middle-generation collections since the last full one (CPython's count for generation 2)."""
    return gc.get_count()[2]


class IdleCollections:
    def __init__(self, busy: Callable[[], bool], *, interval: float = INTERVAL):
        self.busy = busy
        self.interval = interval
        self.collected = 0  # full collections this collector ran (for tests and diagnostics)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Take over full collections (in the running event loop). Idempotent."""
        global _saved
        if self._task is not None:
            return
        if not _started:
            _saved = gc.get_threshold()
            young, middle, _ = _saved
            gc.set_threshold(young, middle, NEVER)
        _started.append(self)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="idle-collections")

    def stop(self) -> None:
        """Stop; the last collector stopped gives CPython back its own full collections. Idempotent."""
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        with contextlib.suppress(ValueError):
            _started.remove(self)
        if not _started and _saved is not None:
            gc.set_threshold(*_saved)

    def due(self) -> bool:
        """Whether a full collection should run now."""
        put_off = put_off_since_last_full()
        return put_off >= MOST_PUT_OFF or (put_off >= FULL_EVERY and not self.busy())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.due():
                gc.collect()
                self.collected += 1

"""First responses before second ones: a deferred answer's follow-up waits its turn.

Discord gives an interaction 3 s for its first response (the answer itself, or a defer) and
15 minutes for anything after it. Under a burst (a class answering a live question at once) the
bot's event loop is the bottleneck and every request costs it about the same, so a deferred
answer's follow-up, its second request, sent while other interactions still wait for their
first, pushes those towards their 3 s; those that pass the budget are deferred in turn, each
with a follow-up of its own, and a burst that was nearly in time tips over.

`FirstResponses` numbers the interactions as the adapter starts on them. A follow-up waits until
every interaction that came before it has had its first response, which the adapter's timer
brings within its budget, and until the gateway has gone quiet (`QUIET`: the bot reads a burst
one interaction at a time, so the last of it has not arrived yet when the first are answered),
and never longer than `FOLLOW_UP_WAIT`. Outside bursts nothing is waiting and a follow-up goes at
once. `waiting` tells the adapter a burst is on (see `client.BURST`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools

#: The longest a follow-up waits for earlier interactions' first responses (each is due within
#: Discord's 3 s of its creation anyway; this only bounds a wait should one never come).
FOLLOW_UP_WAIT = 3.0
#: The gateway is quiet once no interaction has arrived for this long: a burst's interactions
#: arrive a fraction of a millisecond apart, people pressing on their own much further apart.
QUIET = 0.05


class FirstResponses:
    def __init__(self) -> None:
        self._next = 0  # the number the next interaction gets
        self._oldest = 0  # every interaction numbered below this has had its first response
        self._waiting: set[int] = set()  # numbered, still without a first response
        self._turns: list[tuple[int, int, asyncio.Future[None]]] = []  # follow-ups: (the number they wait for, tie-break, future)
        self._ties = itertools.count()
        self._last_arrival = float("-inf")  # the event loop's time of the last `arrive`

    @property
    def waiting(self) -> int:
        """How many interactions are still waiting for their first response."""
        return len(self._waiting)

    def arrive(self) -> int:
        """Number an interaction the adapter starts on; it waits for its first response."""
        number = self._next
        self._next += 1
        self._last_arrival = asyncio.get_running_loop().time()
        self._waiting.add(number)
        return number

    def responded(self, number: int) -> None:
        """The interaction's first response has gone (or failed: it waits no longer). Idempotent."""
        self._waiting.discard(number)
        while self._oldest < self._next and self._oldest not in self._waiting:
            self._oldest += 1
        while self._turns and self._turns[0][0] <= self._oldest:
            _, _, turn = heapq.heappop(self._turns)
            if not turn.done():
                turn.set_result(None)

    async def turn(self) -> None:
        """Wait until every interaction that has arrived so far has had its first response and
        none has arrived for `QUIET` (in all at most `FOLLOW_UP_WAIT`): the moment for a second
        request, or for a burst's work."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FOLLOW_UP_WAIT
        until = self._next
        if self._oldest < until:
            turn: asyncio.Future[None] = loop.create_future()
            heapq.heappush(self._turns, (until, next(self._ties), turn))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(turn, FOLLOW_UP_WAIT)
        while (quiet_in := min(self._last_arrival + QUIET, deadline) - loop.time()) > 0:
            await asyncio.sleep(quiet_in)

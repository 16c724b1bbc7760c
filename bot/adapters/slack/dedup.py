"""Handle each Slack delivery once.

Slack redelivers an Events API callback it thinks was not acknowledged (HTTP header
`X-Slack-Retry-Num`, or the Socket Mode envelope's `retry_attempt`), and a Socket Mode
connection may send an envelope again after a reconnect. Both carry the same id as the first
delivery: `event_id` for events, `envelope_id` for envelopes.

The check runs after the acknowledgement, never before it: a recent id is found in memory
(one dict lookup); an event id is also recorded in SQLite (`slack_seen`, one transaction), so a
redelivery that arrives after a restart is still recognised. Rows older than a day are pruned.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from bot.core.clock import iso
from bot.core.store import Store

KEEP_IN_MEMORY = 20_000
KEEP_IN_DB = timedelta(days=1)
PRUNE_EVERY = 1000


class Dedup:
    def __init__(self, store: Store | None = None, clock=None):
        self.store = store
        self.clock = clock
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._inserted = 0
        #: How many deliveries were dropped as repeats (for tests and logs).
        self.dropped = 0

    def first_in_memory(self, key: str) -> bool:
        """True the first time `key` is seen by this process."""
        if key in self._recent:
            self.dropped += 1
            return False
        self._recent[key] = None
        if len(self._recent) > KEEP_IN_MEMORY:
            self._recent.popitem(last=False)
        return True

    async def first(self, key: str) -> bool:
        """True the first time `key` is seen, by this process or (with a store) any before it."""
        if not self.first_in_memory(key):
            return False
        if self.store is None:
            return True
        self._inserted += 1
        prune = self._inserted % PRUNE_EVERY == 0
        now = self.clock.now()

        def tx(conn) -> bool:
            new = conn.execute("INSERT OR IGNORE INTO slack_seen(id, seen_at) VALUES (?, ?)", (key, iso(now))).rowcount
            if prune:
                conn.execute("DELETE FROM slack_seen WHERE seen_at < ?", (iso(now - KEEP_IN_DB),))
            return bool(new)

        if await self.store.run(tx):
            return True
        self.dropped += 1
        return False


#: Slack refuses a request whose timestamp is more than 5 minutes from now (bolt checks it): a
#: signature is worth remembering for that long after its timestamp, plus a little clock skew.
SIGNATURE_WINDOW = 300 + 60


class Replays:
    """HTTP mode: each signed request is accepted once.

    A request's signature covers its timestamp and body, so a copy of a genuine request (a slash
    command captured on the way) verifies until its timestamp leaves the 5-minute window. The
    signatures of accepted requests are kept in SQLite (`slack_signatures`, one small
    transaction per request), shared by every process on the database, and pruned once their
    timestamp is out of the window; a recent one is also found in memory without a query."""

    def __init__(self, store: Store):
        self.store = store
        self._recent: OrderedDict[str, None] = OrderedDict()
        #: How many replays were refused (for tests and logs).
        self.refused = 0

    async def first(self, signature: str, timestamp: int, now: float) -> bool:
        if signature in self._recent:
            self.refused += 1
            return False

        def tx(conn) -> bool:
            conn.execute("DELETE FROM slack_signatures WHERE expires_at < ?", (int(now),))
            return bool(conn.execute("INSERT OR IGNORE INTO slack_signatures(signature, expires_at) VALUES (?, ?)",
                                     (signature, timestamp + SIGNATURE_WINDOW)).rowcount)

        if not await self.store.run(tx):
            self.refused += 1
            return False
        self._recent[signature] = None
        if len(self._recent) > KEEP_IN_MEMORY:
            self._recent.popitem(last=False)
        return True

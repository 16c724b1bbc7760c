"""Handle each delivery once: a platform's redelivered events and replayed signed requests.

Platforms redeliver what they think was not acknowledged (Slack's Events API retries carry
`X-Slack-Retry-Num`, a Socket Mode envelope may come again after a reconnect) with the same
id as the first delivery, and a signed HTTP request copied on the way verifies again until its
timestamp leaves the platform's window. Adapters ask here after acknowledging, never before.

- `SeenEvents`: a recent id is found in memory (one dict lookup); an id that must survive a
  restart is also recorded in SQLite (`seen_events`, per platform, one transaction), so a
  redelivery after a restart (or to another process on the database) is still recognised.
  Rows older than a day are pruned.
- `SeenSignatures`: the signatures of accepted requests are kept in SQLite (`seen_signatures`,
  one small transaction per request), shared by every process on the database, and pruned once
  their timestamp is out of the window; a recent one is also found in memory without a query.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from .clock import Clock, iso
from .store import Store

KEEP_IN_MEMORY = 20_000
KEEP_IN_DB = timedelta(days=1)
PRUNE_EVERY = 1000


class _Recent:
    """The last `KEEP_IN_MEMORY` keys seen by this process, oldest forgotten first."""

    def __init__(self) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys[key] = None
        if len(self._keys) > KEEP_IN_MEMORY:
            self._keys.popitem(last=False)


class SeenEvents:
    """The event ids one platform's adapter has handled."""

    def __init__(self, platform: str, store: Store, clock: Clock):
        self.platform = platform
        self.store = store
        self.clock = clock
        self._recent = _Recent()
        self._inserted = 0
        #: How many deliveries were dropped as repeats (for tests and logs).
        self.dropped = 0

    def first_in_memory(self, key: str) -> bool:
        """True the first time `key` is seen by this process (for ids that mean nothing after a
        restart, such as a connection's envelope ids)."""
        if key in self._recent:
            self.dropped += 1
            return False
        self._recent.add(key)
        return True

    async def first(self, key: str) -> bool:
        """True the first time `key` is seen, by this process or any before it on the database."""
        if not self.first_in_memory(key):
            return False
        self._inserted += 1
        prune = self._inserted % PRUNE_EVERY == 0
        now = self.clock.now()

        def tx(conn) -> bool:
            new = conn.execute("INSERT INTO seen_events(platform, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               (self.platform, key, iso(now))).rowcount
            if prune:
                conn.execute("DELETE FROM seen_events WHERE seen_at < ?", (iso(now - KEEP_IN_DB),))
            return bool(new)

        if await self.store.run(tx):
            return True
        self.dropped += 1
        return False


class SeenSignatures:
    """Signed requests accepted once each: a signature seen again within its window is a replay."""

    def __init__(self, store: Store, window_seconds: int):
        self.store = store
        #: How long after its timestamp a signature is remembered (the platform's window, plus skew).
        self.window_seconds = window_seconds
        self._recent = _Recent()
        #: How many replays were refused (for tests and logs).
        self.refused = 0

    async def first(self, signature: str, timestamp: int, now: float) -> bool:
        """True the first time this signature is seen; `timestamp` is the request's (epoch
        seconds), `now` the time to prune against."""
        if signature in self._recent:
            self.refused += 1
            return False

        def tx(conn) -> bool:
            conn.execute("DELETE FROM seen_signatures WHERE expires_at < ?", (int(now),))
            return bool(conn.execute("INSERT INTO seen_signatures(signature, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                     (signature, timestamp + self.window_seconds)).rowcount)

        if not await self.store.run(tx):
            self.refused += 1
            return False
        self._recent.add(signature)
        return True

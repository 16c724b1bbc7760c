"""Deliveries handled once (bot/core/seen_events.py): redelivered event ids per platform, and
replayed signed requests, remembered in SQLite across restarts and processes; and the migration
that moved Slack's own tables there. The Slack adapter's use of both runs end to end in
test_slack_e2e.py (Events API retries, repeated envelopes, replayed HTTP requests)."""

from __future__ import annotations

from datetime import timedelta

from bot.core import seen_events
from bot.core.clock import ManualClock
from bot.core.engines import open_store
from bot.core.seen_events import SeenEvents, SeenSignatures
from tests.test_migrations import database_at


async def test_an_event_id_is_handled_once_per_platform_across_restarts(tmp_path, monkeypatch):
    clock = ManualClock()
    store = await open_store(tmp_path / "s.db")
    try:
        slack = SeenEvents("slack", store, clock)
        assert await slack.first("event:Ev1")
        assert not await slack.first("event:Ev1")  # found in memory
        again = SeenEvents("slack", store, clock)  # a restart, or another process on the database
        assert not await again.first("event:Ev1")
        assert again.dropped == 1 and slack.dropped == 1
        assert await SeenEvents("other", store, clock).first("event:Ev1")  # ids are per platform
        assert again.first_in_memory("envelope:E1") and not again.first_in_memory("envelope:E1")
        assert await SeenEvents("slack", store, clock).first("envelope:E1")  # memory only: never written

        monkeypatch.setattr(seen_events, "PRUNE_EVERY", 2)
        clock.advance(seconds=(seen_events.KEEP_IN_DB + timedelta(minutes=1)).total_seconds())
        pruning = SeenEvents("slack", store, clock)
        assert await pruning.first("event:Ev2") and await pruning.first("event:Ev3")  # the second insert prunes
        kept = await store.read(lambda c: sorted(r[0] for r in c.execute("SELECT event_id FROM seen_events WHERE platform = 'slack'")))
        assert kept == ["event:Ev2", "event:Ev3"]
    finally:
        await store.close()


async def test_a_signature_is_accepted_once_until_its_window_passes(tmp_path):
    store = await open_store(tmp_path / "s.db")
    try:
        first, other = SeenSignatures(store, 360), SeenSignatures(store, 360)
        assert await first.first("v0=aa", 1_000, now=1_000)
        assert not await first.first("v0=aa", 1_000, now=1_001) and not await other.first("v0=aa", 1_000, now=1_001)
        assert first.refused == other.refused == 1
        assert await other.first("v0=bb", 2_000, now=2_000)  # the old one's window has passed: pruned
        left = await store.read(lambda c: [r[0] for r in c.execute("SELECT signature FROM seen_signatures")])
        assert left == ["v0=bb"]
    finally:
        await store.close()


async def test_slacks_tables_move_under_platform_neutral_names(tmp_path):
    path = tmp_path / "old.db"
    await database_at(path, 10, lambda c: (
        c.execute("INSERT INTO slack_seen(id, seen_at) VALUES ('event:Ev9', '2026-01-01T00:00:00+00:00')"),
        c.execute("INSERT INTO slack_signatures(signature, expires_at) VALUES ('v0=cc', 4000000000)")))
    store = await open_store(path)
    try:
        clock = ManualClock()
        assert not await SeenEvents("slack", store, clock).first("event:Ev9")
        assert not await SeenSignatures(store, 360).first("v0=cc", 3_999_999_000, now=3_999_999_000)
        tables = await store.read(lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})
        assert {"seen_events", "seen_signatures"} <= tables and not tables & {"slack_seen", "slack_signatures"}
    finally:
        await store.close()

"""`live_messages`: the message that shows each live question, one table for every platform
(bot/core/live_messages.py), and the migration that moved Slack's own table into it.
The adapters' use of it runs end to end in test_discord_adapter.py (a restart closes a question's
buttons without a click) and test_slack_live_message_rows.py; its clean-up in test_bounded_growth.py."""

from __future__ import annotations

from bot.core import live_messages
from bot.core.engines import open_store
from bot.core.live_messages import LiveMessage
from bot.core.store import find_migrations
from tests.test_migrations import database_at

SESSION = ("INSERT INTO live_sessions(id, platform, guild, channel, chapter, question_keys, seed, question_seconds, reveal_seconds,"
           " phase, phase_started_at, phase_ends_at, started_at) VALUES (?, ?, 'g', ?, 7, '[]', 1, 20, 5, ?, 'now', NULL, 'now')")


async def test_slacks_rows_move_into_the_one_table(tmp_path):
    path = tmp_path / "old.db"

    def fill(conn):
        conn.execute(SESSION, (1, "slack", "C1", "question"))
        conn.execute("INSERT INTO slack_live_messages(session_id, question_index, channel, ts, question_blocks)"
                     " VALUES (1, 0, 'C1', '1700000000.000100', '[{\"type\": \"section\"}]')")

    await database_at(path, 10, fill)
    store = await open_store(path)
    try:
        assert await store.schema_version() == find_migrations()[-1].version
        moved = await live_messages.find(store, "slack", 1, 0)
        assert moved == LiveMessage(1, 0, "slack", "C1", "1700000000.000100", '[{"type": "section"}]')
        tables = await store.read(lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})
        assert "live_messages" in tables and "slack_live_messages" not in tables
    finally:
        await store.close()


async def test_a_platform_finds_its_own_messages_and_ended_sessions_lose_theirs(tmp_path):
    store = await open_store(tmp_path / "m.db")
    try:
        await store.run(lambda c: [c.execute(SESSION, row) for row in [(1, "discord", "10", "question"), (2, "slack", "C2", "ended")]])
        await live_messages.record(store, LiveMessage(1, 0, "discord", "10", "111"))
        await live_messages.record(store, LiveMessage(1, 0, "discord", "10", "222"))  # the same question shown again
        await live_messages.record(store, LiveMessage(2, 3, "slack", "C2", "1.5", "[]"))
        assert await live_messages.find(store, "discord", 1, 0) == LiveMessage(1, 0, "discord", "10", "222")
        assert await live_messages.find(store, "slack", 1, 0) is None  # not Slack's message
        assert await live_messages.find(store, "discord", 1, 1) is None  # never shown
        await live_messages.delete_ended(store)  # the sweep: only sessions that have ended
        assert await live_messages.find(store, "slack", 2, 3) is None
        assert await live_messages.find(store, "discord", 1, 0) is not None
        await live_messages.delete_ended(store, [1])  # as their last events were shown
        assert await live_messages.find(store, "discord", 1, 0) is None
    finally:
        await store.close()

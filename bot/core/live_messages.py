"""The channel message that shows each live quiz question, for every platform (`live_messages`).

An adapter posts a live question as a message of its own platform and records it here; when
the question closes, whichever process shows the closing finds the message again, even if it
was posted before a restart or by another process: Discord removes its buttons, Slack updates
it in place with the reveal. A platform that needs the question as it was shown for the
reveal keeps its `rendering` (Slack keeps the question's blocks above the reveal).

The rows of a session are deleted once it has ended and its last events were shown
(`LiveQuizzes` calls `delete_ended`); rows of sessions that ended while no process showed
them are swept by the live loop's first round.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import Store


@dataclass(frozen=True)
class LiveMessage:
    session_id: int
    question_index: int
    platform: str
    channel: str
    #: The platform's id of the message: a Discord message id, a Slack ts.
    message_id: str
    #: The question as the platform showed it, where its reveal needs it (else None).
    rendering: str | None = None


async def record(store: Store, message: LiveMessage) -> None:
    """Remember the message that shows a question (a repeat of the same question replaces it)."""
    await store.run(lambda conn: conn.execute(
        "INSERT INTO live_messages(session_id, question_index, platform, channel, message_id, rendering)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, question_index) DO UPDATE SET platform = excluded.platform,"
        " channel = excluded.channel, message_id = excluded.message_id, rendering = excluded.rendering",
        (message.session_id, message.question_index, message.platform, message.channel, message.message_id, message.rendering)))


async def find(store: Store, platform: str, session_id: int, question_index: int) -> LiveMessage | None:
    """The platform's message showing this question, if one was recorded and its session has not
    been cleaned up yet."""
    row = await store.read(lambda conn: conn.execute(
        "SELECT channel, message_id, rendering FROM live_messages WHERE session_id = ? AND question_index = ? AND platform = ?",
        (session_id, question_index, platform)).fetchone())
    if row is None:
        return None
    return LiveMessage(session_id, question_index, platform, row["channel"], row["message_id"], row["rendering"])


async def delete_ended(store: Store, session_ids: list[int] | None = None) -> None:
    """Delete the rows of these ended sessions (one transaction, right after their last events),
    or, with None, of every session that has ended: the sweep at start looks first and writes
    only when there is something to delete, so a process whose adapters record no messages (the
    console) never needs the write lock for it (a read-only database still answers reads)."""
    if session_ids is not None:
        await store.run(lambda conn: conn.executemany("DELETE FROM live_messages WHERE session_id = ?", [(i,) for i in session_ids]))
        return
    ended = "SELECT id FROM live_sessions WHERE phase = 'ended'"
    if await store.read(lambda conn: conn.execute(f"SELECT 1 FROM live_messages WHERE session_id IN ({ended}) LIMIT 1").fetchone()):
        await store.run(lambda conn: conn.execute(f"DELETE FROM live_messages WHERE session_id IN ({ended})"))

"""The Slack adapter's live message rows (`live_messages`, one per question's message, found
again for the reveal) are deleted once the quiz has ended, and swept at start when a quiz ended
while no Slack process was showing it. Through the real adapter and the local Slack stand-in."""

from __future__ import annotations

import asyncio

from tests.slack_fixtures import close_world, open_world, standin  # noqa: F401
from tests.slack_standin import shown_text
from tests.test_slack_e2e import command

ROWS = "SELECT COUNT(*) FROM live_messages WHERE platform = 'slack'"


async def rows_become(w, count: int) -> bool:
    """Whether the live message rows reach `count` within a few seconds."""
    for _ in range(500):
        if await w.core.store.run(lambda c: c.execute(ROWS).fetchone()[0]) == count:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_a_live_quizs_message_rows_go_when_it_ends_and_are_swept_at_start(tmp_path, standin, database):  # noqa: F811
    w = await open_world(database, standin, "socket", live_reveal_seconds=0)
    try:
        async with w.core.live.running({"slack"}):
            assert "Live quiz started" in shown_text(await command(w, "live 7 2", user="UTEACH"))
            await standin.wait_for(lambda c: c.method == "chat.postMessage" and "question 1/2" in shown_text(c.data))
            w.clock.advance(21)
            await standin.wait_for(lambda c: c.method == "chat.postMessage" and "question 2/2" in shown_text(c.data))
            # The adapter records the message's row once Slack has answered the post: wait for it.
            assert await rows_become(w, 2)
            updates = len(standin.calls_to("chat.update"))
            w.clock.advance(21)  # the last question closes (its message updated in place) and the quiz ends
            await standin.wait_for(lambda c: c.method == "chat.postMessage" and "final results" in shown_text(c.data))
            assert len(standin.calls_to("chat.update")) == updates + 1  # the reveal still found its message
            assert await rows_become(w, 0)  # deleted once the last event has been shown

            # A quiz that ends while no Slack process shows it (stopped from the database, say) leaves its rows...
            await command(w, "live 7 2", user="UTEACH", channel="C0OTHER")
            await standin.wait_for(lambda c: c.method == "chat.postMessage" and c.data["channel"] == "C0OTHER")
        await w.core.store.run(lambda c: c.execute("UPDATE live_sessions SET phase = 'ended', phase_ends_at = NULL"))
        assert await w.core.store.run(lambda c: c.execute(ROWS).fetchone()[0]) == 1
        await close_world(w)
        # ...until a Slack process starts: the first round of its live loop sweeps them.
        w = await open_world(database, standin, "socket", clock=w.clock, live_reveal_seconds=0)
        async with w.core.live.running({"slack"}):
            for _ in range(2000):
                if not await w.core.store.run(lambda c: c.execute(ROWS).fetchone()[0]):
                    break
                await asyncio.sleep(0.01)
            assert await w.core.store.run(lambda c: c.execute(ROWS).fetchone()[0]) == 0
    finally:
        await close_world(w)

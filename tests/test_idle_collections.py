"""Full garbage collections put off while the adapter is busy (bot/adapters/idle_collections.py)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot.adapters import idle_collections
from bot.adapters.idle_collections import FULL_EVERY, MOST_PUT_OFF, NEVER, IdleCollections


def promote(collections: int) -> list:
    """Keep enough new containers alive for about `collections` middle-generation collections."""
    young, middle, _ = gc.get_threshold()
    return [[] for _ in range(young * middle * collections + young)]


async def test_the_process_thresholds_are_taken_over_and_given_back():
    before = gc.get_threshold()
    first, second = IdleCollections(busy=lambda: False), IdleCollections(busy=lambda: False)
    first.start()
    first.start()  # idempotent
    second.start()
    assert gc.get_threshold() == (before[0], before[1], NEVER)
    first.stop()
    assert gc.get_threshold()[2] == NEVER  # another collector still runs
    second.stop()
    second.stop()  # idempotent
    assert gc.get_threshold() == before


@pytest.mark.parametrize(("put_off", "busy", "due"), [
    (FULL_EVERY - 1, False, False), (FULL_EVERY, False, True), (FULL_EVERY, True, False),
    (MOST_PUT_OFF - 1, True, False), (MOST_PUT_OFF, True, True)])
def test_a_full_collection_is_due_at_cpythons_pace_when_idle_and_at_the_latest_when_busy(monkeypatch, put_off, busy, due):
    monkeypatch.setattr(idle_collections, "put_off_since_last_full", lambda: put_off)
    assert IdleCollections(busy=lambda: busy).due() is due


async def test_collections_wait_while_busy_and_run_once_idle():
    busy = True
    collector = IdleCollections(busy=lambda: busy, interval=0.01)
    collector.start()
    try:
        kept = promote(FULL_EVERY + 2)
        assert idle_collections.put_off_since_last_full() >= FULL_EVERY  # CPython would have collected by now
        await asyncio.sleep(0.05)
        assert collector.collected == 0
        busy = False
        for _ in range(100):
            await asyncio.sleep(0.01)
            if collector.collected:
                break
        assert collector.collected >= 1 and idle_collections.put_off_since_last_full() < FULL_EVERY
        del kept
    finally:
        collector.stop()

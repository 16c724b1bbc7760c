"""Shared fixtures for the Slack tests: a stand-in, a core on a real SQLite file, the adapter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.adapters.slack.app import SlackAdapter
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from tests.slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackStandIn,
    assert_safe,
)


def slack_settings(database: Path | str, standin: SlackStandIn, mode: str = "socket", **overrides) -> Settings:
    """Settings for our adapter against the stand-in, on `database` (a SQLite file or a postgresql:// URL)."""
    base = Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=20,
                    live_reveal_seconds=5, instructors=frozenset({"slack:UTEACH"}), slack_bot_token=BOT_TOKEN,
                    slack_app_token=APP_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_base=standin.api_base,
                    slack_mode=mode, slack_port=0)
    return replace(base, **overrides)


@dataclass
class World:
    standin: SlackStandIn
    core: Companion
    adapter: SlackAdapter
    clock: ManualClock
    settings: Settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def send(self, payload, **kwargs):
        """Deliver over this world's transport: a Socket Mode envelope, or a signed HTTP POST."""
        if self.settings.slack_mode == "http":
            return await self.standin.http(self.url, payload, **kwargs)
        return await self.standin.send(payload, **kwargs)


async def open_world(database: Path | str, standin: SlackStandIn, mode: str = "socket", clock: ManualClock | None = None, **overrides) -> World:
    settings = slack_settings(database, standin, mode, **overrides)
    clock = clock or ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    adapter = SlackAdapter(core, settings, host="127.0.0.1", port=0)
    try:
        await adapter.start()
    except BaseException:
        await adapter.close()
        await core.close()
        raise
    if mode == "socket":
        await standin.connected()
    return World(standin, core, adapter, clock, settings)


async def close_world(world: World) -> None:
    await world.adapter.close()
    await world.core.close()


@pytest.fixture
async def standin():
    s = await SlackStandIn(admins={"UADMIN"}).start()
    s.names.update({"UANN": "ann", "UBOB": "bob", "UTEACH": "teacher", "UADMIN": "boss"})
    yield s
    await s.close()
    assert not s.slow_acks, f"acks later than 3 s: {[(a.kind, a.seconds) for a in s.slow_acks]}"
    assert_safe(s.calls)  # in every Slack test: nothing sent could mention, ping or disguise a link


@pytest.fixture(params=["socket", "http"])
async def world(request, database, standin):
    w = await open_world(database, standin, request.param)
    yield w
    await close_world(w)
    await asyncio.sleep(0)


@pytest.fixture
async def socket_world(database, standin):
    w = await open_world(database, standin, "socket")
    yield w
    await close_world(w)

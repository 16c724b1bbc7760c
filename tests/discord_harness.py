"""Shared fixtures for the Discord tests: a stand-in, a Companion on a real SQLite file, and a
real discord.py client (our adapter) connected to the stand-in. `Bot.restart()` closes the
client and the companion and opens new ones on the same database, as a process restart would."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

from discord_standin import COMPLETION_ROLE, INSTRUCTOR_ROLE, TOKEN, DiscordStandIn

from bot.adapters.discord.runner import login, make_client
from bot.core.clock import Clock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings


def adapter_without_client():
    """A `DiscordAdapter` with only what `respond` uses (no client, no companion): for tests that
    drive `respond` step by step with stand-in interactions."""
    from bot.adapters.discord.client import DiscordAdapter
    from bot.adapters.discord.first_responses import FirstResponses

    adapter = DiscordAdapter.__new__(DiscordAdapter)
    adapter.first_responses = FirstResponses()
    adapter.handling = 0
    return adapter


def recording_interaction(sent: list[str], created=None, name: str = ""):
    """A stand-in interaction for `respond`: its defer, response and follow-up only append what
    they are ("defer", "send", "follow-up", after `name` if given) to `sent`. `created`: when
    Discord created it (now by default)."""
    from types import SimpleNamespace

    import discord

    async def record(kind: str, **_kwargs) -> None:
        sent.append(f"{name} {kind}" if name else kind)

    response = SimpleNamespace(defer=lambda **kw: record("defer", **kw), send_message=lambda **kw: record("send", **kw))
    return SimpleNamespace(response=response, message=None, guild_id=None,
                           created_at=created if created is not None else discord.utils.utcnow(),
                           followup=SimpleNamespace(send=lambda **kw: record("follow-up", **kw)))


def discord_settings(database: Path | str, standin: DiscordStandIn, **overrides) -> Settings:
    """Settings for our adapter against the stand-in, on `database` (a SQLite file or a postgresql:// URL)."""
    base = Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, discord_token=TOKEN,
                    discord_api_base=standin.api_base, discord_instructor_role=INSTRUCTOR_ROLE,
                    discord_completion_role=COMPLETION_ROLE, live_question_seconds=20, live_reveal_seconds=0)
    return replace(base, **overrides)


class Bot:
    """Our adapter running against the stand-in, with the live-quiz loop started as `companion` does."""

    def __init__(self, standin: DiscordStandIn, settings: Settings, clock: Clock | None = None, live_loop: bool = True):
        self.standin = standin
        self.settings = settings
        self.clock = clock
        self.live_loop = live_loop
        self.core: Companion | None = None
        self.client = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> Bot:
        self.core = await Companion.create(self.settings, clock=self.clock, fuzzing=False)
        self.client = make_client(self.core, self.settings, guild_ready_timeout=0.05)
        self.standin.identified.clear()
        await login(self.client, self.settings)
        self._tasks.append(asyncio.create_task(self.client.connect(reconnect=False)))
        if self.live_loop:
            self._tasks.append(asyncio.create_task(self.core.live.run()))
        await asyncio.wait_for(self.client.wait_until_ready(), 10)
        return self

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.core is not None:
            await self.core.close()
            self.core = None

    async def restart(self) -> Bot:
        await self.stop()
        return await self.start()

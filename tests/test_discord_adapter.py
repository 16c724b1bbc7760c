"""End to end through discord.py against the local stand-in of Discord (tests/discord_standin.py)."""

from __future__ import annotations

import pytest
from discord_harness import Bot, discord_settings
from discord_standin import DiscordStandIn, User, embed_text


@pytest.fixture
async def standin():
    s = await DiscordStandIn().start()
    yield s
    await s.close()


@pytest.fixture
async def bot(standin, tmp_path):
    b = Bot(standin, discord_settings(tmp_path, standin))
    await b.start()
    yield b
    await b.stop()


async def test_login_and_help(bot, standin):
    ann = User.make("Ann")
    ex = await standin.slash(ann, "help")
    msg = await standin.answer(ex)
    assert "Commands" in embed_text(msg)
    assert ex.callback["type"] == 4 and ex.callback["data"]["flags"] & 64
    assert ex.latency < 3

"""`run_slack`: the Slack adapter as one coroutine that runs until cancelled (started by `companion`)."""

from __future__ import annotations

import asyncio

from bot.core.companion import Companion
from bot.core.config import Settings

from .app import SlackAdapter


async def run_slack(companion: Companion, settings: Settings) -> None:
    """Connect (Socket Mode) or listen (HTTP mode on SLACK_PORT) until cancelled.

    Raises `AdapterError` with one line when a token is missing or refused."""
    adapter = SlackAdapter(companion, settings)
    try:
        await adapter.start()  # inside the try: a failed start closes what it opened too
        await asyncio.Event().wait()
    finally:
        await adapter.close()

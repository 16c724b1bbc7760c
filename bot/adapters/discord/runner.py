"""Run the Discord client until cancelled, against the API base the settings name."""

from __future__ import annotations

import gc
import logging

import discord
import yarl

from bot.adapters import AdapterError
from bot.core.companion import Companion
from bot.core.config import Settings

from .client import CompanionClient

log = logging.getLogger(__name__)
DEFAULT_API_BASE = "https://discord.com/api/v10"


class _NoVoiceNotice(logging.Filter):
    """The companion never joins voice, so discord.py's "voice will NOT be supported" notices are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_NoVoiceNotice())


def point_at(settings: Settings) -> None:
    """discord.py builds every REST URL (webhooks and interaction callbacks too) from `Route.BASE`."""
    discord.http.Route.BASE = settings.discord_api_base.rstrip("/")


async def login(client: discord.Client, settings: Settings) -> None:
    """Log in, turning a missing or rejected token into a one-line AdapterError (never showing the token)."""
    if not settings.discord_token:
        raise AdapterError("DISCORD_TOKEN is not set: copy the bot token from the Developer Portal (Bot → Reset Token).")
    try:
        await client.login(settings.discord_token)
    except discord.LoginFailure:
        raise AdapterError("Discord rejected DISCORD_TOKEN (401 Unauthorized): reset the bot token in the Developer Portal "
                           "and set it again.") from None
    except (discord.HTTPException, OSError) as exc:
        raise AdapterError(f"cannot reach the Discord API at {settings.discord_api_base}: {type(exc).__name__}") from None
    if settings.discord_api_base.rstrip("/") != DEFAULT_API_BASE:
        # discord.py connects to wss://gateway.discord.gg unless told otherwise; a Discord-compatible
        # API names its own gateway in GET /gateway/bot, as Discord's does.
        try:
            _shards, url, _limits = await client.http.get_bot_gateway()
        except (discord.HTTPException, discord.GatewayNotFound, OSError):
            raise AdapterError(f"the API at {settings.discord_api_base} did not name a gateway (GET /gateway/bot)") from None
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


def freeze_startup_heap() -> None:
    """Take what the process has built so far (the course, the assistant's vocabularies and
    models, discord.py's client) out of the garbage collector's full collections. A full collection
    walks every tracked object: over the companion's startup heap it stalls the event loop for
    150-230 ms (measured on the shared 2-core machine), and Python starts one whenever enough objects have
    outlived two younger collections, which a burst of interactions, each alive for a while,
    makes happen mid-burst. Frozen, those objects are never walked again; they were meant to
    live as long as the process anyway."""
    gc.collect()
    gc.freeze()


def make_client(companion: Companion, settings: Settings, **client_options) -> CompanionClient:
    point_at(settings)
    return CompanionClient(companion, settings, **client_options)


async def run_discord(companion: Companion, settings: Settings) -> None:
    """Log in, connect to the gateway and serve until cancelled; always closes the client."""
    client = make_client(companion, settings)
    freeze_startup_heap()
    try:
        await login(client, settings)
        log.info("Discord: logged in as %s (application %s)", client.user, client.application_id)
        await client.connect(reconnect=True)
    finally:
        await client.close()

"""`companion discord sync [--guild ID]…` and `companion discord invite`."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.core.config import Settings

#: What the bot needs in a channel: see it, post live quiz questions and results with embeds,
#: attach the /my-data file, and (for the completion role) manage roles. Interaction responses
#: themselves need no permission.
BOT_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, send_messages_in_threads=True,
                                      embed_links=True, attach_files=True, manage_roles=True)
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int, permissions: discord.Permissions = BOT_PERMISSIONS) -> str:
    return discord.utils.oauth_url(application_id, permissions=permissions, scopes=SCOPES)


async def _with_client(settings: Settings, work) -> Any:
    from bot.core.companion import Companion

    from .runner import login, make_client

    companion = await Companion.create(settings)
    try:
        client = make_client(companion, settings)
        try:
            await login(client, settings)
            return await work(client)
        finally:
            await client.close()
    finally:
        await companion.close()


async def sync(settings: Settings, guilds: list[int] | None) -> list[str]:
    async def work(client) -> list[str]:
        lines = []
        if not guilds:
            synced = await client.tree.sync()
            lines.append(f"synced {len(synced)} commands globally (Discord may take a while to show them everywhere)")
        for guild_id in guilds or []:
            guild = discord.Object(id=guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
            lines.append(f"synced {len(synced)} commands to guild {guild_id}")
        return lines
    return await _with_client(settings, work)


async def invite(settings: Settings) -> str:
    async def work(client) -> str:
        return invite_url(client.application_id)
    return await _with_client(settings, work)


def main(args, settings: Settings) -> int:
    if args.discord_command == "sync":
        for line in asyncio.run(sync(settings, args.guild)):
            print(line)
        return 0
    if args.discord_command == "invite":
        print(asyncio.run(invite(settings)))
        return 0
    return 2

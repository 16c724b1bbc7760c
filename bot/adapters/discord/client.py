"""The Discord client: interactions in, core calls, Replies out — always inside the 3 s deadline.

Acknowledging: every interaction runs its core call with a timer armed to fire `ACK_BUDGET`
seconds after Discord created the interaction (the time in its id, where Discord's 3 s start). A
fast answer (nearly all of them: one SQLite transaction) is sent as the first and only response;
if the work is still running when the timer fires, the timer defers the interaction (type 5 for
commands, type 6 for components) and the answer follows as an edit or a follow-up. The deadline
cannot be missed however slow the work is, and the fast path costs one request.

Bursts (a class answering a live question at once): with more than `BURST` interactions waiting
for their first response, a new one is acknowledged first and its work waits until the burst has
been acknowledged (`FirstResponses.turn`); the answer follows. Each acknowledgement then costs the
event loop what discord.py's bare one does, and the class's work (the core's batches, the
follow-ups) comes after the last acknowledgement rather than among them. Full garbage collections
are put off until the burst is over (`idle_collections`).

Instructors: Manage Server in the member's permissions (which Discord computes per channel and
sends with every interaction), or the configured instructor role, by id or name, through
discord.py's public `Member.get_role`/`Member.roles`: they read the server's roles from the
cache that the `guilds` intent fills (GUILD_CREATE) and keeps current for every server the bot
is in. The `/course` group is also hidden by default permissions, but the server-side check is
what counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord import app_commands

from bot.core import actions, live_messages
from bot.core.command_line import handle_text
from bot.core.companion import Companion
from bot.core.config import Settings
from bot.core.live import LiveEvent
from bot.core.live_messages import LiveMessage
from bot.core.replies import Reply, error
from bot.core.store import StoreError
from bot.core.users import Actor

from ..idle_collections import IdleCollections
from ..live_start import StartNotices
from ..safety import clean
from .commands import register
from .first_responses import FirstResponses
from .render import NO_MENTIONS, message_kwargs
from .views import BUTTON_FORM, FORM, form_label, modal_for, pressed

log = logging.getLogger(__name__)

#: How long after Discord created an interaction its answer may take before a timer defers it.
#: Discord's deadline is 3 s from that moment; the second left carries the defer through a busy
#: event loop and the network to Discord. Counted from the interaction's creation, not from when
#: its handler starts, so a gateway backlog (a class pressing at once: the bot reads and parses
#: the interactions one by one) is counted, and a handler that starts early is not deferred sooner
#: than it must be (each deferred answer costs two requests).
ACK_BUDGET = 2.0
#: More interactions than this waiting for their first response is a burst: a new one is
#: acknowledged before its work. One person, or a hundred pressing on their own, leave a handful
#: waiting (each is answered in a few milliseconds); a class pressing at once leaves thousands.
BURST = 256
FAILED = "⚠️ Something went wrong on my side (it has been logged). Please try again."


def actor_for(interaction_or_message: discord.Interaction | discord.Message, settings: Settings) -> Actor:
    if isinstance(interaction_or_message, discord.Interaction):
        user = interaction_or_message.user
        guild_id = interaction_or_message.guild_id
        channel_id = interaction_or_message.channel_id
        permissions = interaction_or_message.permissions
    else:
        user = interaction_or_message.author
        guild_id = interaction_or_message.guild.id if interaction_or_message.guild else None
        channel_id = interaction_or_message.channel.id
        permissions = None
    instructor = False
    if guild_id is not None and isinstance(user, discord.Member):
        instructor = bool(permissions is not None and permissions.manage_guild) or _has_role(user, settings.discord_instructor_role)
    return Actor("discord", str(user.id), user.display_name, guild=str(guild_id) if guild_id else None,
                 channel=str(channel_id) if channel_id else None, is_instructor=instructor)


def _has_role(member: discord.Member, wanted: str | None) -> bool:
    """Whether the member holds the instructor role, named by id or by name (case-insensitive)."""
    if not wanted:
        return False
    if wanted.isdigit():
        return member.get_role(int(wanted)) is not None
    return any(r.name.casefold() == wanted.casefold() for r in member.roles)


def ack_delay(interaction: discord.Interaction) -> float:
    """Seconds from now until `ACK_BUDGET` has passed since Discord created the interaction
    (the time in its snowflake id). A clock behind Discord's would make an interaction look
    younger than it is: its age is counted as at least zero, so the defer comes at the latest
    `ACK_BUDGET` after the handler starts; a clock ahead only defers sooner."""
    age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    return max(0.0, ACK_BUDGET - max(age, 0.0))


def _replacing(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Edit arguments: a reply without components removes the old message's buttons, and its
    files (or none) replace the old message's attachments."""
    if kwargs.get("view") is discord.utils.MISSING:
        kwargs["view"] = None
    kwargs["attachments"] = kwargs.pop("files", [])
    return kwargs


class CompanionClient(discord.Client):
    def __init__(self, companion: Companion, settings: Settings, **kwargs: Any):
        intents = discord.Intents.none()
        intents.guilds = True  # channels and roles (completion role by name), guild events
        intents.dm_messages = True  # DMs go to the conversation engine; DM content needs no privileged intent
        if settings.discord_shard is not None:  # one gateway shard per process (README, "Deploying at scale")
            kwargs.setdefault("shard_id", settings.discord_shard[0])
            kwargs.setdefault("shard_count", settings.discord_shard[1])
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS, **kwargs)
        self.companion = companion
        self.settings = settings
        self.adapter = DiscordAdapter(self, companion, settings)
        self.tree = app_commands.CommandTree(self)
        register(self.tree, self.adapter)

    async def setup_hook(self) -> None:
        self.companion.live.subscribe(self.adapter.on_live_event)
        self.adapter.collections.start()
        if self.settings.discord_sync_on_start:
            for guild_id in self.settings.discord_dev_guilds:  # development guilds only; never global on start
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to development guild %s", len(synced), guild_id)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """discord.py hands every interaction here; our components and forms are routed by their
        custom_id alone (`views.pressed`), so discord.py neither keeps nor rebuilds any view."""
        if interaction.type == discord.InteractionType.component:
            await self.adapter.on_component(interaction)
        elif interaction.type == discord.InteractionType.modal_submit:
            await self.adapter.on_modal_submit(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None and not message.author.bot and message.author != self.user:
            await self.adapter.on_direct_message(message)

    async def close(self) -> None:
        with contextlib.suppress(ValueError):  # not subscribed: setup_hook never ran
            self.companion.live.listeners.remove(self.adapter.on_live_event)
        self.adapter.collections.stop()
        await super().close()


class DiscordAdapter:
    def __init__(self, client: CompanionClient, companion: Companion, settings: Settings):
        self.client = client
        self.core = companion
        self.settings = settings
        #: (user id, channel id) → why the live quiz they are starting right now could not be shown.
        self._starting = StartNotices()
        #: Interactions still waiting for their first response: a follow-up goes after them.
        self.first_responses = FirstResponses()
        #: Interactions being handled (`respond`), from arrival to their answer.
        self.handling = 0
        #: Full garbage collections wait until no interaction is being handled: then there is
        #: least to walk, and no acknowledgement to hold up.
        self.collections = IdleCollections(busy=lambda: self.handling > 0)

    def actor(self, interaction: discord.Interaction) -> Actor:
        return actor_for(interaction, self.settings)

    # ---- acknowledging ----------------------------------------------------------------------

    async def _work(self, call: Awaitable[Reply]) -> Reply:
        try:
            return await call
        except StoreError as exc:  # busy: "try again"; failed: the process is stopping (bot/core/store.py)
            log.warning("a core call met a storage fault: %s", exc)
            return error(exc.reply_text)
        except Exception:
            log.exception("a core call failed")
            return error(FAILED)

    async def respond(self, interaction: discord.Interaction, call: Callable[[], Awaitable[Reply]], *,
                      component: bool = False) -> None:
        """Do the work inline; if it is still running `ACK_BUDGET` after Discord created the
        interaction (`ack_delay`), a timer defers the interaction meanwhile and the answer follows
        as an edit or a follow-up. Where the answer goes is the reply's to say (`replaces`,
        `ephemeral`).

        On a busy event loop (a class answering at once) the timer's defer may still be waiting
        for its turn when the work ends: it is then dropped, and the answer itself is the
        acknowledgement, one request instead of two, sent no later than the defer would have been.
        A deferred answer's follow-up waits until the interactions that came before it have had
        their first response (`FirstResponses`): under a burst, a second request must not make
        others late. In a burst (`BURST`), the acknowledgement comes first (`_respond_in_burst`)."""
        self.handling += 1
        try:
            await self._respond(interaction, call, component)
        finally:
            self.handling -= 1

    async def _respond(self, interaction: discord.Interaction, call: Callable[[], Awaitable[Reply]], component: bool) -> None:
        number = self.first_responses.arrive()
        if self.first_responses.waiting > BURST:
            await self._respond_in_burst(interaction, call, component, number)
            return
        deferring: asyncio.Task | None = None
        deferred = False  # the defer's request has begun: the answer must follow it

        async def defer() -> None:
            nonlocal deferred
            deferred = True
            try:
                await self._defer(interaction, component)
            finally:
                self.first_responses.responded(number)

        def defer_now() -> None:
            nonlocal deferring
            deferring = asyncio.ensure_future(defer())

        try:
            timer = asyncio.get_running_loop().call_later(ack_delay(interaction), defer_now)
            try:
                reply = await self._work(call())
            finally:
                timer.cancel()
            if deferring is not None and not deferred:
                deferring.cancel()  # not begun: it never runs
                deferring = None
            if deferring is None:
                if component and self._replaces(interaction, reply):
                    await interaction.response.edit_message(**_replacing(message_kwargs(reply)))
                else:
                    await interaction.response.send_message(ephemeral=reply.ephemeral, **message_kwargs(reply))
            else:
                await deferring
        finally:
            self.first_responses.responded(number)
        if deferring is not None:
            await self.first_responses.turn()
            await self._follow_up(interaction, reply, component)
        await self._achievements(interaction, reply)

    async def _respond_in_burst(self, interaction: discord.Interaction, call: Callable[[], Awaitable[Reply]],
                                component: bool, number: int) -> None:
        """Acknowledge now; do the work once the interactions that arrived before have had their
        first response and the gateway is quiet (`FirstResponses.turn`, at most its
        `FOLLOW_UP_WAIT`); the answer follows. A live answer is then judged up to a few seconds
        after the press: only a press in a burst's last seconds before its question closes can
        find it closed."""
        try:
            await self._defer(interaction, component)
        finally:
            self.first_responses.responded(number)
        await self.first_responses.turn()
        reply = await self._work(call())
        await self.first_responses.turn()  # another burst may have begun meanwhile
        await self._follow_up(interaction, reply, component)
        await self._achievements(interaction, reply)

    @staticmethod
    async def _defer(interaction: discord.Interaction, component: bool) -> None:
        if component:  # type 6: the clicked message stays until the answer replaces or follows it
            await interaction.response.defer()
        else:  # type 5: a private "thinking…", as nearly every answer is for the person alone
            await interaction.response.defer(ephemeral=True, thinking=True)

    def _replaces(self, interaction: discord.Interaction, reply: Reply) -> bool:
        """The core asks that the reply replace the clicked message; Discord lets a click edit a
        message only if it is the clicker's own: ephemeral, in their DM, or their command's answer."""
        message = interaction.message
        if not reply.replaces or message is None:
            return False
        if interaction.guild_id is None or message.flags.ephemeral:
            return True
        meta = message.interaction_metadata
        return meta is not None and meta.user.id == interaction.user.id

    async def _follow_up(self, interaction: discord.Interaction, reply: Reply, component: bool) -> None:
        kwargs = message_kwargs(reply)
        if component and self._replaces(interaction, reply):
            await interaction.edit_original_response(**_replacing(kwargs))
        elif not component and not reply.ephemeral:
            # A private "thinking…" for what is for the channel (a slow leaderboard): remove it, answer in public.
            await interaction.delete_original_response()
            await interaction.followup.send(ephemeral=False, **kwargs)
        elif not component:
            # The deferred "thinking" message becomes the answer (same visibility as the defer).
            if kwargs.get("view") is discord.utils.MISSING:
                kwargs.pop("view")
            kwargs["attachments"] = kwargs.pop("files", [])
            await interaction.edit_original_response(**kwargs)
        else:
            await interaction.followup.send(ephemeral=reply.ephemeral, **kwargs)

    async def _achievements(self, interaction: discord.Interaction, reply: Reply) -> None:
        if "course-complete" not in reply.achievements or not self.settings.discord_completion_role or interaction.guild_id is None:
            return
        wanted = self.settings.discord_completion_role
        role_id = int(wanted) if wanted.isdigit() else None
        if role_id is None and interaction.guild is not None:
            role = discord.utils.find(lambda r: r.name.casefold() == wanted.casefold(), interaction.guild.roles)
            role_id = role.id if role else None
        if role_id is None:
            await interaction.followup.send(f"🎓 I wanted to give you the completion role “{wanted}”, but this server has no such role."
                                            " An instructor can check DISCORD_COMPLETION_ROLE.", ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        try:
            await self.client.http.add_role(interaction.guild_id, interaction.user.id, role_id, reason="Course completed")
        except discord.Forbidden:
            log.warning("cannot grant the completion role %s in guild %s: missing permissions", role_id, interaction.guild_id)
            await interaction.followup.send(
                "🎓 You completed the course, but I could not give you the completion role: I need the **Manage Roles** "
                "permission and my role must sit above it. Please tell an instructor.", ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("granting the completion role failed: %s", exc.status)
        else:
            await interaction.followup.send("🎓 You now have the course completion role. Congratulations!", ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)

    # ---- entry points -----------------------------------------------------------------------

    async def no_longer_valid(self, interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message(ephemeral=True, **message_kwargs(error(actions.NO_LONGER_VALID)))
        except discord.HTTPException:
            log.info("could not answer an interaction with an unknown id")

    async def on_component(self, interaction: discord.Interaction) -> None:
        """A button or a menu: its custom_id says which action (a form button opens its modal);
        an id this app could not have written is answered "no longer valid"."""
        click = pressed(interaction.data or {})  # the payload as Discord sent it: checked there, not trusted
        if click is None:
            log.info("a component with an unknown custom_id was pressed")
            await self.no_longer_valid(interaction)
        elif click.opens_form:
            label = form_label(interaction.message, BUTTON_FORM + click.action)
            modal = modal_for(click.action, label, max_length=actions.typed_limit(click.action))  # a demonstration is longer than an answer
            await interaction.response.send_modal(modal)
            modal.stop()  # not kept in memory: the submit is handled by its custom_id, even after a restart
        else:
            await self.on_action(interaction, click.action, click.chosen)

    async def on_action(self, interaction: discord.Interaction, action: str, typed: str | None = None) -> None:
        """A component or form: `action` is the id the app sent, `typed` what the person chose or
        typed; both are the core's to judge."""
        actor = self.actor(interaction)
        typed = None if typed is None else clean(typed)
        await self.respond(interaction, lambda: self.core.handle_action(actor, action, typed), component=True)

    async def on_modal_submit(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}  # the payload as Discord sent it: checked here, not trusted
        custom_id = data.get("custom_id", "")
        if not isinstance(custom_id, str) or not custom_id.startswith(FORM):
            await self.no_longer_valid(interaction)  # not a form this app opened
            return
        text = ""
        for row in data.get("components") or []:
            if not isinstance(row, dict):
                continue
            for component in row.get("components", [row.get("component")] if row.get("component") else []):
                if isinstance(component, dict) and component.get("custom_id") == "answer" and isinstance(component.get("value"), str):
                    text = component["value"]
        await self.on_action(interaction, custom_id[len(FORM):], text)

    async def on_direct_message(self, message: discord.Message) -> None:
        actor = actor_for(message, self.settings)
        try:
            async with message.channel.typing():
                reply = await self._work(handle_text(self.core, actor, clean(message.content)))
            await message.channel.send(**message_kwargs(reply))
        except discord.HTTPException:
            log.exception("could not answer a direct message")

    # ---- live quizzes -----------------------------------------------------------------------

    async def start_live(self, actor: Actor, call: Awaitable[Reply]) -> Reply:
        """`/live start`: if its first question cannot be posted, the answer to the command says
        why (an interaction can always be answered, even where the bot cannot post)."""
        return await self._starting.answer(actor, call)

    async def _cannot_post(self, event: LiveEvent, channel: str, exc: discord.HTTPException) -> None:
        log.warning("cannot post live session %s's question in channel %s: HTTP %s (%s)", event.session_id, channel,
                    exc.status, exc.code)
        if isinstance(exc, discord.NotFound):
            why = "that channel no longer exists, or I cannot see it"
        else:
            why = "I'm not allowed to post there (I need View Channel, Send Messages and Embed Links in that channel)"
        notice = (f"⚠️ I couldn't post the live quiz in <#{channel}>: {why}. The live quiz has ended. "
                  "Ask a server admin to give me access to the channel, then start it again.")
        await self._starting.cannot_post(self.core.live, event, channel, f"discord {exc.status} {exc.code}", notice, self._tell)

    async def _tell(self, user_id: str, reply: Reply) -> None:
        """A direct message to `user_id` (the starter of a live quiz that could not be shown)."""
        try:
            dm = await self.client.create_dm(discord.Object(id=int(user_id)))
            await dm.send(**message_kwargs(reply))
        except (discord.HTTPException, ValueError):
            log.warning("could not tell user %s by direct message", user_id)

    async def _close_buttons(self, event: LiveEvent) -> None:
        """A question's buttons go away once it has closed, found through `live_messages` so that a
        question posted before a restart (or by another process) loses them too. An ended session's
        question may still be open (a session ended by an error), so an ending closes it as well;
        a message that has no buttons left is simply edited again."""
        shown = await live_messages.find(self.core.store, "discord", event.session_id, event.question_index)
        if shown is None or not (shown.channel.isdigit() and shown.message_id.isdigit()):
            return
        try:
            message = self.client.get_partial_messageable(int(shown.channel)).get_partial_message(int(shown.message_id))
            await message.edit(view=None, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.info("could not close the buttons of live session %s", event.session_id)

    async def on_live_event(self, event: LiveEvent) -> None:
        platform, _guild, channel = event.place
        if platform != "discord" or not channel.isdigit():
            return
        target = self.client.get_partial_messageable(int(channel), guild_id=int(_guild) if _guild.isdigit() else None)
        if event.kind == "question":
            try:
                message = await target.send(**message_kwargs(event.reply, closes_at=event.closes_at))
            except (discord.Forbidden, discord.NotFound) as exc:
                # Nobody could see or answer it: end the session and tell its starter why.
                await self._cannot_post(event, channel, exc)
                return
            await live_messages.record(self.core.store, LiveMessage(event.session_id, event.question_index, "discord",
                                                                    str(message.channel.id), str(message.id)))
            return
        await self._close_buttons(event)
        try:
            await target.send(**message_kwargs(event.reply))
        except discord.HTTPException as exc:
            log.warning("could not post live session %s's %s message in channel %s: HTTP %s (%s)", event.session_id,
                        event.kind, channel, exc.status, exc.code)

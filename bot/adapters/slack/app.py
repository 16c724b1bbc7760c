"""The Slack adapter: an unmodified slack-bolt `AsyncApp` whose listeners call the core.

Every listener acknowledges first (`await ack()`, before any database or network work) and
does the work after: bolt has already answered Slack (HTTP 200, or the Socket Mode envelope
ack) by then, so Slack's 3-second deadline never depends on the core. Replies go back through
the request's `response_url` (slash commands, buttons), `chat.postMessage` (DMs, live quiz
questions, the Home tab's buttons), `chat.update` (a live question's reveal, in place),
`views.open` (typed answers) and `views.publish` (the App Home).

Where things show is the core's to say (`Reply.ephemeral`, `Reply.replaces`); this adapter
translates:
- a reply for the person alone is ephemeral in a channel; one for the channel (a leaderboard) is
  posted `in_channel`. A reply that replaces the pressed message does so when Slack allows it
  (an ephemeral message, or a DM); otherwise it is a new ephemeral message.
- A live quiz posts one message per question in the channel and updates it with the reveal;
  each answer is acknowledged ephemerally; the final leaderboard is a new message.
- my-data arrives as a JSON file in the app's DM with the person (`files.uploadV2`).

Identity: a person is `("slack", user id)`; a place is `("slack", team id, channel id)`, and a
direct message has no guild (the core's "DM"), so live quizzes run only in channels.
Instructors are the ids in COMPANION_INSTRUCTORS (`slack:U…`) and workspace admins and owners
(`users.info`), checked on the server side only when an instructor-only thing is asked for.

What is checked, not trusted (each refusal says "That button is no longer valid", nothing runs):
- a button's value must be the action id the app put there (its action_id, made unique with
  `#n`); a text-input button's value must be the JSON the app wrote; a menu's values strings;
- a modal's private_metadata carries an HMAC (keyed from the bot token) over what the app
  wrote, so a view submission for a modal the app never opened, or altered metadata, is refused;
- a `response_url` is posted to only if it is Slack's (`https://hooks.slack.com/`, or the
  configured API base's host in tests); a request whose response_url is anything else is refused;
- HTTP mode: a timestamp that is not a number is a 401 (bolt would answer 500), and a signature
  already seen within its five minutes is a replay, refused with 401 (`SeenSignatures`, in SQLite);
- lone surrogates never reach the core (`bot/adapters/safety.py`), and every action id is read
  by `actions.parse`, which refuses any id the app could not have written.
A live question that cannot be posted ends its session (`LiveQuizzes.abort`) and tells the starter.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import AdapterError
from bot.core import actions, command_line, live_messages
from bot.core.companion import Companion
from bot.core.config import Settings
from bot.core.live import LiveEvent
from bot.core.live_messages import LiveMessage
from bot.core.replies import Reply, clip, error
from bot.core.seen_events import SeenEvents, SeenSignatures
from bot.core.store import StoreError
from bot.core.users import Actor

from ..live_start import StartNotices
from ..safety import clean
from . import blocks
from .home import build_home

log = logging.getLogger(__name__)
T = TypeVar("T")

MAIN_COMMAND = "/companion"
#: Short aliases declared in the manifest: `/cc-lesson 7` is `/companion lesson 7`.
ALIAS_PREFIX = "/cc-"
ALIAS_COMMANDS = ("lesson", "quiz", "answer", "hint", "live", "progress")
HELP_EXTRA = [(" · ".join(ALIAS_PREFIX + name for name in ALIAS_COMMANDS), "Short forms of `/companion lesson`, `quiz`, …"),
              ("a direct message to me", "The chat assistant; my Home tab shows your progress")]
COMMAND_PATTERN = re.compile(r"^/(companion|cc-[a-z-]+)$")
#: Slack refuses a request whose timestamp is more than 5 minutes from now (bolt checks it): a
#: signature is worth remembering for that long after its timestamp, plus a little clock skew.
SIGNATURE_WINDOW = 300 + 60
#: How long a users.info answer (name, admin) is trusted.
USER_CACHE_SECONDS = 300
_TOKEN = re.compile(r"\b(xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class RedactTokens(logging.Filter):
    """Tokens never reach a log line, whatever a library prints."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("xox?-[redacted]", message), ()
        return True


def check_settings(settings: Settings) -> None:
    """Raise AdapterError (one line, no token) when the Slack settings cannot work."""
    token = settings.slack_bot_token
    if not token:
        raise AdapterError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…, from OAuth & Permissions)")
    if not token.startswith("xoxb-"):
        raise AdapterError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    if settings.slack_mode == "socket":
        if not settings.slack_app_token:
            raise AdapterError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write; "
                               "or set SLACK_MODE=http and SLACK_SIGNING_SECRET")
        if not settings.slack_app_token.startswith("xapp-"):
            raise AdapterError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    elif not settings.slack_signing_secret:
        raise AdapterError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify Slack's requests")


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def command_text(text: str) -> str:
    """A slash command's text as typed: Slack sends `&`, `<`, `>` as entities, and (with escaping
    on) a mentioned user as `<@U123|name>`, which the core knows by id."""
    text = _MENTION.sub(r"\1", text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_dm(channel_id: str | None) -> bool:
    return isinstance(channel_id, str) and channel_id.startswith("D")


#: Where Slack's `response_url`s point. Nothing else is ever posted to (a forged payload, or a
#: modal's metadata, could name any address), except the configured API base's own host in tests.
SLACK_HOOKS = ("https", "hooks.slack.com", 443)


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.username or parts.password or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or {"https": 443, "http": 80}.get(scheme, 0)


def trusted_response_url(url: Any, api_base: str) -> bool:
    """True for Slack's own hooks (https://hooks.slack.com/…) and the configured API base's host."""
    if not isinstance(url, str) or not 0 < len(url) <= 2000 or any(c.isspace() for c in url):
        return False
    origin = _origin(url)
    return origin is not None and origin in (SLACK_HOOKS, _origin(api_base))


def _uploads(reply: Reply) -> list[dict[str, Any]]:
    """A reply's files as `files.uploadV2` takes them (a chart's description is its title)."""
    return [{"content": f.content, "filename": f.filename, "title": f.description[:250] or f.filename} for f in reply.files]


def _dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]… where every level is a dict, else None (payloads are checked, not trusted)."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _started(part: T | None) -> T:
    """A part of the connection to Slack, which exists from `start()` to `close()`: bolt calls the
    listeners only in between."""
    if part is None:
        raise AdapterError("the Slack adapter is not started")
    return part


#: Why a live quiz's question could not be posted, by Slack's error code.
_CANNOT_POST = {
    "not_in_channel": "I'm not a member of that channel",
    "channel_not_found": "I can't see that channel (a private channel, or one I was never invited to)",
    "is_archived": "that channel is archived",
    "ratelimited": "Slack kept refusing my posts there (rate limited) after I had waited and retried",
}


async def _health(_: web.Request) -> web.Response:
    return web.Response(text="ok")


class _SocketHandler(AsyncSocketModeHandler):
    """bolt's handler, plus: an envelope delivered twice is acknowledged again but handled once."""

    def __init__(self, app: AsyncApp, app_token: str, seen: SeenEvents, **kwargs: Any):
        super().__init__(app, app_token, **kwargs)
        self.seen = seen

    async def handle(self, client, req) -> None:
        if req.envelope_id and not self.seen.first_in_memory("envelope:" + req.envelope_id):
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await super().handle(client, req)


class SlackAdapter:
    """One Slack workspace connection on one core. `start()`, then `close()`."""

    def __init__(self, core: Companion, settings: Settings, host: str = "0.0.0.0", port: int | None = None,
                 ping_interval: float = 10):
        check_settings(settings)
        self.core = core
        self.settings = settings
        self.mode = settings.slack_mode
        self.host = host
        self.port = settings.slack_port if port is None else port
        self.ping_interval = ping_interval
        #: Deliveries handled once: Events API retries and repeated envelopes, replayed signed requests.
        self.seen = SeenEvents("slack", core.store, core.clock)
        self.replays = SeenSignatures(core.store, SIGNATURE_WINDOW)
        self._verifier = SignatureVerifier(settings.slack_signing_secret or "")
        self._modal_key = hashlib.sha256(b"course-companion modal metadata\0" + (settings.slack_bot_token or "").encode()).digest()
        #: (user id, channel id) → why the live quiz they are starting right now could not be shown.
        self._starting = StartNotices()
        self.bot_name = "Course Companion"
        #: The connection to Slack: built by `start()`, dropped by `close()` (see the properties below).
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._app: AsyncApp | None = None
        self.handler: _SocketHandler | None = None
        self._runner: web.AppRunner | None = None
        self._users: dict[str, tuple[float, str, bool]] = {}
        self.bot_user_id: str | None = None
        core.live.subscribe(self.on_live_event)

    # ---- life cycle -------------------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled HTTP session (Web API calls and response_url posts), from `start()` to `close()`."""
        return _started(self._session)

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client, from `start()` to `close()`."""
        return _started(self._client)

    @property
    def app(self) -> AsyncApp:
        """bolt's app, whose listeners are this adapter's, from `start()` to `close()`."""
        return _started(self._app)

    def _build(self) -> None:
        self._session = aiohttp.ClientSession()
        # Rate limits (HTTP 429, e.g. about one chat.postMessage per second per channel) are waited
        # out and retried, as Slack's Retry-After asks, on top of the default connection retries.
        self._client = AsyncWebClient(token=self.settings.slack_bot_token, base_url=self.settings.slack_api_base,
                                      session=self._session, logger=logging.getLogger("slack_sdk.web"),
                                      retry_handlers=[*async_default_handlers(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
        self._app = AsyncApp(client=self._client, signing_secret=self.settings.slack_signing_secret or "",
                             request_verification_enabled=self.mode == "http", logger=logging.getLogger("slack_bolt.companion"))
        self._register(self._app)

    async def start(self) -> None:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, RedactTokens) for f in handler.filters):
                handler.addFilter(RedactTokens())
        self._build()
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            await self.close()
            raise AdapterError(f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error', 'error')}); check the bot token") from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            await self.close()
            raise AdapterError(f"cannot reach Slack's Web API at {self.settings.slack_api_base} ({type(exc).__name__})") from None
        self.bot_user_id = auth.get("user_id")
        self.bot_name = auth.get("user") or self.bot_name
        if self.mode == "socket":
            app_token = self.settings.slack_app_token
            assert app_token is not None  # check_settings refuses Socket Mode without one
            self.handler = _SocketHandler(self.app, app_token, self.seen, web_client=self.client, ping_interval=self.ping_interval)
            try:
                url = await self.handler.client.issue_new_wss_url()
            except SlackApiError as exc:
                await self.close()
                raise AdapterError(f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error', 'error')}); "
                                   "it needs the connections:write scope and Socket Mode enabled") from None
            self.handler.client.wss_uri = url
            await self.handler.connect_async()
        else:
            web_app = web.Application()
            web_app.router.add_post("/slack/events", self._http_endpoint)
            web_app.router.add_get("/health", _health)
            self._runner = web.AppRunner(web_app, access_log=None)
            await self._runner.setup()
            try:
                await web.TCPSite(self._runner, self.host, self.port).start()
            except OSError as exc:
                await self.close()
                raise AdapterError(f"cannot listen on {self.host}:{self.port} for Slack's requests ({exc.strerror or exc}); "
                                   "set SLACK_PORT") from None
            self.port = self._runner.addresses[0][1]  # the real port when 0 was asked for
        log.info("Slack adapter running in %s mode as %s", self.mode, auth.get("user", "the bot"))

    async def close(self) -> None:
        if self.handler is not None:
            await self.handler.close_async()
            self.handler = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._client = None  # live quiz events for this core are no longer shown through this adapter
        self._app = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _http_endpoint(self, request: web.Request) -> web.Response:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return web.Response(status=401, text="invalid request")  # not a timestamp: not Slack
        signature = request.headers.get("X-Slack-Signature", "")
        body = await request.text()
        # A genuine request verifies until its timestamp is 5 minutes old: remember its signature
        # (checked here as bolt will check it again) and refuse the same request a second time.
        if self._verifier.is_valid(body, timestamp, signature) and not await self.replays.first(signature, int(timestamp), time.time()):
            log.warning("refused a replayed Slack request (a signature already seen)")
            return web.Response(status=401, text="invalid request")
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    # ---- who is asking ----------------------------------------------------------------------

    async def _user_info(self, user_id: str) -> tuple[str, bool]:
        cached = self._users.get(user_id)
        if cached and time.monotonic() - cached[0] < USER_CACHE_SECONDS:
            return cached[1], cached[2]
        try:
            user = (await self.client.users_info(user=user_id))["user"]
            profile = user.get("profile") or {}
            name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or user_id
            admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        except (TimeoutError, SlackApiError, aiohttp.ClientError, KeyError):
            log.warning("users.info failed for a user; treating them as a student")
            return (cached[1] if cached else user_id), False
        self._users[user_id] = (time.monotonic(), name, admin)
        return name, admin

    async def actor(self, user_id: str, name: str | None, team: str | None, channel: str | None,
                    need_role: bool = False) -> Actor:
        admin = False
        if need_role and not self.settings.is_instructor("slack", user_id):
            info_name, admin = await self._user_info(user_id)
            name = name or info_name
        if not name:
            name, _ = await self._user_info(user_id)
        dm = channel is None or _is_dm(channel)
        return Actor("slack", user_id, name, guild=None if dm else team, channel=channel, is_instructor=admin)

    # ---- sending ----------------------------------------------------------------------------

    async def _send_files(self, actor: Actor, reply: Reply, channel: str | None) -> Reply:
        """Upload the reply's files. Slack cannot attach a file to an ephemeral message, so a
        reply for the person alone (an export, an instructor's charts) sends them to the person's
        DM and says so; one for the channel (a live lab's closing chart) uploads them there."""
        uploads = _uploads(reply)
        if not reply.ephemeral and channel is not None and not _is_dm(channel):
            await self.client.files_upload_v2(channel=channel, file_uploads=uploads)
            return dataclasses.replace(reply, files=[])
        opened = await self.client.conversations_open(users=actor.user_id)
        dm = opened["channel"]["id"]
        await self.client.files_upload_v2(channel=dm, file_uploads=uploads, initial_comment=blocks.fallback_text(reply))
        if _is_dm(channel):
            return dataclasses.replace(reply, files=[])
        where = "as a file" if len(uploads) == 1 else f"as {len(uploads)} files"
        return dataclasses.replace(reply, text=reply.text + f"\n\nI've sent it to you {where} in our direct messages.", files=[])

    async def deliver(self, reply: Reply, actor: Actor, respond: Callable[..., Awaitable[Any]] | None = None,
                      channel: str | None = None, replace: bool = False) -> None:
        if reply.files:
            reply = await self._send_files(actor, reply, channel)
        payload = blocks.message(reply)
        if respond is not None:
            public = not reply.ephemeral and not _is_dm(channel)
            if replace and not public:
                await respond(**payload, replace_original=True)
            else:
                await respond(**payload, response_type="in_channel" if public else "ephemeral", replace_original=False)
        elif channel is None or _is_dm(channel):
            await self.client.chat_postMessage(channel=channel or actor.user_id, **payload)
        else:
            await self.client.chat_postEphemeral(channel=channel, user=actor.user_id, **payload)

    async def _guard(self, what: str, work: Awaitable[None], tell: Callable[[Reply], Awaitable[None]] | None = None) -> None:
        try:
            await work
        except Exception as exc:
            log.exception("Slack %s failed", what)
            if tell is not None:
                try:  # a storage fault says "busy, try again" or "stopping" (bot/core/store.py)
                    await tell(Reply(text=exc.reply_text if isinstance(exc, StoreError) else "⚠️ Something went wrong on my side (it has been logged). Please try again.",
                                     ephemeral=True, kind="error"))
                except Exception:
                    log.exception("could not tell the user about the failure")

    # ---- listeners --------------------------------------------------------------------------

    def _register(self, app: AsyncApp) -> None:
        app.command(COMMAND_PATTERN)(self.on_command)
        app.action(re.compile(blocks.ACTION_ID_PATTERN))(self.on_action)
        app.action(re.compile(r".+"))(self.on_unknown_action)
        app.view(blocks.INPUT_CALLBACK)(self.on_input)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home)
        app.error(self.on_error)

    async def on_error(self, error: Exception, body: dict) -> None:
        log.error("bolt could not handle a %s request: %s", body.get("type") or body.get("command") or "Slack", error)

    async def on_unknown_action(self, ack, body: dict) -> None:
        """An element whose action_id is no id the app writes: acknowledged and refused."""
        await ack()
        await self._refuse(body, self.responder(body.get("response_url")))

    def responder(self, response_url: str | None) -> Callable[..., Awaitable[None]] | None:
        """Post to a request's `response_url` over the adapter's pooled HTTP session. (bolt's own
        `respond` opens a new session, and a new connection, for every post.)"""
        if not response_url:
            return None
        if not trusted_response_url(response_url, self.settings.slack_api_base):
            log.warning("refused to post to a response_url that is not Slack's")
            return None

        async def respond(**payload: Any) -> None:
            body = {k: v for k, v in payload.items() if v is not None}
            async with self.session.post(response_url, json=body) as resp:
                if resp.status >= 400:
                    log.warning("response_url post refused: HTTP %s", resp.status)

        return respond

    async def on_command(self, ack, body: dict) -> None:
        await ack()
        respond = self.responder(body.get("response_url"))
        if respond is None or not isinstance(body.get("user_id"), str):
            await self._refuse(body, None)  # no response_url of Slack's: not a command Slack sent
            return
        await self._guard("command", self._command(body, respond), self._tell_plainly(body, respond))

    def _plain_actor(self, body: dict) -> Actor:
        user = body.get("user_id") or _dig(body, "user", "id")
        return Actor("slack", user if isinstance(user, str) else "?", "someone")

    def _tell_plainly(self, body: dict, respond: Callable[..., Awaitable[None]] | None) -> Callable[[Reply], Awaitable[None]]:
        """How a failure is told to whoever sent `body`, known without asking Slack (users.info)."""
        return functools.partial(self.deliver, actor=self._plain_actor(body), respond=respond)

    async def _refuse(self, body: dict, respond) -> None:
        """A button, form or command that is not one the app sent: say so, run nothing."""
        log.info("refused a Slack %s that the app did not send", body.get("type") or "command")
        reply = error(actions.NO_LONGER_VALID)
        try:
            if respond is not None:
                await respond(**blocks.message(reply), response_type="ephemeral", replace_original=False)
                return
            user = self._plain_actor(body).user_id
            if re.fullmatch(r"[UW][A-Z0-9]{2,20}", user):
                await self.client.chat_postMessage(channel=user, **blocks.message(reply))
        except Exception:
            log.warning("could not tell a user that their button was no longer valid")

    async def start_live(self, actor: Actor, call: Awaitable[Reply]) -> Reply:
        """A command that may start a live quiz: if its first question cannot be posted, the
        answer to the command says why (a response_url works even where the app cannot post)."""
        return await self._starting.answer(actor, call)

    async def _command(self, body: dict, respond) -> None:
        """`/companion lesson 7` or `/cc-lesson 7`: the sub-command and its words go to the text
        parser as typed."""
        command = clean(body.get("command", MAIN_COMMAND))
        typed = command_text(clean(body.get("text", "")))
        if command.startswith(ALIAS_PREFIX):
            name, rest = command[len(ALIAS_PREFIX):].lower(), typed.strip()
        else:
            name, rest = command_line.split_command(typed)
        sub = command_line.canonical(name)
        # users.info (cached) only when the answer depends on being an instructor or admin.
        lab_word = rest.split()[0].lower() if sub == "lab" and rest.split() else ""
        needs_role = (sub in ("course", "help", None)
                      or (sub == "live" and (self.settings.live_starters == "instructors"
                                             or any(w.lower() in ("stop", "end", "skip", "next") for w in rest.split())))
                      or (sub == "lab" and (lab_word in ("export", "flags")
                                            or (lab_word == "live" and self.settings.live_starters == "instructors"))))
        actor = await self.actor(body["user_id"], body.get("user_name"), body.get("team_id"), body.get("channel_id"), needs_role)
        if sub is None:
            reply = self.core.help(actor, HELP_EXTRA)
            if name:
                reply.text = f"I don't know the sub-command `{name[:32]}`.\n\n" + reply.text
        elif sub == "help":
            reply = self.core.help(actor, HELP_EXTRA)
        elif sub == "live" or lab_word == "live":
            reply = await self.start_live(actor, command_line.run_command(self.core, actor, name, rest))
        else:
            reply = await command_line.run_command(self.core, actor, name, rest)
        await self.deliver(reply, actor, respond, body.get("channel_id"))

    async def on_action(self, ack, body: dict, action: dict) -> None:
        await ack()
        respond = self.responder(body.get("response_url"))
        if body.get("response_url") is not None and respond is None:
            await self._refuse(body, None)
            return
        await self._guard("button", self._action(body, action, respond), self._tell_plainly(body, respond))

    def _core_action(self, body: dict, action: dict) -> tuple[str, str | None] | None:
        """(action id, chosen values) a click asks for, if the element is one the app sent; else
        None. A button's value is its action id (the action_id is the same, made unique with
        `#n`); a menu's action_id carries the action and its options the values; a text-input
        button's value is the JSON the app wrote (then the action id is `INPUT_PREFIX`: open the form)."""
        action_id = action.get("action_id")
        if not isinstance(action_id, str) or not isinstance(_dig(body, "user", "id"), str):
            return None
        base = action_id.split("#", 1)[0]
        if base.startswith(blocks.CHOICES_PREFIX):
            selected = action.get("selected_options") if "selected_options" in action else [action.get("selected_option")]
            if not isinstance(selected, list) or len(selected) > blocks.MAX_OPTIONS:
                return None
            values = [_dig(o, "value") for o in selected if o is not None]
            if not all(isinstance(v, str) and 0 < len(v) <= blocks.MAX_OPTION_VALUE for v in values):
                return None
            return base[len(blocks.CHOICES_PREFIX):], ",".join(clean(v) for v in values)
        value = action.get("value")
        if base.startswith(blocks.INPUT_PREFIX):
            spec = blocks.read_input_spec(value)
            if (spec is None or not actions.takes_typed(spec["a"]) or not isinstance(body.get("trigger_id"), str)
                    or clip(blocks.INPUT_PREFIX + spec["a"], blocks.MAX_ACTION_ID) != base):
                return None
            return blocks.INPUT_PREFIX, None
        return (value, None) if value == base else None

    async def _action(self, body: dict, action: dict, respond) -> None:
        clicked = self._core_action(body, action)
        if clicked is None:
            await self._refuse(body, respond)
            return
        core_action, chosen = clicked
        user = body["user"]
        container = body.get("container")
        container = container if isinstance(container, dict) else {}
        channel = _dig(body, "channel", "id") or container.get("channel_id")
        channel = channel if isinstance(channel, str) else None
        from_home = container.get("type") == "view" and _dig(body, "view", "type") == "home"
        team = _dig(body, "team", "id") or user.get("team_id")
        name = clean(user.get("name") or user.get("username") or "") or None
        if core_action == blocks.INPUT_PREFIX:
            private = {"c": channel, "u": body.get("response_url") if respond else None, "h": from_home,
                       "e": bool(container.get("is_ephemeral"))}
            await self.client.views_open(trigger_id=body["trigger_id"], view=blocks.input_modal(action["value"], private, self.seal))
            return
        needs_role = actions.needs_instructor_role(core_action)
        actor = await self.actor(user["id"], name, team, None if from_home else channel, needs_role)
        reply = await self.core.handle_action(actor, core_action, chosen)
        await self._show_action_reply(reply, actor, respond, channel, from_home, bool(container.get("is_ephemeral")))

    # ---- typed answers: a modal's metadata is sealed, so only a modal the app opened is answered

    def seal(self, private: dict[str, Any]) -> str:
        data = json.dumps(private, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._modal_key, data.encode(), hashlib.sha256).hexdigest()[:32]
        return json.dumps({"d": data, "s": mac})

    def unseal(self, metadata: Any) -> dict[str, Any] | None:
        """The metadata the app wrote into a modal it opened, or None for anything else."""
        try:
            outer = json.loads(metadata) if isinstance(metadata, str) else None
        except ValueError:
            return None
        data, mac = _dig(outer, "d"), _dig(outer, "s")
        if not isinstance(data, str) or not isinstance(mac, str):
            return None
        expected = hmac.new(self._modal_key, data.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(expected, mac):
            return None
        private = json.loads(data)
        return private if isinstance(private, dict) and isinstance(private.get("a"), str) else None

    async def _show_action_reply(self, reply: Reply, actor: Actor, respond, channel: str | None, from_home: bool,
                                 ephemeral_source: bool) -> None:
        if from_home or respond is None:
            await self.deliver(reply, actor, None, None if from_home else channel)
            if from_home:
                await self.client.views_publish(user_id=actor.user_id, view=await build_home(self.core, actor))
            return
        # Slack lets a response_url replace a message for one person only if it is theirs alone:
        # ephemeral, or in their DM. A channel's message (a live question) is left alone.
        replace = (ephemeral_source or _is_dm(channel)) and reply.replaces
        await self.deliver(reply, actor, respond, channel, replace=replace)

    async def on_input(self, ack, body: dict, view: dict) -> None:
        await ack()
        await self._guard("typed answer", self._input(body, view))

    async def _input(self, body: dict, view: dict) -> None:
        private = self.unseal(_dig(view, "private_metadata"))
        text = _dig(view, "state", "values", "answer", "text", "value")
        user = body.get("user")
        if private is None or not isinstance(text, (str, type(None))) or not isinstance(user, dict) or not isinstance(user.get("id"), str):
            await self._refuse(body, None)  # a modal the app never opened
            return
        channel = private.get("c")
        actor = await self.actor(user["id"], clean(user.get("name") or user.get("username") or "") or None,
                                 _dig(body, "team", "id"), None if private.get("h") else channel)
        reply = await self.core.handle_action(actor, private["a"], clean(text or ""))
        respond = self.responder(private.get("u"))
        await self._show_action_reply(reply, actor, respond, channel, bool(private.get("h")), bool(private.get("e")))

    async def on_message(self, body: dict, event: dict) -> None:
        # Events are acknowledged by bolt before this runs (auto-acknowledgement).
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        channel = event.get("channel")
        if event.get("user") in (None, self.bot_user_id) or not isinstance(channel, str):
            return
        if not await self.seen.first("event:" + body.get("event_id", event.get("client_msg_id", event.get("ts", "")))):
            return

        async def tell(reply: Reply) -> None:
            await self.client.chat_postMessage(channel=channel, **blocks.message(reply))

        async def work() -> None:
            actor = await self.actor(event["user"], None, body.get("team_id"), channel)
            reply = await command_line.handle_text(self.core, actor, clean(event.get("text") or ""))
            await self.deliver(reply, actor, None, channel)

        await self._guard("direct message", work(), tell)

    async def on_home(self, body: dict, event: dict) -> None:
        if event.get("tab") != "home":
            return
        if not await self.seen.first("event:" + body.get("event_id", "")):
            return

        async def work() -> None:
            actor = await self.actor(event["user"], None, body.get("team_id"), None)
            await self.client.views_publish(user_id=actor.user_id, view=await build_home(self.core, actor))

        await self._guard("App Home", work())

    # ---- live quizzes -----------------------------------------------------------------------

    async def _cannot_post(self, event: LiveEvent, channel: str, code: str) -> None:
        log.warning("cannot post live session %s's question in channel %s: %s", event.session_id, channel, code)
        why = _CANNOT_POST.get(code, f"Slack refused the post ({code})")
        notice = (f"⚠️ I couldn't post the live quiz's question in that channel: {why}. The live quiz has ended. "
                  f"If it is a private channel, invite me first with `/invite @{self.bot_name}` there, then start it again.")
        if code == "ratelimited":
            notice = f"⚠️ I couldn't post the live quiz's question in that channel: {why}. The live quiz has ended; try again in a minute."
        await self._starting.cannot_post(self.core.live, event, channel, f"slack {code}", notice, self._tell)

    async def _tell(self, user_id: str, reply: Reply) -> None:
        """A direct message to `user_id` (the starter of a live quiz that could not be shown)."""
        try:
            await self.client.chat_postMessage(channel=user_id, **blocks.message(reply))
        except SlackApiError:
            log.warning("could not tell user %s by direct message", user_id)

    async def _upload_live_files(self, event: LiveEvent, channel: str) -> None:
        """A live event's files (the live lab's closing chart) go to the channel, after its message."""
        if event.reply.files:
            await self.client.files_upload_v2(channel=channel, file_uploads=_uploads(event.reply))

    async def on_live_event(self, event: LiveEvent) -> None:
        if event.place[0] != "slack" or self._client is None:
            return
        channel = event.place[2]
        payload = blocks.message(event.reply)
        if event.kind == "question":
            if event.closes_at is not None and len(payload["blocks"]) < blocks.MAX_BLOCKS_MESSAGE:
                # Slack shows a date token in each reader's own time zone; the fallback is UTC.
                epoch = int(event.closes_at.timestamp())
                when = f"<!date^{epoch}^Answers close at {{time_secs}}|Answers close at {event.closes_at:%H:%M:%S} UTC>"
                at = next((i for i, b in enumerate(payload["blocks"]) if b["type"] == "actions"), len(payload["blocks"]))
                payload["blocks"].insert(at, {"type": "context", "elements": [{"type": "mrkdwn", "text": f"⏳ {when}"}]})
            try:
                sent = await self.client.chat_postMessage(channel=channel, **payload)
            except SlackApiError as exc:
                # Nobody could see or answer it: end the session and tell its starter why.
                await self._cannot_post(event, channel, str(exc.response.get("error") or exc.response.status_code))
                return
            shown = json.dumps([b for b in payload["blocks"] if b["type"] != "actions"])
            await live_messages.record(self.core.store, LiveMessage(event.session_id, event.question_index, "slack",
                                                                    sent["channel"], sent["ts"], shown))
            return
        try:
            if event.kind == "closed":
                asked_in = await live_messages.find(self.core.store, "slack", event.session_id, event.question_index)
                if asked_in is not None:
                    # The same message, now closed: the question as it was asked, then the reveal and standings.
                    asked = json.loads(asked_in.rendering or "[]")
                    reveal = payload["blocks"]
                    room = blocks.MAX_BLOCKS_MESSAGE - len(reveal) - 1
                    shown = ([*asked[:room], {"type": "divider"}] if room > 0 and asked else []) + reveal
                    await self.client.chat_update(channel=asked_in.channel, ts=asked_in.message_id, text=payload["text"], blocks=shown)
                    await self._upload_live_files(event, channel)
                    return
            await self.client.chat_postMessage(channel=channel, **payload)
            await self._upload_live_files(event, channel)
        except SlackApiError as exc:
            log.warning("could not show live session %s's %s message in channel %s: %s", event.session_id, event.kind, channel,
                        exc.response.get("error"))

"""A local stand-in for Discord's REST API and gateway, for end-to-end tests of the adapter.

The unmodified discord.py client logs in against it (GET /users/@me, /oauth2/applications/@me,
/gateway/bot), connects to its websocket (HELLO → IDENTIFY → READY + GUILD_CREATE, heartbeats
ACKed) and then receives what the tests dispatch: INTERACTION_CREATE (application commands,
autocomplete, components, modal submits) and MESSAGE_CREATE (DMs), shaped as Discord documents
them. Everything the bot sends is recorded (`requests`), messages are kept so that a button on
any of them can be clicked later (even by a new client after a restart), the time from
dispatch to the first interaction callback is measured (and flagged over 3 s), and synced
command trees are checked against Discord's schema rules (`validate_commands`).

127.0.0.1 only, a random port; text frames on the gateway (discord.py accepts them alongside
zlib-stream binary frames, see `DiscordWebSocket.received_message`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "standin-bot-token"
APP_ID = "900000000000000001"
BOT_ID = APP_ID
GUILD_ID = "800000000000000001"
CHANNEL_ID = "810000000000000001"
INSTRUCTOR_ROLE = "820000000000000001"
COMPLETION_ROLE = "820000000000000002"
DEADLINE = 3.0
#: Connections waiting to be accepted (Linux caps it at net.core.somaxconn, 4096 by default).
BACKLOG = 4096
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 31))  # view, send, embed, attach, use commands
BODY = web.RequestKey("body", object)
#: When the request had been received (its body read), before the stand-in's own checks of it.
RECEIVED = web.RequestKey("received", float)
FILES = web.RequestKey("files", list)
NAME_RE = re.compile(r"^[-_\w]{1,32}$")

_ids = itertools.count(1)


def jr(data: Any, status: int = 200) -> web.Response:
    """JSON as Discord sends it: discord.py parses a body only if Content-Type is exactly application/json."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


#: Discord's epoch (2015-01-01T00:00:00Z) in milliseconds: a snowflake's top 42 bits count from it.
DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake(age: float = 0.0) -> str:
    """A Discord id as Discord makes them: the milliseconds since its epoch at the moment it was
    created (`age` seconds ago), then a counter, so that `created_at` (an interaction's: the
    start of its 3 s deadline) reads the real time from it."""
    created_ms = int((time.time() - age) * 1000) - DISCORD_EPOCH_MS
    return str((created_ms << 22) | (next(_ids) & 0x3FFFFF))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name.lower().replace(" ", "_")[:32], "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot, "public_flags": 0}


# ---- Discord's schema rules for application commands --------------------------------------------

def validate_commands(commands: list[dict[str, Any]]) -> list[str]:
    """Problems with a command list as Discord's API would reject it (empty when valid)."""
    problems: list[str] = []
    if len(commands) > 100:
        problems.append("more than 100 chat input commands")
    names = [c.get("name", "") for c in commands]
    if len(names) != len(set(names)):
        problems.append("duplicate command names")
    for cmd in commands:
        _check_named(cmd, cmd.get("name", "?"), problems)
        options = cmd.get("options") or []
        kinds = {o.get("type") for o in options}
        if kinds & {1, 2} and kinds - {1, 2}:
            problems.append(f"{cmd.get('name')}: sub-commands mixed with plain options")
        for opt in options:
            path = f"{cmd.get('name')} {opt.get('name')}"
            if opt.get("type") == 2:
                _check_named(opt, path, problems)
                for sub in opt.get("options") or []:
                    if sub.get("type") != 1:
                        problems.append(f"{path}: a sub-command group may only hold sub-commands")
                    _check_sub(sub, f"{path} {sub.get('name')}", problems)
            elif opt.get("type") == 1:
                _check_sub(opt, path, problems)
        total = _characters(cmd)
        if total > 4000:
            problems.append(f"{cmd.get('name')}: {total} characters in names, descriptions and choices (max 4000)")
    return problems


def _check_named(item: dict[str, Any], path: str, problems: list[str]) -> None:
    name = item.get("name", "")
    if not NAME_RE.match(name) or name != name.lower():
        problems.append(f"{path}: name {name!r} must be 1-32 lowercase letters, digits, - or _")
    description = item.get("description", "")
    if not 1 <= len(description) <= 100:
        problems.append(f"{path}: description must be 1-100 characters, got {len(description)}")
    options = item.get("options") or []
    if len(options) > 25:
        problems.append(f"{path}: more than 25 options")
    seen_optional = False
    for opt in options:
        if opt.get("type") in (1, 2):
            continue
        if opt.get("required"):
            if seen_optional:
                problems.append(f"{path}: required option {opt.get('name')!r} after an optional one")
        else:
            seen_optional = True
    if len({o.get("name") for o in options}) != len(options):
        problems.append(f"{path}: duplicate option names")


def _check_sub(sub: dict[str, Any], path: str, problems: list[str]) -> None:
    _check_named(sub, path, problems)
    for opt in sub.get("options") or []:
        opath = f"{path} {opt.get('name')}"
        if opt.get("type") in (1, 2):
            problems.append(f"{opath}: sub-commands nest at most two levels")
            continue
        _check_named(opt, opath, problems)
        choices = opt.get("choices") or []
        if len(choices) > 25:
            problems.append(f"{opath}: more than 25 choices")
        if choices and opt.get("autocomplete"):
            problems.append(f"{opath}: autocomplete and choices together")
        for choice in choices:
            if not 1 <= len(choice.get("name", "")) <= 100:
                problems.append(f"{opath}: choice name must be 1-100 characters")


def _characters(item: dict[str, Any]) -> int:
    total = len(item.get("name", "")) + len(item.get("description", ""))
    for choice in item.get("choices") or []:
        total += len(choice.get("name", "")) + len(str(choice.get("value", "")))
    return total + sum(_characters(o) for o in item.get("options") or [])


def check_message_limits(body: dict[str, Any]) -> list[str]:
    """What Discord would reject in a message or modal payload (content, embeds, components)."""
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content longer than 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for e in embeds:
        if len(e.get("description") or "") > 4096:
            problems.append("embed description longer than 4096")
        if len(e.get("title") or "") > 256:
            problems.append("embed title longer than 256")
        if len(e.get("fields") or []) > 25:
            problems.append("more than 25 embed fields")
        total += len(e.get("description") or "") + len(e.get("title") or "") + len((e.get("footer") or {}).get("text") or "")
    if total > 6000:
        problems.append("more than 6000 characters across embeds")
    if "title" in body and "custom_id" in body and len(body["title"]) > 45:
        problems.append("modal title longer than 45")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("more than 5 component rows")
    for row in rows:
        items = row.get("components") or []
        if len(items) > 5 or (len(items) > 1 and any(c.get("type") in (3, 4) for c in items)):
            problems.append("a row holds at most 5 buttons or one menu or input")
        for c in items:
            if len(c.get("custom_id") or "") > 100:
                problems.append(f"custom_id longer than 100: {c.get('custom_id')!r}")
            if len(c.get("label") or "") > (45 if c.get("type") == 4 else 80):
                problems.append("component label too long")
            if len(c.get("options") or []) > 25:
                problems.append("more than 25 select options")
    return problems


def validate_top_level(commands: list[dict[str, Any]]) -> list[str]:
    problems = []
    for cmd in commands:
        if not cmd.get("options") or all(o.get("type") not in (1, 2) for o in cmd.get("options") or []):
            _check_sub(cmd, cmd.get("name", "?"), problems)
    return problems + validate_commands(commands)


# ---- the recorded world ---------------------------------------------------------------------------

@dataclass
class Exchange:
    """One interaction sent to the bot, and everything the bot did with its token."""

    id: str
    token: str
    type: int
    dispatched_at: float  # when Discord created it: written on the gateway, or its `age` before
    callback_at: float | None = None  # when its first callback had been received (before the stand-in's checks)
    callback: dict[str, Any] | None = None
    original_id: str | None = None
    followups: list[str] = field(default_factory=list)
    edits: int = 0

    @property
    def latency(self) -> float | None:
        return None if self.callback_at is None else self.callback_at - self.dispatched_at


class DiscordStandIn:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.exchanges: dict[str, Exchange] = {}
        self.by_token: dict[str, Exchange] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.schema_problems: list[str] = []
        self.limit_problems: list[str] = []
        #: Masked links whose label names another address, in anything the bot sent.
        self.link_problems: list[str] = []
        self.role_grants: list[tuple[str, str, str]] = []
        self.deny_roles = False
        #: channel id → (HTTP status, Discord error code, message) for posts there: (403, 50001,
        #: "Missing Access"), (403, 50013, "Missing Permissions") or (404, 10003, "Unknown Channel").
        self.channel_failures: dict[str, tuple[int, int, str]] = {}
        self.late: list[Exchange] = []
        self.identified = asyncio.Event()
        self.guild_roles = [
            {"id": GUILD_ID, "name": "@everyone", "color": 0, "colors": {"primary_color": 0}, "hoist": False, "position": 0,
             "permissions": MEMBER_PERMISSIONS, "managed": False, "mentionable": False, "flags": 0},
            {"id": INSTRUCTOR_ROLE, "name": "Instructor", "color": 0, "hoist": False, "position": 1, "permissions": "0",
             "managed": False, "mentionable": True, "flags": 0},
            {"id": COMPLETION_ROLE, "name": "Graduate", "color": 0, "hoist": False, "position": 2, "permissions": "0",
             "managed": False, "mentionable": True, "flags": 0},
        ]
        self._changed = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.dm_channels: dict[str, str] = {}
        self._payloads: dict[str, dict[str, Any]] = {}

    # ---- lifecycle ----

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    async def start(self) -> DiscordStandIn:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get("/api/v10/users/@me", self.me)
        r.add_get("/api/v10/oauth2/applications/@me", self.application)
        r.add_get("/api/v10/gateway/bot", self.gateway_bot)
        r.add_get("/gateway", self.gateway)
        r.add_put("/api/v10/applications/{app}/commands", self.put_commands)
        r.add_get("/api/v10/applications/{app}/commands", self.get_commands)
        r.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self.put_commands)
        r.add_get("/api/v10/applications/{app}/guilds/{guild}/commands", self.get_commands)
        r.add_post("/api/v10/interactions/{id}/{token}/callback", self.callback)
        r.add_route("*", "/api/v10/webhooks/{app}/{token}/messages/{message}", self.webhook_message)
        r.add_post("/api/v10/webhooks/{app}/{token}", self.followup)
        r.add_post("/api/v10/channels/{channel}/messages", self.channel_post)
        r.add_patch("/api/v10/channels/{channel}/messages/{message}", self.channel_patch)
        r.add_post("/api/v10/channels/{channel}/typing", self.typing)
        r.add_post("/api/v10/users/@me/channels", self.open_dm)
        r.add_put("/api/v10/guilds/{guild}/members/{user}/roles/{role}", self.add_role)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # A burst of interactions makes discord.py open one connection per response in flight: with
        # aiohttp's default backlog (128) the rest of the SYNs are dropped and retried a second later.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=BACKLOG)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- recording ----

    @web.middleware
    async def _record(self, request: web.Request, handler):
        if request.path == "/gateway":
            return await handler(request)
        body: Any = None
        files: list[dict[str, Any]] = []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if key == "payload_json":
                    body = json.loads(value)
                elif hasattr(value, "file"):
                    files.append({"field": key, "filename": value.filename, "content": value.file.read()})
        elif request.can_read_body:
            raw = await request.read()
            request[RECEIVED] = time.perf_counter()
            body = json.loads(raw) if raw else None
        request.setdefault(RECEIVED, time.perf_counter())
        if request.headers.get("Authorization") not in (f"Bot {TOKEN}", None) and "/interactions/" not in request.path \
                and "/webhooks/" not in request.path:
            return jr({"message": "401: Unauthorized", "code": 0}, status=401)
        entry = {"method": request.method, "path": request.path, "query": dict(request.query), "body": body, "files": files,
                 "at": time.perf_counter(), "auth": bool(request.headers.get("Authorization"))}
        self.requests.append(entry)
        if isinstance(body, dict):
            message = body.get("data") if "/callback" in request.path else body
            if isinstance(message, dict):
                self.limit_problems += check_message_limits(message)
                shown = [message.get("content") or ""] + [str(e.get("description") or "") for e in message.get("embeds") or []
                                                          if isinstance(e, dict)]
                self.link_problems += disguised_links("\n".join(shown))
        request[BODY] = body
        request[FILES] = files
        try:
            return await handler(request)
        finally:
            self._changed.set()

    async def wait_for(self, predicate, timeout: float = 5.0):
        """Wait until `predicate()` returns something truthy (re-checked after every request)."""
        deadline = time.perf_counter() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the stand-in did not see what the test waited for")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))
            except TimeoutError:
                pass

    def payloads(self) -> list[dict[str, Any]]:
        """Every message body the bot sent (callbacks' data, follow-ups, edits, channel messages)."""
        out = []
        for r in self.requests:
            body = r["body"]
            if not isinstance(body, dict):
                continue
            if "/callback" in r["path"]:
                if body.get("type") in (8, 9):  # autocomplete choices and modals carry no message
                    continue
                body = body.get("data") or {}
            if any(k in body for k in ("content", "embeds", "components")):
                out.append(body)
        return out

    # ---- REST ----

    async def me(self, request: web.Request) -> web.Response:
        return jr({**user_payload(BOT_ID, "Course Companion", bot=True), "verified": True, "mfa_enabled": False,
                                  "flags": 0})

    async def application(self, request: web.Request) -> web.Response:
        return jr({"id": APP_ID, "name": "Course Companion", "description": "", "icon": None,
                                  "bot_public": True, "bot_require_code_grant": False, "verify_key": "00" * 32,
                                  "owner": user_payload("700000000000000001", "Owner"), "flags": 0, "team": None,
                                  "summary": "", "rpc_origins": [], "interactions_endpoint_url": None})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        return jr({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1,
                                  "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def put_commands(self, request: web.Request) -> web.Response:
        body = request[BODY] or []
        problems = validate_top_level(body)
        if problems:
            self.schema_problems += problems
            return jr({"message": "Invalid Form Body", "code": 50035, "errors": problems}, status=400)
        guild = request.match_info.get("guild")
        stored = []
        for cmd in body:
            stored.append({**cmd, "id": snowflake(), "application_id": APP_ID, "version": snowflake(), "type": cmd.get("type", 1),
                           **({"guild_id": guild} if guild else {}), "default_member_permissions": None if cmd.get("default_member_permissions") is None else str(cmd["default_member_permissions"]),
                           "nsfw": cmd.get("nsfw", False)})
        self.commands[guild] = stored
        return jr(stored)

    async def get_commands(self, request: web.Request) -> web.Response:
        return jr(self.commands.get(request.match_info.get("guild"), []))

    def _message(self, body: dict[str, Any], channel_id: str, *, author: dict[str, Any] | None = None, guild_id: str | None = None,
                 files: list[dict[str, Any]] | None = None, metadata: dict[str, Any] | None = None, mtype: int = 0,
                 flags: int = 0) -> dict[str, Any]:
        message = {
            "id": snowflake(), "channel_id": channel_id, "author": author or user_payload(BOT_ID, "Course Companion", bot=True),
            "content": body.get("content") or "", "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "pinned": False, "type": mtype,
            "embeds": body.get("embeds") or [], "components": body.get("components") or [],
            "attachments": [{"id": snowflake(), "filename": f["filename"], "size": len(f["content"]), "url": "http://127.0.0.1/a",
                             "proxy_url": "http://127.0.0.1/a", "content_type": "application/json"} for f in files or []],
            "flags": (body.get("flags") or 0) | flags, "allowed_mentions": body.get("allowed_mentions"),
        }
        if guild_id:
            message["guild_id"] = guild_id
        if metadata:
            message["interaction_metadata"] = metadata
            message["application_id"] = APP_ID
            message["webhook_id"] = APP_ID
        if files:
            message["_files"] = files
        self.messages[message["id"]] = message
        return message

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_") and k != "allowed_mentions"}

    def _edit(self, message: dict[str, Any], body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "attachments" in body or files:
            message["attachments"] = [{"id": snowflake(), "filename": f["filename"], "size": len(f["content"]), "url": "http://127.0.0.1/a",
                                       "proxy_url": "http://127.0.0.1/a"} for f in files]
            message["_files"] = files
        message["flags"] = message.get("flags", 0) & ~128
        message["edited_timestamp"] = now_iso()

    async def callback(self, request: web.Request) -> web.Response:
        ex = self.exchanges.get(request.match_info["id"])
        if ex is None or ex.token != request.match_info["token"]:
            return jr({"message": "Unknown interaction", "code": 10062}, status=404)
        if ex.callback is not None:
            return jr({"message": "Interaction has already been acknowledged.", "code": 40060}, status=400)
        ex.callback_at = request[RECEIVED]  # received: the stand-in's own checks of the body are not Discord's time
        if ex.latency is not None and ex.latency > DEADLINE:
            self.late.append(ex)
        body = request[BODY] or {}
        ex.callback = body
        kind = body.get("type")
        data = body.get("data") or {}
        source = self._payloads.get(ex.id, {})
        ephemeral = bool((data.get("flags") or 0) & 64)
        message = None
        if kind in (4, 5):
            meta = {"id": ex.id, "type": ex.type, "user": (source.get("member") or {}).get("user") or source.get("user"),
                    "authorizing_integration_owners": {}}
            message = self._message(data, source.get("channel_id", ""), guild_id=source.get("guild_id"), files=request[FILES],
                                    metadata=meta, mtype=20 if ex.type == 2 else 19, flags=128 if kind == 5 else 0)
            ex.original_id = message["id"]
        elif kind in (6, 7):
            clicked = source.get("message") or {}
            ex.original_id = clicked.get("id")
            message = self.messages.get(ex.original_id or "")
            if kind == 7 and message is not None:
                self._edit(message, data, request[FILES])
        resource: dict[str, Any] = {"type": kind}
        if message is not None and kind in (4, 5, 7):
            resource["message"] = self._public(message)
        return jr({"interaction": {"id": ex.id, "type": ex.type, "response_message_id": ex.original_id,
                                                  "response_message_loading": kind == 5, "response_message_ephemeral": ephemeral},
                                  "resource": resource})

    async def webhook_message(self, request: web.Request) -> web.Response:
        ex = self.by_token.get(request.match_info["token"])
        if ex is None:
            return jr({"message": "Unknown Webhook", "code": 10015}, status=404)
        mid = request.match_info["message"]
        mid = ex.original_id if mid == "@original" else mid
        message = self.messages.get(mid or "")
        if message is None:
            return jr({"message": "Unknown Message", "code": 10008}, status=404)
        if request.method == "PATCH":
            self._edit(message, request[BODY] or {}, request[FILES])
            ex.edits += 1
        elif request.method == "DELETE":
            self.messages.pop(message["id"], None)
            return web.Response(status=204)
        return jr(self._public(message))

    async def followup(self, request: web.Request) -> web.Response:
        ex = self.by_token.get(request.match_info["token"])
        if ex is None:
            return jr({"message": "Unknown Webhook", "code": 10015}, status=404)
        source = self._payloads.get(ex.id, {})
        message = self._message(request[BODY] or {}, source.get("channel_id", ""), guild_id=source.get("guild_id"),
                                files=request[FILES], metadata={"id": ex.id, "type": ex.type,
                                                                  "user": (source.get("member") or {}).get("user") or source.get("user"),
                                                                  "authorizing_integration_owners": {}})
        ex.followups.append(message["id"])
        return jr(self._public(message))

    async def channel_post(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel in self.channel_failures:  # the bot lost access to the channel, or it is gone
            status, code, text = self.channel_failures[channel]
            return jr({"message": text, "code": code}, status=status)
        message = self._message(request[BODY] or {}, channel, guild_id=None if channel in self.dm_channels.values() else GUILD_ID,
                                files=request[FILES])
        return jr(self._public(message))

    async def channel_patch(self, request: web.Request) -> web.Response:
        message = self.messages.get(request.match_info["message"])
        if message is None:
            return jr({"message": "Unknown Message", "code": 10008}, status=404)
        self._edit(message, request[BODY] or {}, request[FILES])
        return jr(self._public(message))

    async def typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def open_dm(self, request: web.Request) -> web.Response:
        user = str((request[BODY] or {}).get("recipient_id"))  # discord.py sends it as a number
        channel = self.dm_channels.setdefault(user, snowflake())
        return jr({"id": channel, "type": 1, "last_message_id": None, "recipients": [user_payload(user, "someone")]})

    async def add_role(self, request: web.Request) -> web.Response:
        if self.deny_roles:
            return jr({"message": "Missing Permissions", "code": 50013}, status=403)
        m = request.match_info
        self.role_grants.append((m["guild"], m["user"], m["role"]))
        return web.Response(status=204)

    # ---- the gateway ----

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if data["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif data["op"] == 2:
                    if data["d"].get("token") != TOKEN:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    await self._send(ws, "READY", {
                        "v": 10, "user": {**user_payload(BOT_ID, "Course Companion", bot=True), "verified": True, "mfa_enabled": False,
                                          "flags": 0},
                        "guilds": [{"id": GUILD_ID, "unavailable": True}], "session_id": "standin-session",
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway", "shard": [0, 1],
                        "application": {"id": APP_ID, "flags": 0}, "private_channels": [], "relationships": []})
                    await self._send(ws, "GUILD_CREATE", self.guild_payload())
                    self.identified.set()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await self._send(ws, event, data)

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID, "name": "Course server", "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": "700000000000000001", "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "roles": self.guild_roles, "emojis": [],
            "features": [], "mfa_level": 0, "application_id": None, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0, "stickers": [],
            "premium_progress_bar_enabled": False, "joined_at": now_iso(), "large": False, "unavailable": False,
            "member_count": 2, "voice_states": [], "presences": [], "threads": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
            "members": [{"user": user_payload(BOT_ID, "Course Companion", bot=True), "roles": [], "joined_at": now_iso(),
                         "deaf": False, "mute": False, "flags": 0, "pending": False}],
            "channels": [{"id": CHANNEL_ID, "type": 0, "name": "general", "position": 0, "permission_overwrites": [],
                          "nsfw": False, "parent_id": None, "topic": None, "last_message_id": None, "rate_limit_per_user": 0,
                          "flags": 0}],
        }

    # ---- test-driven events ----

    def _context(self, user: User, dm: bool) -> dict[str, Any]:
        if dm:
            channel = self.dm_channels.setdefault(user.id, snowflake())
            return {"channel_id": channel, "channel": {"id": channel, "type": 1, "recipients": [user.payload()], "flags": 0},
                    "user": user.payload(), "context": 1, "authorizing_integration_owners": {"1": user.id}}
        return {"guild_id": GUILD_ID, "channel_id": CHANNEL_ID,
                "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "general", "position": 0,
                            "permission_overwrites": [], "nsfw": False, "parent_id": None, "flags": 0,
                            "permissions": user.permissions, "rate_limit_per_user": 0, "topic": None, "last_message_id": None},
                "member": user.member(), "guild_locale": "en-US", "context": 0,
                "guild": {"id": GUILD_ID, "locale": "en-US", "features": []},
                "authorizing_integration_owners": {"0": GUILD_ID}}

    async def interact(self, kind: int, data: dict[str, Any], user: User, *, dm: bool = False,
                       message: dict[str, Any] | None = None, age: float = 0.0) -> Exchange:
        """Write an interaction on the gateway. `age`: Discord created it that many seconds before
        (a backlog between Discord and the bot); its id says so, and its 3 s count from then."""
        iid, token = snowflake(age), f"tok{snowflake()}"
        payload = {"id": iid, "application_id": APP_ID, "type": kind, "data": data, "token": token, "version": 1,
                   "app_permissions": MEMBER_PERMISSIONS, "locale": "en-US", "entitlements": [], "attachment_size_limit": 10485760,
                   **self._context(user, dm)}
        if message is not None:
            payload["message"] = self._public(message)
        ex = Exchange(iid, token, kind, time.perf_counter())
        self.exchanges[iid] = ex
        self.by_token[token] = ex
        self._payloads[iid] = payload
        ex.dispatched_at = time.perf_counter() - age
        await self.dispatch("INTERACTION_CREATE", payload)
        return ex

    def command_id(self, name: str) -> str:
        for cmd in itertools.chain.from_iterable(self.commands.values()):
            if cmd["name"] == name:
                return cmd["id"]
        return snowflake()

    async def slash(self, user: User, name: str, options: list[dict[str, Any]] | None = None, *, dm: bool = False,
                    resolved: dict[str, Any] | None = None) -> Exchange:
        """An application command (type 2). Sub-commands: `name="live start"`."""
        parts = name.split()
        opts = options or []
        if len(parts) == 2:
            opts = [{"name": parts[1], "type": 1, "options": opts}]
        data = {"id": self.command_id(parts[0]), "name": parts[0], "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        return await self.interact(2, data, user, dm=dm)

    async def autocomplete(self, user: User, name: str, option: str, value: str, opt_type: int = 4) -> Exchange:
        parts = name.split()
        opts = [{"name": option, "type": opt_type, "value": value, "focused": True}]
        if len(parts) == 2:
            opts = [{"name": parts[1], "type": 1, "options": opts}]
        return await self.interact(4, {"id": self.command_id(parts[0]), "name": parts[0], "type": 1, "options": opts}, user)

    async def click(self, user: User, message: dict[str, Any], custom_id: str, values: list[str] | None = None, *,
                    dm: bool = False, age: float = 0.0) -> Exchange:
        """A message component (type 3): a button, or a select menu with `values`."""
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        return await self.interact(3, data, user, dm=dm or "guild_id" not in message, message=self.messages.get(message["id"], message),
                                   age=age)

    async def submit(self, user: User, custom_id: str, value: str, message: dict[str, Any] | None = None) -> Exchange:
        """A modal submit (type 5) with one text input whose custom_id is `answer`."""
        data = {"custom_id": custom_id, "components": [{"type": 1, "components": [{"type": 4, "custom_id": "answer", "value": value}]}]}
        return await self.interact(5, data, user, message=message)

    async def direct_message(self, user: User, content: str) -> dict[str, Any]:
        channel = self.dm_channels.setdefault(user.id, snowflake())
        message = self._message({"content": content}, channel, author=user.payload())
        await self.dispatch("MESSAGE_CREATE", self._public(message))
        return message

    # ---- reading what the bot answered ----

    async def answer(self, ex: Exchange, timeout: float = 5.0) -> dict[str, Any]:
        """The message that answers an interaction: its callback's message, or (after a defer)
        the edited original or first follow-up."""
        def ready():
            if ex.callback is None:
                return None
            kind = ex.callback.get("type")
            if kind == 4:
                return self.messages.get(ex.original_id or "")
            if kind == 7:
                return self.messages.get(ex.original_id or "")
            if ex.followups:
                return self.messages.get(ex.followups[0])
            if kind == 5 and ex.edits:
                return self.messages.get(ex.original_id or "")
            if kind == 6 and ex.edits:
                return self.messages.get(ex.original_id or "")
            if kind in (8, 9):
                return ex.callback
            return None
        return await self.wait_for(ready, timeout)

    def channel_messages(self, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["channel_id"] == channel and "interaction_metadata" not in m
                and m["author"]["id"] == BOT_ID]


@dataclass
class User:
    id: str
    name: str
    permissions: str = MEMBER_PERMISSIONS
    roles: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, name: str, *, manage_guild: bool = False, roles: list[str] | None = None) -> User:
        perms = int(MEMBER_PERMISSIONS) | (MANAGE_GUILD if manage_guild else 0)
        return cls(snowflake(), name, str(perms), roles or [])

    def payload(self) -> dict[str, Any]:
        return user_payload(self.id, self.name)

    def member(self) -> dict[str, Any]:
        return {"user": self.payload(), "nick": None, "roles": self.roles, "joined_at": now_iso(), "premium_since": None,
                "deaf": False, "mute": False, "pending": False, "flags": 0, "permissions": self.permissions, "avatar": None}


# ---- helpers for tests ---------------------------------------------------------------------------

def embed_text(message: dict[str, Any]) -> str:
    return "\n".join([message.get("content") or ""] + [f"{e.get('title', '')}\n{e.get('description', '')}" for e in message.get("embeds", [])])


def custom_ids(message: dict[str, Any]) -> list[str]:
    out = []
    for row in message.get("components", []):
        for c in row.get("components", []):
            if c.get("custom_id"):
                out.append(c["custom_id"])
    return out


_MASKED = re.compile(r"\[([^\[\]]*)\]\(\s*<?((?:https?|mailto):[^\s)>]+)")
_ADDRESS = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://)?((?:[\w-]+\.)+[a-z]{2,})")


def disguised_links(text: str) -> list[str]:
    """Every masked link `[label](url)` Discord would render whose label names another host."""
    from urllib.parse import urlsplit

    found = []
    for label, url in _MASKED.findall(text):
        host = (urlsplit(url).hostname or url.rsplit("@", 1)[-1]).lower().removeprefix("www.")
        if any(h.lower().removeprefix("www.") != host for h in _ADDRESS.findall(label)):
            found.append(f"[{label}]({url})")
    return found


def component(message: dict[str, Any], predicate) -> dict[str, Any]:
    for row in message.get("components", []):
        for c in row.get("components", []):
            if predicate(c):
                return c
    raise LookupError(f"no such component in {custom_ids(message)}")

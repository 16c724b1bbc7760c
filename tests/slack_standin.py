"""A local stand-in for Slack (127.0.0.1 only, random ports), for end-to-end tests and the benchmark.

Three parts, all in one aiohttp server:

1. A mock Web API at `/api/<method>` answering as Slack documents (`{"ok": true, …}`) for
   auth.test, chat.postMessage, chat.postEphemeral, chat.update, views.open, views.publish,
   views.update, users.info, conversations.open, files.getUploadURLExternal, the upload URL,
   files.completeUploadExternal and apps.connections.open (which returns the URL of part 2);
   plus `response_url` endpoints at `/response/<id>`. Every call is recorded with its time.
2. A Socket Mode WebSocket server at `/ws`: it sends `hello`, then the envelopes a test asks
   for (`slash_commands`, `events_api`, `interactive`), and records each ack with its timing.
3. An HTTP driver that POSTs correctly signed requests (v0 HMAC-SHA256 of `v0:{ts}:{body}`)
   to a bolt app served in HTTP mode: slash commands as form posts, Events API callbacks as
   JSON, interactive payloads as a `payload=` form field.

Payload shapes follow Slack's documentation (and bolt-python's own test fixtures). Any ack later
than Slack's 3 seconds is flagged in `slow_acks`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import ClientSession, WSMsgType, web

BOT_TOKEN = "xoxb-1111-2222-standintoken"
APP_TOKEN = "xapp-1-A0001-3333-standinapptoken"
SIGNING_SECRET = "standin-signing-secret-0123456789"
TEAM_ID = "T0STANDIN"
BOT_USER_ID = "UBOT0001"
API_APP_ID = "A0STANDIN"
ACK_DEADLINE = 3.0


@dataclass
class Call:
    method: str
    data: dict[str, Any]
    at: float  # time.perf_counter()


@dataclass
class Ack:
    """One acknowledged delivery: a Socket Mode envelope or an HTTP request."""

    key: str
    kind: str
    sent_at: float
    acked_at: float | None = None
    payload: Any = None
    status: int | None = None
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class SlackStandIn:
    def __init__(self, admins: set[str] | None = None, record: bool = True):
        self.admins = set(admins or ())
        #: Keep every call and ack (tests); a benchmark turns this off so the heap, and the
        #: garbage collector's pauses, do not grow with the run.
        self.record = record
        self.calls: list[Call] = []
        self.acks: list[Ack] = []
        self.names: dict[str, str] = {}
        #: (method, channel) → the error Slack answers with (`not_in_channel`, `channel_not_found`,
        #: or `ratelimited`, which is an HTTP 429 with Retry-After: 0 on every try).
        self.failures: dict[tuple[str, str], str] = {}
        self._pending: dict[str, Ack] = {}
        self._waiters: dict[str, asyncio.Future] = {}
        self._ts = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._new_call = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self.port = 0
        self.connections = 0

    # ---- life cycle -------------------------------------------------------------------------

    async def start(self) -> SlackStandIn:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/ws", self._socket)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_post("/upload/{id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._client = ClientSession()
        return self

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base}/api/"

    @property
    def slow_acks(self) -> list[Ack]:
        return [a for a in self.acks if a.seconds is None or a.seconds > ACK_DEADLINE]

    # ---- recording ----------------------------------------------------------------------------

    async def _record(self, method: str, data: dict[str, Any]) -> None:
        if not self.record:
            return
        self.calls.append(Call(method, data, time.perf_counter()))
        async with self._new_call:
            self._new_call.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate, timeout: float = 5.0, after: int = 0) -> Call:
        """The first recorded call (from index `after`) matching `predicate(call)`."""
        deadline = time.monotonic() + timeout
        async with self._new_call:
            while True:
                for call in self.calls[after:]:
                    if predicate(call):
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching Web API call within {timeout} s; calls: {[c.method for c in self.calls[after:]]}")
                try:
                    await asyncio.wait_for(self._new_call.wait(), left)
                except TimeoutError:
                    pass

    async def wait_calls(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        async with self._new_call:
            while len(self.calls_to(method)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.calls_to(method))} {method} calls, expected {count}")
                try:
                    await asyncio.wait_for(self._new_call.wait(), left)
                except TimeoutError:
                    pass
        return self.calls_to(method)

    # ---- part 1: the Web API ------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            data = {}
        elif request.content_type == "application/json":
            data = await request.json()
        elif request.content_type.startswith("multipart/"):
            data = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        else:
            data = dict(parse_qsl(await request.text(), keep_blank_values=True))
        data = {k: _decode(v) for k, v in data.items()}
        data.update({k: _decode(v) for k, v in request.query.items()})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or data.get("token", "")
        await self._record(method, data)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = self.failures.get((method, str(data.get("channel", ""))))
        if failure == "ratelimited":  # for as long as the test says: every retry is limited too
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"})
        if failure is not None:
            return web.json_response({"ok": False, "error": failure})
        answer = getattr(self, "_m_" + method.replace(".", "_"), None)
        if answer is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(answer(data))

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.{next(self._ts):06d}"

    def _m_auth_test(self, data):
        return {"ok": True, "url": "https://standin.slack.com/", "team": "Stand-in", "user": "companion", "team_id": TEAM_ID,
                "user_id": BOT_USER_ID, "bot_id": "B0STANDIN", "is_enterprise_install": False}

    def _m_apps_connections_open(self, data):
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}

    def _m_chat_postMessage(self, data):
        ts = self.next_ts()
        channel = data.get("channel", "")
        if channel.startswith("U"):  # posting to a user id lands in the app's DM with them
            channel = "D" + channel[1:]
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"type": "message", "text": data.get("text", ""), "user": BOT_USER_ID, "bot_id": "B0STANDIN", "ts": ts,
                            "blocks": data.get("blocks", [])}}

    def _m_chat_postEphemeral(self, data):
        return {"ok": True, "message_ts": self.next_ts()}

    def _m_chat_update(self, data):
        return {"ok": True, "channel": data.get("channel"), "ts": data.get("ts"), "text": data.get("text", ""),
                "message": {"text": data.get("text", ""), "blocks": data.get("blocks", [])}}

    def _view(self, data):
        view = data.get("view") or {}
        return {"ok": True, "view": {"id": "V" + uuid.uuid4().hex[:10].upper(), "team_id": TEAM_ID, "hash": "1.abc", **view}}

    _m_views_open = _view
    _m_views_publish = _view
    _m_views_update = _view
    _m_views_push = _view

    def _m_users_info(self, data):
        uid = data.get("user", "")
        name = self.names.get(uid, uid.lower())
        admin = uid in self.admins
        return {"ok": True, "user": {"id": uid, "team_id": TEAM_ID, "name": name, "real_name": name.title(), "deleted": False,
                                     "is_admin": admin, "is_owner": False, "is_primary_owner": False, "is_bot": False,
                                     "profile": {"display_name": name, "real_name": name.title()}}}

    def _m_conversations_open(self, data):
        users = str(data.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}

    def _m_files_getUploadURLExternal(self, data):
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, data):
        files = data.get("files") or []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title", ""), "name": f.get("title", "")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()))
            body = part.file.read() if hasattr(part, "file") else str(part).encode()
        await self._record("upload", {"file_id": request.match_info["id"], "content": body})
        return web.Response(text=f"OK - {len(body)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        data = await request.json()
        url_id = request.match_info["id"]
        await self._record("response_url", {"id": url_id, **data})
        waiter = self._waiters.pop(url_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((time.perf_counter(), data))
        return web.Response(text="ok")

    def expect_response(self, response_url: str) -> asyncio.Future:
        """A future set to (time, body) when `response_url` is posted to (for the benchmark)."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[response_url.rsplit("/", 1)[1]] = future
        return future

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex}"

    # ---- part 2: Socket Mode ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        self.connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "standin", "approximate_connection_time": 18060},
                            "connection_info": {"app_id": API_APP_ID}})
        self._connected.set()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            ack = self._pending.pop(data.get("envelope_id", ""), None)
            if ack is not None:
                ack.acked_at = time.perf_counter()
                ack.payload = data.get("payload")
                if not ack.done.done():
                    ack.done.set_result(ack)
        if self._ws is ws:
            self._connected.clear()
        return ws

    async def connected(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def envelope(self, kind: str, payload: dict[str, Any], envelope_id: str | None = None,
                       retry_attempt: int = 0, wait: bool = True) -> Ack:
        """Send one Socket Mode envelope; with `wait`, return once it is acknowledged."""
        await self.connected()
        envelope_id = envelope_id or str(uuid.uuid4())
        ack = Ack(envelope_id, kind, time.perf_counter())
        if self.record:
            self.acks.append(ack)
        self._pending[envelope_id] = ack
        message: dict[str, Any] = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                                   "accepts_response_payload": kind == "slash_commands" or payload.get("type") == "view_submission"}
        if kind == "events_api":
            message["retry_attempt"] = retry_attempt
            message["retry_reason"] = "timeout" if retry_attempt else ""
        await self._ws.send_str(json.dumps(message))
        if wait:
            await asyncio.wait_for(ack.done, 10)
        return ack

    async def send(self, payload: dict[str, Any], **kwargs: Any) -> Ack:
        """Any payload built below, as the matching envelope type."""
        if "command" in payload:
            return await self.envelope("slash_commands", payload, **kwargs)
        if payload.get("type") == "event_callback":
            return await self.envelope("events_api", payload, **kwargs)
        return await self.envelope("interactive", payload, **kwargs)

    # ---- part 3: signed HTTP requests ---------------------------------------------------------

    @staticmethod
    def sign(body: str, timestamp: int | str | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    async def http(self, url: str, payload: dict[str, Any], timestamp: int | str | None = None, secret: str = SIGNING_SECRET,
                   retry_num: int | None = None) -> Ack:
        """POST `payload` to a bolt app in HTTP mode as Slack would, signed; the Ack holds status and timing."""
        if "command" in payload:
            # A lone surrogate (a forged request) goes out as the bytes a careless client would send.
            body, ctype, kind = urlencode(payload, errors="surrogatepass"), "application/x-www-form-urlencoded", "slash_commands"
        elif payload.get("type") == "event_callback":
            body, ctype, kind = json.dumps(payload), "application/json", "events_api"
        else:
            body, ctype, kind = urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", "interactive"
        if timestamp is None and retry_num:
            timestamp = int(time.time()) + retry_num  # Slack redelivers later: its own timestamp, its own signature
        headers = {"Content-Type": ctype, **self.sign(body, timestamp, secret)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        ack = Ack(f"http-{uuid.uuid4().hex[:8]}", kind, time.perf_counter())
        if self.record:
            self.acks.append(ack)
        async with self._client.post(url, data=body.encode(), headers=headers) as resp:
            ack.status = resp.status
            ack.payload = await resp.text()
        ack.acked_at = time.perf_counter()
        ack.done.set_result(ack)
        return ack

    # ---- payloads, shaped as Slack sends them -------------------------------------------------

    def slash_command(self, command: str, text: str, user: str, channel: str = "C0GENERAL", name: str | None = None) -> dict[str, Any]:
        dm = channel.startswith("D")
        return {"token": "verification-token-unused", "team_id": TEAM_ID, "team_domain": "standin", "channel_id": channel,
                "channel_name": "directmessage" if dm else "general", "user_id": user, "user_name": name or self.names.get(user, user.lower()),
                "command": command, "text": text, "api_app_id": API_APP_ID, "is_enterprise_install": "false",
                "response_url": self.response_url(), "trigger_id": f"{next(self._ts)}.{TEAM_ID}.{uuid.uuid4().hex[:16]}"}

    def _user(self, user: str, name: str | None) -> dict[str, Any]:
        name = name or self.names.get(user, user.lower())
        return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}

    def block_action(self, user: str, element: dict[str, Any], channel: str = "C0GENERAL", ephemeral: bool = True,
                     message_ts: str | None = None, selected: list[str] | None = None, name: str | None = None,
                     home: bool = False) -> dict[str, Any]:
        """A click on `element` (a button or select from a recorded payload's blocks)."""
        action: dict[str, Any] = {"action_id": element["action_id"], "block_id": element.get("block_id", "b1"),
                                  "type": element["type"], "action_ts": f"{time.time():.6f}"}
        if element["type"] == "button":
            action["text"] = element["text"]
            action["value"] = element.get("value", "")
        elif element["type"] == "multi_static_select":
            action["selected_options"] = [o for o in element["options"] if o["value"] in (selected or [])]
        elif element["type"] == "static_select":
            action["selected_option"] = next(o for o in element["options"] if o["value"] in (selected or []))
        payload: dict[str, Any] = {
            "type": "block_actions", "user": self._user(user, name), "api_app_id": API_APP_ID, "token": "verification-token-unused",
            "trigger_id": f"{next(self._ts)}.{TEAM_ID}.{uuid.uuid4().hex[:16]}", "team": {"id": TEAM_ID, "domain": "standin"},
            "enterprise": None, "is_enterprise_install": False, "actions": [action], "state": {"values": {}},
        }
        if home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", "team_id": TEAM_ID, "callback_id": "", "private_metadata": "",
                               "blocks": [], "state": {"values": {}}, "hash": "1.abc"}
        else:
            ts = message_ts or self.next_ts()
            payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral}
            payload["channel"] = {"id": channel, "name": "directmessage" if channel.startswith("D") else "general"}
            payload["response_url"] = self.response_url()
            if not ephemeral:
                payload["message"] = {"type": "message", "user": BOT_USER_ID, "ts": ts, "text": "…", "bot_id": "B0STANDIN"}
        return payload

    def view_submission(self, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]], name: str | None = None) -> dict[str, Any]:
        """Submitting a modal opened with `view` (from a recorded views.open); `values[block_id][action_id]` = state."""
        return {"type": "view_submission", "team": {"id": TEAM_ID, "domain": "standin"}, "user": self._user(user, name),
                "api_app_id": API_APP_ID, "token": "verification-token-unused", "trigger_id": f"{next(self._ts)}.{TEAM_ID}.x",
                "view": {"id": "VMODAL", "team_id": TEAM_ID, "type": "modal", "blocks": view.get("blocks", []),
                         "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
                         "state": {"values": values}, "hash": "1.abc", "title": view.get("title"),
                         "root_view_id": "VMODAL", "app_id": API_APP_ID, "bot_id": "B0STANDIN"},
                "response_urls": [], "is_enterprise_install": False, "enterprise": None}

    def event(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {"token": "verification-token-unused", "team_id": TEAM_ID, "api_app_id": API_APP_ID, "event": event,
                "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()), "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                                                    "is_bot": True, "is_enterprise_install": False}],
                "is_ext_shared_channel": False, "event_context": "4-standin"}

    def dm_event(self, user: str, text: str, event_id: str | None = None) -> dict[str, Any]:
        ts = self.next_ts()
        return self.event({"type": "message", "channel": "D" + user[1:], "user": user, "text": text, "ts": ts, "event_ts": ts,
                           "channel_type": "im", "client_msg_id": str(uuid.uuid4()), "team": TEAM_ID,
                           "blocks": [{"type": "rich_text", "block_id": "x", "elements": [{"type": "rich_text_section",
                                       "elements": [{"type": "text", "text": text}]}]}]}, event_id)

    def home_event(self, user: str, event_id: str | None = None) -> dict[str, Any]:
        return self.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home",
                           "event_ts": f"{time.time():.6f}"}, event_id)


# ---- helpers for assertions ----------------------------------------------------------------------

def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element in `blocks`, with its block's id."""
    out = []
    for i, block in enumerate(blocks or []):
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            out.append({**el, "block_id": block.get("block_id", f"b{i}")})
    return out


def find(blocks: list[dict[str, Any]], label_start: str) -> dict[str, Any]:
    for el in elements(blocks):
        if el["type"] == "button" and el["text"]["text"].startswith(label_start):
            return el
    raise AssertionError(f"no button starting with {label_start!r} in {[e.get('text', {}).get('text') for e in elements(blocks)]}")


def shown_text(data: dict[str, Any]) -> str:
    """Every displayed string in an outgoing payload (text fields at any depth), joined."""
    out: list[str] = []

    def walk(obj: Any, key: str = "") -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, key)
        elif isinstance(obj, str) and key in ("text", "initial_comment", "title"):
            out.append(obj)

    walk(data)
    return "\n".join(out)


NOT_SHOWN = ("upload", "auth.test", "users.info", "conversations.open", "apps.connections.open", "files.getUploadURLExternal")


_ADDRESS = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://)?((?:[\w-]+\.)+[a-z]{2,})")


def disguised_links(text: str) -> list[str]:
    """Every `<url|label>` whose label names a host other than the url's (as Slack would show it)."""
    found = []
    for url, label in re.findall(r"<((?:https?|mailto):[^|<>\s]+)\|([^<>]*)>", text):
        host = (urlsplit(url).hostname or url.rsplit("@", 1)[-1]).lower().removeprefix("www.")
        if any(h.lower().removeprefix("www.") != host for h in _ADDRESS.findall(label)):
            found.append(f"<{url}|{label}>")
    return found


def assert_safe(calls: list[Call]) -> None:
    """Nothing shown in any recorded call forms a mention or a link, except the adapter's own
    trusted structures (a Markdown link's `<url|label>` whose label names no other address, a
    block quote's `>`, a `<!date^…>` token), and every `&` is an entity."""
    for call in calls:
        if call.method in NOT_SHOWN:
            continue
        text = shown_text(call.data)
        assert not disguised_links(text), (call.method, disguised_links(text))
        leftover = re.sub(r"<(https?|mailto):[^|<>\s]+\|[^<>]*>", "", text)
        leftover = re.sub(r"(?m)^(> )+", "", leftover)
        leftover = re.sub(r"<!date\^\d+\^[^|<>]*\|[^<>]*>", "", leftover)
        assert "<" not in leftover and ">" not in leftover, (call.method, leftover[:500])
        assert not re.search(r"&(?!amp;|lt;|gt;)", leftover), (call.method, leftover[:500])

"""The console companion: the same commands as the chat platforms, in a terminal.

Three modes, one loop:
- interactive (a terminal): prompt with history, rich rendering, buttons pressed with `/1`, `/2`…;
- piped (stdin is not a terminal): one command or message per line, plain replies on stdout,
  exit 0 at end of input;
- `--jsonl`: each input line is `{"user": "alice", "text": "/quiz 7"}` or
  `{"user": "alice", "action": "<action id>"}`, each output line is a JSON object.

`/as NAME` switches the user, so several people can play a live quiz at one keyboard. All users
share the guild "local" and the channel "main". Live quiz events (questions opening, results)
are printed as they happen, driven by the live quiz loop in the background.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from pathlib import Path
from collections.abc import Awaitable
from typing import IO, Any

from rich.console import Console

from bot.core.companion import Companion
from bot.core.live import LiveEvent
from bot.core.replies import Reply, error
from bot.core.store import StoreError, StoreFailed
from bot.core.users import Actor, clean_name

from .render import jsonl, plain, rich_print, save_file

CONSOLE_EXTRA = [("/as NAME", "Switch to another user (play a live quiz with friends)"),
                 ("/1, /2, …", "Press a button of the last reply"),
                 ("/quit", "Leave (Ctrl-D works too)")]
_NAME = re.compile(r"^[\w.\-]{1,32}$")


class ConsoleAdapter:
    def __init__(self, companion: Companion, out: IO[str] | None = None, mode: str = "plain", user: str = "student"):
        self.companion = companion
        self.out = out or sys.stdout
        self.mode = mode  # "interactive" | "plain" | "jsonl"
        self.user = user
        self.buttons: dict[str, list[str]] = {}  # user → action ids of the last reply's buttons
        self.console = Console(file=self.out, highlight=False) if mode == "interactive" else None
        self.folder = Path.cwd()
        self.failure: StoreFailed | None = None  # the database failed: answer, then end the session
        companion.live.subscribe(self._on_live_event)

    def actor(self, name: str | None = None) -> Actor:
        name = name or self.user
        return Actor("console", name.lower(), name, guild="local", channel="main")

    # ---- output ---------------------------------------------------------------------------

    def emit(self, reply: Reply, user: str | None = None, event: LiveEvent | None = None) -> None:
        if user is not None:
            self.buttons[user] = [b.action for b in reply.buttons]
        saved = save_file(reply, self.folder) if self.mode != "jsonl" else None
        if self.mode == "jsonl":
            obj: dict[str, Any] = {"reply": reply.to_dict()}
            if event is not None:
                obj = {"event": event.kind, "session": event.session_id, "question": event.question_index + 1, **obj}
            elif user is not None:
                obj = {"user": user, **obj}
            self.out.write(jsonl(obj) + "\n")
        elif self.mode == "interactive":
            rich_print(self.console, reply)
            if saved:
                self.console.print(f"[dim]Saved to {saved}[/dim]")
        else:
            self.out.write(plain(reply) + "\n")
            if saved:
                self.out.write(f"(saved to {saved})\n")
            self.out.write("\n")
        self.out.flush()

    async def _on_live_event(self, event: LiveEvent) -> None:
        if event.kind == "question":
            for user in list(self.buttons):
                self.buttons[user] = [b.action for b in event.reply.buttons]
        self.emit(event.reply, event=event)

    # ---- input ----------------------------------------------------------------------------

    async def handle_line(self, line: str) -> None:
        """One line of input, in this adapter's mode. Raises StoreFailed, once answered, when the
        database has failed for good (the process must exit); a busy database is only answered."""
        if self.mode == "jsonl":
            await self._handle_json(line)
        elif text := line.strip():
            reply = await self._core(self._handle(self.user, text))
            if reply is not None:
                self.emit(reply, self.user)
        if self.failure is not None:
            raise self.failure

    async def _core(self, call: Awaitable[Reply | None]) -> Reply | None:
        try:
            return await call
        except StoreError as exc:
            if isinstance(exc, StoreFailed):
                self.failure = exc
            return error(exc.reply_text)

    async def _handle_json(self, line: str) -> None:
        if not line.strip():
            return
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            user = str(obj.get("user") or self.user)
            if not _NAME.match(user):
                raise ValueError("user must be 1-32 letters, digits, '.', '-' or '_'")
            if "action" in obj:
                reply = await self._core(self.companion.handle_action(self.actor(user), str(obj["action"])))
            elif "text" in obj:
                reply = await self._core(self._handle(user, str(obj["text"])))
            else:
                raise ValueError('give "text" or "action"')
        except (ValueError, TypeError) as exc:
            self.out.write(jsonl({"error": f"bad input line: {exc}", "line": line.strip()[:200]}) + "\n")
            self.out.flush()
            return
        if reply is not None:
            self.emit(reply, user)

    async def _handle(self, user: str, text: str) -> Reply | None:
        word, _, rest = text.partition(" ")
        if word == "/as":
            name = rest.strip()
            if not _NAME.match(name):
                return error("Usage: `/as NAME` (letters, digits, '.', '-' or '_', up to 32).")
            self.user = name
            return Reply(text=f"You are now **{clean_name(name)}**.", kind="info")
        if word in ("/help", "/start"):
            return self.companion.help(self.actor(user), CONSOLE_EXTRA)
        if re.fullmatch(r"/\d+", word):
            actions = self.buttons.get(user, [])
            index = int(word[1:])
            if not 1 <= index <= len(actions):
                return error(f"There is no button {index} on your last reply." if actions else "Your last reply has no buttons.")
            return await self.companion.handle_action(self.actor(user), actions[index - 1])
        return await self.companion.handle_text(self.actor(user), text)

    async def run_lines(self, lines: IO[str]) -> None:
        """Piped or JSONL input: one line at a time until end of input."""
        while True:
            line = await _read_line(lines)
            if not line:
                return
            if line.strip() in ("/quit", "/exit") and self.mode != "jsonl":
                return
            await self.handle_line(line)

    async def run_interactive(self) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        history = Path.home() / ".companion_history"
        session: PromptSession = PromptSession(history=FileHistory(str(history)))
        self.console.print(f"[bold]{self.companion.course.title}[/bold] — course companion. "
                           "Type [bold]/help[/bold] for commands, [bold]/lesson[/bold] to start reading, Ctrl-D to leave.")
        with patch_stdout(raw=True):
            while True:
                try:
                    line = await session.prompt_async(f"{self.user}> ")
                except (EOFError, KeyboardInterrupt):
                    return
                if line.strip() in ("/quit", "/exit"):
                    return
                try:
                    await self.handle_line(line)
                except StoreFailed:
                    raise
                except Exception as exc:  # keep the session alive; the log has the details
                    self.console.print(f"[red]Something went wrong: {exc}[/red]")


async def _read_line(lines: IO[str]) -> str:
    """`lines.readline()` on a daemon thread: a process that must exit (its database failed) is
    never held by a read blocked on an open stdin, as it would be on asyncio's executor threads."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def settle(how, value) -> None:
        if not done.done():
            how(value)

    def read() -> None:
        try:
            outcome = (done.set_result, lines.readline())
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            outcome = (done.set_exception, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop has closed: nobody waits for this line any more
            pass

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await done


async def run_console(companion: Companion, mode: str, user: str, stdin: IO[str] | None = None, out: IO[str] | None = None) -> None:
    adapter = ConsoleAdapter(companion, out=out, mode=mode, user=user)
    async with companion.live.running():
        await companion.live.advance_due()  # resume or close sessions left from a previous run
        if mode == "interactive":
            await adapter.run_interactive()
        else:
            await adapter.run_lines(stdin or sys.stdin)

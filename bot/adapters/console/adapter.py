"""The console companion: the same commands as the chat platforms, in a terminal.

Three modes, one loop:
- interactive (a terminal): prompt with history, rich rendering, buttons pressed with `/1`, `/2`…;
  live quiz events print above the prompt, which is redrawn under them; the log shows warnings
  and errors only (unless stderr goes to a file);
- piped (stdin is not a terminal): one command or message per line, plain text replies on stdout
  (Markdown made plain), exit 0 at end of input;
- `--jsonl`: each input line is `{"user": "alice", "text": "/quiz 7"}` or
  `{"user": "alice", "action": "<action id>"}`, each output line is a JSON object. A line that is
  not such an object (bad JSON, wrong types, too long, too deep) gets one `{"error": …}` line.

`/as NAME` switches the user, so several people can play a live quiz at one keyboard: `/1`, `/2`…
press the buttons of the newest of the open live question and the current user's own last reply
with buttons. A reply without buttons (a hint, a correction, "answer recorded") leaves them
pressable. All users share the guild "local" and the channel "main". Live quiz events
(questions opening, results) are printed as they happen, driven by the live quiz loop in the
background.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import os
import re
import sqlite3
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from rich.console import Console
from rich.text import Text

from bot.adapters import AdapterError
from bot.core.command_line import handle_text
from bot.core.companion import Companion
from bot.core.config import is_postgres_url
from bot.core.live import LiveEvent
from bot.core.replies import Reply, error
from bot.core.store import StoreError, StoreFailed
from bot.core.users import Actor, clean_name

from .render import jsonl, plain, rich_print, save_files, without_lone_surrogates

log = logging.getLogger(__name__)
T = TypeVar("T")

CONSOLE_EXTRA = [("/as NAME", "Switch to another user (play a live quiz with friends)"),
                 ("/1, /2, …", "Press a button: of the live question, or of your last reply"),
                 ("/reply TEXT", "Fill in your last reply's form (a demonstration, a ranking, an answer)"),
                 ("/quit", "Leave (Ctrl-D works too)")]
_NAME = re.compile(r"[\w.\-]{1,32}")
NAME_RULE = "1-32 letters, digits, '.', '-' or '_'"
#: Longest input line read (bytes); the rest of a longer line is skipped, and the line gets an error.
MAX_LINE_BYTES = 1 << 20
#: Longest `text` or `action` in a JSON line (Discord's longest typed input is 4,000 characters).
MAX_FIELD = 4000
#: A failing database or terminal: not one input's fault, so the process exits on it. Any other
#: exception from handling one input is a bug there: logged, answered, and the session goes on.
FATAL_ERRORS = (sqlite3.Error, OSError)


class LineTooLong(Exception):
    pass


class ConsoleAdapter:
    def __init__(self, companion: Companion, out: IO[str] | None = None, mode: str = "plain", user: str = "student",
                 export_dir: Path | None = None):
        self.companion = companion
        self.out = out or sys.stdout
        self.mode = mode  # "interactive" | "plain" | "jsonl"
        self.user = user
        self._order = itertools.count()
        #: user → (when, action ids) of that user's last reply that had buttons
        self.buttons: dict[str, tuple[int, list[str]]] = {}
        #: Each user's last reply's form (its action id), which `/reply TEXT` fills in.
        self.forms: dict[str, str] = {}
        #: (when, action ids) of the open live question, if one is open
        self.live_buttons: tuple[int, list[str]] | None = None
        self.console = Console(file=self.out, highlight=False) if mode == "interactive" else None
        self.export_dir = export_dir or export_folder(companion)
        self.history_path: Path | None = Path.home() / ".companion_history"
        self.failure: StoreFailed | None = None  # the database failed: answer, then end the session
        companion.live.subscribe(self._on_live_event)

    def actor(self, name: str | None = None) -> Actor:
        name = name or self.user
        return Actor("console", name.lower(), name, guild="local", channel="main")

    # ---- buttons ----------------------------------------------------------------------------

    def remember(self, user: str, reply: Reply) -> None:
        """A reply with buttons becomes the user's own to press; one without (a hint, a
        correction, "answer recorded") leaves the previous ones pressable."""
        if reply.buttons:
            self.buttons[user.lower()] = (next(self._order), [b.action for b in reply.buttons])
        if reply.text_input is not None:
            self.forms[user.lower()] = reply.text_input.action

    def pressable(self, user: str) -> list[str]:
        """The buttons `/1`, `/2`… press for `user`: the newer of the open live question's and
        the user's own last reply's."""
        candidates = [c for c in (self.buttons.get(user.lower()), self.live_buttons) if c]
        return max(candidates)[1] if candidates else []

    # ---- output ---------------------------------------------------------------------------

    def emit(self, reply: Reply, user: str | None = None, event: LiveEvent | None = None) -> None:
        saved = self._save(reply) if self.mode != "jsonl" else None  # "Saved to PATH", or why not
        if self.mode == "jsonl":
            obj: dict[str, Any] = {"reply": reply.to_dict()}
            if event is not None:
                obj = {"event": event.kind, "session": event.session_id, "question": event.question_index + 1, **obj}
            elif user is not None:
                obj = {"user": user, **obj}
            self._write_json(obj)
            return
        if self.console is not None:  # interactive
            rich_print(self.console, reply)
            if saved:
                self.console.print(Text(saved, style="dim"))
        else:
            self.out.write(plain(reply) + "\n")
            if saved:
                self.out.write(f"({saved[0].lower()}{saved[1:]})\n")
            self.out.write("\n")
        self.out.flush()

    def _save(self, reply: Reply) -> str | None:
        try:
            paths = save_files(reply, self.export_dir)
        except OSError as exc:
            return f"Could not save the file in {self.export_dir} ({exc.strerror or exc}): set COMPANION_EXPORT_DIR to a folder you can write."
        if not paths:
            return None
        return "Saved to " + ", ".join(str(p) for p in paths)

    def _write_json(self, obj: dict[str, Any]) -> None:
        self.out.write(jsonl(obj) + "\n")
        self.out.flush()

    def _json_error(self, message: str, line: str) -> None:
        self._write_json({"error": message, "line": line.strip()[:200]})

    async def _on_live_event(self, event: LiveEvent) -> None:
        if event.place[0] != "console":
            return  # a Discord or Slack channel's quiz, on a database this process shares
        buttons = [b.action for b in event.reply.buttons]
        self.live_buttons = (next(self._order), buttons) if event.kind == "question" and buttons else None
        if self.mode == "interactive":
            from prompt_toolkit.application import in_terminal

            # Above the prompt: hide it, print, draw it again under the event.
            async with in_terminal():
                self.emit(event.reply, event=event)
        else:
            self.emit(event.reply, event=event)

    # ---- input ----------------------------------------------------------------------------

    async def handle_line(self, line: str) -> None:
        """One line of input, in this adapter's mode. Raises StoreFailed, once answered, when the
        database has failed for good (the process must exit); a busy database is only answered."""
        if self.mode == "jsonl":
            await self._handle_json(line)
        elif text := line.strip():
            try:
                reply = await self._core(self._handle(self.user, text))
            except FATAL_ERRORS:
                raise
            except Exception:
                log.exception("console: could not handle %r", text[:200])
                reply = error("Something went wrong with that line (it has been logged). Type `/help` to carry on.")
            if reply is not None:
                self.emit(reply, self.user)
        if self.failure is not None:
            raise self.failure

    async def _core(self, call: Awaitable[Reply | None]) -> Reply | None:
        """The core's answer, or the store's own reply when the database is busy or has failed
        (a failure is remembered: `handle_line` ends the session once the user is answered)."""
        try:
            return await call
        except StoreError as exc:
            if isinstance(exc, StoreFailed):
                self.failure = exc
            return error(exc.reply_text)

    def _read_json(self, line: str) -> tuple[str, str, str]:
        """(user, "text" or "action", value) from a JSON line, or ValueError saying what is wrong."""
        try:
            obj = json.loads(line)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        except ValueError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise ValueError("expected a JSON object")
        user = obj.get("user", self.user)  # a missing user is the default user; null is not
        if not isinstance(user, str):
            raise ValueError(f'"user" must be a string of {NAME_RULE}')
        if not _NAME.fullmatch(user):
            raise ValueError(f'"user" must be {NAME_RULE}')
        given = [key for key in ("text", "action") if key in obj]
        if len(given) != 1:
            raise ValueError('give "text" or "action"' if not given else 'give "text" or "action", not both')
        key = given[0]
        value = obj[key]
        if not isinstance(value, str):
            raise ValueError(f'"{key}" must be a string')
        if len(value) > MAX_FIELD:
            raise ValueError(f'"{key}" is longer than {MAX_FIELD} characters')
        if key == "action" and not value.strip():
            raise ValueError('"action" is empty')
        return user, key, without_lone_surrogates(value)

    async def _handle_json(self, line: str) -> None:
        if not line.strip():
            return
        try:
            user, key, value = self._read_json(line)
        except ValueError as exc:
            self._json_error(f"bad input line: {exc}", line)
            return
        try:
            if key == "action":
                reply = await self._core(self.companion.handle_action(self.actor(user), value))
            else:
                reply = await self._core(self._handle(user, value))
        except FATAL_ERRORS:
            raise
        except Exception:
            log.exception("console: could not handle %s %r", key, value[:200])
            self._json_error(f"could not handle this {key} (it has been logged)", line)
            return
        if reply is not None:
            self.emit(reply, user)

    async def _handle(self, user: str, text: str) -> Reply | None:
        word, _, rest = text.partition(" ")
        if word == "/as":
            name = rest.strip()
            if not _NAME.fullmatch(name):
                return error(f"Usage: `/as NAME` ({NAME_RULE}, up to 32).")
            self.user = name
            return Reply(text=f"You are now **{clean_name(name)}**.", kind="info")
        if word in ("/help", "/start"):
            reply = self.companion.help(self.actor(user), CONSOLE_EXTRA)
        elif re.fullmatch(r"/[0-9]+", word):
            actions = self.pressable(user)
            index = int(word[1:]) if len(word) < 10 else 0
            if not 1 <= index <= len(actions):
                return error(f"There is no button {word[1:]}: the buttons to press are /1 to /{len(actions)}."
                             if actions else "There is no button to press: no live question is open and your replies had none.")
            reply = await self.companion.handle_action(self.actor(user), actions[index - 1])
        elif word == "/reply":
            form = self.forms.get(user.lower())
            if form is None:
                return error("There is no form to fill in: none of your replies asked for text.")
            reply = await self.companion.handle_action(self.actor(user), form, typed=rest)
        else:
            reply = await handle_text(self.companion, self.actor(user), text)
        if reply is not None:
            self.remember(user, reply)
        return reply

    async def run_lines(self, lines: IO[str]) -> None:
        """Piped or JSONL input: one line at a time until end of input. Bytes that are not UTF-8
        become U+FFFD; a line over MAX_LINE_BYTES gets an error and its rest is skipped."""
        while True:
            try:
                line = await _in_daemon_thread(read_line, lines)
            except LineTooLong:
                message = f"that line is longer than {MAX_LINE_BYTES} bytes; it was skipped"
                if self.mode == "jsonl":
                    self._json_error(f"bad input line: {message}", "")
                else:
                    self.emit(error(message[0].upper() + message[1:] + "."), self.user)
                continue
            if line is None:
                return
            if line.strip() in ("/quit", "/exit") and self.mode != "jsonl":
                return
            await self.handle_line(line)

    async def run_interactive(self, input=None, output=None) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        console = self.console
        if console is None:
            raise AdapterError("run_interactive needs a ConsoleAdapter made with mode='interactive'")

        history = FileHistory(str(self.history_path)) if self.history_path else InMemoryHistory()
        session: PromptSession = PromptSession(history=history, input=input, output=output)
        console.print(f"[bold]{self.companion.course.title}[/bold] — course companion. "
                      "Type [bold]/help[/bold] for commands, [bold]/lesson[/bold] to start reading, Ctrl-D to leave.")
        # Stray writes to stdout or stderr (a warning in the log) also go above the prompt.
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
                except (StoreFailed, sqlite3.Error, OSError):
                    raise  # the database or the terminal failed: the companion exits with a message
                except Exception as exc:  # keep the session alive; the log has the details
                    log.exception("console: could not handle %r", line[:200])
                    console.print(f"[red]Something went wrong: {exc}[/red]")


def read_line(stream: IO[str]) -> str | None:
    """The next line of `stream` (None at its end), read as bytes when it has a buffer so that
    only `\\n` ends a line and undecodable bytes cannot stop the session."""
    binary = getattr(stream, "buffer", None)
    if binary is None:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith("\n"):
                pass
            raise LineTooLong
        return line or None
    raw = binary.readline(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
        while (rest := binary.readline(1 << 16)) and not rest.endswith(b"\n"):
            pass
        raise LineTooLong
    return raw.decode("utf-8", "replace") if raw else None


def export_folder(companion: Companion) -> Path:
    """Where the console writes a reply's file (`/my-data`): COMPANION_EXPORT_DIR, or `exports/`
    beside the database."""
    configured = os.environ.get("COMPANION_EXPORT_DIR", "").strip()
    if configured:
        return Path(configured)
    if is_postgres_url(companion.settings.database):  # no folder beside a database on a server: the working one
        return Path("exports")
    return Path(companion.settings.database).parent / "exports"


class _CurrentStderr:
    """A stream that writes to whatever `sys.stderr` is at the moment: under prompt_toolkit's
    patch_stdout, a log line prints above the prompt instead of over it."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def quiet_terminal_logging(root: logging.Logger | None = None) -> None:
    """The interactive console shows warnings and errors only. The log's handlers that write to
    a terminal are raised to WARNING (a handler writing to a file, `companion 2>>companion.log`,
    keeps COMPANION_LOG_LEVEL) and write above the prompt."""
    root = root or logging.getLogger()
    for handler in root.handlers:
        stream = getattr(handler, "stream", None)
        if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
            continue
        try:
            to_terminal = stream is None or stream.isatty()
        except (AttributeError, ValueError):
            to_terminal = False
        if to_terminal:
            handler.setLevel(max(handler.level, logging.WARNING))
            if stream in (sys.stderr, sys.__stderr__):
                handler.setStream(_CurrentStderr())


async def _in_daemon_thread(read: Callable[[IO[str]], T], lines: IO[str]) -> T:
    """`read(lines)` on a daemon thread: a process that must exit (its database failed) is never
    held by a read blocked on an open stdin, as it would be on asyncio's executor threads."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():
            outcome()

    def work() -> None:
        outcome: Callable[[], None]
        try:
            outcome = functools.partial(done.set_result, read(lines))
        except BaseException as exc:  # handed to the awaiting task, which raises it
            outcome = functools.partial(done.set_exception, exc)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this line any more
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=work, name="console-stdin", daemon=True).start()
    return await done


async def run_console(companion: Companion, mode: str, user: str, stdin: IO[str] | None = None, out: IO[str] | None = None) -> None:
    if not _NAME.fullmatch(user):
        raise AdapterError(f"--user must be {NAME_RULE}, got {user[:40]!r}")
    if mode == "interactive":
        quiet_terminal_logging()
    adapter = ConsoleAdapter(companion, out=out, mode=mode, user=user)
    async with companion.live.running({"console"}):
        await companion.live.advance_due()  # resume or close sessions left from a previous run
        if mode == "interactive":
            await adapter.run_interactive()
        else:
            await adapter.run_lines(stdin or sys.stdin)

"""Showing a Reply in a terminal: rich formatting for people, plain text for pipes, JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot.core.replies import Reply


def button_lines(reply: Reply) -> list[str]:
    lines = []
    if reply.buttons:
        lines.append("  ".join(f"[/{i}] {b.label}" for i, b in enumerate(reply.buttons, start=1)))
    if reply.choices:
        lines.append("(answer with every letter that applies, e.g. /answer A C)")
    if reply.text_input:
        lines.append(f"(type /answer and then: {reply.text_input.label.lower()})")
    return lines


def save_file(reply: Reply, folder: Path) -> Path | None:
    """The console has no attachments: a file in a reply is written next to the user."""
    if reply.file is None:
        return None
    path = folder / reply.file.filename
    path.write_bytes(reply.file.content)
    return path


def plain(reply: Reply) -> str:
    """A reply as plain text: title, Markdown as written, then the buttons."""
    lines = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    lines.append(reply.text)
    lines += button_lines(reply)
    return "\n".join(lines)


def chat_markdown(text: str) -> str:
    """Chat platforms break lines where the text does; CommonMark joins them. Mark each line
    break outside code blocks as a hard break so the terminal shows what Discord or Slack would."""
    out, fenced = [], False
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if not fenced and line.strip() and following.strip() and not line.endswith("  "):
            line += "  "
        out.append(line)
    return "\n".join(out)


def rich_print(console: Console, reply: Reply) -> None:
    style = {"error": "yellow", "live-question": "magenta", "live-closed": "cyan", "live-ended": "green"}.get(reply.kind, "blue")
    body = Markdown(chat_markdown(reply.text))
    if reply.title:
        console.print(Panel(body, title=Text(reply.title, style="bold"), border_style=style, expand=False))
    else:
        console.print(body)
    for line in button_lines(reply):
        console.print(Text(line, style="dim"))


def jsonl(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)

"""Showing a Reply in a terminal: rich formatting for people, plain text for pipes, JSON for scripts."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.text import Text

from bot.core.replies import Reply

from ..markdown_blocks import BlockStyle, render_blocks

# Chat text breaks lines where its author did (`breaks`); raw HTML stays text; tables as on the
# course site.
_md = MarkdownIt("commonmark", {"breaks": True, "html": False}).enable(["strikethrough", "table"])
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def button_lines(reply: Reply) -> list[str]:
    lines = []
    if reply.buttons:
        lines.append("  ".join(f"[/{i}] {b.label}" for i, b in enumerate(reply.buttons, start=1)))
    if reply.choices:
        lines.append("(answer with every letter that applies, e.g. /answer A C)")
    if reply.text_input:
        lines.append(f"(type /reply and then: {reply.text_input.label.lower()})")
    return lines


def save_files(reply: Reply, folder: Path) -> list[Path]:
    """The console has no attachments: each file in a reply (a `/my-data` export, a gradebook, a
    chart) is written to `folder` (the exports folder, created if needed), readable by its owner
    only, and the console names where it went."""
    if not reply.files:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file in reply.files:
        path = folder / (Path(file.filename).name or "file")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(file.content)
        paths.append(path)
    return paths


# ---- plain text ---------------------------------------------------------------------------


def _inline_plain(tokens: list[Token]) -> str:
    """Inline Markdown as the words it shows: emphasis and code marks dropped, a link as
    `label (url)` (just the label when it is the URL itself or points inside the page)."""
    out: list[str] = []
    links: list[tuple[str, int]] = []  # (href, where its label starts in `out`)
    for tok in tokens:
        t = tok.type
        if t in ("text", "code_inline", "html_inline"):
            out.append(tok.content)
        elif t in ("softbreak", "hardbreak"):
            out.append("\n")
        elif t == "link_open":
            links.append((str(tok.attrs.get("href", "")), len(out)))
        elif t == "link_close" and links:
            href, start = links.pop()
            label = "".join(out[start:])
            shown = href.removeprefix("mailto:")
            if href and not href.startswith("#") and shown not in (label, label.strip("<>")):
                out.append(f" ({href})")
        elif t == "image":
            out.append(tok.content or str(tok.attrs.get("alt", "")) or "image")
        elif tok.children:
            out.append(_inline_plain(tok.children))
        # strong/em/s open and close: nothing
    return "".join(out)


def _plain_table(rows: list[list[str]]) -> str:
    """Aligned columns; an empty row (the end of the header) becomes a rule."""
    cells = [r for r in rows if r]
    count = max((len(r) for r in cells), default=0)
    widths = [max((len(r[c]) for r in cells if c < len(r)), default=0) for c in range(count)]
    return "\n".join(" | ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip() if r else "-+-".join("-" * w for w in widths)
                     for r in rows)


_PLAIN = BlockStyle(
    inline=_inline_plain,
    bullet=lambda depth: "- ",
    code=lambda code: "\n".join("    " + line if line else "" for line in code.split("\n")),
    table=_plain_table,
    html=lambda html: html,
    rule="-" * 10,
    indent="  ",
    cell=lambda text: " ".join(text.split()),
    header_rule=True,
    rstrip=True,
)


def markdown_to_plain(markdown: str) -> str:
    """Markdown as readable plain text, from markdown-it-py's tokens: headings as their own
    lines, no emphasis marks or backticks, links as `label (url)`, lists with `-` and `1.`,
    quotes with `> `, code blocks indented, tables as aligned columns. Line breaks inside a
    paragraph are kept, because chat text breaks lines where the author did."""
    return render_blocks(_md.parse(markdown or ""), _PLAIN)


def plain(reply: Reply) -> str:
    """A reply as plain text: the title, the Markdown made plain, then the buttons."""
    lines = []
    if reply.title:
        lines.append(f"== {reply.title} ==")
    lines.append(markdown_to_plain(reply.text))
    lines += button_lines(reply)
    return "\n".join(lines)


# ---- rich text ----------------------------------------------------------------------------


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


# ---- JSON lines ---------------------------------------------------------------------------


def jsonl(obj: dict[str, Any]) -> str:
    """One JSON line that any stream can take: ASCII only (everything else as `\\u` escapes), so
    no character, not even a lone surrogate from a script's input, can make the writer fail."""
    return json.dumps(obj, ensure_ascii=True)


def without_lone_surrogates(text: str) -> str:
    """A lone UTF-16 surrogate (`"\\ud83d"` in JSON) is no character: it cannot be stored or
    printed as UTF-8. It becomes U+FFFD, the replacement character."""
    return _LONE_SURROGATE.sub("\ufffd", text)

"""Markdown → Slack mrkdwn, rendered from markdown-it-py tokens.

Why not a string-rewriting converter: Slack treats `<…>` as a mention, a channel ping or a
link (`<!channel>`, `<@U123>`, `<https://x|y>`), and `&` starts an entity. Converters that
rewrite Markdown text keep those sequences intact, so lesson content or a student's message
could ping a whole channel. Here every text token is entity-escaped (`&` `<` `>`), and the
only `<…>` we emit come from trusted structures: a Markdown link token with an http(s) or
mailto URL, and only when its visible text does not name another address: a disguised link
(`[http://good.example](http://evil.example)`, from a display name or a chat message) is shown
as its text followed by its target in parentheses, both as plain text.

Text with very many `[` (thousands) is rendered without link syntax at all: markdown-it's link
search is quadratic in them (100,000 `[` take seconds), and such text holds no real link.

What is rendered: bold (`*x*`), italics (`_x_`), strikethrough, inline code, fenced and
indented code blocks, links, bullet and ordered lists (nested), headings (as bold lines),
block quotes, rules, and tables (as a code block). Single line breaks inside a paragraph are
kept, because chat text breaks lines where the author did.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..markdown_blocks import BlockStyle, render_blocks
from ..safety import disguised

_md = MarkdownIt("commonmark", {"breaks": True, "html": False}).enable(["strikethrough", "table"]).disable("autolink")
#: For text with more than `MAX_BRACKETS` `[`: brackets are plain text, so no link can form.
_md_no_links = MarkdownIt("commonmark", {"breaks": True, "html": False}).enable(["strikethrough", "table"]).disable(
    ["autolink", "link", "image", "reference"])
MAX_BRACKETS = 1000

SAFE_SCHEMES = ("http://", "https://", "mailto:")


def escape(text: str) -> str:
    """Slack's three control characters as entities: nothing in `text` can form a mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_url(url: str) -> str | None:
    url = url.strip()
    if not url.lower().startswith(SAFE_SCHEMES):
        return None
    # `|` ends the URL part of `<url|label>`, `>` ends the link: neither may appear raw.
    return escape(url).replace("|", "%7C").replace(" ", "%20")


def _visible(tokens: list[Token]) -> str:
    """The text a reader sees for these inline tokens (a link's label)."""
    return "".join(t.content if t.type in ("text", "code_inline", "image") else "\n" if t.type.endswith("break") else ""
                   for t in tokens)


def _link_end(tokens: list[Token], start: int) -> int:
    """The index of the `link_close` matching the `link_open` at `start` (or the end)."""
    depth = 0
    for j in range(start, len(tokens)):
        if tokens[j].type == "link_open":
            depth += 1
        elif tokens[j].type == "link_close":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens)


def _inline(tokens: list[Token]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        t = tok.type
        i += 1
        if t == "text":
            out.append(escape(tok.content))
        elif t == "softbreak" or t == "hardbreak":
            out.append("\n")
        elif t == "code_inline":
            # Backticks cannot be escaped in mrkdwn; drop them from the inside so the span stays closed.
            out.append("`" + escape(tok.content.replace("`", "'")) + "`")
        elif t == "strong_open" or t == "strong_close":
            out.append("*")
        elif t == "em_open" or t == "em_close":
            out.append("_")
        elif t == "s_open" or t == "s_close":
            out.append("~")
        elif t == "link_open":
            end = _link_end(tokens, i - 1)
            inside, i = tokens[i:end], end + 1
            href = str(tok.attrs.get("href", ""))
            url = _safe_url(href)
            label = _inline(inside)
            if url and disguised(_visible(inside), href):
                # The label names another address: show both, as text, so nothing hides the target.
                out.append(f"{label} ({escape(href.strip())})")
            elif url:
                out.append(f"<{url}|{label}>")
            else:
                out.append(label)
        elif t == "link_close":
            continue
        elif t == "image":
            src = str(tok.attrs.get("src", ""))
            url = _safe_url(src)
            alt = escape(tok.content or "image")
            if url and disguised(tok.content or "", src):
                out.append(f"{alt} ({escape(src.strip())})")
            else:
                out.append(f"<{url}|{alt}>" if url else alt)
        elif t in ("html_inline", "html_block"):
            out.append(escape(tok.content))
        elif tok.children:
            out.append(_inline(tok.children))
        else:
            out.append(escape(tok.content))
    return "".join(out)


_BLOCK_GAP = re.compile(r"\n[ \t]*\n+(?=[^\s])")


def to_mrkdwn(markdown: str) -> str:
    """Render Markdown as mrkdwn. Every piece of text is escaped; see the module docstring.

    Replies are assembled from recurring parts (a question, its feedback, a heading with a
    counter), so the text is rendered block by block, at blank lines that start a new top-level
    block, and each block is cached. Text with a code fence is rendered whole, as a fence may
    hold blank lines."""
    markdown = markdown or ""
    if "```" in markdown or "~~~" in markdown:
        return _render(markdown)
    return "\n\n".join(filter(None, (_render(chunk) for chunk in _BLOCK_GAP.split(markdown))))


def _code_block(text: str) -> str:
    """A fenced block; a fence inside would end it early, so it becomes look-alike marks."""
    return f"```\n{text.replace('```', 'ˋˋˋ')}\n```"


def _mrkdwn_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[c]) if c < len(r) else 0 for r in rows) for c in range(max(len(r) for r in rows))]
    return _code_block("\n".join(" | ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)).rstrip() for r in rows))


_MRKDWN = BlockStyle(
    inline=_inline,
    bullet=lambda depth: "• " if depth % 2 else "◦ ",
    code=lambda code: _code_block(escape(code)),
    table=_mrkdwn_table,
    html=escape,
    rule="──────────",
    indent="    ",
    heading=lambda text: f"*{text.replace('*', '')}*" if text.strip() else text,
)


@lru_cache(maxsize=8192)
def _render(markdown: str) -> str:
    tokens = (_md_no_links if markdown.count("[") > MAX_BRACKETS else _md).parse(markdown)
    return render_blocks(tokens, _MRKDWN)


def plain(text: str) -> str:
    """Text for a `plain_text` object (button labels, modal titles, headers): Slack does not
    parse these, but escaping keeps every outgoing string uniform and safe."""
    return escape(text)

"""Markdown's block structure laid out as lines of text, from markdown-it-py's tokens.

The console's plain text and Slack's mrkdwn both turn the core's Markdown into lines with the
same structure: paragraphs and headings separated by a blank line, nested bullet and numbered
lists whose continuation lines are indented under their item, block quotes prefixed with `> `,
code blocks, rules and tables. Only the surface differs (how inline text is written, the bullet
marks, how code and tables are shown), so one walk over the block tokens does the layout and a
`BlockStyle` says the rest: a change to how lists or quotes nest is made once, for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markdown_it.token import Token


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class BlockStyle:
    #: Inline tokens (a paragraph's or a heading's children) as text.
    inline: Callable[[list[Token]], str]
    #: The bullet of an unordered list item at nesting depth `depth` (1 for the outermost).
    bullet: Callable[[int], str]
    #: A code block's content (without its trailing newline) as shown.
    code: Callable[[str], str]
    #: Table rows as shown; an empty row marks the end of the header (when `header_rule`).
    table: Callable[[list[list[str]]], str]
    #: A raw HTML block's content as shown.
    html: Callable[[str], str]
    #: A thematic break (`---`).
    rule: str
    #: What each nesting level beyond the first indents a list item by.
    indent: str
    #: A heading's inline text as shown.
    heading: Callable[[str], str] = _same
    #: A table cell's inline text as shown.
    cell: Callable[[str], str] = _same
    #: Whether an empty row is put between a table's header and its body.
    header_rule: bool = False
    #: Whether trailing spaces are stripped from every line.
    rstrip: bool = False


def render_blocks(tokens: list[Token], style: BlockStyle) -> str:
    """The block tokens of one parsed document, laid out as lines in `style`."""
    lines: list[str] = []
    lists: list[list] = []  # stack of [ordered, counter]
    quote = 0
    pending_item: str | None = None  # the bullet waiting for its item's first paragraph
    rows: list[list[str]] = []
    row: list[str] | None = None

    def emit(text: str) -> None:
        nonlocal pending_item
        indent = style.indent * max(0, len(lists) - 1)
        for i, line in enumerate(text.split("\n")):
            if pending_item is not None and i == 0:
                line = f"{indent}{pending_item}{line}"
            elif lists and line:
                line = f"{indent}   {line}"
            if quote:
                line = "> " * quote + line
            lines.append(line.rstrip() if style.rstrip else line)
        pending_item = None

    def blank() -> None:
        if lines and lines[-1] != "" and not lists:
            lines.append("")

    for i, tok in enumerate(tokens):
        t = tok.type
        if t == "heading_open":
            blank()
        elif t == "inline":
            content = style.inline(tok.children or [])
            if row is not None:
                row.append(style.cell(content))
            elif i and tokens[i - 1].type == "heading_open":
                emit(style.heading(content))
            else:
                emit(content)
        elif t in ("heading_close", "paragraph_close"):
            blank()
        elif t == "bullet_list_open":
            lists.append([False, 0])
        elif t == "ordered_list_open":
            lists.append([True, int(tok.attrs.get("start", 1) or 1) - 1])
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            blank()
        elif t == "list_item_open":
            if pending_item is not None:
                emit("")
            current = lists[-1]
            if current[0]:
                current[1] += 1
                pending_item = f"{current[1]}. "
            else:
                pending_item = style.bullet(len(lists))
        elif t == "list_item_close":
            if pending_item is not None:
                emit("")
        elif t == "blockquote_open":
            quote += 1
        elif t == "blockquote_close":
            quote -= 1
            if lines and lines[-1] == "":
                lines.pop()
            blank()
        elif t in ("fence", "code_block"):
            emit(style.code(tok.content.rstrip("\n")))
            blank()
        elif t == "hr":
            emit(style.rule)
            blank()
        elif t == "html_block":
            emit(style.html(tok.content.rstrip("\n")))
            blank()
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            if row is not None:
                rows.append(row)
            row = None
        elif t == "thead_close" and rows and style.header_rule:
            rows.append([])
        elif t == "table_close":
            emit(style.table(rows))
            rows = []
            blank()
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)

"""Lessons: the two depths of a chapter's Markdown, and the pages each depth is read in.

A lesson is the course site's Markdown. `<!-- SHALLOW -->…<!-- /SHALLOW -->` and
`<!-- DEEP -->…<!-- /DEEP -->` blocks belong to one depth; text outside both belongs to both.

Pages must fit every platform: a Discord message holds 2,000 characters and a Slack
section 3,000 (more after `&`/`<`/`>` are escaped), so a page holds at most `PAGE_LIMIT`
characters of Markdown, leaving room for the adapter's header and footer. Pages break at
headings first, then between blocks (paragraphs, list items), never inside a code block,
a table or a list item; a block that alone exceeds a page is a content error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from . import actions

DEPTHS = actions.DEPTHS  # the two depths, spelt once (bot/core/actions.py)
PAGE_LIMIT = 1800

_MARKER = re.compile(r"^\s*<!--\s*(/?)\s*([A-Za-z]+)\s*-->\s*$")
_LOOKS_LIKE_MARKER = re.compile(r"<!--.*\b(shallow|deep)\b", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*<!--.*?-->\s*$", re.DOTALL)
_md = MarkdownIt("commonmark").enable("table")

#: What a panel callout becomes in the bot: (button label, action id, sentence for the page).
PANEL_ACTIONS = {
    "chat": (
        "💬 Chat with the assistant",
        actions.ChatOpen().format(),
        "Chat with a simulated instruction-tuned assistant right here: press **Chat with the assistant** "
        "(or just send me a message), type an instruction or a question, and see it respond.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """A content problem at a place in a file; `str()` gives `file:line: message`."""

    path: str
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}: {tag}{self.message}"


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    title: str  # the heading this page sits under
    text: str  # Markdown, at most PAGE_LIMIT characters
    line: int  # where in lesson.md the page starts
    actions: tuple[str, ...] = ()  # panel actions offered on this page ("chat")


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    text: str  # the heading and everything under it, Markdown
    line: int


@dataclass
class Lesson:
    chapter: int
    path: str
    pages: dict[str, list[Page]] = field(default_factory=dict)
    sections: dict[str, list[Section]] = field(default_factory=dict)

    def section(self, title: str, depth: str) -> Section | None:
        want = heading_key(title)
        return next((s for s in self.sections[depth] if heading_key(s.title) == want), None)


def heading_key(title: str) -> str:
    """Headings compared without emoji, punctuation or case ("Congratulations! 🎉")."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in title.casefold()).split())


def split_depths(text: str, path: str) -> tuple[dict[str, list[tuple[int, str]]], list[Problem]]:
    """Split the lesson into its depths, keeping each line's number for later errors."""
    out: dict[str, list[tuple[int, str]]] = {d: [] for d in DEPTHS}
    problems: list[Problem] = []
    open_depth: str | None = None
    open_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MARKER.match(line)
        if match and match.group(2).lower() in DEPTHS:
            closing, depth = match.group(1) == "/", match.group(2).lower()
            name = depth.upper()
            if not closing and open_depth:
                problems.append(Problem(path, number, f"<!-- {name} --> opens inside the {open_depth.upper()} block opened at line {open_line}: depth blocks cannot nest"))
            elif not closing:
                open_depth, open_line = depth, number
            elif open_depth is None:
                problems.append(Problem(path, number, f"<!-- /{name} --> closes a block that was never opened"))
            elif open_depth != depth:
                problems.append(Problem(path, number, f"<!-- /{name} --> closes the {open_depth.upper()} block opened at line {open_line}; expected <!-- /{open_depth.upper()} -->"))
                open_depth = None
            else:
                open_depth = None
            continue
        if match or _LOOKS_LIKE_MARKER.search(line):
            problems.append(Problem(path, number, f"malformed depth marker {line.strip()!r}: use <!-- SHALLOW -->, <!-- /SHALLOW -->, <!-- DEEP --> or <!-- /DEEP --> alone on a line"))
            continue
        for depth in DEPTHS:
            if open_depth in (None, depth):
                out[depth].append((number, line))
    if open_depth:
        problems.append(Problem(path, open_line, f"<!-- {open_depth.upper()} --> is never closed"))
    return out, problems


@dataclass
class _Block:
    kind: str  # heading, paragraph, list_item, fence, table, blockquote, hr, html
    start: int  # index into the depth's lines
    end: int
    level: int = 0  # heading level
    title: str = ""
    list_prefix: bool = False  # first item of a list: keeps the blank line before it


#: A block of a depth as it goes on a page: the block, its Markdown, and its panel action if any.
_Piece = tuple[_Block, str, str | None]


def _blocks(lines: list[str]) -> list[_Block]:
    """Top-level Markdown blocks, with lists opened up into their items."""
    tokens = _md.parse("\n".join(lines))
    blocks: list[_Block] = []
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        start, end = tok.map  # the block's lines, [start, end)
        if tok.level == 0 and tok.nesting in (0, 1):
            kind = tok.type.removesuffix("_open")
            if kind in ("bullet_list", "ordered_list"):
                continue  # its items are taken below
            if kind == "heading":
                blocks.append(_Block("heading", start, end, level=int(tok.tag[1]), title=tokens[i + 1].content))
            elif kind == "html_block" and _COMMENT.match(tok.content):
                continue  # an author's comment, not for readers
            else:
                blocks.append(_Block(kind, start, end))
        elif tok.type == "list_item_open" and tok.level == 1:
            blocks.append(_Block("list_item", start, end))
    return blocks


def _panel_action(block_text: str, panels: dict[str, str]) -> str | None:
    first = block_text.lstrip("> \t").split("\n", 1)[0]
    bold = re.match(r"\*\*(.+?)\*\*", first)
    if not bold:
        return None
    return panels.get(heading_key(bold.group(1)))


def _rewrite_panel(block_text: str, action: str) -> str:
    first = block_text.lstrip("> \t").split("\n", 1)[0].strip()
    return f"> {first}\n> {PANEL_ACTIONS[action][2]}"


def build_depth(
    numbered: list[tuple[int, str]], path: str, depth: str, panels: dict[str, str], limit: int = PAGE_LIMIT
) -> tuple[list[Page], list[Section], list[Problem]]:
    """Paginate one depth of a lesson and index its sections."""
    lines = [text for _, text in numbered]
    source_line = [n for n, _ in numbered]
    problems: list[Problem] = []
    pieces: list[_Piece] = []
    for block in _blocks(lines):
        text = "\n".join(lines[block.start : block.end]).strip("\n")
        action = _panel_action(text, panels) if block.kind == "blockquote" else None
        if action:
            text = _rewrite_panel(text, action)
        if len(text) > limit:
            what = {"fence": "code block", "code_block": "code block", "table": "table", "list_item": "list item"}.get(block.kind, block.kind.replace("_", " "))
            problems.append(Problem(path, source_line[block.start], f"{what} is {len(text)} characters, longer than one page ({limit}) at depth {depth}: shorten it or split it"))
            continue
        pieces.append((block, text, action))

    if not any(b.kind != "heading" for b, _, _ in pieces):
        first_line = numbered[0][0] if numbered else 1
        problems.append(Problem(path, first_line, f"the lesson has no text at depth {depth}"))
        return [], [], problems

    # Sections: a heading and everything until the next heading of the same or higher level.
    sections: list[Section] = []
    for i, (block, _, _) in enumerate(pieces):
        if block.kind != "heading":
            continue
        body = [pieces[i][1]]
        for other, text, _ in pieces[i + 1 :]:
            if other.kind == "heading" and other.level <= block.level:
                break
            body.append(text)
        sections.append(Section(block.title, block.level, _join(body, pieces[i:]), source_line[block.start]))

    # Pages: groups of blocks that start at a heading; packed greedily, split only when full.
    groups: list[list[int]] = []
    for i, (block, _, _) in enumerate(pieces):
        if block.kind == "heading" or not groups:
            groups.append([])
        groups[-1].append(i)

    pages_idx: list[list[int]] = [[]]
    for group in groups:
        if _size(pieces, pages_idx[-1] + group) <= limit:
            pages_idx[-1].extend(group)
            continue
        if pages_idx[-1]:
            pages_idx.append([])
        for i in group:
            if pages_idx[-1] and _size(pieces, pages_idx[-1] + [i]) > limit:
                pages_idx.append([])
            pages_idx[-1].append(i)
    # A heading never ends a page alone: move trailing headings to the next page.
    for n in range(len(pages_idx) - 1):
        while pages_idx[n] and pieces[pages_idx[n][-1]][0].kind == "heading" and len(pages_idx[n]) > 1:
            moved = pages_idx[n].pop()
            if _size(pieces, [moved] + pages_idx[n + 1]) > limit:
                pages_idx[n].append(moved)
                break
            pages_idx[n + 1].insert(0, moved)

    pages: list[Page] = []
    current = ""  # the last heading before the page being built
    for number, idx in enumerate((p for p in pages_idx if p), start=1):
        first = pieces[idx[0]][0]
        title = first.title if first.kind == "heading" else (f"{current} (continued)" if current else "Lesson")
        actions = tuple(dict.fromkeys(a for i in idx if (a := pieces[i][2])))
        text = _join([pieces[i][1] for i in idx], [pieces[i] for i in idx])
        pages.append(Page(number, title, text, source_line[first.start], actions))
        current = next((pieces[i][0].title for i in reversed(idx) if pieces[i][0].kind == "heading"), current)
    return pages, sections, problems


def _join(texts: list[str], pieces: list[_Piece]) -> str:
    """Blocks joined by a blank line, except list items of one list, which stay together."""
    out = ""
    for k, text in enumerate(texts):
        if k == 0:
            out = text
            continue
        prev_kind, kind = pieces[k - 1][0].kind, pieces[k][0].kind
        tight = prev_kind == "list_item" and kind == "list_item" and pieces[k - 1][0].end == pieces[k][0].start
        out += ("\n" if tight else "\n\n") + text
    return out


def _size(pieces: list[_Piece], idx: list[int]) -> int:
    return len(_join([pieces[i][1] for i in idx], [pieces[i] for i in idx]))


def build_lesson(chapter: int, text: str, path: str, panels: dict[str, str]) -> tuple[Lesson, list[Problem]]:
    depths, problems = split_depths(text, path)
    lesson = Lesson(chapter, path)
    found: dict[tuple[int, str], list[str]] = {}  # a block shared by both depths is reported once
    for depth in DEPTHS:
        pages, sections, more = build_depth(depths[depth], path, depth, panels)
        lesson.pages[depth], lesson.sections[depth] = pages, sections
        for p in more:
            found.setdefault((p.line, p.message.replace(f"at depth {depth}", "at depth {}")), []).append(depth)
    for (line, message), where in found.items():
        problems.append(Problem(path, line, message.format(" and ".join(where))))
    return lesson, problems

"""Reading a lesson: the page a user asked for, with the buttons to move on, and their place kept.

Each user's reading position per chapter and preferred depth are stored, so `/lesson` with
no arguments opens where they left off. Switching depth lands on the page of the other depth
that covers the same part of the lesson.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from . import actions
from .actions import Depth
from .clock import iso
from .context import CoreContext
from .lessons import DEPTHS, PANEL_ACTIONS, Page
from .progress import completed_by, completion_text, student_rows
from .refusal import Refusal
from .replies import Button, PageRef, Reply
from .store import Store
from .users import OWN_ROWS, Actor, find_user, touch_user


@dataclass(frozen=True)
class PageRequest:
    chapter: int | None = None
    depth: Depth | None = None
    page: int | None = None  # 1-based; None: where the user left off
    near_line: int | None = None  # switch depth: the page covering this lesson line
    step: int = 0  # +1 next, -1 previous, relative to the remembered page


@dataclass(frozen=True)
class Position:
    """Where a user last read: a chapter, at a depth, on a page (1-based)."""

    chapter: int
    depth: Depth
    page: int


def _latest_position(conn: sqlite3.Connection, user_pk: int) -> Position | None:
    row = conn.execute("SELECT chapter, depth, page FROM reading_positions WHERE user_pk = ? ORDER BY updated_at DESC LIMIT 1",
                       (user_pk,)).fetchone()
    return Position(row["chapter"], row["depth"], row["page"]) if row else None


async def last_position(store: Store, actor: Actor) -> Position | None:
    """The page the actor read last (a "continue where you left off"), None if they never read
    one. A read: it records no visit and takes no write lock."""
    def read(conn: sqlite3.Connection) -> Position | None:
        user = find_user(conn, actor.platform, actor.user_id)
        return _latest_position(conn, user["id"]) if user else None
    return await store.read(read)


def _choose(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, req: PageRequest):
    now = ctx.clock.now()
    user_pk = touch_user(conn, actor, now)
    chapter_no = req.chapter
    if chapter_no is None:
        last = _latest_position(conn, user_pk)
        chapter_no = last.chapter if last and ctx.course.chapter(last.chapter) else ctx.course.chapters[0].number
    chapter = ctx.require_chapter(chapter_no)
    # The preferred depth and the place in this chapter, read together: one statement, one round trip on PostgreSQL.
    row = conn.execute("SELECT u.preferred_depth, p.depth, p.page FROM users u"
                       " LEFT JOIN reading_positions p ON p.user_pk = u.id AND p.chapter = ? WHERE u.id = ?",
                       (chapter_no, user_pk)).fetchone()
    preferred, pos = row["preferred_depth"], (row if row["depth"] is not None else None)
    depth = req.depth or (pos["depth"] if pos else preferred)
    pages = chapter.lesson.pages[depth]
    if req.page is not None:
        number = req.page
    elif req.near_line is not None:
        number = next((p.number for p in reversed(pages) if p.line <= req.near_line), 1)
    elif pos and pos["depth"] == depth:
        number = pos["page"] + req.step
    else:
        number = 1
    note = None
    if not 1 <= number <= len(pages):
        if req.step:
            note = "That was the last page of this depth." if req.step > 0 else "This is the first page."
            number = max(1, min(number, len(pages)))
        else:
            raise Refusal(f"Chapter {chapter_no} has {len(pages)} page{'s' * (len(pages) != 1)} at {depth} depth: choose 1–{len(pages)}.")
    conn.execute(
        "INSERT INTO reading_positions(user_pk, chapter, depth, page, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(user_pk, chapter) DO UPDATE SET depth = excluded.depth, page = excluded.page, updated_at = excluded.updated_at",
        (user_pk, chapter_no, depth, number, iso(now)),
    )
    first_read = conn.execute("SELECT 1 FROM pages_read WHERE user_pk = ? AND chapter = ? AND depth = ? AND page = ?",
                              (user_pk, chapter_no, depth, number)).fetchone() is None
    completion = None
    if first_read:  # the course's last step? The student's rows, read once, are with this page; without it, before it
        conn.execute("INSERT INTO pages_read(user_pk, chapter, depth, page, first_read_at) VALUES (?, ?, ?, ?, ?)",
                     (user_pk, chapter_no, depth, number, iso(now)))
        rows = student_rows(conn, user_pk)
        if completed_by(ctx, rows, rows._replace(pages_read=rows.pages_read - {(chapter_no, depth, number)})):
            completion = completion_text(ctx, depth, pages[number - 1].text)
    if req.depth:
        conn.execute("UPDATE users SET preferred_depth = ? WHERE id = ?", (depth, user_pk))
    return chapter, depth, pages[number - 1], len(pages), note, completion


async def open_page(ctx: CoreContext, actor: Actor, req: PageRequest) -> Reply:
    if req.depth is not None and req.depth not in DEPTHS:
        raise Refusal(f"Depth must be **shallow** or **deep**, not “{req.depth}”.")
    chapter, depth, page, total, note, completion = await ctx.store.run(_choose, ctx, actor, req, isolation=OWN_ROWS)
    reply = render_page(chapter.number, chapter.title, depth, page, total)
    if note:
        reply.text = f"_{note}_\n\n{reply.text}"
    if completion:
        reply.text += f"\n\n---\n\n{completion}"
        reply.achievements.append("course-complete")
    return reply


def render_page(chapter: int, title: str, depth: Depth, page: Page, total: int) -> Reply:
    other: Depth = "deep" if depth == "shallow" else "shallow"
    buttons = []
    if page.number > 1:
        buttons.append(Button("◀ Previous", actions.LessonPage(chapter, depth, page.number - 1).format()))
    if page.number < total:
        buttons.append(Button("Next ▶", actions.LessonPage(chapter, depth, page.number + 1).format(), "primary"))
    buttons.append(Button(f"Switch to {other}", actions.LessonNear(chapter, other, page.line).format()))
    buttons.append(Button("📝 Quiz me", actions.QuizStart(chapter, depth).format(), "success"))
    for action in page.actions:
        label, action_id, _ = PANEL_ACTIONS[action]
        buttons.append(Button(label, action_id))
    footer = f"\n\n_Page {page.number} of {total} · {depth} depth_"
    if page.number == total:
        footer += " · _end of the lesson: ready for the quiz?_"
    return Reply(
        title=f"Chapter {chapter}: {title} — {page.title}" if not page.title.startswith(f"Chapter {chapter}") else page.title,
        text=page.text + footer,
        buttons=buttons,
        page=PageRef(page.number, total),
        kind="lesson",
    )

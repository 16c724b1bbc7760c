"""Instructor commands: reload the content, reset a student's progress (the class statistics
are bot/core/analytics).

Each passes the core's one instructor gate (`CoreContext.require_instructor`) here, on the
server side, whatever the platform shows or hides: an adapter tells the core that a user is an
instructor (Discord's Manage Server, a Slack admin), and COMPANION_INSTRUCTORS names more.
"""

from __future__ import annotations

from . import actions
from .analytics.roster import IN_YOUR_SERVER
from .content import read_course
from .context import REFUSED, CoreContext
from .refusal import Refusal
from .replies import Button, Reply, quote_user_text
from .users import Actor, lock_person

__all__ = ["REFUSED", "confirm_reset", "reload", "reset"]


async def reload(ctx: CoreContext, actor: Actor) -> Reply:
    ctx.require_instructor(actor)
    course, problems = read_course(ctx.settings.content_dir)
    errors = [p for p in problems if p.severity == "error"]
    if errors or course is None:
        listing = "\n".join(f"- `{p}`" for p in (errors or problems)[:15])
        more = f"\n…and {len(errors) - 15} more." if len(errors) > 15 else ""
        raise Refusal(f"❌ The content has errors, so the current course stays loaded:\n{listing}{more}")
    ctx.replace_course(course)  # every feature sees it; the assistant reindexes its lessons and glossary
    warnings = [p for p in problems if p.severity == "warning"]
    questions = sum(len(c.questions) for c in course.chapters)
    text = f"🔄 Reloaded **{course.title}**: {len(course.chapters)} chapter(s), {questions} questions."
    if warnings:
        text += "\n" + "\n".join(f"- `{w}`" for w in warnings[:10])
    return Reply(text=text, ephemeral=True)


#: The rows a reset removes: what the student did, not who they are (live results are kept).
RESET_TABLES = ("reading_positions", "pages_read", "quiz_attempts", "review_cards")


def _has_progress(conn, user_pk: int) -> bool:
    return any(conn.execute(f"SELECT 1 FROM {table} WHERE user_pk = ? LIMIT 1", (user_pk,)).fetchone() for table in RESET_TABLES)


def _match(conn, actor: Actor, who: str):
    """The members of the instructor's own server or workspace matching an id or a display name.

    Only memberships of `actor.guild` are searched, so an instructor never reaches, nor learns
    about, a student who was never seen there."""
    return conn.execute(
        "SELECT u.id, u.user_id, u.display_name FROM users u JOIN memberships m ON m.user_pk = u.id"
        " WHERE m.guild = ? AND u.platform = ? AND (u.user_id = ? OR LOWER(u.display_name) = LOWER(?)"
        " OR LOWER(u.display_name) = LOWER(?)) ORDER BY u.user_id = ? DESC, u.id",
        (actor.membership, actor.platform, who, who, quote_user_text(who), who)).fetchall()


def _find_student(conn, actor: Actor, who: str):
    rows = _match(conn, actor, who)
    if rows and rows[0]["user_id"] == who:  # an exact id wins over names
        rows = rows[:1]
    if len(rows) > 1:
        return None, "several"
    if not rows:
        return None, "none"
    if not _has_progress(conn, rows[0]["id"]):
        return rows[0], "empty"
    return rows[0], None


def _reset(conn, actor: Actor, user_pk: int):
    """Delete the student's progress if they are still a member of the instructor's place."""
    row = conn.execute("SELECT u.id, u.display_name FROM users u JOIN memberships m ON m.user_pk = u.id"
                       " WHERE u.id = ? AND u.platform = ? AND m.guild = ?", (user_pk, actor.platform, actor.membership)).fetchone()
    if row is None or not _has_progress(conn, user_pk):
        return None
    lock_person(conn, user_pk)  # the student's own page or answer, under way, finishes first
    for table in RESET_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE user_pk = ?", (user_pk,))
    return row["display_name"]


def _no_progress(who: str) -> Refusal:
    return Refusal(f"“{quote_user_text(who[:64])}” has no progress here.")


async def reset(ctx: CoreContext, actor: Actor, who: str) -> Reply:
    """Ask to confirm resetting a student of this server or workspace (`/course reset WHO`)."""
    ctx.require_instructor(actor)
    if actor.guild is None:
        raise Refusal(IN_YOUR_SERVER.format(what="`/course reset`", scope="resets a student of that server only"))
    who = " ".join(who.split()).lstrip("@")
    if not who:
        raise Refusal("Whose progress? `/course reset NAME-or-ID`.")
    if len(who) > 100:
        raise _no_progress(who)
    row, problem = await ctx.store.run(_find_student, actor, who)
    if problem == "several":  # never say how many: that would tell who else goes by the name
        raise Refusal(f"More than one student here goes by “{quote_user_text(who[:64])}”: use their user id.")
    if problem is not None:  # "none" and "empty" read the same, so nothing leaks about other servers
        raise _no_progress(who)
    return Reply(
        text=f"⚠️ Reset the progress of **{quote_user_text(row['display_name'])}** in this course: their reading, quiz attempts "
             "and review queue are deleted (live quiz results are kept). It cannot be undone.",
        buttons=[Button("Reset their progress", actions.ResetConfirm(row["id"]).format(), "danger"), Button("Cancel", actions.ResetCancel().format())],
        ephemeral=True, kind="confirm")


async def confirm_reset(ctx: CoreContext, actor: Actor, user_pk: int) -> Reply:
    """The confirmation button: the instructor and the membership are checked again, now."""
    ctx.require_instructor(actor)
    if actor.guild is None:
        raise Refusal(IN_YOUR_SERVER.format(what="`/course reset`", scope="resets a student of that server only"))
    name = await ctx.store.run(_reset, actor, user_pk)
    if name is None:
        raise Refusal("That student has no progress here (any more): nothing was reset.")
    return Reply(text=f"♻️ Reset the progress of **{quote_user_text(name)}**: reading, quiz attempts and review queue. "
                      "Live quiz results are kept.", ephemeral=True)

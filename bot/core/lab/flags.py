"""Flags: students keep the class's pool clean, instructors decide.

A student shown a classmate's demonstration can flag it as spam, harmful or off-topic. A flagged
demonstration leaves the pool at once (no ranking offers it, the reward model and the export
leave out every pair it is in) until an instructor reviews it: *keep* puts it back, *remove*
keeps it out for good. Instructors review the flags of their own server or workspace only: a
review button pressed from another class is refused, whatever its id says.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable

from .. import actions
from ..actions import FLAG_REASONS
from ..clock import iso
from ..context import CoreContext
from ..refusal import Refusal
from ..replies import Button, Reply, quote_user_text
from ..users import Actor, touch_user
from .pool import scope_of

GONE = "That demonstration is no longer in the lab."
ELSEWHERE = "That demonstration belongs to another class: flags are reviewed in their own server or workspace."
REASON_LABELS = {"spam": "🚫 Spam", "harmful": "☣️ Harmful", "off-topic": "🙃 Off-topic"}
#: Flagged demonstrations shown at once for review (two buttons each).
REVIEW_PAGE = 5


def _quoted(text: str) -> str:
    return "\n".join("> " + line for line in quote_user_text(text).split("\n") if line.strip())


def _to_check(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor) -> sqlite3.Row | None:
    scope = scope_of(actor)
    user_pk = touch_user(conn, actor, ctx.clock.now())
    rows = conn.execute(
        "SELECT d.id, d.instruction, d.response FROM lab_demonstrations d WHERE d.scope = ? AND d.status = 'pool' AND d.user_pk != ?"
        " AND NOT EXISTS (SELECT 1 FROM lab_flags f WHERE f.demonstration_id = d.id AND f.user_pk = ?) ORDER BY d.id DESC LIMIT 50",
        (scope, user_pk, user_pk)).fetchall()
    return random.choice(rows) if rows else None


async def check(ctx: CoreContext, actor: Actor) -> Reply:
    """A classmate's demonstration, with buttons to flag it or move on."""
    row = await ctx.store.run(_to_check, ctx, actor)
    if row is None:
        return Reply(text="🧹 No classmate's demonstration waits to be checked. `/lab write` to add your own.", kind="lab")
    text = (f"🔎 **Check a classmate's demonstration**\n\n**Instruction:** {quote_user_text(row['instruction'])}\n{_quoted(row['response'])}\n\n"
            "Is it spam, harmful or off-topic? A flag takes it out of the pool until an instructor reviews it.")
    buttons = [Button(REASON_LABELS[reason], actions.LabFlag(row["id"], reason).format(), "danger") for reason in FLAG_REASONS]
    return Reply(title="RLHF lab · check", text=text, kind="lab",
                 buttons=[*buttons, Button("✅ Looks fine: next", actions.LabFlagStart().format(), "success")])


def _flag(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, demonstration: int, reason: str) -> str:
    scope = scope_of(actor)
    now = ctx.clock.now()
    user_pk = touch_user(conn, actor, now)
    row = conn.execute("SELECT scope, user_pk, status FROM lab_demonstrations WHERE id = ?", (demonstration,)).fetchone()
    if row is None or row["status"] == "removed":
        raise Refusal(GONE)
    if row["scope"] != scope:
        raise Refusal(ELSEWHERE)
    if row["user_pk"] == user_pk:
        raise Refusal("That is your own demonstration: nothing to flag.")
    conn.execute("INSERT INTO lab_flags(demonstration_id, user_pk, reason, created_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (demonstration_id, user_pk) DO NOTHING", (demonstration, user_pk, reason, iso(now)))
    conn.execute("UPDATE lab_demonstrations SET status = 'flagged' WHERE id = ? AND status = 'pool'", (demonstration,))
    return scope


async def flag(ctx: CoreContext, actor: Actor, demonstration: int, reason: str, changed: Callable[[str], None]) -> Reply:
    scope = await ctx.store.run(_flag, ctx, actor, demonstration, reason)
    changed(scope)
    return Reply(text=f"🚩 Flagged as {reason}: it is out of the pool until an instructor reviews it. Thank you.", kind="lab", replaces=True,
                 buttons=[Button("🔎 Check another", actions.LabFlagStart().format()), Button("🧪 Lab menu", actions.LabMenu().format())])


def _pending(conn: sqlite3.Connection, scope: str) -> list[tuple[sqlite3.Row, list[str]]]:
    rows = conn.execute("SELECT id, instruction, response FROM lab_demonstrations WHERE scope = ? AND status = 'flagged' ORDER BY id LIMIT ?",
                        (scope, REVIEW_PAGE)).fetchall()
    out = []
    for row in rows:
        reasons = conn.execute("SELECT reason, COUNT(*) FROM lab_flags WHERE demonstration_id = ? AND decision IS NULL GROUP BY reason"
                               " ORDER BY reason", (row["id"],)).fetchall()
        out.append((row, [f"{reason} ×{count}" for reason, count in reasons]))
    return out


async def pending(ctx: CoreContext, actor: Actor) -> Reply:
    """An instructor's review list: the class's flagged demonstrations, to keep or remove."""
    ctx.require_instructor(actor)
    scope = scope_of(actor)
    flagged = await ctx.store.read(_pending, scope)
    if not flagged:
        return Reply(title="RLHF lab · flags", text="🧹 No flagged demonstrations in this class.", kind="lab")
    lines, buttons = [], []
    for number, (row, reasons) in enumerate(flagged, 1):
        lines += [f"**{number}.** Flagged: {', '.join(reasons) or 'reviewed flags only'}. **Instruction:** {quote_user_text(row['instruction'])}",
                  _quoted(row["response"]), ""]
        buttons += [Button(f"{number}. Keep", actions.LabReview(row["id"], "keep").format(), "success"),
                    Button(f"{number}. Remove", actions.LabReview(row["id"], "remove").format(), "danger")]
    lines.append("*Keep* returns a demonstration to the pool; *remove* keeps it (and every comparison it is in) out for good.")
    return Reply(title="RLHF lab · flags to review", text="\n".join(lines), kind="lab", buttons=buttons)


def _review(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, demonstration: int, decision: str) -> str:
    scope = scope_of(actor)
    now = iso(ctx.clock.now())
    row = conn.execute("SELECT scope, status FROM lab_demonstrations WHERE id = ?", (demonstration,)).fetchone()
    if row is None:
        raise Refusal(GONE)
    if row["scope"] != scope:
        raise Refusal(ELSEWHERE)
    if row["status"] != "flagged":
        raise Refusal("That demonstration has already been reviewed.")
    conn.execute("UPDATE lab_demonstrations SET status = ? WHERE id = ?", ("pool" if decision == "keep" else "removed", demonstration))
    conn.execute("UPDATE lab_flags SET decision = ?, reviewed_at = ? WHERE demonstration_id = ? AND decision IS NULL",
                 (decision, now, demonstration))
    return scope


async def review(ctx: CoreContext, actor: Actor, demonstration: int, decision: str, changed: Callable[[str], None]) -> Reply:
    ctx.require_instructor(actor)
    scope = await ctx.store.run(_review, ctx, actor, demonstration, decision)
    changed(scope)
    outcome = "is back in the pool" if decision == "keep" else "is removed, with every comparison it is in"
    return Reply(text=f"✅ Reviewed: the demonstration {outcome}.", kind="lab")

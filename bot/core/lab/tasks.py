"""Phase 1 in the lab: write a demonstration for an instruction, or propose an instruction.

A demonstration is the response a student would want an assistant to give: the supervised
fine-tuning data of InstructGPT's first phase. Instructions come from the chapter's `lab.yaml`
and from those the class proposes; a student is offered one they have not answered yet. What a
student writes is bounded (`MAX_DEMONSTRATION`), and wherever it is echoed it is quoted
(`quote_user_text`), so it can form no mention and no link.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass

from .. import actions
from ..actions import MAX_DEMONSTRATION, MAX_PROPOSAL
from ..clock import iso
from ..context import CoreContext
from ..inputs import is_blank
from ..refusal import Refusal
from ..replies import Button, Reply, TextInput, quote_user_text
from ..users import Actor, touch_user
from .pool import lab_chapter, scope_of

GONE = "That instruction is no longer in the lab. `/lab write` gives you another."


@dataclass(frozen=True)
class Instruction:
    """An instruction to demonstrate: from the content (`c`, its id) or proposed by a student (`p`, its row)."""

    origin: str
    ref: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.origin}:{self.ref}"


def _instructions(conn: sqlite3.Connection, ctx: CoreContext, scope: str) -> list[Instruction]:
    chapter = lab_chapter(ctx)
    found = [Instruction("c", i.id, i.text) for i in chapter.lab.instructions]
    rows = conn.execute("SELECT id, text FROM lab_instructions WHERE scope = ? AND chapter = ? ORDER BY id", (scope, chapter.number))
    return found + [Instruction("p", str(row[0]), row[1]) for row in rows]


def _instruction(conn: sqlite3.Connection, ctx: CoreContext, scope: str, chapter: int, origin: str, ref: str) -> Instruction:
    if chapter != lab_chapter(ctx).number:
        raise Refusal(GONE)
    found = next((i for i in _instructions(conn, ctx, scope) if i.origin == origin and i.ref == ref), None)
    if found is None:
        raise Refusal(GONE)
    return found


def _offer(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor) -> tuple[int, Instruction]:
    scope = scope_of(actor)
    user_pk = touch_user(conn, actor, ctx.clock.now())
    every = _instructions(conn, ctx, scope)
    done = {row[0] for row in conn.execute("SELECT instruction_key FROM lab_demonstrations WHERE user_pk = ? AND scope = ?", (user_pk, scope))}
    fresh = [i for i in every if i.key not in done] or every
    if not fresh:
        raise Refusal("The lab has no instructions yet: propose one with `/lab propose TEXT`.")
    return lab_chapter(ctx).number, random.choice(fresh)


def shown(instruction: Instruction) -> str:
    """An instruction as the lab shows it: a proposed one is a student's text, quoted."""
    return quote_user_text(instruction.text) if instruction.origin == "p" else instruction.text


async def write(ctx: CoreContext, actor: Actor) -> Reply:
    """An instruction to demonstrate, with a form for the response."""
    chapter, instruction = await ctx.store.run(_offer, ctx, actor)
    template = actions.LabDemo(chapter, "c" if instruction.origin == "c" else "p", instruction.ref)
    text = (f"✍️ **Write a demonstration** (phase 1: supervised fine-tuning data)\n\n**Instruction:** {shown(instruction)}\n\n"
            f"Write the response you would want an assistant to give: helpful, honest, harmless, to the point "
            f"(at most {MAX_DEMONSTRATION:,} characters).")
    return Reply(title="RLHF lab · demonstration", text=text, kind="lab",
                 text_input=TextInput(template.format(), "Your demonstration", "The response an assistant should give", MAX_DEMONSTRATION),
                 buttons=[Button("🔀 Another instruction", actions.LabWriteStart().format()), Button("🧪 Lab menu", actions.LabMenu().format())])


def _bounded(text: str, limit: int, what: str) -> str:
    text = text.strip()
    if is_blank(text):
        raise Refusal(f"Your {what} is empty: write something first.")
    if len(text) > limit:
        raise Refusal(f"Your {what} is too long ({len(text):,} characters): keep it under {limit:,}.")
    return text


def _demonstrate(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, chapter: int, origin: str, ref: str, text: str) -> Instruction:
    scope = scope_of(actor)
    now = ctx.clock.now()
    instruction = _instruction(conn, ctx, scope, chapter, origin, ref)
    user_pk = touch_user(conn, actor, now)
    conn.execute("INSERT INTO lab_demonstrations(scope, user_pk, chapter, instruction_key, instruction, response, created_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (scope, user_pk, chapter, instruction.key, instruction.text, text, iso(now)))
    return instruction


async def demonstrate(ctx: CoreContext, actor: Actor, chapter: int, origin: str, ref: str, text: str) -> Reply:
    """Keep a demonstration for the class's pool (and its SFT export)."""
    text = _bounded(text, MAX_DEMONSTRATION, "demonstration")
    instruction = await ctx.store.run(_demonstrate, ctx, actor, chapter, origin, ref, text)
    quoted = "\n".join("> " + line for line in quote_user_text(text).split("\n"))
    return Reply(title="RLHF lab · demonstration saved",
                 text=f"✅ Saved to your class's pool for **{shown(instruction)}**:\n{quoted}\n\n"
                      "Classmates may now see it among the responses they rank.",
                 kind="lab", buttons=[Button("✍️ Write another", actions.LabWriteStart().format(), "primary"),
                                      Button("🏅 Rank responses", actions.LabRankStart().format()),
                                      Button("🧪 Lab menu", actions.LabMenu().format())])


def _propose(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, text: str) -> int:
    scope = scope_of(actor)
    now = ctx.clock.now()
    user_pk = touch_user(conn, actor, now)
    return conn.execute("INSERT INTO lab_instructions(scope, user_pk, chapter, text, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                        (scope, user_pk, lab_chapter(ctx).number, text, iso(now))).fetchone()[0]


async def propose(ctx: CoreContext, actor: Actor, text: str, chapter: int | None = None) -> Reply:
    """A student's instruction joins the ones the class writes demonstrations for (`chapter`: the
    one a form was shown for, which must still be the lab's)."""
    if chapter is not None and chapter != lab_chapter(ctx).number:
        raise Refusal("That form is no longer valid: `/lab propose TEXT` proposes an instruction.")
    text = " ".join(_bounded(text, MAX_PROPOSAL, "instruction").split())
    number = await ctx.store.run(_propose, ctx, actor, text)
    template = actions.LabDemo(lab_chapter(ctx).number, "p", str(number))
    return Reply(title="RLHF lab · instruction proposed",
                 text=f"💡 Your classmates can now write demonstrations for: {quote_user_text(text)}", kind="lab",
                 text_input=TextInput(template.format(), "Your demonstration", "The response an assistant should give", MAX_DEMONSTRATION),
                 buttons=[Button("🧪 Lab menu", actions.LabMenu().format())])


def propose_form(ctx: CoreContext) -> TextInput:
    """The form a lab menu offers for proposing an instruction."""
    return TextInput(actions.LabPropose(lab_chapter(ctx).number).format(), "Propose an instruction",
                     "An instruction for classmates to answer", MAX_PROPOSAL)

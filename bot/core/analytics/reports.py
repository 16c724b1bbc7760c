"""The instructor's analytics commands: `/course stats`, `/course stats chapter N`,
`/course question ID`, `/course export`.

Each one: the core's instructor gate and a refusal in a DM (`roster.require_class`), then read
transactions (`store.read`) that only gather the class's rows, a few hundred students' at a time
(`roster.read_roster_rows`, `item_analysis.read_responses`), so the database's one thread serves
other requests (a live quiz's answers) between them; then the per-student work, the arithmetic
and the drawing in a worker thread (`asyncio.to_thread`), so the event loop keeps serving
everyone else. A chart or file that needs only what is already read is made while the rest is
read (`_meanwhile`). Every chart carries its text summary (alt text), and the reply's
text says the same.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from .. import charts
from ..content import Chapter
from ..context import CoreContext
from ..questions import Question
from ..refusal import Refusal
from ..replies import Attachment, Reply, quote_user_text
from ..users import Actor
from . import analytics_charts, class_overview, gradebook, item_analysis, page_reach
from .analytics_charts import Draw
from .item_analysis import ItemAnalysis, ItemStats, OptionShare
from .roster import Roster, build_roster, read_chapter_takers, read_roster_rows, require_class

T = TypeVar("T")
U = TypeVar("U")

#: A question as typed: its id (`attention-mask`), or `chapter:id` (`7:attention-mask`).
QUESTION_REF = re.compile(r"(?:(\d{1,6}):)?([a-z0-9][a-z0-9-]{0,63})")


def _draw(specs: Sequence[tuple[str, Draw, str]]) -> list[Attachment]:
    """On a worker thread: each (file name, drawing, summary) as a PNG attachment."""
    return [charts.attachment(name, charts.png(draw), summary) for name, draw, summary in specs]


async def _meanwhile(work: Callable[[], T], then: Callable[[], Awaitable[U]]) -> tuple[T, U]:
    """`work()` in a worker thread while `then()` runs: a chart or a file that needs only what is
    already read is made while the database reads the rest. The overlap is real on two cores:
    SQLite reads with the GIL released. `work` is always awaited, even when `then` fails, so no
    thread's error goes unseen."""
    started = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        after = await then()
    finally:
        done = await started
    return done, after


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def _r(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _item_line(item: ItemStats, question: Question) -> str:
    flags = f" ⚠️ {', '.join(item.flags)}" if item.flags else ""
    return (f"- `{question.id}` facility {_percent(item.facility)} · discrimination {_r(item.discrimination)}"
            f" · {item.students} student{'s' * (item.students != 1)} · hints {_percent(item.hint_share)}{flags}")


def _alpha(analysis: ItemAnalysis) -> str:
    return "not enough answers yet" if analysis.alpha is None else f"{analysis.alpha:.2f}"


# ---- /course stats ------------------------------------------------------------------------------


async def class_stats(ctx: CoreContext, actor: Actor) -> Reply:
    guild = require_class(ctx, actor, "`/course stats`")
    now = ctx.clock.now()
    rows = await class_overview.read_overview(ctx.store, ctx, guild, now)

    def compute() -> tuple[class_overview.Overview, list[Attachment]]:
        overview = class_overview.summarise(ctx, rows, now)
        return overview, _draw([
            ("class-funnel.png", analytics_charts.funnel(overview), class_overview.funnel_summary(overview)),
            ("class-activity.png", analytics_charts.activity(overview), class_overview.activity_summary(overview))])

    overview, files = await asyncio.to_thread(compute)
    return Reply(text=class_overview.render(overview), files=files, ephemeral=True, kind="stats")


# ---- /course stats chapter N --------------------------------------------------------------------


async def _roster(ctx: CoreContext, guild: str) -> Roster:
    return await asyncio.to_thread(build_roster, ctx, await read_roster_rows(ctx.store, ctx, guild))


async def chapter_stats(ctx: CoreContext, actor: Actor, number: int) -> Reply:
    guild = require_class(ctx, actor, "`/course stats`")
    chapter = ctx.require_chapter(number)
    reach = await ctx.store.read(page_reach.read_page_reach, guild, chapter)

    def compute(responses: item_analysis.Responses) -> tuple[ItemAnalysis, list[Attachment]]:
        analysis = item_analysis.analyse(responses)
        labels = {q.key: q.id for q in chapter.questions}
        return analysis, _draw([(f"ch{number}-items.png", analytics_charts.items(analysis, labels), _items_summary(chapter, analysis))])

    async def items() -> tuple[ItemAnalysis, list[Attachment]]:
        responses = await item_analysis.read_responses(ctx.store, await read_chapter_takers(ctx.store, guild, number), chapter)
        return await asyncio.to_thread(compute, responses)

    reach_files, (analysis, item_files) = await _meanwhile(
        lambda: _draw([(f"ch{number}-page-reach.png", analytics_charts.page_reach(reach), page_reach.summary(reach))]), items)
    files = reach_files + item_files
    lines = [f"📊 **Chapter {chapter.number}: {chapter.title}**", "", page_reach.render(reach), "",
             f"**Item analysis** — each student's best quiz: {analysis.students} student{'s' * (analysis.students != 1)};"
             f" Cronbach's alpha {_alpha(analysis)}"]
    ordered = sorted(analysis.items, key=lambda i: (not i.flags, i.key))
    lines += [_item_line(item, q) for item in ordered if (q := ctx.course.question(item.key)) is not None and item.students]
    unasked = sum(1 for i in analysis.items if not i.students)
    if unasked:
        lines.append(f"- {unasked} question{'s' * (unasked != 1)} not in anyone's best quiz yet")
    lines += ["", "_Facility: share right. Discrimination: item–rest correlation (below 0: strong students miss it more). "
                  "Flags as Moodle's: facility above 90% or below 30%, discrimination below 0. `/course question ID` for one question._"]
    return Reply(text="\n".join(lines), files=files, ephemeral=True, kind="stats")


def _items_summary(chapter: Chapter, analysis: ItemAnalysis) -> str:
    flagged = [f"{q.id} ({', '.join(i.flags)})" for i in analysis.items if i.flags and (q := chapter.question(i.key.partition(':')[2]))]
    return (f"Facility against discrimination for chapter {chapter.number}'s questions over {analysis.students} students' best quizzes;"
            f" Cronbach's alpha {_alpha(analysis)}. Flagged: {', '.join(flagged) if flagged else 'none'}.")


# ---- /course question ID ------------------------------------------------------------------------


def find_question(ctx: CoreContext, ref: str) -> Question:
    """The question a typed reference names, or a refusal that says how to name one."""
    ref = ref.strip()
    match = QUESTION_REF.fullmatch(ref)
    shown = quote_user_text(ref[:64])
    if match is None:
        raise Refusal(f"“{shown}” is not a question id: ids are lowercase letters, digits and hyphens, like `/course question 7:{ctx.course.chapters[0].questions[0].id if ctx.course.chapters[0].questions else 'id'}`.")
    number, qid = match.groups()
    if number is not None:
        question = ctx.course.question(f"{int(number)}:{qid}")
        if question is None:
            raise Refusal(f"There is no question “{shown}”.")
        return question
    found = [q for c in ctx.course.chapters if (q := c.question(qid)) is not None]
    if not found:
        raise Refusal(f"There is no question “{shown}”. `/course stats chapter N` lists each chapter's questions.")
    if len(found) > 1:
        raise Refusal(f"Several chapters have a question “{shown}”: name it with its chapter, like `{found[0].key}`.")
    return found[0]


async def question_stats(ctx: CoreContext, actor: Actor, ref: str) -> Reply:
    guild = require_class(ctx, actor, "`/course question`")
    question = find_question(ctx, ref)
    chapter = ctx.require_chapter(question.chapter)
    takers = await read_chapter_takers(ctx.store, guild, chapter.number)
    answers = await item_analysis.read_question(ctx.store, takers, question.key)

    def chart() -> tuple[list[OptionShare], list[Attachment]]:
        shares = item_analysis.option_shares(question, answers)
        title = f"{question.key}: " + ("share choosing each option" if shares and any(s.correct for s in shares) else "most common wrong answers")
        files = _draw([(f"question-{question.chapter}-{question.id}.png", analytics_charts.options(title, shares),
                        _shares_summary(question, shares))]) if shares else []
        return shares, files

    async def item_stats() -> ItemStats | None:
        responses = await item_analysis.read_responses(ctx.store, takers, chapter)
        return await asyncio.to_thread(lambda: item_analysis.analyse(responses).item(question.key))

    (shares, files), item = await _meanwhile(chart, item_stats)
    prompt = question.prompt if len(question.prompt) <= 300 else question.prompt[:299] + "…"
    lines = [f"❓ **Question `{question.key}`** ({question.type.replace('_', ' ')})", f"> {prompt}", ""]
    if item is None or not item.students:
        lines.append("No student's best quiz has asked it yet.")
    else:
        lines += [f"- students (best attempts): {item.students}", f"- facility index: {_percent(item.facility)}",
                  f"- discrimination index: {_r(item.discrimination)}", f"- hint used: {_percent(item.hint_share)}",
                  f"- flags: {', '.join(item.flags) if item.flags else 'none'}"]
    if answers.all_answers:
        lines.append(f"- in all quiz attempts, retries included: {answers.all_answers} answers, {_percent(answers.all_right / answers.all_answers)} right")
    if shares:
        correct_options = any(s.correct for s in shares)
        lines += ["", "**Share choosing each option** (✅ right):" if correct_options else "**Most common wrong answers:**"]
        lines += [f"- {'✅ ' if s.correct else ''}{s.label} — {_percent(s.share)} ({s.count})" for s in shares]
    return Reply(text="\n".join(lines), files=files, ephemeral=True, kind="stats")


def _shares_summary(question: Question, shares: list[OptionShare]) -> str:
    parts = [f"{s.label}{' (right)' if s.correct else ''} {_percent(s.share)}" for s in shares]
    return f"Question {question.key}, best attempts: " + "; ".join(parts) + "."


# ---- /course export -----------------------------------------------------------------------------


async def export(ctx: CoreContext, actor: Actor) -> Reply:
    guild = require_class(ctx, actor, "`/course export`")
    ctx.require_rate("export", actor)
    roster = await _roster(ctx, guild)
    last_active = await ctx.store.read(gradebook.read_last_active, guild)
    course = ctx.course

    def book() -> Attachment:
        return Attachment("gradebook.csv", gradebook.gradebook_csv(course, roster, last_active), gradebook.CSV_MIME,
                          f"One row per student of this server or workspace ({len(roster.members)}).")

    async def items() -> Attachment:
        responses = [await item_analysis.read_responses(ctx.store, roster.takers(i), c) for i, c in enumerate(course.chapters)]
        analyses = await asyncio.to_thread(lambda: [item_analysis.analyse(r) for r in responses])
        return Attachment("item-analysis.csv", gradebook.item_analysis_csv(course, analyses), gradebook.CSV_MIME,
                          "Facility, discrimination, hint use and flags per question; Cronbach's alpha per chapter.")

    files = list(await _meanwhile(book, items))
    n = len(roster.members)
    return Reply(text=f"📦 The gradebook ({n} student{'s' * (n != 1)} of this server or workspace) and the item analysis, as CSV. "
                      "Students who used `/forget-me` are in neither.", files=files, ephemeral=True, kind="export")

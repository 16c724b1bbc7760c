"""A student's progress card: `/progress` as a small picture (chapters, depth read, best score,
streak), offered by a button beside `/progress`'s text bars.

A button rather than an image on every `/progress`: the text reply stays as fast as before (it
is one of the benchmarked operations), and the card, drawn in a worker thread and uploaded,
costs only those who ask for it. It reads exactly what `/progress` reads (`progress.read_progress`),
so the two never disagree.
"""

from __future__ import annotations

import asyncio

from .. import charts
from ..context import CoreContext
from ..lessons import DEPTHS
from ..progress import ChapterState, read_progress
from ..replies import Reply
from ..users import Actor
from .analytics_charts import Draw

#: 600 × 320 pixels: small enough for a chat thread.
WIDTH, HEIGHT = 6.0, 3.2


def card(states: list[ChapterState], streak: int, due: int) -> Draw:
    def draw(figure) -> None:
        ax = figure.add_subplot()
        rows: list[tuple[str, float, str]] = []
        for s in states:
            for depth in DEPTHS:
                rows.append((f"Ch {s.number} {depth}", s.pages_read[depth] / max(1, s.pages_total[depth]),
                             f"{s.pages_read[depth]}/{s.pages_total[depth]} pages"))
            rows.append((f"Ch {s.number} best quiz", s.best[0] / s.best[1] if s.best else 0.0,
                         f"{s.best[0]}/{s.best[1]}{' passed' if s.passed else ''}" if s.best else "not taken"))
        colours = [charts.NEUTRAL if "best" not in label else charts.GOOD for label, _, _ in rows]
        bars = ax.barh(range(len(rows)), [100 * share for _, share, _ in rows], color=colours)
        ax.bar_label(bars, labels=[text for _, _, text in rows], padding=3, color=charts.TEXT, fontsize=9)
        ax.set_yticks(range(len(rows)), [label for label, _, _ in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 135)  # room for the labels right of a full bar
        ax.set_xticks([0, 25, 50, 75, 100])
        done = sum(s.complete for s in states)
        charts.style(ax, title=f"{done}/{len(states)} chapters complete · streak {streak} day{'s' * (streak != 1)} · {due} due",
                     xlabel="% done")
    return draw


def summary(states: list[ChapterState], streak: int, due: int) -> str:
    parts = []
    for s in states:
        pages = ", ".join(f"{d} {s.pages_read[d]}/{s.pages_total[d]} pages" for d in DEPTHS)
        best = f"best quiz {s.best[0]}/{s.best[1]}" if s.best else "quiz not taken"
        parts.append(f"Chapter {s.number}: {pages}, {best}{', complete' if s.complete else ''}")
    return "; ".join(parts) + f". Streak {streak} day{'s' * (streak != 1)}; {due} review question{'s' * (due != 1)} due."


async def show(ctx: CoreContext, actor: Actor) -> Reply:
    states, streak, _, (due, _, _), _ = await ctx.store.read(read_progress, ctx, actor)
    text = summary(states, streak, due)
    png = await asyncio.to_thread(charts.png, card(states, streak, due), width=WIDTH, height=HEIGHT)
    return Reply(title="Your progress card", text=text, files=[charts.attachment("progress-card.png", png, text)],
                 ephemeral=True, kind="progress")

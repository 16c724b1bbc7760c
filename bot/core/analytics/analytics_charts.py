"""The instructor's charts: the funnel, activity by day, page reach, item analysis, one question's
responses. Each is a `draw(figure)` for `charts.png`, called off the event loop by `reports.py`,
in the shared look of bot/core/charts.py (colour-blind-safe palette, labelled axes, an opaque
card that reads in light and dark themes).

Labels that may hold typed text (a wrong short answer) go through `_plain`, so matplotlib's
mathtext never reads a student's `$` as a formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import charts
from ..lessons import DEPTHS
from .class_overview import FUNNEL, Overview
from .item_analysis import DISCRIMINATION_BELOW, EASY_ABOVE, HARD_BELOW, ItemAnalysis, OptionShare
from .page_reach import PageReach

if TYPE_CHECKING:  # only for annotations: matplotlib is imported on first use (bot/core/charts.py)
    from matplotlib.figure import Figure

Draw = Callable[["Figure"], None]


def _plain(text: str) -> str:
    """Text shown as itself: `$` escaped so mathtext never parses it."""
    return text.replace("$", r"\$")


def funnel(overview: Overview) -> Draw:
    def draw(figure: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = figure.add_subplot()
        stages = list(range(len(FUNNEL)))
        height = 0.8 / max(1, len(overview.chapters))
        for i, chapter in enumerate(overview.chapters):
            offsets = [s + (i - (len(overview.chapters) - 1) / 2) * height for s in stages]
            bars = ax.barh(offsets, chapter.stages, height=height, color=charts.PALETTE[(i + 4) % len(charts.PALETTE)],
                           label=_plain(f"Chapter {chapter.number}"))
            ax.bar_label(bars, padding=3, color=charts.TEXT)
        ax.set_yticks(stages, [stage.capitalize() for stage in FUNNEL])
        ax.invert_yaxis()
        ax.set_xlim(0, max([overview.students, 1]) * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        charts.style(ax, title=f"From opening the lesson to completing it ({overview.students} students)", xlabel="students")
        if len(overview.chapters) > 1:
            ax.legend(loc="lower right")
    return draw


def activity(overview: Overview) -> Draw:
    def draw(figure: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = figure.add_subplot()
        days = [d for d, _ in overview.activity]
        ax.bar(range(len(days)), [n for _, n in overview.activity], color=charts.NEUTRAL)
        ticks = list(range(len(days) - 1, -1, -7))
        ax.set_xticks(ticks, [days[t].strftime("%d %b") for t in ticks])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        charts.style(ax, title=f"Students active per day, last {len(days)} days", xlabel="day (UTC)", ylabel="active students")
    return draw


def page_reach(reach: PageReach) -> Draw:
    def draw(figure: Figure) -> None:
        from matplotlib.ticker import MaxNLocator

        ax = figure.add_subplot()
        for i, depth in enumerate(DEPTHS):
            counts = reach.readers[depth]
            ax.plot(range(1, len(counts) + 1), counts, marker="os"[i % 2], color=(charts.NEUTRAL, charts.PALETTE[0])[i % 2],
                    linewidth=2, label=f"{depth} ({len(counts)} pages)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right")
        charts.style(ax, title=f"Chapter {reach.chapter}: readers reaching each page", xlabel="page", ylabel="readers")
    return draw


def items(analysis: ItemAnalysis, labels: dict[str, str]) -> Draw:
    """Facility (x) against discrimination (y), one point per question, with Moodle's flag
    zones shaded and the flagged questions named (`labels`: key → short name)."""
    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        ax.axvspan(0, HARD_BELOW, color=charts.BAD, alpha=0.08)
        ax.axvspan(EASY_ABOVE, 1.0, color=charts.PALETTE[0], alpha=0.10)
        ax.axhline(DISCRIMINATION_BELOW, color=charts.BAD, linewidth=1)
        shown = [(i, i.facility, i.discrimination) for i in analysis.items if i.facility is not None and i.discrimination is not None]
        for flagged, colour, marker in ((False, charts.GOOD, "o"), (True, charts.BAD, "D")):
            points = [(f, d) for i, f, d in shown if bool(i.flags) == flagged]
            if points:  # one scatter per kind: a call per point costs a whole draw each
                ax.scatter([f for f, _ in points], [d for _, d in points], s=60, color=colour, marker=marker, zorder=3,
                           label="flagged" if flagged else "not flagged")
        for item, facility, discrimination in shown:
            if item.flags:
                ax.annotate(_plain(labels.get(item.key, item.key)), (facility, discrimination), fontsize=8,
                            xytext=(4, 4), textcoords="offset points", color=charts.TEXT)
        ax.set_xlim(0, 1.0)
        ax.set_ylim(min([-0.2] + [d - 0.05 for _, _, d in shown]), max([0.6] + [d + 0.05 for _, _, d in shown]))
        alpha = "n/a" if analysis.alpha is None else f"{analysis.alpha:.2f}"
        charts.style(ax, title=f"Chapter {analysis.chapter}: {len(shown)} questions, alpha {alpha}",
                     xlabel="facility index (share right)", ylabel="discrimination (item-rest r)")
    return draw


def options(title: str, shares: list[OptionShare]) -> Draw:
    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        labels = [_plain(s.label if len(s.label) <= 40 else s.label[:39] + "…") for s in shares]
        bars = ax.barh(range(len(shares)), [100 * s.share for s in shares],
                       color=[charts.GOOD if s.correct else charts.BAD for s in shares])
        ax.bar_label(bars, labels=[f"{round(100 * s.share)}% ({s.count})" for s in shares], padding=3, color=charts.TEXT)
        ax.set_yticks(range(len(shares)), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 115)
        charts.style(ax, title=_plain(title), xlabel="% of students (best attempts)")
    return draw

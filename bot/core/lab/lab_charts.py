"""The lab's two charts: what the class's reward model learned, and best-of-n's trade-off between
reward and divergence. Drawn with `bot/core/charts.py` (its look, palette and off-loop rule: the
caller runs these with `asyncio.to_thread`), each with a one-line text summary for its alt text.
Their only words from students are hashed n-gram names, which are lower-case letters, digits and
apostrophes (`features.ngrams`): nothing that could form a mention or a link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import charts
from .optimize import BestOfN
from .reward_model import RewardModel, Weight

if TYPE_CHECKING:  # only for annotations: matplotlib is imported by charts.png, on first use
    from matplotlib.figure import Figure

#: Bars on each side of the reward chart.
TOP = 6
#: A label longer than this is cut, so a long bigram cannot squeeze the bars.
LABEL_CHARS = 32


def reward_chart(model: RewardModel) -> bytes:
    """The largest rewarded and penalised weights as horizontal bars (GOOD and BAD colours),
    the largest rewarded at the top and the most penalised at the bottom."""
    rewarded, penalised = model.top_weights(TOP)
    bars = rewarded + penalised[::-1]

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        charts.style(ax, title=f"What the class rewards and penalises ({model.comparisons} comparisons)",
                     xlabel="weight: reward for one unit of the feature")
        if not bars:
            ax.text(0.5, 0.5, "No comparisons yet: rank some answers with /lab", ha="center", va="center", color=charts.TEXT, transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            return
        rows = list(range(len(bars)))[::-1]
        ax.barh(rows, [w.value for w in bars], color=[charts.GOOD if w.value > 0 else charts.BAD for w in bars])
        ax.set_yticks(rows, [_label(w.name) for w in bars])
        ax.axvline(0, color=charts.TEXT, linewidth=0.8)

    return charts.png(draw)


def reward_summary(model: RewardModel) -> str:
    """The reward chart in words, for its alt text."""
    rewarded, penalised = model.top_weights(3)
    if not rewarded and not penalised:
        return "The class's reward model has no comparisons yet."
    return (f"Fitted on {model.comparisons} comparisons. Rewards: {_listed(rewarded)}. Penalises: {_listed(penalised)}.")


def optimize_chart(result: BestOfN) -> bytes:
    """Each candidate's reward against its divergence from the reference; each β's winner is
    marked, with its line of equal reward − β·divergence (every other candidate lies below it)."""

    def draw(figure: Figure) -> None:
        ax = figure.add_subplot()
        charts.style(ax, title="Best-of-n: reward against divergence from the base model",
                     xlabel="divergence (nats per token beyond the base model's own text)", ylabel="reward (the class's model)")
        sources = list(dict.fromkeys(s.candidate.source for s in result.scored))
        for n, source in enumerate(sources):
            points = [s for s in result.scored if s.candidate.source == source]
            ax.scatter([s.divergence for s in points], [s.reward for s in points], color=charts.PALETTE[n % len(charts.PALETTE)],
                       label=_label(source), s=60, zorder=3)
        if not result.scored:
            return
        xs = [s.divergence for s in result.scored]
        span = [min(xs) - 0.1, max(xs) + 0.1]
        for n, (beta, index) in enumerate(result.winners):
            winner = result.scored[index]
            ax.plot(span, [winner.reward + beta * (x - winner.divergence) for x in span], linestyle="--", linewidth=1, color="#888888",
                    zorder=2, label="equal reward − β·divergence" if n == 0 else None)
            ax.scatter([winner.divergence], [winner.reward], s=220, facecolors="none", edgecolors=charts.TEXT, linewidths=1.5, zorder=4)
            ax.annotate(f"β = {beta:g}", (winner.divergence, winner.reward), textcoords="offset points", xytext=(8, 8 + 12 * n), color=charts.TEXT)
        ys = [s.reward for s in result.scored]
        ax.set_xlim(*span)
        ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
        ax.legend(loc="best", fontsize=8)

    return charts.png(draw)


def optimize_summary(result: BestOfN) -> str:
    """The best-of-n chart in words, for its alt text."""
    if not result.winners:
        return "No candidates to choose from."
    picks = "; ".join(f"β = {beta:g}: {result.scored[i].candidate.source} (reward {result.scored[i].reward:.2f}, "
                      f"divergence {result.scored[i].divergence:.2f})" for beta, i in result.winners)
    return f"{len(result.scored)} candidates. Winners: {picks}."


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _listed(weights: list[Weight]) -> str:
    return ", ".join(f"{w.name} ({w.value:+.2f})" for w in weights) or "nothing yet"

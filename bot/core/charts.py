"""Charts as PNG images, for people who would rather look than read: an instructor's funnel and
activity, item analysis, a student's progress card, what the class's reward model learned.

One look for every chart, so they read alike on Discord, Slack and the console:

- a colour-blind-safe palette (Okabe and Ito's eight colours, distinguishable with every common
  colour-vision deficiency), used in order;
- an opaque white card with dark text and light grid lines, so a chart reads the same in a
  client's light theme and its dark theme (a transparent PNG would put black text on black);
- labelled axes and a title, set by each chart.

Charts are drawn on matplotlib `Figure` objects with the Agg canvas, never through `pyplot`:
pyplot keeps global state and is not safe on several threads, while a `Figure` of one's own is.
Callers draw off the event loop (`await asyncio.to_thread(png, draw)`), because a chart takes
tens of milliseconds. matplotlib itself is imported on first use: importing it costs about a
second, which would otherwise be added to every start-up, chart or not.

Every chart travels as an `Attachment` whose `description` is its text summary (alt text on
Discord, the title on Slack), and the reply's text says what it shows, so it is readable without.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from .replies import Attachment

if TYPE_CHECKING:  # only for annotations: the import itself is deferred (see the docstring)
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe & Ito (2008), "Color Universal Design": orange, sky blue, bluish green, yellow, blue,
#: vermillion, reddish purple, black.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
#: Meanings that recur: good and bad, for reward weights, right and wrong answers.
GOOD, BAD, NEUTRAL = "#009E73", "#D55E00", "#0072B2"
BACKGROUND = "#FFFFFF"
TEXT = "#222222"
GRID = "#DDDDDD"
PNG_MIME = "image/png"


def png(draw: Callable[[Figure], None], *, width: float = 8.0, height: float = 4.5, dpi: int = 100) -> bytes:
    """Draw a chart with `draw(figure)` on a fresh figure of `width` × `height` inches and return
    it as PNG bytes (800 × 450 pixels by default). Safe on any thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(figure)
    draw(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", facecolor=BACKGROUND, metadata={"Software": None})
    return out.getvalue()


def style(ax: Axes, *, title: str, xlabel: str = "", ylabel: str = "") -> None:
    """The common look of one set of axes: title, labelled axes, dark text, light grid behind."""
    ax.set_facecolor(BACKGROUND)
    ax.set_title(title, color=TEXT, fontsize=13, loc="left")
    ax.set_xlabel(xlabel, color=TEXT)
    ax.set_ylabel(ylabel, color=TEXT)
    ax.tick_params(colors=TEXT)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def attachment(filename: str, content: bytes, summary: str) -> Attachment:
    """A chart ready to attach: the PNG, with its text summary as the file's description."""
    return Attachment(filename=filename, content=content, mime=PNG_MIME, description=summary)

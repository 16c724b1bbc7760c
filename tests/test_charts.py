"""Charts: real PNG images of the declared size, drawn off any thread, with content on them."""

from __future__ import annotations

import base64
import json
import struct
import threading

from bot.core import charts
from bot.core.replies import Reply

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (the first chunk, right after the signature)."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def bars(figure) -> None:
    ax = figure.add_subplot()
    ax.bar(["a", "b", "c"], [3, 1, 2], color=charts.PALETTE[:3])
    charts.style(ax, title="Three bars", xlabel="letter", ylabel="count")


def test_a_chart_is_a_png_of_the_asked_size_with_ink_on_it():
    data = charts.png(bars, width=6, height=3, dpi=100)
    assert png_size(data) == (600, 300)
    blank = charts.png(lambda figure: None, width=6, height=3, dpi=100)
    assert len(data) > len(blank) + 2000  # bars, labels and title, not an empty card


def test_charts_draw_on_several_threads_at_once():
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(charts.png(bars))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(png_size(r) == (800, 450) for r in results)


def test_a_reply_carries_several_files_losslessly_in_a_json_line():
    chart = charts.attachment("bars.png", charts.png(bars), "Three bars: a is highest (3).")
    reply = Reply(text="Here.", files=[chart, chart])
    line = json.loads(json.dumps(reply.to_dict()))
    assert [f["mime"] for f in line["files"]] == ["image/png", "image/png"]
    assert base64.b64decode(line["files"][0]["base64"]) == chart.content
    assert line["files"][0]["description"] == "Three bars: a is highest (3)."
    assert "text" not in line["files"][0]  # binary is carried only as base64


def test_a_reply_refuses_more_files_than_a_message_can_carry():
    chart = charts.attachment("bars.png", b"x", "x")
    try:
        Reply(text="Too many.", files=[chart] * 11)
    except ValueError:
        return
    raise AssertionError("eleven files were accepted")


def test_matplotlib_uses_no_display():
    """The Agg canvas needs no screen: the chart renders with no DISPLAY and no pyplot."""
    import sys

    charts.png(bars)
    assert "matplotlib.pyplot" not in sys.modules

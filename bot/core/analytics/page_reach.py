"""Lesson pages: how many of the class reach each page at each depth, so the page where readers
stop shows as the step down after it.

`pages_read` already records each member's first visit to each page (chapter, depth, page), so
reach needs no new data: the count of members with a row for the page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..content import Chapter
from ..lessons import DEPTHS


@dataclass(frozen=True)
class PageReach:
    chapter: int
    readers: dict[str, list[int]]  # depth → members who reached page 1, 2, … of that depth

    def biggest_drop(self, depth: str) -> tuple[int, int] | None:
        """(page, readers lost) where most readers of `depth` stopped: the largest fall from one
        page to the next; None with fewer than two pages or no fall."""
        counts = self.readers[depth]
        drops = [(counts[i] - counts[i + 1], i + 1) for i in range(len(counts) - 1)]
        lost, page = max(drops, default=(0, 0), key=lambda d: (d[0], -d[1]))
        return (page, lost) if lost > 0 else None


def read_page_reach(conn: sqlite3.Connection, guild: str, chapter: Chapter) -> PageReach:
    readers: dict[str, list[int]] = {d: [0] * len(chapter.lesson.pages[d]) for d in DEPTHS}
    for depth, page, count in conn.execute(
            "SELECT p.depth, p.page, COUNT(*) FROM pages_read p JOIN memberships m ON m.user_pk = p.user_pk"
            " WHERE m.guild = ? AND p.chapter = ? GROUP BY p.depth, p.page", (guild, chapter.number)):
        if depth in readers and 1 <= page <= len(readers[depth]):  # pages of an older version of the lesson are not shown
            readers[depth][page - 1] = count
    return PageReach(chapter.number, readers)


def render(reach: PageReach) -> str:
    lines = ["**Lesson pages** — readers reaching each page:"]
    for depth in DEPTHS:
        counts = reach.readers[depth]
        lines.append(f"- {depth}: " + " → ".join(str(n) for n in counts))
        drop = reach.biggest_drop(depth)
        if drop:
            lines.append(f"  most readers stop after page {drop[0]} ({drop[1]} fewer reach page {drop[0] + 1})")
    return "\n".join(lines)


def summary(reach: PageReach) -> str:
    parts = []
    for depth in DEPTHS:
        counts = reach.readers[depth]
        drop = reach.biggest_drop(depth)
        where = f", the largest drop after page {drop[0]} ({drop[1]} readers)" if drop else ""
        parts.append(f"{depth}: {counts[0] if counts else 0} readers on page 1, {counts[-1] if counts else 0} on the last page"
                     f" ({len(counts)}){where}")
    return f"Readers reaching each page of chapter {reach.chapter}'s lesson. " + "; ".join(parts) + "."

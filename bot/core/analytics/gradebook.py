"""`/course export`: the gradebook and the item analysis as CSV files.

The gradebook has one row per member of the instructor's server or workspace: display name,
platform and platform id, then per chapter the pages read at each depth, the best score (the
one `best_attempt` of `/progress`), attempts, pass and completion, and the last day active. A
student who used `/forget-me` has no rows left, so they are in neither file.

Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return at
the start: display names and typed answers are the students') are written with a leading `'`.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable

from ..content import Course
from ..lessons import DEPTHS
from .item_analysis import ItemAnalysis
from .roster import Roster

CSV_MIME = "text/csv"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _csv(rows: Iterable[Iterable[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8")


def read_last_active(conn: sqlite3.Connection, guild: str) -> dict[int, str]:
    return dict(conn.execute("SELECT a.user_pk, MAX(a.day) FROM activity_days a JOIN memberships m ON m.user_pk = a.user_pk"
                             " WHERE m.guild = ? GROUP BY a.user_pk", (guild,)).fetchall())


def gradebook_csv(course: Course, roster: Roster, last_active: dict[int, str]) -> bytes:
    header: list[object] = ["display_name", "platform", "platform_id"]
    for c in course.chapters:
        header += [f"ch{c.number}_{d}_pages_read" for d in DEPTHS]
        header += [f"ch{c.number}_best_correct", f"ch{c.number}_best_total", f"ch{c.number}_best_percent",
                   f"ch{c.number}_attempts", f"ch{c.number}_passed", f"ch{c.number}_completed"]
    header.append("last_active")
    rows: list[list[object]] = [header]
    for user_pk, member in sorted(roster.members.items(), key=lambda m: (m[1].display_name.casefold(), m[0])):
        row: list[object] = [member.display_name, member.platform, member.user_id]
        for state in roster.states[user_pk]:
            row += [state.pages_read[d] for d in DEPTHS]
            best = state.best
            row += [best[0] if best else "", best[1] if best else "", round(100 * best[0] / best[1]) if best and best[1] else "",
                    state.attempts, int(state.passed), int(state.complete)]
        row.append(last_active.get(user_pk, ""))
        rows.append(row)
    return _csv(rows)


def _round(value: float | None, digits: int) -> object:
    return "" if value is None else round(value, digits)


def item_analysis_csv(course: Course, analyses: list[ItemAnalysis]) -> bytes:
    rows: list[list[object]] = [["chapter", "question_id", "type", "prompt", "students", "facility_index", "discrimination_index",
                                 "hint_share", "flags", "chapter_alpha"]]
    for analysis in analyses:
        for item in analysis.items:
            question = course.question(item.key)
            if question is None:
                continue
            rows.append([analysis.chapter, question.id, question.type, question.prompt, item.students, _round(item.facility, 3),
                         _round(item.discrimination, 3), _round(item.hint_share, 3), "; ".join(item.flags), _round(analysis.alpha, 3)])
    return _csv(rows)

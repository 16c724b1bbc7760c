"""Instructor analytics on a synthetic class computed by hand (tests/analytics_class.py): the
figures, the charts (real PNGs of the declared size with ink on them), the CSV exports, the one
best score, and privacy (students never reach any of it; one server never sees another's
students). Then through the console as a real process in JSON-lines mode, PNGs decoded from base64."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from analytics_class import ALPHA, DISCRIMINATION, FACILITY, FUNNEL, KEYS, seed
from test_charts import png_size

from bot.core import charts
from bot.core.analytics import item_analysis
from bot.core.analytics.item_analysis import ItemStats, Responses
from bot.core.clock import ManualClock
from bot.core.command_line import handle_text
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.context import REFUSED
from bot.core.engines import open_store
from bot.core.users import Actor

ROOT = Path(__file__).resolve().parents[1]
BLANK = len(charts.png(lambda figure: None))


def teacher(guild: str | None = "g1") -> Actor:
    return Actor("test", "UTEACH", "Teacher", guild=guild, channel="c", is_instructor=True)


def member(name: str, guild: str = "g1") -> Actor:
    return Actor("test", f"U{name.upper()}", name.upper(), guild=guild, channel="c")


@pytest.fixture
async def core(database):
    settings = Settings(database=database, content_dir=DEFAULT_CONTENT_DIR)
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    await companion.store.run(seed, companion.course, "test", "g1", "g2", companion.clock.now())
    yield companion
    await companion.close()


def assert_chart(attachment, size=(800, 450)) -> None:
    assert attachment.mime == "image/png" and attachment.description
    assert png_size(attachment.content) == size
    assert len(attachment.content) > BLANK + 2000  # bars, points, labels: not an empty card


# ---- the figures, by hand -------------------------------------------------------------------------


async def test_the_class_overview_and_its_funnel_match_the_hand_counts(core):
    reply = await core.course_stats(teacher())
    assert reply.kind == "stats" and reply.ephemeral
    text = reply.text
    assert "6 students" in text  # A–F; not Z
    stages = " → ".join(f"{s}: {n}" for s, n in zip(
        ("opened the lesson", "read it to the end", "finished a quiz", "passed the quiz", "completed"), FUNNEL))
    assert stages in text
    assert "read to the end: shallow 4 · deep 1" in text
    assert "average best score: 60% over 5 students" in text  # (4/4 + 3/4 + 2/4 + 2/4 + 1/4) / 5
    assert [f.filename for f in reply.files] == ["class-funnel.png", "class-activity.png"]
    for f in reply.files:
        assert_chart(f)
    assert "opened the lesson 5" in reply.files[0].description and "completed 1" in reply.files[0].description


async def test_item_analysis_matches_facility_discrimination_and_alpha_by_hand(core):
    reply = await handle_text(core, teacher(), "/course stats chapter 7")
    assert reply.kind == "stats", reply.text
    assert "shallow: 4" in reply.text and "deep: 2 → 1 → 1" in reply.text
    assert "5 students" in reply.text and f"alpha {ALPHA:.2f}" in reply.text
    assert "`instruction-tuning-is-sft` facility 40% · discrimination -0.37" in reply.text and "negative discrimination" in reply.text
    for f in reply.files:
        assert_chart(f)
    analysis = await analysed(core)
    assert analysis.students == 5
    items = [analysis.item(k) for k in KEYS]
    for item, facility, r in zip(items[:4], FACILITY, DISCRIMINATION):
        assert item.students == 5
        assert item.facility == pytest.approx(facility) and item.discrimination == pytest.approx(r)
    assert analysis.alpha == pytest.approx(ALPHA)
    assert items[1].hint_share == pytest.approx(0.2) and items[0].hint_share == 0
    assert items[3].flags == ("negative discrimination",)
    assert all(i.students == 0 for i in analysis.items if i.key not in KEYS[:4])  # KEYS[4]: only in A's attempt that is not the best


async def analysed(core):
    from bot.core.analytics.roster import build_roster, read_roster_rows

    roster = build_roster(core.ctx, await read_roster_rows(core.store, core.ctx, "test:g1"))
    return item_analysis.analyse(await item_analysis.read_responses(core.store, roster.takers(0), core.course.chapter(7)))


def test_flags_and_alpha_follow_moodle_on_small_cases():
    assert ItemStats("k", 10, 0.95, 0.1, 0).flags == ("too easy",)
    assert ItemStats("k", 10, 0.2, 0.1, 0).flags == ("too hard",)
    assert ItemStats("k", 10, 0.5, -0.01, 0).flags == ("negative discrimination",)
    assert ItemStats("k", 10, 0.9, 0.0, 0).flags == ()  # the bounds themselves are not flagged
    # Everyone right: no spread, so neither discrimination nor alpha is defined (never a division by zero).
    same = Responses(7, ["a", "b"], {1: '["a", "b"]', 2: '["b", "a", "gone"]'}, [(1, 0, 0b11, 0, 0b11), (2, 0, 0b111, 0, 0b111)])
    result = item_analysis.analyse(same)
    assert [i.facility for i in result.items] == [1.0, 1.0] and result.items[0].discrimination is None and result.alpha is None
    # Random subsets: pairwise covariances give the classic alpha on the complete block.

    full = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    assert item_analysis.cronbach_alpha(full) == pytest.approx(ALPHA)
    assert item_analysis.cronbach_alpha(np.array([[1.0, np.nan], [0.0, np.nan]])) is None


async def test_one_question_shows_its_options_and_flags(core):
    reply = await handle_text(core, teacher(), "/course question instruction-tuning-is-sft")
    assert reply.kind == "stats", reply.text
    assert "students (best attempts): 5" in reply.text and "facility index: 40%" in reply.text
    assert "discrimination index: -0.37" in reply.text and "flags: negative discrimination" in reply.text
    lines = [line for line in reply.text.splitlines() if "%" in line and "(" in line and line.startswith("- ")]
    assert any(line.startswith("- ✅ ") and "40% (2)" in line for line in lines)  # A and E: right
    assert any(not line.startswith("- ✅") and "60% (3)" in line for line in lines)  # B, C, D: the next choice
    assert "in all quiz attempts, retries included: 6 answers" in reply.text  # A's two attempts, B–E; F's open one did not reach Q4
    assert len(reply.files) == 1
    assert_chart(reply.files[0])
    same = await handle_text(core, teacher(), "/course question 7:instruction-tuning-is-sft")
    assert same.text == reply.text
    for bad in ("/course question nope", "/course question 9:base-model-completes", "/course question <@everyone>"):
        refused = await handle_text(core, teacher(), bad)
        assert refused.kind == "error" and "@everyone" not in refused.text


async def test_export_is_two_csv_files_without_a_forgotten_student(core):
    reply = await core.course_export(teacher())
    assert reply.kind == "export" and [f.filename for f in reply.files] == ["gradebook.csv", "item-analysis.csv"]
    book = list(csv.DictReader(io.StringIO(reply.files[0].content.decode())))
    assert [r["platform_id"] for r in book] == ["UA", "UB", "UC", "UD", "UE", "UF"]  # Z is in the other server
    a = book[0]
    assert (a["ch7_best_correct"], a["ch7_best_total"], a["ch7_best_percent"], a["ch7_attempts"], a["ch7_passed"], a["ch7_completed"]) == \
        ("4", "4", "100", "2", "1", "1")
    assert (a["ch7_shallow_pages_read"], a["ch7_deep_pages_read"]) == ("1", "3")
    items = list(csv.DictReader(io.StringIO(reply.files[1].content.decode())))
    q4 = next(r for r in items if r["question_id"] == "instruction-tuning-is-sft")
    assert (q4["students"], q4["facility_index"], q4["flags"]) == ("5", "0.4", "negative discrimination")
    # B uses /forget-me: their rows are gone, so they are in neither file.
    await core.forget(member("b"), confirmed=True)
    core.ctx.limits = type(core.ctx.limits)(core.clock)  # a fresh rate limit for the second export
    again = await core.course_export(teacher())
    book = again.files[0].content.decode()
    assert "UB" not in book and ",B," not in book
    items = list(csv.DictReader(io.StringIO(again.files[1].content.decode())))
    assert next(r for r in items if r["question_id"] == "base-model-completes")["students"] == "4"


async def test_a_spreadsheet_never_runs_a_name_as_a_formula(core):
    evil = Actor("test", "UEVIL", "=HYPERLINK(\"http://x\")", guild="g1", channel="c")
    await core.lesson(evil, 7)
    book = (await core.course_export(teacher())).files[0].content.decode()
    assert "'=HYPERLINK" in book and "\n=HYPERLINK" not in book


# ---- one best score ----------------------------------------------------------------------------------


async def test_progress_leaderboard_and_statistics_agree_on_the_best_score(core):
    """C gets 2 of 2 on a short quiz after 2 of 4: the best share right is 2/2 everywhere (the
    leaderboard used to count the attempt with the most right answers)."""
    def short_quiz(conn):
        pk = conn.execute("SELECT id FROM users WHERE user_id = 'UC'").fetchone()[0]
        aid = conn.execute("INSERT INTO quiz_attempts(user_pk, chapter, kind, seed, question_keys, questions, position, correct, status, started_at)"
                           " VALUES (?, 7, 'quiz', 1, ?, 2, 2, 2, 'finished', '2026-01-01T00:00:00+00:00') RETURNING id",
                           (pk, json.dumps(KEYS[:2]))).fetchone()[0]
        return aid
    await core.store.run(short_quiz)
    progress = await core.progress(member("c"))
    assert "best 2/2" in progress.text
    board = (await core.leaderboard(member("c"))).text
    assert "**C** — 200 pts" in board
    book = list(csv.DictReader(io.StringIO((await core.course_export(teacher())).files[0].content.decode())))
    c = next(r for r in book if r["platform_id"] == "UC")
    assert (c["ch7_best_correct"], c["ch7_best_total"]) == ("2", "2")


async def test_the_progress_card_is_offered_and_drawn(core):
    reply = await core.progress(member("a"))
    assert "progress:card" in [b.action for b in reply.buttons] and not reply.files  # the text reply stays light
    card = await core.handle_action(member("a"), "progress:card")
    assert card.kind == "progress" and card.ephemeral and len(card.files) == 1
    assert "best quiz 4/4" in card.text and card.files[0].description == card.text
    assert png_size(card.files[0].content) == (600, 320)
    assert len(card.files[0].content) > len(charts.png(lambda f: None, width=6, height=3.2)) + 2000


# ---- privacy --------------------------------------------------------------------------------------


async def test_a_student_can_reach_none_of_it(core):
    a = member("a")
    calls = [core.course_stats(a), core.course_stats(a, 7), core.course_question(a, "base-model-completes"), core.course_export(a)]
    for text in ("/course stats", "/course stats chapter 7", "/course question base-model-completes", "/course export",
                 "/course stats chapter x"):
        calls.append(handle_text(core, a, text))
    for call in calls:
        reply = await call
        assert reply.kind == "error" and reply.text == REFUSED and not reply.files


async def test_in_a_direct_message_it_says_to_ask_in_the_server(core):
    for reply in (await core.course_stats(teacher(None)), await core.course_stats(teacher(None), 7),
                  await core.course_question(teacher(None), "base-model-completes"), await core.course_export(teacher(None))):
        assert reply.kind == "error" and "in your server" in reply.text and not reply.files


async def test_one_server_never_sees_another_servers_students(core):
    other = await core.course_stats(teacher("g2"))
    assert "1 student in" in other.text and "finished a quiz: 1" in other.text
    chapter = await core.course_stats(teacher("g2"), 7)
    assert "shallow: 0" in chapter.text and "deep: 1 → 0 → 0" in chapter.text and "1 student;" in chapter.text
    book = (await core.course_export(teacher("g2"))).files[0].content.decode()
    assert "UZ" in book and "UA" not in book
    mine = (await core.course_export(teacher("g1"))).files[0].content.decode()
    assert "UZ" not in mine


# ---- through the console, in JSON lines -----------------------------------------------------------


def test_console_jsonl_carries_the_charts_and_csv(tmp_path):
    import asyncio

    async def prepare():
        from bot.core.content import load_course
        store = await open_store(tmp_path / "j.db")
        try:
            await store.run(seed, load_course(DEFAULT_CONTENT_DIR), "console", "local", "elsewhere", ManualClock().now())
        finally:
            await store.close()
    asyncio.run(prepare())
    environment = {**os.environ, "COMPANION_DB": str(tmp_path / "j.db"), "COMPANION_LOG_LEVEL": "warning",
                   "COMPANION_INSTRUCTORS": "console:teacher"}
    environment.pop("DISCORD_TOKEN", None)
    environment.pop("SLACK_BOT_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "console", "--jsonl"], cwd=tmp_path, env=environment,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(obj) -> dict:
        proc.stdin.write(json.dumps(obj) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())["reply"]

    try:
        stats = send({"user": "teacher", "text": "/course stats chapter 7"})
        assert f"alpha {ALPHA:.2f}" in stats["text"]
        for f in stats["files"]:
            data = base64.b64decode(f["base64"])
            assert f["mime"] == "image/png" and f["size"] == len(data) and f["description"]
            assert png_size(data) == (800, 450) and len(data) > BLANK + 2000
        export = send({"user": "teacher", "text": "/course export"})
        assert export["files"][0]["text"].startswith("display_name,platform,platform_id")
        assert "UZ" not in export["files"][0]["text"]
        refused = send({"user": "ua", "text": "/course stats"})
        assert refused["kind"] == "error" and "files" not in refused
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    assert proc.stderr.read().count("Traceback") == 0


def test_answers_folded_into_masks_unfold_past_one_word():
    """Positions 32 and up live in the second mask word; a question removed from the course
    (here `gone`) and an attempt with no answers left are not analysed."""
    keys = [f"k{i}" for i in range(40)]
    attempts = {1: json.dumps(keys), 2: json.dumps(["gone"]), 3: json.dumps(list(reversed(keys)))}
    words = [(1, 0, 1 << 3, 1 << 5, (1 << 32) - 1), (1, 1, 1 << 2, 0, (1 << 8) - 1), (2, 0, 1, 0, 1), (3, 0, 1, 0, 1)]
    scores, hints = item_analysis.matrices(Responses(7, keys, attempts, words))
    assert scores.shape == (2, 40)
    assert scores[0].sum() == 2 and scores[0, 3] == 1 and scores[0, 34] == 1 and hints[0, 5] == 1
    assert scores[1, 39] == 1 and (~np.isnan(scores[1])).sum() == 1  # attempt 3 answered only its position 0: k39

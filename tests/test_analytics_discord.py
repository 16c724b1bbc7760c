"""Instructor analytics through the unmodified discord.py against the local stand-in: charts
arrive as real PNG attachments, the CSVs too, a student is refused with nothing attached, and the
progress card button works."""

from __future__ import annotations

import csv
import io

from analytics_class import ALPHA, seed
from discord_standin import GUILD_ID, User, custom_ids, embed_text
from test_analytics import BLANK
from test_charts import png_size
from test_discord_adapter import ask, bot, is_ephemeral, opt, standin  # noqa: F401

from bot.core.context import REFUSED


def assert_png(data: bytes) -> None:
    assert png_size(data) == (800, 450) and len(data) > BLANK + 2000


async def test_discord_course_commands_attach_charts_and_csv(bot, standin):  # noqa: F811
    await bot.core.store.run(seed, bot.core.course, "discord", GUILD_ID, "elsewhere", bot.core.clock.now())
    teacher = User.make("Teacher", manage_guild=True)
    overview = await ask(standin, teacher, "course stats")
    assert is_ephemeral(overview) and "6 students" in embed_text(overview)
    assert [f["filename"] for f in overview["_files"]] == ["class-funnel.png", "class-activity.png"]
    for f in overview["_files"]:
        assert_png(bytes(f["content"]))
    chapter = await ask(standin, teacher, "course stats", [opt("chapter", 7)])
    assert f"alpha {ALPHA:.2f}" in embed_text(chapter) and len(chapter["_files"]) == 2
    question = await ask(standin, teacher, "course question", [opt("question", "instruction-tuning-is-sft", 3)])
    assert "facility index: 40%" in embed_text(question)
    assert_png(bytes(question["_files"][0]["content"]))
    export = await ask(standin, teacher, "course export")
    book = list(csv.DictReader(io.StringIO(bytes(export["_files"][0]["content"]).decode())))
    assert [r["platform_id"] for r in book] == ["UA", "UB", "UC", "UD", "UE", "UF"]
    student = User.make("Student")
    for name, options in (("course stats", None), ("course stats", [opt("chapter", 7)]), ("course export", None),
                          ("course question", [opt("question", "hola", 3)])):
        refused = await ask(standin, student, name, options)
        assert is_ephemeral(refused) and REFUSED[:40] in embed_text(refused) and not refused.get("_files")


async def test_discord_progress_card_button(bot, standin):  # noqa: F811
    ann = User.make("Ann")
    await ask(standin, ann, "lesson", [opt("chapter", 7)])
    progress = await ask(standin, ann, "progress")
    assert "progress:card" in custom_ids(progress)
    card = await standin.answer(await standin.click(ann, progress, "progress:card"))
    assert is_ephemeral(card) and card["_files"][0]["filename"] == "progress-card.png"
    assert png_size(bytes(card["_files"][0]["content"])) == (600, 320)

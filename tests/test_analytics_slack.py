"""Instructor analytics through the unmodified slack-bolt against the local stand-in: the charts
and CSVs are uploaded to the instructor's DM (a private reply), and a student gets nothing."""

from __future__ import annotations

from analytics_class import ALPHA, seed
from test_analytics import BLANK
from test_charts import png_size
from test_slack_e2e import command

from tests.slack_fixtures import socket_world, standin  # noqa: F401
from tests.slack_standin import TEAM_ID, shown_text


def assert_png(data: bytes) -> None:
    assert png_size(data) == (800, 450) and len(data) > BLANK + 2000


async def test_slack_course_commands_upload_charts_to_the_instructors_dm(socket_world):  # noqa: F811
    w = socket_world
    await w.core.store.run(seed, w.core.course, "slack", TEAM_ID, "elsewhere", w.clock.now())
    s = w.standin
    before = len(s.calls_to("upload"))
    reply = await command(w, "course stats chapter 7", user="UADMIN")
    assert f"alpha {ALPHA:.2f}" in shown_text(reply)
    await s.wait_for(lambda c: c.method == "files.completeUploadExternal", after=0)
    uploads = s.calls_to("upload")[before:]
    assert len(uploads) == 2
    for upload in uploads:
        assert_png(upload.data["content"])
    complete = s.calls_to("files.completeUploadExternal")[-1]
    assert complete.data["channel_id"].startswith("D")  # a private reply: the files go to the instructor's DM
    export = await command(w, "course export", user="UTEACH")
    assert shown_text(export)
    await s.wait_for(lambda c: c.method == "upload" and c.data["content"].startswith(b"display_name"), after=0)
    refused = await command(w, "course question hola", user="UBOB")
    assert "instructor" in shown_text(refused).lower()
    for text in ("course stats", "course stats chapter 7", "course export"):
        assert "instructor" in shown_text(await command(w, text, user="UANN")).lower()
    assert len([u for u in s.calls_to("upload") if u.data["content"].startswith(b"display_name")]) == 1

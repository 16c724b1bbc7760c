"""The RLHF lab on every platform: the unmodified discord.py against the Discord stand-in, the
unmodified slack-bolt against the Slack stand-in, and the console's JSON lines as a process.
Each writes a demonstration through its form, ranks, and runs a live lab whose votes count once
and whose closing chart reaches the channel; instructors' tools are gated on the platform.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from discord_harness import Bot, discord_settings
from discord_standin import DiscordStandIn, User, custom_ids, embed_text

from bot.core.clock import ManualClock
from tests.slack_fixtures import close_world, open_world, socket_world, standin  # noqa: F401
from tests.slack_standin import elements, shown_text

ROOT = Path(__file__).resolve().parents[1]
EVIL = "@everyone <@123> [http://good.example](http://evil.example)"


# ---- Discord ---------------------------------------------------------------------------------------

@pytest.fixture
async def discord():
    s = await DiscordStandIn().start()
    yield s
    assert not s.late and not s.limit_problems and not s.link_problems
    await s.close()


async def ask(standin: DiscordStandIn, user: User, name: str, options=None) -> dict:
    return await standin.answer(await standin.slash(user, name, options))


async def test_discord_lab_write_rank_export_and_a_live_lab(discord, database):
    clock = ManualClock()
    bot = Bot(discord, discord_settings(database, discord), clock=clock)
    await bot.start()
    try:
        ann, bob = User.make("Ann"), User.make("Bob")
        menu = await ask(discord, ann, "lab menu")
        assert "RLHF lab" in embed_text(menu) and "lab:write" in custom_ids(menu)
        task = await ask(discord, ann, "lab write")
        form = next(c for c in custom_ids(task) if c.startswith("t|lab:demo:"))
        modal = await discord.answer(await discord.click(ann, task, form))
        assert modal["type"] == 9
        field = modal["data"]["components"][0]["components"][0]
        assert field["max_length"] == 1500 and field["style"] == 2  # a demonstration: paragraphs, not a 200-character line
        saved = await discord.answer(await discord.submit(ann, modal["data"]["custom_id"], "Hola\n\n" + EVIL, task))
        assert "Saved to your class's pool" in embed_text(saved) and "> Hola\n> \n> " in embed_text(saved)
        assert "@everyone" not in embed_text(saved) and "](" not in embed_text(saved)
        ranked = await ask(discord, bob, "lab rank")
        form = next(c for c in custom_ids(ranked) if c.startswith("t|lab:rank:"))
        modal = await discord.answer(await discord.click(bob, ranked, form))
        letters = " ".join("ABCD"[: sum(1 for x in "ABCD" if f"**{x}**" in embed_text(ranked))])
        done = await discord.answer(await discord.submit(bob, modal["data"]["custom_id"], letters, ranked))
        assert "Your ranking" in embed_text(done)
        assert "instructor" in embed_text(await ask(discord, bob, "lab export")).lower()
        teacher = User.make("Teacher", manage_guild=True)
        exported = await ask(discord, teacher, "lab export")
        assert sorted(f["filename"] for f in exported["_files"]) == ["README.md", "preferences.jsonl", "sft.jsonl"]

        started = await ask(discord, ann, "lab live", [{"name": "rounds", "type": 4, "value": 1}])
        assert "Live lab started" in embed_text(started)
        question = (await discord.wait_for(lambda: [m for m in discord.channel_messages() if "round 1/1" in embed_text(m)]))[0]
        votes = [c for c in custom_ids(question) if ":a:" in c]
        voters = [User.make(f"Voter {i:02d}") for i in range(20)]
        acks = await asyncio.gather(*[discord.answer(await discord.click(v, question, votes[i % 2])) for i, v in enumerate(voters)])
        assert all("Vote recorded" in embed_text(a) for a in acks)
        assert "already voted" in embed_text(await discord.answer(await discord.click(voters[0], question, votes[1])))
        clock.advance(seconds=21)
        # The reveal waits for the refit on the votes (the first fit of a process loads scikit-learn: seconds on a busy machine).
        reveal = await discord.wait_for(lambda: [m for m in discord.channel_messages() if "Votes are in" in embed_text(m)], timeout=60)
        assert "10 (50%)" in embed_text(reveal[0]) and "P(A over B)" in embed_text(reveal[0])
        final = await discord.wait_for(lambda: [m for m in discord.channel_messages() if "Live lab finished" in embed_text(m)], timeout=60)
        chart = final[0]["_files"][0]
        assert chart["filename"].endswith(".png") and chart["content"].startswith(b"\x89PNG")
        await discord.wait_for(lambda: not discord.messages[question["id"]]["components"])
    finally:
        await bot.stop()


# ---- Slack -----------------------------------------------------------------------------------------

async def slack_command(w, text: str, user: str = "UANN") -> dict:
    s = w.standin
    payload = s.slash_command("/companion", text, user, "C0GENERAL")
    mark = len(s.calls)
    ack = await w.send(payload)
    assert ack.seconds < 3
    url_id = payload["response_url"].rsplit("/", 1)[1]
    return (await s.wait_for(lambda c: c.method == "response_url" and c.data["id"] == url_id, after=mark)).data


async def slack_form(w, data: dict, text: str, user: str = "UANN") -> dict:
    s = w.standin
    button = next(e for e in elements(data["blocks"]) if e["type"] == "button" and e["action_id"].startswith("input|"))
    click = s.block_action(user, button, channel="C0GENERAL", ephemeral=True)
    mark = len(s.calls)
    await w.send(click)
    opened = (await s.wait_for(lambda c: c.method == "views.open", after=mark)).data
    mark = len(s.calls)
    await w.send(s.view_submission(user, opened["view"], {"answer": {"text": {"type": "plain_text_input", "value": text}}}))
    return (await s.wait_for(lambda c: c.method in ("response_url", "chat.postEphemeral", "chat.postMessage"), after=mark)).data


async def test_slack_lab_write_rank_flags_and_a_live_lab_chart_in_the_channel(socket_world):  # noqa: F811
    w = socket_world
    s = w.standin
    task = await slack_command(w, "lab write")
    assert "Write a demonstration" in shown_text(task)
    saved = await slack_form(w, task, "Hola\n\n" + EVIL)
    assert "Saved" in shown_text(saved)
    field = next(c for c in s.calls if c.method == "views.open").data["view"]["blocks"][0]["element"]
    assert field["multiline"] is True  # a demonstration is several lines; its line breaks are kept
    assert "> Hola\n" in shown_text(saved)  # the first paragraph, quoted on its own line
    ranked = await slack_command(w, "lab rank", user="UBOB")
    count = sum(1 for x in "ABCD" if f"*{x}*" in shown_text(ranked))
    done = await slack_form(w, ranked, " ".join("ABCD"[:count]), user="UBOB")
    assert "Your ranking" in shown_text(done)
    assert "instructor" in shown_text(await slack_command(w, "lab flags", user="UBOB")).lower()
    assert "No flagged" in shown_text(await slack_command(w, "lab flags", user="UADMIN"))  # a workspace admin, asked of users.info
    assert any(c.method == "users.info" and c.data.get("user") == "UADMIN" for c in s.calls)

    loop = asyncio.create_task(w.core.live.run())
    try:
        started = await slack_command(w, "lab live 1")
        assert "Live lab started" in shown_text(started)
        question = (await s.wait_calls("chat.postMessage", 1))[-1]
        assert "round 1/1" in shown_text(question.data)
        buttons = [e for e in elements(question.data["blocks"]) if e["type"] == "button" and ":a:" in e.get("value", "")]
        for i in range(10):
            await w.send(s.block_action(f"UV{i:02d}", buttons[i % 2], channel="C0GENERAL", ephemeral=False, name=f"v{i}"))
        await w.send(s.block_action("UV00", buttons[1], channel="C0GENERAL", ephemeral=False, name="v0"))
        for _ in range(100):
            if await w.core.store.read(lambda c: c.execute("SELECT COUNT(*) FROM live_answers").fetchone()[0]) == 10:
                break
            await asyncio.sleep(0.05)
        uploads_before = len(s.calls_to("files.completeUploadExternal"))
        w.clock.advance(21)
        update = await s.wait_for(lambda c: c.method == "chat.update" and "Votes are in" in shown_text(c.data), timeout=60)
        assert "5 (50%)" in shown_text(update.data)
        done = await s.wait_for(lambda c: c.method == "files.completeUploadExternal" and len(s.calls_to("files.completeUploadExternal")) > uploads_before,
                                timeout=60)
        assert done.data["channel_id"] == "C0GENERAL"  # the class's chart goes to the channel, for everyone
        assert any(c.data["content"].startswith(b"\x89PNG") for c in s.calls_to("upload") if isinstance(c.data["content"], bytes))
    finally:
        loop.cancel()


# ---- the console -----------------------------------------------------------------------------------

def test_console_jsonl_lab_write_rank_and_live(tmp_path):
    env = {**os.environ, "COMPANION_DB": str(tmp_path / "c.db"), "COMPANION_INSTRUCTORS": "console:teacher",
           "COMPANION_EXPORT_DIR": str(tmp_path / "exports"), "PYTHONPATH": str(ROOT)}
    env.pop("DISCORD_TOKEN", None)
    env.pop("SLACK_BOT_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "console", "--jsonl"], cwd=tmp_path, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(obj: dict) -> dict:
        proc.stdin.write(json.dumps(obj) + "\n")
        proc.stdin.flush()
        while True:
            line = json.loads(proc.stdout.readline())
            if "event" not in line:
                return line

    try:
        task = send({"user": "ann", "text": "/lab write"})["reply"]
        saved = send({"user": "ann", "action": task["text_input"]["action"] + "Hola " + EVIL})["reply"]
        assert "Saved" in saved["text"] and "@everyone" not in saved["text"]
        ranked = send({"user": "bob", "text": "/lab rank"})["reply"]
        count = sum(1 for x in "ABCD" if f"**{x}**" in ranked["text"])
        done = send({"user": "bob", "action": ranked["text_input"]["action"] + " ".join("ABCD"[:count])})["reply"]
        assert "Your ranking" in done["text"]
        exported = send({"user": "teacher", "text": "/lab export"})["reply"]
        files = {f["filename"]: f for f in exported["files"]}
        assert json.loads(files["sft.jsonl"]["text"].splitlines()[0])["messages"][1]["content"].startswith("Hola")
        prefs = [json.loads(line) for line in files["preferences.jsonl"]["text"].splitlines()]
        assert len(prefs) == count * (count - 1) // 2 and all(set(p) == {"prompt", "chosen", "rejected"} for p in prefs)
        assert "Live lab started" in send({"user": "ann", "text": "/lab live 1"})["reply"]["text"]
        assert "Vote recorded" in send({"user": "bob", "text": "/answer A"})["reply"]["text"]
        assert "already voted" in send({"user": "bob", "text": "/answer B"})["reply"]["text"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def test_console_reply_fills_in_the_last_form(tmp_path):
    """Piped console: `/reply TEXT` writes the demonstration the last reply asked for."""
    env = {**os.environ, "COMPANION_DB": str(tmp_path / "c.db"), "PYTHONPATH": str(ROOT)}
    env.pop("DISCORD_TOKEN", None)
    env.pop("SLACK_BOT_TOKEN", None)
    lines = "/reply too early\n/lab write\n/reply Hola, amigo.\n/lab\n"
    done = subprocess.run([sys.executable, "-m", "bot"], input=lines, cwd=tmp_path, env=env, text=True, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "There is no form to fill in" in done.stdout
    assert "(type /reply and then: your demonstration)" in done.stdout
    assert "Saved to your class's pool" in done.stdout and "Hola, amigo." in done.stdout
    assert "streak: 1 day" in done.stdout

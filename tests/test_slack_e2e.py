"""End to end through the unmodified slack-bolt app and a local stand-in of Slack.

Every scenario runs the real core on a real SQLite file; requests reach bolt as Socket Mode
envelopes or as signed HTTP posts, and everything the adapter sends is read back from the
stand-in's record of Web API and response_url calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from bot.adapters import AdapterError
from bot.adapters.slack.app import SlackAdapter, check_settings
from bot.core import live_messages, quiz
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR
from bot.core.users import Actor
from tests.slack_fixtures import (  # noqa: F401
    close_world,
    open_world,
    slack_settings,
    socket_world,
    standin,
    world,
)
from tests.slack_standin import (
    SIGNING_SECRET,
    SlackStandIn,
    TEAM_ID,
    assert_safe,
    elements,
    find,
    shown_text,
)

GENERAL = "C0GENERAL"


def in_general() -> Actor:
    """Someone in #general of the stand-in's workspace: where the live quizzes of these tests run."""
    return Actor("slack", "UREADER", "reader", guild=TEAM_ID, channel=GENERAL)


async def command(w, text: str, user: str = "UANN", channel: str = GENERAL, name: str = "/companion"):
    """Run a slash command; return the response_url post it caused."""
    s = w.standin
    payload = s.slash_command(name, text, user, channel)
    mark = len(s.calls)
    ack = await w.send(payload)
    assert ack.seconds < 3 and ack.status in (None, 200)
    url_id = payload["response_url"].rsplit("/", 1)[1]
    call = await s.wait_for(lambda c: c.method == "response_url" and c.data["id"] == url_id, after=mark)
    return call.data


async def press(w, data: dict, label: str | None = None, element: dict | None = None, user: str = "UANN",
                channel: str = GENERAL, ephemeral: bool = True, selected: list[str] | None = None, home: bool = False):
    """Press a button (by label start) or use an element of a recorded payload; return what came back."""
    s = w.standin
    element = element or find(data["blocks"], label)
    payload = s.block_action(user, element, channel=channel, ephemeral=ephemeral, selected=selected, home=home)
    mark = len(s.calls)
    ack = await w.send(payload)
    assert ack.seconds < 3
    if element["action_id"].startswith("input|"):
        return (await s.wait_for(lambda c: c.method == "views.open", after=mark)).data
    if home:
        return (await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)).data
    url_id = payload["response_url"].rsplit("/", 1)[1]
    return (await s.wait_for(lambda c: c.method == "response_url" and c.data["id"] == url_id, after=mark)).data


async def submit(w, opened: dict, text: str, user: str = "UANN"):
    s = w.standin
    view = opened["view"]
    payload = s.view_submission(user, view, {"answer": {"text": {"type": "plain_text_input", "value": text}}})
    mark = len(s.calls)
    ack = await w.send(payload)
    assert ack.seconds < 3
    return (await s.wait_for(lambda c: c.method in ("response_url", "chat.postMessage", "chat.postEphemeral"), after=mark)).data


async def current(core: Companion, user_id: str):
    return await quiz.current_question(core.ctx, Actor("slack", user_id, user_id))


# ---- every command ----------------------------------------------------------------------------

SUB_COMMANDS = ["help", "lesson 7 deep", "next", "prev", "page 2", "depth shallow", "lesson", "quiz 7 3", "hint", "answer B",
                "review", "progress", "leaderboard", "chat hello there", "compare What is 2+2?", "mode base", "live status",
                "forget-me", "", "frobnicate", "course stats"]


async def test_every_command(world):  # noqa: F811
    s = world.standin
    seen = {}
    for text in SUB_COMMANDS:
        seen[text] = await command(world, text)
    assert "Commands" in seen["help"]["text"] and "/companion lesson" in shown_text(seen["help"])
    assert "/cc-quiz" in shown_text(seen["help"])
    assert "Page 1 of" in shown_text(seen["lesson 7 deep"])
    assert "Page 2 of" in shown_text(seen["next"]) and "Page 1 of" in shown_text(seen["prev"])
    assert "Question 1 of 3" in shown_text(seen["quiz 7 3"])
    assert seen["progress"]["response_type"] == "ephemeral"
    assert seen["leaderboard"]["response_type"] in ("in_channel", "ephemeral")
    assert "Delete everything" in shown_text(seen["forget-me"])
    assert "Commands" in seen[""]["text"]
    assert "don't know the sub-command" in shown_text(seen["frobnicate"]) and "Commands" in seen["frobnicate"]["text"]
    assert "instructor" in shown_text(seen["course stats"]).lower()  # refused to a student
    for text in ("chat hello there", "compare What is 2+2?", "mode base"):
        assert seen[text]["blocks"]  # the assistant answers something; its words are not our business
    # The short aliases from the manifest.
    alias = await command(world, "7 shallow", name="/cc-lesson")
    assert "Page 1 of" in shown_text(alias)
    # my-data: a JSON file in the person's DM, and an ephemeral note in the channel.
    note = await command(world, "my-data")
    assert "direct messages" in shown_text(note)
    upload = s.calls_to("upload")[-1]
    data = json.loads(upload.data["content"])
    assert "exported_at" in data and "about" in data
    complete = s.calls_to("files.completeUploadExternal")[-1]
    assert complete.data["channel_id"] == "DANN"
    assert all(a.seconds < 3 for a in s.acks)
    assert_safe(s.calls)


async def test_instructor_commands_are_gated_on_the_server(socket_world):  # noqa: F811
    w = socket_world
    refused = await command(w, "course stats", user="UBOB")
    assert "instructor" in shown_text(refused).lower() and "Class" not in shown_text(refused)
    by_config = await command(w, "course stats", user="UTEACH")  # COMPANION_INSTRUCTORS=slack:UTEACH
    by_admin = await command(w, "course stats", user="UADMIN")  # users.info says is_admin
    for reply in (by_config, by_admin):
        assert "instructor" not in shown_text(reply).lower() or "stat" in shown_text(reply).lower()
        assert reply["blocks"] and shown_text(reply) != shown_text(refused)
    assert any(c.method == "users.info" and c.data.get("user") == "UADMIN" for c in w.standin.calls)
    reload = await command(w, "course reload", user="UADMIN")
    assert shown_text(reload) != shown_text(refused)
    await command(w, "lesson 7", user="UBOB")
    reset = await command(w, "course reset <@UBOB|bob>", user="UADMIN")  # a mention, as Slack escapes it
    assert "Reset the progress of" in shown_text(reset)
    stop = await command(w, "course stop", user="UADMIN")
    assert "no live quiz" in shown_text(stop).lower()
    assert "/companion course" in shown_text(await command(w, "help", user="UADMIN"))  # admins see the instructor tools
    assert "/companion course" not in shown_text(await command(w, "help", user="UBOB"))


# ---- a solo quiz to the end ---------------------------------------------------------------------

async def test_solo_quiz_to_the_end(world):  # noqa: F811
    w = world
    reply = await command(w, "quiz 7 6")
    hinted = False
    for step in range(6):
        attempt, question = await current(w.core, "UANN")
        assert f"Question {step + 1} of 6" in shown_text(reply)
        if not hinted and "💡 Hint" in shown_text(reply):
            hint = await press(w, reply, "💡 Hint")
            assert "Hint" in shown_text(hint)
            assert hint.get("replace_original") is False  # the question stays
            hinted = True
        elif step == 0:
            hint = await command(w, "hint")
            assert hint["response_type"] == "ephemeral" and hint["blocks"]
        answer = question.typed_answer(attempt["seed"])
        if question.type in ("single", "true_false"):
            label = {"true": "True", "false": "False"}.get(answer, f"{answer})")
            reply = await press(w, reply, label)
        elif question.type == "multiple":
            select = next(e for e in elements(reply["blocks"]) if e["type"] == "multi_static_select")
            reply = await press(w, reply, element=select, selected=answer.split())
        else:
            opened = await press(w, reply, "✍️")
            assert opened["view"]["type"] == "modal" and opened["trigger_id"]
            reply = await submit(w, opened, answer)
        assert reply.get("replace_original") is True  # one message, stepping through the quiz
        assert "Correct" in shown_text(reply), shown_text(reply)
    assert "Quiz finished: 6/6" in shown_text(reply)
    progress = await press(w, reply, "📈 Progress")
    assert "best 6/6" in shown_text(progress)
    assert_safe(w.standin.calls)


# ---- a live quiz with a crowd -------------------------------------------------------------------

def answer_controls(blocks) -> list[dict]:
    """A live question's answer controls: buttons, a menu, or a button that opens a typed-answer form."""
    return [e for e in elements(blocks) if e["type"] in ("static_select", "multi_static_select")
            or (e["type"] == "button" and (":a:" in e["value"] or e["action_id"].startswith("input|")))]


async def play(w, controls: list[dict], player: str, i: int):
    """`player` answers with the i-th control (or option); returns (ack, the response_url id answered on)."""
    s = w.standin
    control = controls[i % len(controls)]
    selected = None
    if "select" in control["type"]:
        selected = [control["options"][i % len(control["options"])]["value"]]
    click = s.block_action(player, control, channel=GENERAL, ephemeral=False, selected=selected, name=player.lower())
    mark = len(s.calls)
    ack = await w.send(click)
    if control["action_id"].startswith("input|"):
        opened = await s.wait_for(lambda c: c.method == "views.open" and c.data["trigger_id"] == click["trigger_id"], after=mark)
        example = json.loads(control["value"]).get("p") or "an answer"  # a well-formed answer (ordering: all letters)
        view = opened.data["view"]
        ack = await w.send(s.view_submission(player, view, {"answer": {"text": {"type": "plain_text_input", "value": example}}}))
    return ack, click["response_url"].rsplit("/", 1)[1]

async def test_live_quiz_with_fifty_players_and_a_restart(tmp_path, standin, database):  # noqa: F811
    w = await open_world(database, standin, "socket")
    loop = asyncio.create_task(w.core.live.run())
    try:
        started = await command(w, "live 7 2", user="UTEACH")
        assert "Live quiz started" in shown_text(started)
        question = (await standin.wait_calls("chat.postMessage", 1))[-1]
        assert question.data["channel"] == GENERAL and "question 1/2" in shown_text(question.data)
        assert re.search(r"<!date\^\d+\^Answers close at \{time_secs\}\|Answers close at \d\d:\d\d:\d\d UTC>", shown_text(question.data))
        _, attempt_question = await w.core.live.current_question(in_general())
        controls = answer_controls(question.data["blocks"])
        assert controls, "the first live question can be answered"
        players = [f"UP{i:03d}" for i in range(50)]
        # Everyone answers at once; one of them answers twice.
        acks_and_urls = await asyncio.gather(*(play(w, controls, p, i) for i, p in enumerate(players + players[:1])))
        acks = [a for a, _ in acks_and_urls]
        assert max(a.seconds for a in acks) < 3
        urls = {u for _, u in acks_and_urls}
        for _ in range(100):
            if len({c.data["id"] for c in standin.calls_to("response_url") if c.data["id"] in urls}) == len(urls):
                break
            await asyncio.sleep(0.05)
        acked = [c.data for c in standin.calls_to("response_url") if c.data["id"] in urls]
        assert len(acked) == 51
        assert all(a["response_type"] == "ephemeral" and a.get("replace_original") is False for a in acked)
        assert sum("Answer recorded" in shown_text(a) for a in acked) == 50
        assert sum("already answered" in shown_text(a) for a in acked) == 1
        count = await w.core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM live_answers").fetchone()[0])
        assert count == 50
        # Restart mid-session: a new app on the same database; the old message and buttons still work.
        await close_world(w)
        loop.cancel()
        w = await open_world(database, standin, "socket", clock=w.clock)
        loop = asyncio.create_task(w.core.live.run())
        _, late = await play(w, controls, "ULATE", 0)
        got = await standin.wait_for(lambda c: c.method == "response_url" and c.data["id"] == late)
        assert "Answer recorded" in shown_text(got.data)
        updates_before = len(standin.calls_to("chat.update"))
        w.clock.advance(21)  # the question closes: the same message is updated with the reveal
        update = (await standin.wait_calls("chat.update", updates_before + 1))[-1]
        assert update.data["channel"] == GENERAL
        assert "Time's up" in shown_text(update.data) and "Standings" in shown_text(update.data)
        assert "Question 1 of 2" in shown_text(update.data)  # the question stays above its reveal
        assert not [b for b in update.data["blocks"] if b["type"] == "actions"]  # and its buttons are gone
        assert "correct" in shown_text(update.data)
        # The reveal updates the message posted before the restart.
        session = (await w.core.store.run(lambda c: c.execute("SELECT id FROM live_sessions").fetchone()))[0]
        first = await live_messages.find(w.core.store, "slack", session, 0)
        assert update.data["ts"] == first.message_id
        w.clock.advance(6)  # the reveal ends: question 2
        second = await standin.wait_for(lambda c: c.method == "chat.postMessage" and "question 2/2" in shown_text(c.data))
        skip = find(second.data["blocks"], "⏭ Skip")
        refused = await press(w, second.data, element=skip, user="UP001", ephemeral=False)
        assert "Only the person who started" in shown_text(refused)
        stopped = await press(w, second.data, "⏹ Stop", user="UADMIN", ephemeral=False)  # a workspace admin may
        assert "stopped" in shown_text(stopped)
        final = await standin.wait_for(lambda c: c.method == "chat.postMessage" and "Final leaderboard" in shown_text(c.data))
        assert "51 players" in shown_text(final.data)
        assert attempt_question is not None
        assert_safe(standin.calls)
    finally:
        loop.cancel()
        await close_world(w)


# ---- DMs, App Home, forget-me ---------------------------------------------------------------------

async def test_dm_conversation_and_app_home(world):  # noqa: F811
    w = world
    s = w.standin
    await w.send(s.dm_event("UANN", "hello, what is instruction tuning?"))
    first = await s.wait_for(lambda c: c.method == "chat.postMessage" and c.data["channel"] == "DANN")
    assert first.data["blocks"]
    assert "Chapter 7" in shown_text(first.data)  # the assistant answered from the lesson, with its source
    mark = len(s.calls)
    await w.send(s.dm_event("UANN", "/lesson 7 shallow"))
    lesson = await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
    assert "Page 1 of" in shown_text(lesson.data)
    # The bot's own messages and edits are ignored.
    mark = len(s.calls)
    bot = s.dm_event("UANN", "echo")
    bot["event"].update({"bot_id": "B0STANDIN", "user": "UBOT0001"})
    edit = s.dm_event("UANN", "edited")
    edit["event"]["subtype"] = "message_changed"
    await w.send(bot)
    await w.send(edit)
    await w.send(s.home_event("UANN"))
    home = await s.wait_for(lambda c: c.method == "views.publish", after=mark)
    assert [c.method for c in s.calls[mark:]].count("chat.postMessage") == 0
    view = home.data["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = shown_text(home.data)
    assert "Continue where you left off" in text and "chapter 7" in text and "Your progress" in text
    # A Home button answers in the DM and refreshes the Home.
    mark = len(s.calls)
    page = await press(w, home.data["view"], "📖 Continue reading", home=True)
    assert page["channel"] == "UANN" and "Page" in shown_text(page)
    await s.wait_for(lambda c: c.method == "views.publish", after=mark)
    assert_safe(s.calls)


async def test_forget_me_with_confirmation(world):  # noqa: F811
    w = world  # over Socket Mode and over HTTP (interactive payloads as a signed `payload=` form)
    await command(w, "lesson 7")
    ask = await command(w, "forget-me")
    cancel = await press(w, ask, "Cancel")
    assert "Nothing was deleted" in shown_text(cancel)
    users = lambda: w.core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM users WHERE user_id = 'UANN'").fetchone()[0])
    assert await users() == 1
    ask = await command(w, "forget-me")
    done = await press(w, ask, "Delete everything")
    assert "deleted" in shown_text(done) and done["replace_original"] is True
    assert await users() == 0


# ---- deliveries, signatures, retries ----------------------------------------------------------------

async def test_bad_or_stale_signature_is_rejected(tmp_path, standin, database):  # noqa: F811
    w = await open_world(database, standin, "http")
    try:
        import time

        payload = standin.slash_command("/companion", "help", "UANN")
        bad = await standin.http(w.url, payload, secret="not-the-secret")
        stale = await standin.http(w.url, payload, timestamp=int(time.time()) - 600)
        assert bad.status == 401 and stale.status == 401
        good = await standin.http(w.url, payload)
        assert good.status == 200
        await standin.wait_for(lambda c: c.method == "response_url")
        assert len(standin.calls_to("response_url")) == 1  # the rejected ones did nothing
    finally:
        await close_world(w)


async def test_events_api_retry_is_handled_once_over_http(tmp_path, standin, database):  # noqa: F811
    w = await open_world(database, standin, "http")
    try:
        event = standin.dm_event("UANN", "/help", event_id="Ev0RETRY")
        first = await standin.http(w.url, event)
        retry = await standin.http(w.url, event, retry_num=1)
        assert first.status == 200 and retry.status == 200
        await standin.wait_for(lambda c: c.method == "chat.postMessage")
        await asyncio.sleep(0.2)
        assert len(standin.calls_to("chat.postMessage")) == 1
    finally:
        await close_world(w)


async def test_repeated_envelopes_and_event_retries_are_handled_once(tmp_path, standin, database):  # noqa: F811
    w = await open_world(database, standin, "socket")
    try:
        payload = standin.slash_command("/companion", "help", "UANN")
        a = await standin.envelope("slash_commands", payload, envelope_id="env-1")
        b = await standin.envelope("slash_commands", payload, envelope_id="env-1")  # the same envelope again
        assert a.acked_at and b.acked_at
        event = standin.dm_event("UANN", "/help", event_id="Ev0SOCKET")
        await standin.envelope("events_api", event)
        await standin.envelope("events_api", event, retry_attempt=1)  # a redelivery in a new envelope
        await standin.wait_for(lambda c: c.method == "chat.postMessage")
        await asyncio.sleep(0.2)
        assert len(standin.calls_to("response_url")) == 1
        assert len(standin.calls_to("chat.postMessage")) == 1
        # After a restart the event id is still known (kept in SQLite).
        await close_world(w)
        w = await open_world(database, standin, "socket")
        await standin.envelope("events_api", event, retry_attempt=2)
        await asyncio.sleep(0.2)
        assert len(standin.calls_to("chat.postMessage")) == 1
    finally:
        await close_world(w)


# ---- escaping -----------------------------------------------------------------------------------

NASTY = "<!channel> <@U0VICTIM> <!here> & <https://evil.example|click me> 1 < 2 > 0"


async def test_content_and_user_text_cannot_mention_or_link(tmp_path, standin, database):  # noqa: F811
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    lesson = next(content.glob("ch07*/lesson.md"))
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("A base model completes text.", f"A base model completes text. {NASTY}", 1), encoding="utf-8")
    assert NASTY in lesson.read_text(encoding="utf-8")
    w = await open_world(database, standin, "socket", content_dir=content)
    try:
        standin.names["UEVIL"] = "<!channel> & <@U0VICTIM>"
        page = await command(w, "lesson 7 shallow", user="UEVIL")
        assert "&lt;!channel&gt;" in shown_text(page) and "&lt;@U0VICTIM&gt;" in shown_text(page)
        await command(w, f"frob{NASTY}", user="UEVIL")
        await command(w, f"answer {NASTY}", user="UEVIL")
        await command(w, f"lesson {NASTY}", user="UEVIL")
        await command(w, "course reset <@U0VICTIM> & <!channel>", user="UADMIN")
        await w.send(standin.dm_event("UEVIL", NASTY))
        await standin.wait_for(lambda c: c.method == "chat.postMessage")
        await command(w, "leaderboard", user="UEVIL")
        await command(w, "live 7 1", user="UEVIL")
        await standin.wait_for(lambda c: c.method == "chat.postMessage" and "live quiz" in shown_text(c.data))
        await command(w, "answer A", user="UEVIL")
        await command(w, "live stop", user="UEVIL")
        await standin.wait_for(lambda c: c.method == "chat.postMessage" and "final results" in shown_text(c.data))
        assert_safe(standin.calls)
    finally:
        await close_world(w)


# ---- settings ------------------------------------------------------------------------------------

async def test_tokens_never_reach_the_logs(tmp_path, standin, caplog, database):  # noqa: F811
    import logging

    from tests.slack_standin import APP_TOKEN, BOT_TOKEN

    caplog.set_level(logging.DEBUG)
    w = await open_world(database, standin, "socket")
    try:
        await command(w, "help")
        w.adapter.app.logger.info("a library printing a token: %s %s", BOT_TOKEN, APP_TOKEN)
    finally:
        await close_world(w)
    assert caplog.records
    assert BOT_TOKEN not in caplog.text and APP_TOKEN not in caplog.text

def test_missing_or_bad_tokens_give_one_line(tmp_path):
    from dataclasses import replace

    class Fake:
        api_base = "http://127.0.0.1:9/api/"

    base = slack_settings(tmp_path / "companion.db", Fake())
    cases = [replace(base, slack_bot_token=None), replace(base, slack_bot_token="xoxp-user-token"),
             replace(base, slack_app_token=None), replace(base, slack_app_token="xoxb-wrong"),
             replace(base, slack_mode="http", slack_signing_secret=None)]
    for settings in cases:
        with pytest.raises(AdapterError) as info:
            check_settings(settings)
        message = str(info.value)
        assert "\n" not in message and "xoxp-user-token" not in message and "xoxb-wrong" not in message


async def test_a_refused_token_is_one_line(tmp_path, standin):  # noqa: F811
    from dataclasses import replace

    settings = replace(slack_settings(tmp_path / "companion.db", standin), slack_bot_token="xoxb-revoked-token")
    core = await Companion.create(settings)
    try:
        adapter = SlackAdapter(core, settings)
        with pytest.raises(AdapterError) as info:
            await adapter.start()
        assert "invalid_auth" in str(info.value) and "xoxb-revoked" not in str(info.value)
    finally:
        await core.close()


def test_manifest_declares_everything(capsys):
    import yaml

    from bot.adapters.slack.cli import main

    class Args:
        slack_command = "manifest"

    assert main(Args(), slack_settings(Path("/tmp"), type("S", (), {"api_base": "http://x/"})())) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert "/companion" in commands and all(c == "/companion" or c.startswith("/cc-") for c in commands)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:history", "files:write", "users:read"} <= scopes
    assert {"message.im", "app_home_opened"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] and manifest["features"]["app_home"]["messages_tab_enabled"]
    assert TEAM_ID and SIGNING_SECRET  # the stand-in's constants are importable for other tests


# ---- hardening: forged inputs, replays, extreme inputs, disguised links, unpostable live quizzes ----

NO_LONGER_VALID = "no longer valid"


def no_tracebacks(caplog) -> list[str]:
    """Log records that carry a traceback or an error: none may come from a bad input."""
    return [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def send_action(w, payload: dict) -> dict:
    """Deliver a block action; return what came back on its response_url."""
    s = w.standin
    mark = len(s.calls)
    ack = await w.send(payload)
    assert ack.status in (None, 200)
    url_id = payload["response_url"].rsplit("/", 1)[1]
    return (await s.wait_for(lambda c: c.method == "response_url" and c.data["id"] == url_id, after=mark)).data


async def test_forged_block_actions_are_refused_in_words(world, caplog):  # noqa: F811
    w, s = world, world.standin
    quiz = await command(w, "quiz 7 3")
    attempt, _ = await current(w.core, "UANN")
    forged = [
        {"type": "button", "action_id": "lesson:7:deep:1", "value": f"quiz:{attempt['id']}:0:a:B", "text": {"type": "plain_text", "text": "x"}},
        {"type": "button", "action_id": "quiz:1:0:a:B", "text": {"type": "plain_text", "text": "x"}},  # no value
        {"type": "button", "action_id": "input|quiz:1:0:a:", "value": "not json", "text": {"type": "plain_text", "text": "x"}},
        {"type": "button", "action_id": "input|quiz:1:0:a:", "text": {"type": "plain_text", "text": "x"},
         "value": json.dumps({"a": "quiz:2:0:a:", "l": "x", "p": "", "m": 200})},  # not the action it names
        {"type": "button", "action_id": "input|quiz:1:0:a:", "text": {"type": "plain_text", "text": "x"},
         "value": json.dumps({"a": "quiz:1:0:a:", "l": "x", "p": "", "m": "200"})},  # not the types the app writes
        {"type": "button", "action_id": "input|quiz:1:0:a:", "text": {"type": "plain_text", "text": "x"}, "value": json.dumps([1, 2])},
    ]
    for element in forged:
        mark = len(s.calls)
        back = await send_action(w, s.block_action("UANN", element))
        assert NO_LONGER_VALID in shown_text(back) and back["response_type"] == "ephemeral", element
        assert not [c for c in s.calls[mark:] if c.method == "views.open"]
    # A menu whose options are not what the app sent (a number where a string belongs).
    select = {"type": "static_select", "action_id": f"choices|quiz:{attempt['id']}:0:a:", "options": [{"value": "A"}]}
    payload = s.block_action("UANN", select, selected=["A"])
    payload["actions"][0]["selected_option"] = {"value": 7}
    assert NO_LONGER_VALID in shown_text(await send_action(w, payload))
    assert await current(w.core, "UANN") != (None, None)  # nothing was answered
    assert quiz["blocks"] and not no_tracebacks(caplog)


async def test_a_modal_the_app_never_opened_is_refused(world, caplog):  # noqa: F811
    w, s = world, world.standin
    evil = await SlackStandIn().start()  # somewhere that is not Slack: nothing may be posted there
    try:
        await command(w, "quiz 7 3")
        attempt, _ = await current(w.core, "UANN")
        action = f"quiz:{attempt['id']}:0:a:"
        views = [
            {"callback_id": "companion_input", "private_metadata": json.dumps({"a": action, "u": evil.response_url(), "c": GENERAL})},
            {"callback_id": "companion_input", "private_metadata": json.dumps({"d": json.dumps({"a": action}), "s": "0" * 32})},
            {"callback_id": "companion_input", "private_metadata": "not json"},
            {"callback_id": "companion_input"},
        ]
        for view in views:
            mark = len(s.calls)
            await w.send(s.view_submission("UANN", view, {"answer": {"text": {"type": "plain_text_input", "value": "B"}}}))
            told = await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
            assert told.data["channel"] == "UANN" and NO_LONGER_VALID in shown_text(told.data)
        # A modal the app did open, with its state missing: refused too, not a traceback.
        quiz = await command(w, "quiz 7 1")
        assert quiz["blocks"]
        assert await current(w.core, "UANN") != (None, None)
        assert not evil.calls and not no_tracebacks(caplog)
    finally:
        await evil.close()


async def test_a_typed_answer_modal_round_trip_is_sealed(socket_world):  # noqa: F811
    """The app's own modal works (its metadata is signed); the same metadata altered does not."""
    w, s = socket_world, socket_world.standin
    await command(w, "quiz 7 31")  # every question of the chapter: 11 of them are typed
    for _ in range(31):
        attempt, question = await current(w.core, "UANN")
        if question.type in ("short", "ordering"):
            break
        await command(w, "answer " + question.typed_answer(attempt["seed"]))
    reply = await command(w, "hint")
    form = {"type": "button", "action_id": f"input|quiz:{attempt['id']}:{attempt['position']}:a:",
            "value": json.dumps({"a": f"quiz:{attempt['id']}:{attempt['position']}:a:", "l": "Your answer", "p": "", "m": 200}),
            "text": {"type": "plain_text", "text": "✍️"}}
    opened = await press(w, reply, element=form)
    sealed = json.loads(opened["view"]["private_metadata"])
    assert set(sealed) == {"d", "s"} and json.loads(sealed["d"])["a"] == json.loads(form["value"])["a"]
    altered = dict(json.loads(sealed["d"]), a=f"quiz:{attempt['id'] + 1}:0:a:")  # someone else's quiz, the same seal
    tampered = dict(opened["view"], private_metadata=json.dumps({"d": json.dumps(altered, sort_keys=True, separators=(",", ":")),
                                                                 "s": sealed["s"]}))
    mark = len(s.calls)
    await w.send(s.view_submission("UANN", tampered, {"answer": {"text": {"type": "plain_text_input", "value": "x"}}}))
    told = await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
    assert NO_LONGER_VALID in shown_text(told.data)
    back = await submit(w, opened, question.typed_answer(attempt["seed"]))
    assert "Correct" in shown_text(back)


async def test_a_response_url_that_is_not_slacks_is_never_posted_to(world, caplog):  # noqa: F811
    w, s = world, world.standin
    evil = await SlackStandIn().start()
    try:
        payload = s.slash_command("/companion", "help", "UANN")
        payload["response_url"] = evil.response_url()
        mark = len(s.calls)
        await w.send(payload)
        told = await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
        assert told.data["channel"] == "UANN" and NO_LONGER_VALID in shown_text(told.data)
        click = s.block_action("UANN", {"type": "button", "action_id": "progress:show", "value": "progress:show",
                                        "text": {"type": "plain_text", "text": "x"}})
        for url in (evil.response_url(), "http://127.0.0.1:9/evil", "https://hooks.slack.com.evil.example/x",
                    "https://user@hooks.slack.com/x", "javascript:alert(1)"):
            click["response_url"] = url
            mark = len(s.calls)
            await w.send(click)
            await s.wait_for(lambda c: c.method == "chat.postMessage", after=mark)
        assert not evil.calls and not no_tracebacks(caplog)
    finally:
        await evil.close()


def test_only_slacks_hooks_and_the_configured_api_base_are_trusted():
    from bot.adapters.slack.app import trusted_response_url

    base = "http://127.0.0.1:4000/api/"
    assert trusted_response_url("https://hooks.slack.com/commands/T1/2/abc", base)
    assert trusted_response_url("https://hooks.slack.com:443/actions/T1/2/abc", "https://slack.com/api/")
    assert trusted_response_url("http://127.0.0.1:4000/response/1", base)
    for url in ("http://hooks.slack.com/x", "https://hooks.slack.com.evil.example/x", "https://evil.example/?hooks.slack.com",
                "https://x@hooks.slack.com/x", "https://hooks.slack.com:8443/x", "http://127.0.0.1:9/evil",
                "http://127.0.0.1:4000 /x", "https://[::1/x", None, 7, "", "https://hooks.slack.com/" + "a" * 3000):
        assert not trusted_response_url(url, base), url


async def test_a_bad_timestamp_is_401_and_a_replay_is_refused(tmp_path, standin, caplog, database):  # noqa: F811
    import time

    w = await open_world(database, standin, "http")
    other = await open_world(database, standin, "http")  # a second process on the same database
    try:
        payload = standin.slash_command("/companion", "help", "UANN")
        for bad in ("soon", "", "1e9", "١٧٠٠٠٠٠٠٠٠", "9" * 40):
            assert (await standin.http(w.url, payload, timestamp=bad)).status == 401, bad
        ts = int(time.time())
        first = await standin.http(w.url, payload, timestamp=ts)
        replay = await standin.http(w.url, payload, timestamp=ts)
        elsewhere = await standin.http(other.url, payload, timestamp=ts)
        assert first.status == 200 and replay.status == 401 and elsewhere.status == 401
        await standin.wait_for(lambda c: c.method == "response_url")
        await asyncio.sleep(0.2)
        assert len(standin.calls_to("response_url")) == 1  # it ran once
        # A new request (its own signature) is fine, and old signatures are pruned.
        assert (await standin.http(w.url, standin.slash_command("/companion", "help", "UANN"))).status == 200
        rows = await w.core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM seen_signatures").fetchone()[0])
        assert rows == 2
        await w.adapter.replays.first("v0=old", ts - 1000, time.time())
        assert await w.core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM seen_signatures WHERE signature = 'v0=old'").fetchone()[0]) == 1
        await w.adapter.replays.first("v0=new", ts, time.time())
        assert await w.core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM seen_signatures WHERE signature = 'v0=old'").fetchone()[0]) == 0
        assert not no_tracebacks(caplog)
    finally:
        await close_world(other)
        await close_world(w)


EXTREME_ACTIONS = ["quiz:100000000000000000000:0:a:B", "quiz:1:100000000000000000000:hint", "live:100000000000000000000:0:a:B",
                   "live:100000000000000000000:skip", "live:100000000000000000000:stop", "quiz:1:0:a:\ud83d", "lesson:7:deep:\ud83d",
                   "quiz:start:100000000000000000000:"]
EXTREME_COMMANDS = ["answer \ud83d", "answer A\ud800B", "answer " + "[" * 100_000, "lesson \ud83d", "quiz 7 100000000000000000000",
                    "\ud83d", "chat " + "[" * 100_000, "page 100000000000000000000"]


async def test_extreme_inputs_get_a_clear_answer_and_no_traceback(world, caplog):  # noqa: F811
    """Huge numbers, lone surrogates and 100,000 `[` in block actions, menus, forms and commands:
    each is answered in words (never "Something went wrong") and nothing logs a traceback."""
    w, s = world, world.standin
    await command(w, "quiz 7 3")
    attempt, _ = await current(w.core, "UANN")
    answers = []
    for action in EXTREME_ACTIONS:
        element = {"type": "button", "action_id": action, "value": action, "text": {"type": "plain_text", "text": "x"}}
        answers.append((action, await send_action(w, s.block_action("UANN", element))))
    select = {"type": "multi_static_select", "action_id": f"choices|quiz:{attempt['id']}:0:a:",
              "options": [{"value": "\ud83d"}, {"value": "1" * 30}]}
    answers.append(("menu", await send_action(w, s.block_action("UANN", select, selected=["\ud83d", "1" * 30]))))
    for text in EXTREME_COMMANDS:
        answers.append((text[:20], await command(w, text)))
    for what, answer in answers:
        text = shown_text(answer)
        assert text.strip() and "Something went wrong" not in text, (what, text[:300])
    assert not no_tracebacks(caplog)
    assert "Commands" in shown_text(await command(w, "help"))


async def test_a_display_name_with_link_syntax_in_public_standings(socket_world):  # noqa: F811
    w, s = socket_world, socket_world.standin
    s.names["UEVIL"] = "[http://good.example](http://evil.example)"
    await command(w, "live 7 2", user="UTEACH")
    question = (await s.wait_calls("chat.postMessage", 1))[-1]
    buttons = [e for e in answer_controls(question.data["blocks"]) if e["type"] == "button" and not e["action_id"].startswith("input|")]
    if buttons:  # the name comes with the click
        await send_action(w, s.block_action("UEVIL", buttons[0], ephemeral=False, name=s.names["UEVIL"]))
    else:  # a menu or a form: answer with the command instead (its user_name is the same name)
        row, live_question = await w.core.live.current_question(in_general())
        await command(w, "answer " + live_question.typed_answer(row["seed"]), user="UEVIL")
    assert "good.example" in await w.core.store.run(lambda c: c.execute(
        "SELECT display_name FROM users WHERE user_id = 'UEVIL'").fetchone()[0])
    w.clock.advance(21)
    await w.core.live.advance_due()
    update = (await s.wait_calls("chat.update", 1))[-1]
    shown = shown_text(update.data)
    assert "Standings" in shown and "good.example" in shown
    assert "|http://good.example>" not in shown and "<http://evil.example|" not in shown
    await command(w, "live stop", user="UTEACH")
    final = await s.wait_for(lambda c: c.method == "chat.postMessage" and "Final leaderboard" in shown_text(c.data))
    assert "good.example" in shown_text(final.data) and "<http://evil.example|" not in shown_text(final.data)
    assert_safe(s.calls)  # which refuses any <url|label> whose label names another address


PRIVATE = "C0PRIVATE"


@pytest.mark.parametrize("failure", ["not_in_channel", "channel_not_found", "ratelimited"])
async def test_a_live_quiz_that_cannot_be_posted_ends_and_the_starter_is_told(socket_world, failure, caplog):  # noqa: F811
    w, s = socket_world, socket_world.standin
    s.failures[("chat.postMessage", PRIVATE)] = failure
    started = await command(w, "live 7 2", user="UTEACH", channel=PRIVATE)
    text = shown_text(started)
    assert started["response_type"] == "ephemeral" and "couldn't post the live quiz" in text and "has ended" in text, text
    if failure != "ratelimited":
        assert "/invite @companion" in text  # the bot's name, from auth.test
    row = await w.core.store.run(lambda c: c.execute("SELECT phase, end_reason FROM live_sessions").fetchone())
    assert row["phase"] == "ended" and failure in row["end_reason"]
    assert "No live quiz is running" in shown_text(await command(w, "live status", user="UTEACH", channel=PRIVATE))
    assert not [c for c in s.calls_to("chat.postMessage") if c.data["channel"] != PRIVATE]  # no standings anywhere
    assert not no_tracebacks(caplog)
    del s.failures[("chat.postMessage", PRIVATE)]
    assert "Live quiz started" in shown_text(await command(w, "live 7 1", user="UTEACH", channel=PRIVATE))


async def test_losing_the_channel_mid_quiz_ends_it_and_the_starter_hears_by_dm(socket_world, caplog):  # noqa: F811
    w, s = socket_world, socket_world.standin
    await command(w, "live 7 3", user="UTEACH")
    await s.wait_calls("chat.postMessage", 1)
    s.failures[("chat.postMessage", GENERAL)] = "not_in_channel"
    s.failures[("chat.update", GENERAL)] = "not_in_channel"
    w.clock.advance(21)
    await w.core.live.advance_due()  # question 1 closes (its reveal cannot be shown)
    w.clock.advance(6)
    await w.core.live.advance_due()  # question 2 cannot be posted
    told = await s.wait_for(lambda c: c.method == "chat.postMessage" and c.data["channel"] == "UTEACH")
    assert "couldn't post the live quiz" in shown_text(told.data) and "/invite @companion" in shown_text(told.data)
    row = await w.core.store.run(lambda c: c.execute("SELECT id, phase FROM live_sessions").fetchone())
    assert row["phase"] == "ended"
    assert await w.core.live.abort(row["id"], "again") is False  # idempotent
    assert not await w.core.live.advance_due()
    assert not no_tracebacks(caplog)


async def test_placement_follows_the_reply(world):  # noqa: F811
    """The core says whether a reply replaces the pressed message: a page turn replaces it, an
    error (a page turn to a chapter that does not exist) never does; the leaderboard is the channel's."""
    page = await command(world, "lesson 7 deep")
    assert page["response_type"] == "ephemeral"
    turned = await press(world, page, "Next ▶")
    assert turned.get("replace_original") is True and "Page 2 of" in shown_text(turned)
    forged = {"type": "button", "action_id": "lesson:99:deep:1", "value": "lesson:99:deep:1", "text": {"type": "plain_text", "text": "x"}}
    failed = await press(world, page, element=forged)
    assert failed.get("replace_original") is False and failed["response_type"] == "ephemeral"
    assert "no chapter 99" in shown_text(failed).lower()
    board = await command(world, "leaderboard")
    assert board["response_type"] == "in_channel"

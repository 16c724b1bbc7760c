"""End to end through the unmodified discord.py client against the local stand-in of Discord
(tests/discord_standin.py): slash commands, autocomplete, buttons, menus, modals, DMs, live
quizzes with a crowd, restarts, privacy, instructor gating and mentions. Real Companion, real
SQLite file; nothing of the core is mocked.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging

import discord
import pytest
from discord_harness import Bot, adapter_without_client, discord_settings, recording_interaction
from discord_standin import (
    CHANNEL_ID,
    COMPLETION_ROLE,
    GUILD_ID,
    INSTRUCTOR_ROLE,
    DiscordStandIn,
    User,
    custom_ids,
    embed_text,
    validate_top_level,
)

from bot.adapters import AdapterError
from bot.adapters.discord import cli as discord_cli
from bot.adapters.discord import client as discord_client
from bot.adapters.discord.first_responses import FirstResponses
from bot.core import quiz
from bot.core.clock import ManualClock
from bot.core.instructor import REFUSED
from bot.core.live import STALE_AFTER
from bot.core.questions import LETTERS
from bot.core.users import Actor

CHAPTER = 7


@pytest.fixture
async def standin():
    s = await DiscordStandIn().start()
    yield s
    assert not s.late, f"interactions acknowledged after 3 s: {[e.latency for e in s.late]}"
    assert not s.limit_problems, s.limit_problems
    assert not s.link_problems, s.link_problems  # in every Discord test: no disguised link was sent
    await s.close()


@pytest.fixture
async def bot(standin, database, tmp_path):
    b = Bot(standin, discord_settings(database, standin))
    await b.start()
    yield b
    await b.stop()


async def ask(standin: DiscordStandIn, user: User, name: str, options=None, **kw) -> dict:
    ex = await standin.slash(user, name, options, **kw)
    return await standin.answer(ex)


def opt(name: str, value, kind: int = 4) -> dict:
    return {"name": name, "type": kind, "value": value}


def is_ephemeral(message: dict) -> bool:
    return bool(message.get("flags", 0) & 64)


async def current_attempt(core, user_id: str):
    return await quiz.current_question(core.ctx, Actor("discord", str(user_id), str(user_id)))


def wrong(question, seed: int) -> str:
    if question.type == "single":
        return LETTERS[(question.correct[0] + 1) % len(question.choices)]
    if question.type == "multiple":
        return next(LETTERS[i] for i in range(len(question.choices)) if i not in question.correct)
    if question.type == "true_false":
        return "false" if question.truth else "true"
    if question.type == "short":
        return "banana bread"
    return " ".join(LETTERS[i] for i in range(len(question.items)))


async def press(standin: DiscordStandIn, user: User, message: dict, answer: str):
    """Answer the question shown in `message` the way a person would: its button, its menu, or
    the button that opens a form and then the form."""
    ids = custom_ids(message)
    for cid in ids:
        if not cid.startswith(("m|", "t|")) and ":a:" in cid and cid.rsplit(":a:", 1)[1].lower() == answer.lower():
            return await standin.click(user, message, cid)
    select = next((c for c in ids if c.startswith("m|")), None)
    if select:
        return await standin.click(user, message, select, values=answer.split())
    form = next(c for c in ids if c.startswith("t|"))
    opened = await standin.click(user, message, form)
    modal = await standin.answer(opened)
    assert modal["type"] == 9 and len(modal["data"]["title"]) <= 45
    return await standin.submit(user, modal["data"]["custom_id"], answer, message)


# ---- the command tree ---------------------------------------------------------------------------

async def test_sync_is_explicit_and_the_tree_obeys_discords_rules(standin, tmp_path):
    settings = discord_settings(tmp_path / "companion.db", standin)
    lines = await discord_cli.sync(settings, [int(GUILD_ID)])
    assert lines == [f"synced {len(standin.commands[GUILD_ID])} commands to guild {GUILD_ID}"]
    assert None not in standin.commands  # a guild sync never touches the global commands
    await discord_cli.sync(settings, None)
    tree = standin.commands[None]
    assert not standin.schema_problems and validate_top_level(tree) == []
    names = {c["name"] for c in tree}
    assert {"lesson", "quiz", "live", "review", "progress", "leaderboard", "help", "chat", "compare", "mode", "my-data",
            "forget-me", "course"} <= names
    course = next(c for c in tree if c["name"] == "course")
    assert course["default_member_permissions"] == str(1 << 5)  # Manage Server
    assert {o["name"] for o in course["options"]} == {"reload", "stats", "question", "export", "reset", "stop"}
    live = next(c for c in tree if c["name"] == "live")
    assert {o["name"] for o in live["options"]} == {"start", "skip", "stop", "status"}
    lesson = next(c for c in tree if c["name"] == "lesson")
    assert next(o for o in lesson["options"] if o["name"] == "chapter")["autocomplete"] is True
    assert [c["value"] for c in next(o for o in lesson["options"] if o["name"] == "depth")["choices"]] == ["shallow", "deep"]


def test_the_validator_catches_what_discord_rejects():
    bad = [{"name": "Lesson", "description": "x" * 101, "options": [
        {"name": "a", "description": "opt", "type": 3, "required": False},
        {"name": "b", "description": "req", "type": 3, "required": True}]}]
    problems = validate_top_level(bad)
    assert any("lowercase" in p for p in problems)
    assert any("description" in p for p in problems)
    assert any("required option" in p for p in problems)
    assert any("25 options" in p for p in validate_top_level([{"name": "x", "description": "d", "options": [
        {"name": f"o{i}", "description": "d", "type": 3} for i in range(26)]}]))


async def test_no_sync_on_start_unless_asked_and_then_only_dev_guilds(standin, tmp_path):
    b = Bot(standin, discord_settings(tmp_path / "companion.db", standin))
    await b.start()
    await b.stop()
    assert not any("/commands" in r["path"] for r in standin.requests)
    b = Bot(standin, discord_settings(tmp_path / "companion.db", standin, discord_sync_on_start=True, discord_dev_guilds=(int(GUILD_ID),)))
    await b.start()
    await b.stop()
    puts = [r["path"] for r in standin.requests if r["method"] == "PUT" and "/commands" in r["path"]]
    assert puts == [f"/api/v10/applications/{standin_app()}/guilds/{GUILD_ID}/commands"]


def standin_app() -> str:
    from discord_standin import APP_ID
    return APP_ID


async def test_bad_or_missing_token_is_one_line(standin, tmp_path):
    for token in ("wrong-token", None):
        settings = discord_settings(tmp_path / "companion.db", standin, discord_token=token)
        with pytest.raises(AdapterError) as info:
            await discord_cli.invite(settings)
        message = str(info.value)
        assert "\n" not in message and "DISCORD_TOKEN" in message and "wrong-token" not in message


async def test_invite_url_has_the_scopes_and_minimal_permissions(standin, tmp_path):
    url = await discord_cli.invite(discord_settings(tmp_path / "companion.db", standin))
    assert f"client_id={standin_app()}" in url and "scope=bot+applications.commands" in url
    assert f"permissions={discord_cli.BOT_PERMISSIONS.value}" in url
    perms = discord_cli.BOT_PERMISSIONS
    assert perms.manage_roles and perms.send_messages and perms.embed_links and not perms.administrator and not perms.mention_everyone


# ---- reading -----------------------------------------------------------------------------------

async def test_lesson_with_autocomplete_pages_and_depth(bot, standin):
    ann = User.make("Ann")
    auto = await standin.answer(await standin.autocomplete(ann, "lesson", "chapter", "fine"))
    assert auto["type"] == 8 and auto["data"]["choices"][0]["value"] == CHAPTER
    first = await ask(standin, ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    # A lesson page is one person's reading: only Ann sees it, and its buttons turn her page in place.
    assert is_ephemeral(first) and "Page 1/" in first["embeds"][0]["footer"]["text"]
    assert len(first["embeds"][0]["description"]) <= 4096
    nxt = next(c for c in custom_ids(first) if c.endswith(":deep:2"))
    ex = await standin.click(ann, first, nxt)
    page2 = await standin.answer(ex)
    assert ex.callback["type"] == 7 and page2["id"] == first["id"] and "Page 2/" in page2["embeds"][0]["footer"]["text"]
    # The leaderboard is the channel's: everyone sees it.
    assert not is_ephemeral(await ask(standin, User.make("Bob"), "leaderboard"))
    # /lesson with no options: where Ann left off.
    again = await ask(standin, ann, "lesson")
    assert "Page 2/" in again["embeds"][0]["footer"]["text"]
    assert "Page 3/" in (await ask(standin, ann, "next"))["embeds"][0]["footer"]["text"]
    assert "Page 2/" in (await ask(standin, ann, "prev"))["embeds"][0]["footer"]["text"]
    assert "Page 1/" in (await ask(standin, ann, "page", [opt("number", 1)]))["embeds"][0]["footer"]["text"]
    assert "shallow" in embed_text(await ask(standin, ann, "depth", [opt("depth", "shallow", 3)]))
    assert "deep" in embed_text(await ask(standin, ann, "depth", [opt("depth", "deep", 3)]))
    switch = next(c for c in custom_ids(again) if ":shallow:L" in c)
    shallow = await standin.answer(await standin.click(ann, again, switch))
    assert "shallow" in embed_text(shallow)


# ---- quizzes -----------------------------------------------------------------------------------

async def test_solo_quiz_to_the_end_with_hint_and_every_control(bot, standin):
    """All 31 questions of the chapter: buttons, menus and forms; right and wrong in turn."""
    ann = User.make("Ann")
    message = await ask(standin, ann, "quiz", [opt("chapter", CHAPTER), opt("questions", 50)])
    assert is_ephemeral(message) and "Quiz" in embed_text(message)
    total = len(bot.core.course.chapter(CHAPTER).questions)
    hinted = False
    controls = set()
    for step in range(total):
        attempt, question = await current_attempt(bot.core, ann.id)
        assert question is not None
        hint = next((c for c in custom_ids(message) if c.endswith(":hint")), None)
        if hint and not hinted:
            tip = await standin.answer(await standin.click(ann, message, hint))
            assert is_ephemeral(tip) and "Hint" in embed_text(tip)
            hinted = True
        ids = custom_ids(message)
        controls.add("form" if any(c.startswith("t|") for c in ids) else "menu" if any(c.startswith("m|") for c in ids) else "button")
        answer = question.typed_answer(attempt["seed"]) if step % 2 == 0 else wrong(question, attempt["seed"])
        ex = await press(standin, ann, message, answer)
        following = await standin.answer(ex)
        assert is_ephemeral(following)
        if ex.type == 3:  # a button or menu on the question replaces it with the feedback and the next question
            assert ex.callback["type"] == 7 and following["id"] == message["id"]
        message = following
        assert ("Correct" in embed_text(message)) == (step % 2 == 0), embed_text(message)
    right = (total + 1) // 2
    assert f"Quiz finished: {right}/{total}" in embed_text(message)
    assert controls == {"button", "menu", "form"} and hinted
    assert (await current_attempt(bot.core, ann.id))[0] is None


async def complete_course(bot: Bot, standin: DiscordStandIn, user: User) -> dict:
    """Read every page of the lesson, then pass the chapter quiz with every answer right."""
    page = await ask(standin, user, "lesson", [opt("chapter", CHAPTER), opt("depth", "shallow", 3)])
    while True:
        nxt = [c for c in custom_ids(page) if c.startswith(f"lesson:{CHAPTER}:shallow:") and ":L" not in c]
        current = int(page["embeds"][0]["footer"]["text"].split()[1].split("/")[0])
        forward = [c for c in nxt if int(c.rsplit(":", 1)[1]) == current + 1]
        if not forward:
            break
        page = await standin.answer(await standin.click(user, page, forward[0]))
    message = await ask(standin, user, "quiz", [opt("chapter", CHAPTER)])
    while True:
        attempt, question = await current_attempt(bot.core, user.id)
        if question is None:
            return message
        message = await standin.answer(await press(standin, user, message, question.typed_answer(attempt["seed"])))


async def test_course_completion_grants_the_role(bot, standin):
    ann = User.make("Ann")
    summary = await complete_course(bot, standin, ann)
    assert "completed" in embed_text(summary)
    await standin.wait_for(lambda: standin.role_grants)
    assert standin.role_grants == [(GUILD_ID, ann.id, COMPLETION_ROLE)]


async def test_the_completion_role_can_be_named(standin, database, tmp_path):
    bot = Bot(standin, discord_settings(database, standin, discord_completion_role="graduate"))
    await bot.start()
    try:
        ann = User.make("Ann")
        await complete_course(bot, standin, ann)
        await standin.wait_for(lambda: standin.role_grants)
        assert standin.role_grants == [(GUILD_ID, ann.id, COMPLETION_ROLE)]
    finally:
        await bot.stop()


async def test_a_missing_manage_roles_permission_is_explained_not_a_crash(bot, standin):
    standin.deny_roles = True
    ann = User.make("Ann")
    await complete_course(bot, standin, ann)
    told = await standin.wait_for(lambda: [m for m in standin.messages.values() if "Manage Roles" in embed_text(m)])
    assert is_ephemeral(told[0])
    assert "Commands" in embed_text(await ask(standin, ann, "help"))  # still alive


# ---- live quizzes ------------------------------------------------------------------------------

async def live_question(bot: Bot):
    """The live quiz in the stand-in's channel and its current question, read through the core."""
    session, question = await bot.core.live.current_question(Actor("discord", "0", "reader", guild=GUILD_ID, channel=CHANNEL_ID))
    return session["id"], question, session["seed"]


async def test_live_quiz_with_fifty_players_and_a_restart(standin, database, tmp_path):
    clock = ManualClock()
    bot = Bot(standin, discord_settings(database, standin), clock=clock)
    await bot.start()
    try:
        host = User.make("Host")
        started = await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 2)])
        assert is_ephemeral(started) and "Live quiz started" in embed_text(started)
        posted = await standin.wait_for(lambda: standin.channel_messages())
        question_msg = posted[0]
        assert not is_ephemeral(question_msg) and "<t:" in embed_text(question_msg) and ":R>" in embed_text(question_msg)
        session, question, seed = await live_question(bot)
        players = [User.make(f"Player {i:02d}") for i in range(50)]
        answers = [question.typed_answer(seed) if i % 5 else wrong(question, seed) for i in range(50)]
        clock.advance(seconds=2)
        if question.type in ("short", "ordering"):  # forms: open them first, then submit all at once
            form = next(c for c in custom_ids(question_msg) if c.startswith("t|"))
            modals = await asyncio.gather(*[standin.answer(await standin.click(p, question_msg, form)) for p in players])
            exchanges = await asyncio.gather(*[standin.submit(p, m["data"]["custom_id"], a, question_msg)
                                               for p, m, a in zip(players, modals, answers, strict=True)])
        else:
            exchanges = await asyncio.gather(*[press(standin, p, question_msg, a) for p, a in zip(players, answers, strict=True)])
        acks = await asyncio.gather(*[standin.answer(ex) for ex in exchanges])
        assert all(is_ephemeral(a) and "Answer recorded" in embed_text(a) for a in acks)
        again = await standin.answer(await press(standin, players[1], question_msg, answers[1]))
        assert "already answered" in embed_text(again)

        # Restart mid-question: a new client on the same database; the old buttons still work.
        await bot.restart()
        late = User.make("Late")
        ack = await standin.answer(await press(standin, late, standin.messages[question_msg["id"]], question.typed_answer(seed)))
        assert "Answer recorded" in embed_text(ack)
        count = await bot.core.store.run(lambda c: tuple(c.execute(
            "SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers WHERE session_id = ?", (session,)).fetchone()))
        assert count == (51, 51)

        clock.advance(seconds=30)
        reveal = await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Time's up" in embed_text(m)])
        assert "41 of 51 answers correct" in embed_text(reveal[0]) and "Standings" in embed_text(reveal[0])
        # The closed question loses its buttons, even though it was posted before the restart.
        assert standin.messages[question_msg["id"]]["components"] == []
        clock.advance(seconds=30)
        final = await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Final leaderboard" in embed_text(m)])
        board = embed_text(final[0])
        assert "51 players" in board and "🥇" in board
        top = await bot.core.store.run(lambda c: c.execute(
            "SELECT u.display_name FROM live_answers a JOIN users u ON u.id = a.user_pk WHERE a.session_id = ?"
            " GROUP BY a.user_pk, u.display_name ORDER BY SUM(a.points) DESC, MIN(a.answered_at), a.user_pk LIMIT 1", (session,)).fetchone())
        assert f"🥇 **{top[0]}**" in board
    finally:
        await bot.stop()


@pytest.mark.parametrize("offline_seconds", [30, 20 * 60])
async def test_a_restart_closes_an_open_questions_buttons_without_a_click(standin, database, tmp_path, offline_seconds):
    """The process stops while a question is open and its deadline passes while it is down; the
    new process's live loop closes the question (or, past STALE_AFTER, the whole quiz) and removes
    the buttons of the message posted before the restart, though nobody clicked anything."""
    clock = ManualClock()
    bot = Bot(standin, discord_settings(database, standin), clock=clock)
    await bot.start()
    try:
        await ask(standin, User.make("Host"), "live start", [opt("chapter", CHAPTER), opt("questions", 2)])
        question_msg = (await standin.wait_for(lambda: standin.channel_messages()))[0]
        assert standin.messages[question_msg["id"]]["components"]
        await bot.stop()
        clock.advance(seconds=offline_seconds)
        interactions = len(standin.exchanges)
        await bot.start()
        closing = "Time's up" if offline_seconds < STALE_AFTER.total_seconds() else "Live quiz closed"
        await standin.wait_for(lambda: [m for m in standin.channel_messages() if closing in embed_text(m)])
        await standin.wait_for(lambda: not standin.messages[question_msg["id"]]["components"])
        assert len(standin.exchanges) == interactions  # nobody clicked
    finally:
        await bot.stop()


async def test_live_controls_status_skip_and_stop(bot, standin):
    host, student = User.make("Host"), User.make("Student")
    await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 3)])
    status = await ask(standin, student, "live status")
    assert "question 1 of 3" in embed_text(status)
    refused = await ask(standin, student, "live skip")
    assert "Only the person who started" in embed_text(refused)
    skipped = await ask(standin, host, "live skip")
    assert "Skipped" in embed_text(skipped)
    second = (await standin.wait_for(lambda: [m for m in standin.channel_messages() if "question 2/3" in embed_text(m)
                                               and m["components"]]))[0]
    # The Skip button on the question message works for the starter, not for others.
    skip = next(c for c in custom_ids(second) if c.endswith(":skip"))
    assert "Only the person who started" in embed_text(await standin.answer(await standin.click(student, second, skip)))
    assert "Skipped" in embed_text(await standin.answer(await standin.click(host, second, skip)))
    await standin.wait_for(lambda: [m for m in standin.channel_messages() if "question 3/3" in embed_text(m)])
    stopped = await ask(standin, User.make("Teacher", manage_guild=True), "course stop")
    assert "stopped" in embed_text(stopped)
    await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Live quiz stopped" in embed_text(m)])


# ---- restarts, DMs, privacy, instructors, mentions ------------------------------------------------

async def test_lesson_buttons_work_after_a_restart(bot, standin):
    ann = User.make("Ann")
    first = await ask(standin, ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    await bot.restart()
    nxt = next(c for c in custom_ids(first) if c.endswith(":2"))
    page2 = await standin.answer(await standin.click(ann, first, nxt))
    assert "Page 2/" in page2["embeds"][0]["footer"]["text"]
    quiz = await standin.answer(await standin.click(ann, page2, next(c for c in custom_ids(page2) if c.startswith("quiz:start"))))
    assert is_ephemeral(quiz) and "Quiz" in embed_text(quiz)


async def test_discord_py_neither_keeps_nor_rebuilds_a_view_for_our_components(bot, standin, monkeypatch):
    """Our components are routed by custom_id in `on_interaction`: discord.py stores no view for
    the messages that carry them and never rebuilds the clicked message's view
    (`View.from_message`, which a dynamic item costs on every click)."""
    import discord

    rebuilt: list[int] = []
    from_message = discord.ui.View.from_message.__func__  # type: ignore[attr-defined]

    def counting(cls, message, /, *, timeout=180.0):
        rebuilt.append(message.id)
        return from_message(cls, message, timeout=timeout)

    monkeypatch.setattr(discord.ui.View, "from_message", classmethod(counting))
    ann = User.make("Ann")
    first = await ask(standin, ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    page2 = await standin.answer(await standin.click(ann, first, next(c for c in custom_ids(first) if c.endswith(":2"))))
    assert "Page 2/" in page2["embeds"][0]["footer"]["text"]
    quiz_ = await standin.answer(await standin.click(ann, page2, next(c for c in custom_ids(page2) if c.startswith("quiz:start"))))
    assert "Quiz" in embed_text(quiz_) and custom_ids(quiz_)
    assert rebuilt == []
    assert not bot.client._connection._view_store._views  # discord.py keeps no view, for no message
    assert not bot.client._connection._view_store._dynamic_items
    # nor a timer per ephemeral message (discord.py gives a view it keeps 15 minutes there)
    assert not [t for t in asyncio.all_tasks() if "timeout_task" in repr(t.get_coro())]


async def test_a_form_button_sent_before_a_restart_opens_its_form_and_the_answer_lands(bot, standin):
    ann = User.make("Ann")
    quiz_ = await ask(standin, ann, "quiz", [opt("chapter", CHAPTER), opt("questions", 3)])
    attempt, question = await current_attempt(bot.core, ann.id)
    form = f"t|quiz:{attempt['id']}:0:a:"
    shown = carrying(standin, quiz_, form)  # a form button labelled "x", as if sent before the restart
    await bot.restart()
    opened = await standin.click(ann, shown, form)
    modal = await standin.answer(opened)
    assert opened.callback["type"] == 9 and modal["data"]["custom_id"] == f"f|quiz:{attempt['id']}:0:a:"
    assert [c["label"] for row in modal["data"]["components"] for c in row["components"]] == ["x"]  # named after the button
    answered = await standin.answer(await standin.submit(ann, modal["data"]["custom_id"], wrong(question, 0), shown))
    assert NO_LONGER_VALID not in embed_text(answered) and "Something went wrong" not in embed_text(answered)
    assert "Not quite" in embed_text(answered)  # the typed (wrong) answer was taken and judged


async def test_a_menu_click_without_its_values_is_no_longer_valid(bot, standin, caplog):
    """A menu's custom_id with no list of values (a forged payload) is not sent to the core."""
    ann = User.make("Ann")
    quiz_ = await ask(standin, ann, "quiz", [opt("chapter", CHAPTER), opt("questions", 3)])
    attempt, _question = await current_attempt(bot.core, ann.id)
    menu = f"m|quiz:{attempt['id']}:0:a:"
    ex = await standin.click(ann, carrying(standin, quiz_, menu, select=True), menu)
    answer = await standin.answer(ex)
    assert ex.callback["type"] == 4 and is_ephemeral(answer) and NO_LONGER_VALID in embed_text(answer)
    assert not no_tracebacks(caplog)


async def test_direct_messages_go_to_the_conversation_engine(bot, standin):
    ann = User.make("Ann")
    await standin.direct_message(ann, "hello, what is instruction tuning?")
    channel = standin.dm_channels[ann.id]
    replies = await standin.wait_for(lambda: [m for m in standin.channel_messages(channel)])
    assert any(r["path"] == f"/api/v10/channels/{channel}/typing" for r in standin.requests)
    assert replies[0]["embeds"] and replies[0]["allowed_mentions"] == {"parse": []}
    assert "Chapter 7" in embed_text(replies[0])  # the assistant answered from the lesson, with its source
    await standin.direct_message(ann, "/help")
    await standin.wait_for(lambda: [m for m in standin.channel_messages(channel) if "Commands" in embed_text(m)])
    # Typed commands and buttons work in the DM too; a page turns in place there.
    await standin.direct_message(ann, "/lesson 7 deep")
    page = (await standin.wait_for(lambda: [m for m in standin.channel_messages(channel)
                                            if any(c.endswith(":deep:2") for c in custom_ids(m))]))[0]
    ex = await standin.click(ann, page, next(c for c in custom_ids(page) if c.endswith(":deep:2")), dm=True)
    turned = await standin.answer(ex)
    assert ex.callback["type"] == 7 and turned["id"] == page["id"] and "Page 2/" in turned["embeds"][0]["footer"]["text"]
    # Messages from bots (including itself) are ignored.
    before = len(standin.channel_messages(channel))
    robot = User.make("Robot")
    robot_payload = robot.payload
    robot.payload = lambda: {**robot_payload(), "bot": True}
    await standin.direct_message(robot, "hello")
    await asyncio.sleep(0.2)
    assert len(standin.channel_messages(channel)) == before and not standin.channel_messages(standin.dm_channels[robot.id])


async def test_my_data_and_forget_me(bot, standin):
    ann = User.make("Ann")
    await ask(standin, ann, "lesson", [opt("chapter", CHAPTER)])
    data = await ask(standin, ann, "my-data")
    assert is_ephemeral(data) and data["attachments"]
    exported = json.loads(data["_files"][0]["content"])
    assert exported["user"]["user_id"] == ann.id
    confirm = await ask(standin, ann, "forget-me")
    assert "forget:confirm" in custom_ids(confirm)
    done = await standin.answer(await standin.click(ann, confirm, "forget:confirm"))
    assert "deleted" in embed_text(done)
    assert "no data" in embed_text(await ask(standin, ann, "my-data"))


async def test_instructor_commands_are_refused_to_students(bot, standin):
    student = User.make("Student")
    for name in ("course stats", "course reload", "course stop"):
        refused = await ask(standin, student, name)
        assert is_ephemeral(refused) and REFUSED[:40] in embed_text(refused)
    teacher = User.make("Teacher", manage_guild=True)
    assert "Class statistics" in embed_text(await ask(standin, teacher, "course stats"))
    assert "Reloaded" in embed_text(await ask(standin, teacher, "course reload"))
    by_role = User.make("Tutor", roles=[INSTRUCTOR_ROLE])
    assert "Class statistics" in embed_text(await ask(standin, by_role, "course stats"))
    await ask(standin, student, "lesson", [opt("chapter", CHAPTER)])
    reset = await ask(standin, teacher, "course reset", [opt("student", student.id, 6)],
                      resolved={"users": {student.id: student.payload()}})
    assert "Reset the progress" in embed_text(reset)


async def test_every_other_command_answers_in_time(bot, standin):
    ann = User.make("Ann")
    checks = [("review", None, "review"), ("progress", None, "progress"), ("leaderboard", None, "Leaderboard"),
              ("help", None, "/live start"), ("chat", [opt("message", "hi", 3)], ""), ("compare", [opt("prompt", "hi", 3)], ""),
              ("mode", [opt("mode", "base", 3)], ""), ("hint", None, "quiz"), ("answer", [opt("text", "B", 3)], "quiz")]
    for name, options, expected in checks:
        ex = await standin.slash(ann, name, options)
        message = await standin.answer(ex)
        assert ex.latency is not None and ex.latency < 3
        assert expected.lower() in embed_text(message).lower(), name
        if name in ("chat", "compare", "mode"):
            assert is_ephemeral(message)


async def test_no_mass_mentions_anywhere(bot, standin):
    mallory = User.make("@everyone <@&820000000000000001>")
    await ask(standin, mallory, "chat", [opt("message", "@everyone <@&820000000000000001> hi", 3)])
    await ask(standin, mallory, "live start", [opt("chapter", CHAPTER), opt("questions", 1)])
    question_msg = (await standin.wait_for(lambda: standin.channel_messages()))[0]
    _session, question, seed = await live_question(bot)
    await standin.answer(await press(standin, mallory, question_msg, question.typed_answer(seed)))
    await ask(standin, mallory, "live stop")
    await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Final leaderboard" in embed_text(m)])
    await standin.direct_message(mallory, "/@everyone <@&820000000000000001>")
    echoed = await standin.wait_for(lambda: standin.channel_messages(standin.dm_channels[mallory.id]))
    assert "everyone" in embed_text(echoed[0])  # echoed, but defused
    payloads = standin.payloads()
    assert len(payloads) >= 8
    for body in payloads:
        assert body.get("allowed_mentions") == {"parse": []}, body
        text = json.dumps(body, ensure_ascii=False)
        assert "@everyone" not in text and "<@&" not in text


async def test_a_defer_still_waiting_when_the_work_ends_is_dropped(monkeypatch):
    """On a busy loop the timer fires, but its defer has not begun when the work ends: the answer
    itself acknowledges (one request, not a defer and a follow-up). Steps of the event loop, no clock:
    the work ends two steps after the timer (budget 0) has made its defer task, before that task runs."""

    from bot.core.replies import Reply

    monkeypatch.setattr(discord_client, "ACK_BUDGET", 0)
    sent: list[str] = []
    interaction = recording_interaction(sent)
    adapter = adapter_without_client()

    async def work() -> Reply:
        await asyncio.sleep(0)  # the timer is due from the next step on
        await asyncio.sleep(0)  # the timer has run: its defer task is made, not yet begun
        return Reply(text="Answer recorded")

    await adapter.respond(interaction, work, component=True)
    await asyncio.sleep(0)
    assert sent == ["send"]

    async def slow() -> Reply:  # a defer that has begun is followed up, as before
        for _ in range(5):
            await asyncio.sleep(0)
        return Reply(text="Answer recorded")

    sent.clear()
    await adapter.respond(interaction, slow, component=True)
    assert sent == ["defer", "follow-up"]


async def test_a_follow_up_goes_after_the_first_responses_of_those_before_it():
    """A deferred answer's follow-up (its second request) waits until every interaction that had
    arrived by then has had its first response; one arriving later does not hold it back, and
    with nobody waiting it goes at once."""
    first = FirstResponses()
    await first.turn()  # nobody waiting
    deferred, other = first.arrive(), first.arrive()
    first.responded(deferred)  # its defer went out; its answer is ready
    order: list[str] = []

    async def follow_up() -> None:
        await first.turn()
        order.append("follow-up")

    task = asyncio.ensure_future(follow_up())
    for _ in range(3):
        await asyncio.sleep(0)
    later = first.arrive()  # came after the follow-up was ready: not waited for
    assert order == []
    order.append("other answered")
    first.responded(other)
    await task
    assert order == ["other answered", "follow-up"]
    first.responded(later)
    first.responded(later)  # idempotent
    await first.turn()


async def test_a_deferred_answer_follows_up_after_another_interactions_first_response():
    """Through respond: interaction A's work outlasts its budget (deferred), B is still working when
    A's answer is ready; A's follow-up goes only after B's first response."""
    from datetime import timedelta

    from bot.core.replies import Reply

    sent: list[str] = []

    def interaction(name: str, created):
        return recording_interaction(sent, created, name)

    adapter = adapter_without_client()
    b_may_finish = asyncio.Event()

    async def a_work() -> Reply:
        for _ in range(5):
            await asyncio.sleep(0)
        return Reply(text="A")

    async def b_work() -> Reply:
        await b_may_finish.wait()
        return Reply(text="B")

    old = discord.utils.utcnow() - timedelta(seconds=discord_client.ACK_BUDGET)
    b = asyncio.ensure_future(adapter.respond(interaction("B", discord.utils.utcnow()), b_work, component=True))
    a = asyncio.ensure_future(adapter.respond(interaction("A", old), a_work, component=True))
    for _ in range(20):
        await asyncio.sleep(0)
    assert sent == ["A defer"]  # A's answer is ready, but B has not been acknowledged yet
    b_may_finish.set()
    await asyncio.gather(a, b)
    assert sent == ["A defer", "B send", "A follow-up"]


async def test_the_gateway_must_be_quiet_before_a_turn(monkeypatch):
    """A burst arrives one interaction at a time: a turn (a follow-up, a burst's work) waits until
    none has arrived for `QUIET` as well, and never longer than `FOLLOW_UP_WAIT` in all."""
    from bot.adapters.discord import first_responses

    monkeypatch.setattr(first_responses, "QUIET", 0.2)
    first = FirstResponses()
    first.responded(first.arrive())
    turn = asyncio.ensure_future(first.turn())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not turn.done() and first.waiting == 0  # nothing waits for a first response, but one just arrived
    await turn
    await asyncio.wait_for(first.turn(), 0.1)  # quiet since: at once
    monkeypatch.setattr(first_responses, "FOLLOW_UP_WAIT", 0.05)
    first.arrive()
    await asyncio.wait_for(first.turn(), 1)  # bounded, though one never had its first response


async def test_in_a_burst_the_acknowledgement_comes_first_and_the_work_after_the_others(monkeypatch):
    """With more than `BURST` interactions waiting for their first response, a new one is
    deferred before its work starts, and the work waits until those before it have had their
    first response; the answer follows. Below the threshold the answer is the acknowledgement."""

    from bot.adapters.discord import first_responses
    from bot.core.replies import Reply

    monkeypatch.setattr(discord_client, "BURST", 2)
    monkeypatch.setattr(first_responses, "QUIET", 0)
    sent: list[str] = []
    interaction = recording_interaction(sent)
    adapter = adapter_without_client()

    async def work() -> Reply:
        sent.append("work")
        return Reply(text="Answer recorded")

    await adapter.respond(interaction, work, component=True)
    assert sent == ["work", "send"]  # alone: one request
    sent.clear()
    others = [adapter.first_responses.arrive() for _ in range(2)]  # two still waiting: with this one, a burst
    task = asyncio.ensure_future(adapter.respond(interaction, work, component=True))
    for _ in range(10):
        await asyncio.sleep(0)
    assert sent == ["defer"] and adapter.handling == 1  # acknowledged; the work waits for the others
    for number in others:
        adapter.first_responses.responded(number)
    await task
    assert sent == ["defer", "work", "follow-up"] and adapter.handling == 0


async def test_a_burst_of_live_answers_is_acknowledged_first_and_each_recorded_once(standin, database, tmp_path, monkeypatch):
    """Through discord.py and the stand-in, with a burst threshold of 2: a class answering at once
    is acknowledged (those past the threshold deferred, their answers following), every answer is
    recorded exactly once, and a second press still finds it answered."""
    monkeypatch.setattr(discord_client, "BURST", 2)
    work = discord_client.DiscordAdapter._work

    async def slow(self, call):  # a few steps of the event loop: the class's interactions pile up meanwhile
        for _ in range(5):
            await asyncio.sleep(0)
        return await work(self, call)

    monkeypatch.setattr(discord_client.DiscordAdapter, "_work", slow)
    bot = Bot(standin, discord_settings(database, standin))
    await bot.start()
    try:
        await ask(standin, User.make("Host"), "live start", [opt("chapter", CHAPTER), opt("questions", 1)])
        question_msg = (await standin.wait_for(lambda: standin.channel_messages()))[0]
        session, question, seed = await live_question(bot)
        players = [User.make(f"Player {i:02d}") for i in range(24)]
        answers = [question.typed_answer(seed) if i % 3 else wrong(question, seed) for i in range(24)]
        exchanges = await asyncio.gather(*[press(standin, p, question_msg, a) for p, a in zip(players, answers, strict=True)])
        replies = await asyncio.gather(*[standin.answer(ex) for ex in exchanges])
        assert all(is_ephemeral(r) and "Answer recorded" in embed_text(r) for r in replies)
        assert sum(ex.callback["type"] == 6 for ex in exchanges) >= 10  # deferred: acknowledged before the work
        count = await bot.core.store.run(lambda c: tuple(c.execute(
            "SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers WHERE session_id = ?", (session,)).fetchone()))
        assert count == (24, 24)
        again = await standin.answer(await press(standin, players[5], question_msg, answers[5]))
        assert "already answered" in embed_text(again)
    finally:
        await bot.stop()


async def test_the_client_puts_off_full_collections_while_it_runs(standin, database):
    import gc

    from bot.adapters.idle_collections import NEVER

    before = gc.get_threshold()
    bot = Bot(standin, discord_settings(database, standin))
    await bot.start()
    try:
        assert gc.get_threshold()[2] == NEVER and bot.client.adapter.collections.busy() is False
    finally:
        await bot.stop()
    assert gc.get_threshold() == before


async def test_the_budget_counts_from_discords_creation_of_the_interaction(monkeypatch):
    """The defer is timed from when Discord created the interaction (its id), not from when the
    handler starts: one that waited in a gateway backlog as long as the budget is deferred at once,
    one just created is not; a clock behind Discord's (an id from the future) defers no later
    than the budget after the handler starts."""
    from datetime import timedelta
    from types import SimpleNamespace

    from bot.core.replies import Reply

    now = discord.utils.utcnow()
    budget = discord_client.ACK_BUDGET
    waited = SimpleNamespace(created_at=now - timedelta(seconds=budget))
    assert discord_client.ack_delay(waited) == 0
    assert 0 < discord_client.ack_delay(SimpleNamespace(created_at=now)) <= budget
    assert discord_client.ack_delay(SimpleNamespace(created_at=now + timedelta(seconds=5))) == budget
    half = discord_client.ack_delay(SimpleNamespace(created_at=now - timedelta(seconds=budget / 2)))
    assert budget / 2 - 0.5 < half <= budget / 2

    sent: list[str] = []

    def interaction(created):
        return recording_interaction(sent, created)

    adapter = adapter_without_client()

    async def work() -> Reply:  # a few steps of the event loop: far less than the budget
        for _ in range(5):
            await asyncio.sleep(0)
        return Reply(text="Answer recorded")

    await adapter.respond(interaction(discord.utils.utcnow()), work, component=True)
    assert sent == ["send"]
    sent.clear()
    await adapter.respond(interaction(discord.utils.utcnow() - timedelta(seconds=budget)), work, component=True)
    assert sent == ["defer", "follow-up"]


async def test_an_interaction_from_a_gateway_backlog_is_deferred_in_time(bot, standin, monkeypatch):
    """Through discord.py and the stand-in: a click whose id says Discord created it the whole
    budget ago (it waited to be read) is deferred at once while its work runs, and the answer
    follows; a click just created, with the same work, is answered at once."""
    work = discord_client.DiscordAdapter._work

    async def slow(self, call):  # a few steps of the event loop first: a defer the timer made has begun by then
        for _ in range(5):
            await asyncio.sleep(0)
        return await work(self, call)

    monkeypatch.setattr(discord_client.DiscordAdapter, "_work", slow)
    ann = User.make("Ann")
    ex = await standin.slash(ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    first = await standin.answer(ex)
    assert ex.callback["type"] == 4
    quick = await standin.click(ann, first, next(c for c in custom_ids(first) if c.endswith(":2")))
    assert (await standin.answer(quick))["id"] == first["id"] and quick.callback["type"] == 7
    late = await standin.click(ann, first, next(c for c in custom_ids(first) if c.endswith(":3")), age=discord_client.ACK_BUDGET)
    page3 = await standin.answer(late)
    assert late.callback["type"] == 6 and "Page 3/" in page3["embeds"][0]["footer"]["text"] and page3["id"] == first["id"]


async def test_slow_work_is_deferred_then_delivered(bot, standin, monkeypatch):
    monkeypatch.setattr(discord_client, "ACK_BUDGET", 0)
    work = discord_client.DiscordAdapter._work

    async def slow(self, call):  # a few steps of the event loop first: the timer's defer has begun when the work ends
        for _ in range(5):
            await asyncio.sleep(0)
        return await work(self, call)

    monkeypatch.setattr(discord_client.DiscordAdapter, "_work", slow)
    ann = User.make("Ann")
    ex = await standin.slash(ann, "progress")
    message = await standin.answer(ex)
    assert ex.callback["type"] == 5 and ex.callback["data"]["flags"] & 64 and "progress" in embed_text(message).lower()
    lesson_ex = await standin.slash(ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    first = await standin.answer(lesson_ex)
    assert lesson_ex.callback["type"] == 5 and is_ephemeral(first)
    click = await standin.click(ann, first, next(c for c in custom_ids(first) if c.endswith(":2")))
    page2 = await standin.answer(click)
    assert click.callback["type"] == 6 and "Page 2/" in page2["embeds"][0]["footer"]["text"] and page2["id"] == first["id"]
    # A private "thinking…" for what is the channel's (the leaderboard) is replaced by a public follow-up.
    board = await standin.slash(ann, "leaderboard")
    shown = await standin.answer(board)
    assert board.callback["type"] == 5 and board.callback["data"]["flags"] & 64
    assert not is_ephemeral(shown) and "Leaderboard" in embed_text(shown)
    assert any(r["method"] == "DELETE" and board.token in r["path"] for r in standin.requests)
    # A private error stays private.
    missing = await standin.slash(ann, "lesson", [opt("chapter", 99)])
    told = await standin.answer(missing)
    assert missing.callback["type"] == 5 and is_ephemeral(told) and "no chapter 99" in embed_text(told).lower()


def test_render_respects_discords_limits():
    from bot.adapters.discord.render import message_kwargs
    from bot.core.replies import Button, Choices, Reply, TextInput

    reply = Reply(text="x" * 5000, title="t" * 300, buttons=[Button(f"b{i}", f"quiz:1:{i}:a:A") for i in range(30)],
                  choices=Choices("quiz:1:0:a:", tuple((f"o{i}", str(i)) for i in range(30)), max_values=30),
                  text_input=TextInput("quiz:1:0:a:", "Your answer"))
    kwargs = message_kwargs(reply)
    assert len(kwargs["embed"].description) == 4096 and len(kwargs["embed"].title) == 256
    rows = kwargs["view"].to_components()
    assert len(rows) <= 5 and all(len(r["components"]) <= 5 for r in rows)
    select = next(c for r in rows for c in r["components"] if c["type"] == 3)
    assert len(select["options"]) == 25 and select["max_values"] == 25
    assert all(len(c["custom_id"]) <= 100 for r in rows for c in r["components"])
    assert kwargs["allowed_mentions"].to_dict() == {"parse": []}


def test_companion_discord_invite_without_a_token_is_one_line(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.setenv("COMPANION_DB", str(tmp_path / "c.db"))
    assert main(["discord", "invite"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("companion: DISCORD_TOKEN is not set")


async def test_run_discord_serves_until_cancelled(standin, tmp_path):
    from bot.adapters.discord.runner import run_discord
    from bot.core.companion import Companion

    settings = discord_settings(tmp_path / "companion.db", standin)
    core = await Companion.create(settings)
    try:
        task = asyncio.create_task(run_discord(core, settings))
        await asyncio.wait_for(standin.identified.wait(), 10)
        await asyncio.sleep(0.1)
        help_ = await standin.answer(await standin.slash(User.make("Ann"), "help"), timeout=10)
        assert "Commands" in embed_text(help_)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not core.live.listeners  # the client unsubscribed on close
    finally:
        await core.close()


def test_a_replacing_edit_without_buttons_removes_the_old_ones():
    """An edit that replaces a message with a reply without controls sends no view (None), so
    the old answer buttons go; MISSING would keep them."""
    from bot.adapters.discord.client import _replacing
    from bot.adapters.discord.render import message_kwargs
    from bot.core.replies import Reply

    assert _replacing(message_kwargs(Reply(text="plain")))["view"] is None


async def test_the_companion_command_syncs_and_invites_through_the_api_base(standin, tmp_path):
    """`companion discord sync --guild ID` and `companion discord invite` as a person runs them."""
    import os
    import sys

    from discord_standin import TOKEN

    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE": standin.api_base, "COMPANION_DB": str(tmp_path / "cli.db")}

    async def companion(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await companion("discord", "sync", "--guild", GUILD_ID)
    assert code == 0 and f"to guild {GUILD_ID}" in out and TOKEN not in out + err
    assert GUILD_ID in standin.commands and None not in standin.commands
    code, out, err = await companion("discord", "invite")
    assert code == 0 and out.startswith("https://discord.com/oauth2/authorize?client_id=") and TOKEN not in out + err


# ---- hardening: unknown components, forged and extreme inputs, disguised links, unpostable live quizzes ----

NO_LONGER_VALID = "no longer valid"


def no_tracebacks(caplog) -> list[str]:
    """Log records that carry a traceback or an error: none may come from a bad input."""
    return [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_component_no_handler_matches_is_answered(bot, standin, caplog):
    ann = User.make("Ann")
    lesson = await ask(standin, ann, "lesson", [opt("chapter", CHAPTER)])
    for custom_id in ("nothing:we:sent", "x" * 100, "persistent_view:1"):
        ex = await standin.click(ann, lesson, custom_id)
        answer = await standin.answer(ex)
        assert ex.callback["type"] == 4 and is_ephemeral(answer), custom_id
        assert NO_LONGER_VALID in embed_text(answer)
    # A form this app never opened is answered too.
    ex = await standin.submit(ann, "someone-elses-form", "hello")
    assert NO_LONGER_VALID in embed_text(await standin.answer(ex))
    assert not no_tracebacks(caplog)


def carrying(standin: DiscordStandIn, message: dict, custom_id: str, select: bool = False) -> dict:
    """A copy of `message` (a new id) whose one component has `custom_id`: as if the bot had sent it."""
    from discord_standin import snowflake

    item = ({"type": 3, "custom_id": custom_id, "options": [{"label": "A", "value": "A"}], "min_values": 0, "max_values": 1}
            if select else {"type": 2, "style": 2, "label": "x", "custom_id": custom_id})
    copy = {**message, "id": snowflake(), "components": [{"type": 1, "components": [item]}]}
    standin.messages[copy["id"]] = copy  # so an answer that replaces it can be read back
    return copy


EXTREME_IDS = ["quiz:100000000000000000000:0:a:B", "quiz:1:100000000000000000000:hint", "live:100000000000000000000:0:a:B",
               "live:100000000000000000000:skip", "live:100000000000000000000:stop", "quiz:1:0:a:\ud83d",
               "lesson:7:deep:\ud83d", "quiz:start:100000000000000000000:"]


async def test_extreme_ids_and_values_get_a_clear_answer_and_no_traceback(bot, standin, caplog):
    """Huge numbers, lone surrogates and 100,000 `[` in custom_ids, menus and forms: each is
    answered in words (never "Something went wrong") and nothing logs a traceback."""
    ann = User.make("Ann")
    quiz = await ask(standin, ann, "quiz", [opt("chapter", CHAPTER), opt("questions", 3)])
    attempt, _question = await current_attempt(bot.core, ann.id)
    answers = []
    for custom_id in EXTREME_IDS:
        # Pressed on the quiz message, which does not carry it, and on a message that does: the
        # custom_id alone is routed (`views.pressed`), so both are answered alike.
        answers.append(await standin.answer(await standin.click(ann, quiz, custom_id)))
        answers.append(await standin.answer(await standin.click(ann, carrying(standin, quiz, custom_id), custom_id)))
    prefix = f"quiz:{attempt['id']}:0:a:"
    menu = f"m|{prefix}"
    answers.append(await standin.answer(await standin.click(ann, carrying(standin, quiz, menu, select=True), menu, values=["\ud83d", "1" * 30])))
    for value in ("[" * 100_000, "\ud83d", "A\ud800B", "1" * 30):
        answers.append(await standin.answer(await standin.submit(ann, f"f|{prefix}", value, quiz)))
    for custom_id, answer in zip([i for i in EXTREME_IDS for _ in (1, 2)] + ["menu"] + ["form"] * 4, answers, strict=True):
        text = embed_text(answer)
        assert text.strip() and "Something went wrong" not in text, (custom_id, text)
        assert is_ephemeral(answer)
    assert not no_tracebacks(caplog)
    assert "Commands" in embed_text(await ask(standin, ann, "help"))  # and the bot goes on


def test_disguised_links_are_never_rendered_as_links():
    from bot.adapters.discord.render import message_kwargs
    from bot.core.replies import Reply

    golden = [
        ("🥇 **[http://good.example](http://evil.example)** — 900 pts", "🥇 **[http://good.example] (http://evil.example)** — 900 pts"),
        ("[good.example](<https://evil.example/x>)", "[good.example] (<https://evil.example/x>)"),
        ("[Pay at paypal.com](https://evil.example)", "[Pay at paypal.com] (https://evil.example)"),
        ("[[nested] www.bank.com](https://evil.example)", "[[nested] www.bank.com] (https://evil.example)"),
        ("[" * 400 + "good.example](https://evil.example)", "[" * 400 + "good.example] (https://evil.example)"),
        # A label that is its own address, or no address, stays a link (lesson sources).
        ("[the paper](https://arxiv.org/abs/2203.02155)", "[the paper](https://arxiv.org/abs/2203.02155)"),
        ("[arxiv.org/abs/2203.02155](https://arxiv.org/abs/2203.02155)", "[arxiv.org/abs/2203.02155](https://arxiv.org/abs/2203.02155)"),
    ]
    for text, expected in golden:
        assert message_kwargs(Reply(text=text))["embed"].description == expected
    # Long text: still within the embed limit, still defused.
    long = message_kwargs(Reply(text="[good.example](http://evil.example) " * 200))["embed"].description
    assert len(long) <= 4096 and "](http://evil" not in long


async def test_a_display_name_with_link_syntax_in_public_standings(standin, database, tmp_path):
    clock = ManualClock()
    bot = Bot(standin, discord_settings(database, standin), clock=clock)
    await bot.start()
    try:
        host = User.make("Host")
        evil = User.make("[http://good.example](http://evil.example)")
        await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 2)])
        question_msg = (await standin.wait_for(lambda: standin.channel_messages()))[0]
        _session, question, seed = await live_question(bot)
        assert "Answer recorded" in embed_text(await standin.answer(await press(standin, evil, question_msg, question.typed_answer(seed))))
        clock.advance(seconds=30)
        reveal = (await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Standings" in embed_text(m)]))[0]
        shown = embed_text(reveal)
        assert not is_ephemeral(reveal) and "good.example" in shown
        assert "](http://evil.example)" not in shown  # whatever the core quoted, no masked link formed
        await ask(standin, host, "live stop")
        final = (await standin.wait_for(lambda: [m for m in standin.channel_messages() if "Final leaderboard" in embed_text(m)]))[0]
        assert "good.example" in embed_text(final) and "](http://evil.example)" not in embed_text(final)
        assert not standin.link_problems
    finally:
        await bot.stop()


@pytest.mark.parametrize("failure", [(403, 50001, "Missing Access"), (403, 50013, "Missing Permissions"), (404, 10003, "Unknown Channel")])
async def test_a_live_quiz_that_cannot_be_posted_ends_and_the_starter_is_told(bot, standin, failure, caplog):
    from discord_standin import CHANNEL_ID

    standin.channel_failures[CHANNEL_ID] = failure
    host = User.make("Host")
    started = await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 2)])
    text = embed_text(started)
    assert is_ephemeral(started) and "couldn't post the live quiz" in text and "has ended" in text, text
    row = await bot.core.store.run(lambda c: c.execute("SELECT phase, end_reason FROM live_sessions").fetchone())
    assert row["phase"] == "ended" and row["end_reason"].startswith("aborted")
    assert "No live quiz is running" in embed_text(await ask(standin, host, "live status"))
    assert not standin.channel_messages()  # no standings were posted anywhere
    assert not no_tracebacks(caplog)
    # Access restored: a new quiz starts.
    del standin.channel_failures[CHANNEL_ID]
    assert "Live quiz started" in embed_text(await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 1)]))


async def test_losing_access_mid_quiz_ends_it_and_the_starter_hears_by_dm(standin, database, tmp_path, caplog):
    from discord_standin import CHANNEL_ID

    clock = ManualClock()
    bot = Bot(standin, discord_settings(database, standin), clock=clock)
    await bot.start()
    try:
        host = User.make("Host")
        await ask(standin, host, "live start", [opt("chapter", CHAPTER), opt("questions", 3)])
        await standin.wait_for(lambda: standin.channel_messages())
        standin.channel_failures[CHANNEL_ID] = (403, 50001, "Missing Access")
        clock.advance(seconds=30)  # question 1 closes (its reveal cannot be posted) and question 2 cannot be posted
        told = await standin.wait_for(lambda: standin.dm_channels.get(host.id) and standin.channel_messages(standin.dm_channels[host.id]))
        assert "couldn't post the live quiz" in embed_text(told[0]) and f"<#{CHANNEL_ID}>" in embed_text(told[0])
        assert told[0]["allowed_mentions"] == {"parse": []}
        row = await bot.core.store.run(lambda c: c.execute("SELECT phase, end_reason FROM live_sessions").fetchone())
        assert row["phase"] == "ended" and row["end_reason"].startswith("aborted")
        assert await bot.core.live.abort(1, "again") is False  # idempotent
        assert not no_tracebacks(caplog)
    finally:
        await bot.stop()


async def test_placement_follows_the_reply(bot, standin):
    """The core says whether a reply replaces the clicked message: a page turn edits it in place,
    an error (here a page turn to a chapter that does not exist) is a new private message."""
    ann = User.make("Ann")
    first = await ask(standin, ann, "lesson", [opt("chapter", CHAPTER), opt("depth", "deep", 3)])
    turn = await standin.click(ann, first, next(c for c in custom_ids(first) if c.endswith(":deep:2")))
    page2 = await standin.answer(turn)
    assert turn.callback["type"] == 7 and page2["id"] == first["id"]
    forged = copy.deepcopy(standin.messages[first["id"]])
    forged["id"] = "2" + forged["id"][1:]  # a message the stand-in does not know: this copy is clicked
    forged["components"][0]["components"][0]["custom_id"] = "lesson:99:deep:1"
    failed = await standin.click(ann, forged, "lesson:99:deep:1")
    told = await standin.answer(failed)
    assert failed.callback["type"] == 4 and is_ephemeral(told) and told["id"] != forged["id"]
    assert "no chapter 99" in embed_text(told).lower()
    assert "Page 2/" in standin.messages[first["id"]]["embeds"][0]["footer"]["text"]  # the page stays


def test_a_click_edits_only_a_message_that_is_the_clickers_own():
    """Discord's rule, applied to the core's `replaces`: an ephemeral message, a DM, or the answer
    to the clicker's own command may be edited; someone else's public message never is."""
    from types import SimpleNamespace

    from bot.core.replies import Reply

    def interaction(ephemeral: bool, owner: int | None, guild: int | None = 1):
        meta = SimpleNamespace(user=SimpleNamespace(id=owner)) if owner is not None else None
        message = SimpleNamespace(flags=SimpleNamespace(ephemeral=ephemeral), interaction_metadata=meta)
        return SimpleNamespace(message=message, guild_id=guild, user=SimpleNamespace(id=5))

    replaces = discord_client.DiscordAdapter._replaces
    page = Reply(text="page", kind="lesson", replaces=True)
    aside = Reply(text="hint", kind="hint")
    assert replaces(None, interaction(True, None), page) and not replaces(None, interaction(True, None), aside)
    assert replaces(None, interaction(False, 5), page) and not replaces(None, interaction(False, 6), page)
    assert replaces(None, interaction(False, None, guild=None), page)

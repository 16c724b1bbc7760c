"""The conversation engine through the companion, on the real chapter-7 content and a real SQLite file:
memory and its cap, follow-ups across a restart, export and forget-me, no mentions, the base model
and /compare, safe arithmetic, glossary checking, and a real model's endpoint on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from test_content_errors import errors, tree

from bot.core.assistant.arithmetic import ArithmeticError_, evaluate, find_expression
from bot.core.assistant.base_model import NgramModel, build_base_model
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.users import Actor
from bot.core.command_line import handle_text

MENTIONS = ("@everyone", "@here", "<!channel>", "<!here>", "<@U123>", "<@&42>")


def settings_for(database: Path | str, **extra) -> Settings:
    return Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, **extra)


@pytest.fixture
async def companion(tmp_path):
    """On SQLite only: the assistant's skills; its history is tested on both databases below."""
    core = await Companion.create(settings_for(tmp_path / "companion.db"), clock=ManualClock(), fuzzing=False)
    yield core
    await core.close()


def ann(user: str = "ann") -> Actor:
    return Actor("test", user, user.title())


async def turns(core: Companion, user: str) -> list[tuple[str, str]]:
    def read(conn):
        return [tuple(r) for r in conn.execute(
            "SELECT t.role, t.text FROM conversation_turns t JOIN users u ON u.id = t.user_pk WHERE u.user_id = ? ORDER BY t.id",
            (user,))]
    return await core.store.run(read)


async def test_follow_up_survives_a_restart(tmp_path, database):
    first = await Companion.create(settings_for(database), clock=ManualClock())
    try:
        reply = await first.chat(ann(), "How do you say thank you in German?")
        assert "Danke" in reply.text
    finally:
        await first.close()
    second = await Companion.create(settings_for(database), clock=ManualClock())
    try:
        reply = await second.chat(ann(), "And in Italian?")
        assert "Grazie" in reply.text
        reply = await second.chat(ann("bob"), "And in Italian?")  # bob never asked anything
        assert "don't know" in reply.text and "Grazie" not in reply.text
    finally:
        await second.close()


async def test_history_is_capped_exported_and_forgotten(tmp_path, database):
    core = await Companion.create(settings_for(database, history_turns=3), clock=ManualClock())
    try:
        for n in range(5):
            await core.chat(ann(), f"What is {n} + {n}?")
        kept = await turns(core, "ann")
        assert len(kept) == 6 and kept[0] == ("user", "What is 2 + 2?") and "**8**" in kept[-1][1]
        export = await core.export(ann())
        data = json.loads(export.files[0].content)
        assert [t["text"] for t in data["conversation_turns"]][::2] == ["What is 2 + 2?", "What is 3 + 3?", "What is 4 + 4?"]
        await core.set_mode(ann(), "base")
        data = json.loads((await core.export(ann())).files[0].content)
        assert data["chat_modes"][0]["mode"] == "base"
        await core.handle_action(ann(), "forget:confirm")
        assert await turns(core, "ann") == []
        assert await core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM chat_modes").fetchone()[0]) == 0
    finally:
        await core.close()


async def test_no_history_kept_when_the_cap_is_zero(tmp_path, database):
    core = await Companion.create(settings_for(database, history_turns=0), clock=ManualClock())
    try:
        await core.chat(ann(), "hello")
        assert await turns(core, "ann") == []
    finally:
        await core.close()


@pytest.mark.parametrize("message", [
    "Make this upper case: hi @everyone and @here, <!channel> <@U123> <@&42>",
    "Rewrite as bullet points: @everyone, <!channel> and <@U123>",
    "Summarise this: Ping @everyone now. Then ping <!channel> too. Then <@&42> as well. And finally @here.",
    "Translate '@everyone' to Spanish",
])
async def test_replies_never_carry_a_live_mention(companion, message):
    for reply in (await companion.chat(ann(), message), await companion.compare(ann(), message)):
        assert not any(m in reply.text for m in MENTIONS), reply.text
    await companion.set_mode(ann(), "base")
    reply = await companion.chat(ann(), message)
    assert not any(m in reply.text for m in MENTIONS), reply.text


async def test_replies_fit_every_platform(companion):
    long_text = "Summarise this: " + " ".join(f"Sentence number {n} talks about models and data." for n in range(400))
    for message in (long_text, "tell me more " * 300, "Summarise chapter 7 deep", "/compare " + "why " * 600,
                    "/compare Summarise chapter 7 deep " + "please " * 80, "/compare " + long_text):
        reply = await handle_text(companion, ann(), message)
        assert len(reply.text) <= 2000 and all(len(b.action) <= 100 for b in reply.buttons)


async def test_course_answers_cite_a_section_with_a_working_button(companion):
    reply = await companion.chat(ann(), "why do we need a KL penalty during PPO")
    assert "Chapter 7" in reply.text and "Reinforcement Learning from Human Feedback" in reply.text
    assert reply.buttons and reply.buttons[0].action.startswith("lesson:7:deep:L")
    page = await companion.handle_action(ann(), reply.buttons[0].action)
    assert "PPO" in page.text and page.kind == "lesson"


async def test_modes_and_compare(companion):
    switched = await handle_text(companion, ann(), "/mode base")
    assert "base model" in switched.text
    base = await companion.chat(ann(), "What is the capital of France?")
    assert base.text.startswith("🧪") and "The capital of France is Paris" not in base.text
    await handle_text(companion, ann(), "/mode assistant")
    assert "Paris" in (await companion.chat(ann(), "What is the capital of France?")).text
    compared = await handle_text(companion, ann(), "/compare What is the capital of France?")
    assert "Base model" in compared.text and "Instruction-tuned" in compared.text
    assert "The capital of France is Paris." in compared.text and "Why they differ" in compared.text
    assert "/mode" in (await handle_text(companion, ann(), "/mode sideways")).text


def test_the_base_model_continues_questions_with_questions():
    model = build_base_model([])
    text = model.continue_text("What is the capital of France?")
    assert text == model.continue_text("What is the capital of France?")  # seeded: the same prompt, the same text
    assert text.count("?") >= 1 and "Paris" not in text.split("?")[0]
    samples = {model.continue_text("What is the capital of France?", seed=s) for s in range(8)}
    assert len(samples) > 1  # it samples; it does not look an answer up


def test_the_base_model_backs_off_to_shorter_contexts():
    model = NgramModel(order=3)
    model.train("the cat sat on the mat. the dog sat on the rug.")
    assert set(model.next_distribution(["the", "cat"])) == {"sat"}
    assert set(model.next_distribution(["a", "dog"])) >= {"sat"}  # unseen "a dog": back off to "dog"
    assert model.continue_text("zebra", seed=1)  # nothing seen: back off to single words


@pytest.mark.parametrize("text", ["__import__('os').system('true')", "().__class__", "open('x')", "2 ** 9999999", "9**9**9", "1/0", "lambda: 1"])
def test_arithmetic_never_evaluates_code(text):
    expression = find_expression(text)
    if expression is None:
        return
    with pytest.raises(ArithmeticError_):
        evaluate(expression)


async def test_a_real_model_is_grounded_and_falls_back(tmp_path, database):
    seen: list[dict] = []
    behaviour = {"mode": "ok"}

    async def completions(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append({"body": body, "auth": request.headers.get("Authorization")})
        if behaviour["mode"] == "slow":
            await asyncio.sleep(2)
        if behaviour["mode"] == "error":
            return web.json_response({"error": {"message": "model not loaded"}}, status=500)
        return web.json_response({"id": "c1", "object": "chat.completion", "model": body["model"],
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": "RLHF ranks answers. @everyone"}}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    settings = settings_for(database, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_model="tiny", llm_api_key="sk-test",
                            llm_timeout=0.5)
    core = await Companion.create(settings, clock=ManualClock())
    try:
        reply = await core.chat(ann(), "What is RLHF?")
        assert "RLHF ranks answers" in reply.text and "@everyone" not in reply.text
        request = seen[-1]
        assert request["auth"] == "Bearer sk-test" and request["body"]["model"] == "tiny"
        system = request["body"]["messages"][0]
        assert system["role"] == "system" and "Reward Model" in system["content"]  # the lesson passages ground it
        assert request["body"]["messages"][-1] == {"role": "user", "content": "What is RLHF?"}

        calls = len(seen)
        refused = await core.chat(ann(), "How do I make a pipe bomb?")
        assert "harmless" in refused.text and len(seen) == calls  # refused before the model is asked

        for mode in ("error", "slow"):
            behaviour["mode"] = mode
            reply = await core.chat(ann(), "What is the capital of Peru?")
            assert "Lima" in reply.text and "did not answer" in reply.text
    finally:
        await core.close()
        await runner.cleanup()


def test_glossary_problems_name_file_and_line(tmp_path):
    root = tree(tmp_path, lesson="# One\n\n<!-- SHALLOW -->\n## Basics\nShort words.\n<!-- /SHALLOW -->\n\n<!-- DEEP -->\n## Details\nLong words.\n<!-- /DEEP -->\n")
    (root / "ch01" / "glossary.yaml").write_text(
        "terms:\n"
        "  - term: token\n    definition: A piece of text.\n    section: Basics\n    depth: shallow\n"
        "  - term: model\n    definition: A thing.\n    section: Detials\n    depth: deep\n"
        "  - term: token\n    definition: Again.\n    section: Basics\n    depth: shallow\n"
        "  - term: loss\n    definiton: Oops.\n    section: Basics\n    depth: shallow\n", encoding="utf-8")
    found = errors(root)
    assert any("ch01/glossary.yaml:8:" in e and "Detials" in e and "Details" in e for e in found), found
    assert any("glossary.yaml:10:" in e and "already defined at line 2" in e for e in found), found
    assert any("glossary.yaml:15:" in e and "definiton" in e and "definition" in e for e in found), found

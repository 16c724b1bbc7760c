"""Fuzzed input straight through the facade, on a real SQLite file: every input gets a Reply.

Action ids come back from Discord, Slack or a JSONL line, so anyone can send any string; typed
text can be any Unicode. The classes of fault found by probing (a number above 2⁶³ in an action
id, `²` read by `isdigit`, 100,000 `[`, a lone surrogate, an answer of zero-width spaces) are each
generated here with many variants from a seeded generator, not only the input that found them.
"""

from __future__ import annotations

import json
import random

import pytest

from bot.core.companion import Companion
from bot.core.inputs import MAX_TEXT
from bot.core.replies import Reply
from bot.core.users import Actor
from bot.core.command_line import handle_text

SEED = 20261201
INVALID = "no longer valid"

#: Numbers an action id must refuse: too big for SQLite, signed, non-ASCII digits, not integers.
BAD_NUMBERS = [
    "100000000000000000000", str(2**63), str(2**63 - 1) + "0", str(2**64), "9" * 400, "-1", "-0", "+1", "1e3",
    "0x10", " 1", "1 ", "1_000", "1.5", "", "²", "⑦", "٣", "５", "𝟕", "1²", "\u200b1", "1\u0301", "NaN", "∞",
]
#: Templates of every action the companion writes; `{n}` is replaced by a bad number.
TEMPLATES = [
    "lesson:{n}:deep:1", "lesson:7:deep:{n}", "lesson:7:shallow:L{n}", "lesson:{n}:shallow:L1",
    "quiz:start:{n}", "quiz:start:{n}:deep", "quiz:{n}:0:a:B", "quiz:{attempt}:{n}:a:B", "quiz:{n}:0:hint",
    "quiz:{attempt}:{n}:hint", "live:{n}:skip", "live:{n}:stop", "live:{n}:0:a:A", "live:{session}:{n}:a:A",
    "progress:reset:{n}",
]
PREFIXES = [
    "lesson:", "lesson:7:", "lesson:7:deep:", "lesson:7:deep:L", "lesson:continue", "quiz:", "quiz:start:", "quiz:start:7:",
    "quiz:{attempt}:", "quiz:{attempt}:0:", "quiz:{attempt}:0:a:", "quiz:{attempt}:0:hint", "live:", "live:{session}:",
    "live:{session}:0:", "live:{session}:0:a:", "live:{session}:skip", "review:", "progress:", "progress:reset:",
    "forget:", "chat:", "",
]
WEIRD = ["\ud83d", "\udc00", "\u200b", "\u200d", "\u2060", "\ufeff", "\u200f", "\u202e", "\u0301", "\x00", "\n", "\r",
         "\t", ":", "::", "a:", "é", "ß", "İ", "ﬃ", "🤖", "𝟕", "²", "⑦", "٣", "[", "](", "<", "@", "*", "`", "\\", "%s", "{}"]


def random_text(rng: random.Random, length: int) -> str:
    pools = [WEIRD, [chr(rng.randrange(32, 127)) for _ in range(20)], [chr(rng.randrange(0x80, 0x3000)) for _ in range(20)],
             [chr(rng.randrange(0xD800, 0xE000))], [chr(rng.randrange(0x1F300, 0x1FAFF))]]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


def person(name: str, guild: str | None = "g1", instructor: bool = False, platform: str = "test") -> Actor:
    return Actor(platform, name, name.title(), guild, "quiz" if guild else None, is_instructor=instructor)


def assert_sane(reply: Reply) -> None:
    """A reply every adapter can render and the console can write as a JSON line."""
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str) and reply.text.strip()
    json.dumps(reply.to_dict(), ensure_ascii=False).encode("utf-8")  # no lone surrogate comes back
    for button in reply.buttons:
        button.action.encode("utf-8")


async def counts(core: Companion) -> tuple[int, int]:
    return await core.store.run(lambda c: (c.execute("SELECT COUNT(*) FROM quiz_answers").fetchone()[0],
                                           c.execute("SELECT COUNT(*) FROM live_answers").fetchone()[0]))


async def ids(core: Companion) -> tuple[int, int]:
    attempt = await core.store.run(lambda c: c.execute("SELECT MAX(id) FROM quiz_attempts").fetchone()[0])
    session = await core.store.run(lambda c: c.execute("SELECT MAX(id) FROM live_sessions").fetchone()[0])
    return attempt, session


async def test_every_bad_number_in_every_action_is_refused_clearly(core):
    ann = person("ann")
    await core.quiz(ann, 7, 3)
    await handle_text(core, person("host"), "/live 7 3")
    attempt, session = await ids(core)
    before = await counts(core)
    for template in TEMPLATES:
        for number in BAD_NUMBERS:
            action = template.format(n=number, attempt=attempt, session=session)
            reply = await core.handle_action(ann, action)
            assert_sane(reply)
            assert reply.kind == "error" and INVALID in reply.text, (action, reply.text)
    assert await counts(core) == before  # nothing was recorded by any of them
    # …and the session goes on: the real buttons still work.
    assert (await core.handle_action(ann, f"quiz:{attempt}:0:hint")).kind in ("hint", "error")
    assert (await handle_text(core, ann, "/progress")).kind == "progress"


async def test_wrong_arity_and_garbage_after_each_prefix(core):
    rng = random.Random(SEED)
    ann = person("ann")
    await core.quiz(ann, 7, 3)
    await handle_text(core, person("host"), "/live 7 3")
    attempt, session = await ids(core)
    wrong_arity = ["lesson:7", "lesson:7:deep", "lesson:7:deep:1:2", "lesson:7:middle:1", "quiz:1", "quiz:1:2", "quiz:start",
                   "quiz:start:7:medium", "live:1", "live:1:2", "live:1:2:b:A", "review:stop", "progress:reset", "forget:maybe",
                   "chat:close", ":", "::::", "quiz::::", "live::::", "lesson::::"]
    for action in wrong_arity:
        reply = await core.handle_action(ann, action)
        assert_sane(reply)
        assert INVALID in reply.text, action
    for prefix in PREFIXES:
        for _ in range(12):
            action = prefix.format(attempt=attempt, session=session) + random_text(rng, rng.choice([0, 1, 3, 10, 60]))
            assert_sane(await core.handle_action(ann, action))
    for _ in range(150):
        assert_sane(await core.handle_action(ann, random_text(rng, rng.randrange(0, 120))))
    for junk in ["x" * 100_000, "quiz:1:0:a:" + "[" * 100_000, "live:1:0:a:" + "\u200b" * 50_000]:
        assert_sane(await core.handle_action(ann, junk))


UNICODE_EDGES = [
    "\ud83d", "hello \udc00 world", "/answer \ud83d", "/chat \ud83d\ud83d", "\u200b", "\u200b\u200c\u200d\u2060\ufeff",
    "/answer \u200b", "/answer \u200f\u200e", "\u202eevil", "/quiz\u200b", "/\u200b", "/", "//", "/ ", "a\u0301" * 500,
    "\u0301" * 3000, "ﷺ" * 100, "𒐫" * 200, "\x00", "/quiz 7\x00", "\r\n", "\t/help", "/HELP", "/lesson ⑦", "/lesson 7 deep ²",
    "/page ²", "/page ٣", "/page ５", "/quiz 7 ²", "/quiz ٧ 3", "/live 7 ²", "/page 99999999999999999999999", "/page -1",
    "/quiz 7 100000000000000000000", "/lesson 100000000000000000000", "/lesson 7 deep 100000000000000000000",
    "/answer " + "9" * 400, "/answer 99999999999999999999", "/mode \u200bbase", "/course reset \ud83d",
    "[" * 100_000, "(" * 100_000, "1+" * 50_000 + "1", "*" * 100_000, ">" * 100_000, "- " * 50_000, "[" * 3999,
    "(" * 3000 + "1" + ")" * 3000, "1+" * 1999 + "1", "what is " + "1*" * 1900 + "1", "-" * 3990 + "1", "1" + "+1" * 990, "what is " + "(" * 500 + "1" + ")" * 500, "2" + "**2" * 1300, "🤖" * 3000,
    "summarise: " + "[" * 3900, "Rewrite as bullet points: " + "[a](b) " * 500, "/compare " + "[" * 3900,
]


async def test_typed_unicode_edges_and_huge_inputs_all_get_a_reply(core):
    ann = person("ann")
    await core.quiz(ann, 7, 2)
    for text in UNICODE_EDGES:
        reply = await handle_text(core, ann, text)
        assert_sane(reply)
    long = await handle_text(core, ann, "[" * 100_000)
    assert long.kind == "error" and "too long" in long.text
    assert "too long" not in (await handle_text(core, ann, "x" * MAX_TEXT)).text  # the bound itself is allowed


async def test_random_typed_text_and_commands(core):
    rng = random.Random(SEED + 1)
    ann = person("ann")
    commands = ["/page", "/quiz 7", "/lesson", "/lesson 7", "/answer", "/hint", "/mode", "/live", "/chat", "/compare", "/course",
                "/depth", "/forget-me", "/" + random_text(rng, 3)]
    await core.quiz(ann, 7, 5)
    for _ in range(120):
        text = rng.choice(commands) + " " + random_text(rng, rng.choice([1, 2, 5, 30]))
        assert_sane(await handle_text(core, ann, text))
    for _ in range(60):
        assert_sane(await handle_text(core, ann, random_text(rng, rng.randrange(1, 200))))


@pytest.mark.parametrize("text", ["/page ²", "/quiz 7 ²", "/lesson ⑦", "/lesson 7 deep ٣", "/page ５", "/live 7 ²"])
async def test_non_ascii_digits_are_a_usage_error(core, text):
    reply = await handle_text(core, person("ann"), text)
    assert reply.kind == "error" and "I didn't understand" in reply.text and "Usage" in reply.text


BLANK = ["\u200b", "\u200b\u200b\u200b", "\u200c\u200d", "\u2060", "\ufeff", "\u200e\u200f", "\u202a\u202c", " \u200b \u00a0 ", "\u180e"]


async def test_an_answer_of_only_invisible_characters_is_empty_not_wrong(core):
    ann = person("ann")
    await core.quiz(ann, 7, 3)
    attempt, _ = await ids(core)
    for blank in BLANK:  # typed (the text parser), as a button's id, and as a form's text beside the id
        for reply in (await handle_text(core, ann, f"/answer {blank}"), await core.handle_action(ann, f"quiz:{attempt}:0:a:{blank}"),
                      await core.handle_action(ann, f"quiz:{attempt}:0:a:", typed=blank)):
            assert reply.kind == "error" and "empty" in reply.text, (blank, reply.text)
    assert await counts(core) == (0, 0)
    # Live: the same, through /answer in the channel and through the button's action.
    await handle_text(core, person("host"), "/live 7 2")
    _, session = await ids(core)
    for blank in BLANK:
        for reply in (await handle_text(core, ann, f"/answer {blank}"), await core.handle_action(ann, f"live:{session}:0:a:{blank}")):
            assert reply.kind == "error" and "empty" in reply.text, (blank, reply.text)
    assert await counts(core) == (0, 0)


async def test_unknown_commands_never_suggest_a_destructive_one(core):
    from bot.core.commands import COMMANDS

    destructive = [c for c in COMMANDS if c.destructive]
    assert {c.name for c in destructive} >= {"forget-me", "course"}
    typos = ["/foo", "/fo", "/forget", "/forgot", "/co", "/cour", "/course-reset", "/cos"] + [f"/{c.name[:2]}zz" for c in COMMANDS]
    for typo in typos:
        reply = await handle_text(core, person("ann", instructor=True), typo)
        if reply.kind != "error":
            continue  # an alias of a real command
        for command in destructive:
            assert f"`{command.usage}`" not in reply.text, (typo, reply.text)
    assert "Did you mean `/quiz" in (await handle_text(core, person("ann"), "/quzz")).text  # suggestions still help


def test_the_console_survives_each_crashing_line_as_a_real_process(tmp_path):
    """The three lines that ended the console: nested `[` (json's parser recurses), a forged id
    above 2⁶³, and a lone surrogate; each gets one JSON line back and the session goes on."""
    import os
    import subprocess
    import sys

    lines = ["[" * 100_000, json.dumps({"user": "ann", "action": "quiz:100000000000000000000:0:a:B"}),
             json.dumps({"user": "ann", "text": "/answer \ud83d"}), json.dumps({"user": "ann", "text": "\ud83d hello"}),
             json.dumps({"user": "ann", "text": "[" * 100_000}), json.dumps({"user": "ann", "text": "/page ²"}),
             json.dumps({"user": "ann", "text": "/help"})]
    environment = {**os.environ, "COMPANION_DB": str(tmp_path / "console.db"), "COMPANION_LOG_LEVEL": "warning"}
    environment.pop("DISCORD_TOKEN", None)
    environment.pop("SLACK_BOT_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "bot", "console", "--jsonl"], input="\n".join(lines) + "\n", cwd=tmp_path,
                          env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert "error" in out[0] and INVALID in out[1]["reply"]["text"]
    assert "longer than" in out[4]["error"]  # the console refuses an over-long field before the core sees it
    assert "I didn't understand" in out[5]["reply"]["text"] and out[6]["reply"]["kind"] == "help"


@pytest.mark.parametrize("name", ["\ud83d", "Ann \udc00", "\u200b\u200b", "\u202e", "", "[x](http://evil.example)", "a" * 500, "\x00"])
async def test_any_display_name_is_stored_and_shown(core, name):
    actor = Actor("test", "u1", name, "g1", "quiz")
    assert_sane(await handle_text(core, actor, "/quiz 7 1"))
    stored = await core.store.run(lambda c: c.execute("SELECT display_name FROM users WHERE user_id = 'u1'").fetchone()[0])
    stored.encode("utf-8")
    assert stored.strip("\u200b") and len(stored) <= 80 and "[" not in stored and "\x00" not in stored


async def test_a_quiz_whose_last_questions_were_removed_ends_cleanly(core):
    """Content reloaded without the attempt's remaining questions: every path says so, none raises."""
    ann = person("ann")
    await core.quiz(ann, 7, 1)
    attempt, _ = await ids(core)
    await core.store.run(lambda c: c.execute("UPDATE quiz_attempts SET question_keys = ? WHERE id = ?", ('["7:gone"]', attempt)))
    assert "removed" in (await handle_text(core, ann, "/answer B")).text  # skipped: the position moves past the end
    reply = await core.handle_action(ann, f"quiz:{attempt}:1:a:B")
    assert reply.kind == "error" and "no questions left" in reply.text, reply.text
    assert "already ended" in (await core.handle_action(ann, f"quiz:{attempt}:1:hint")).text
    assert "no quiz running" in (await handle_text(core, ann, "/answer B")).text


@pytest.mark.parametrize("number", [10**30, 2**63, -(2**63) - 1, -1, 0])
async def test_typed_methods_take_any_integer_an_adapter_passes(core, number):
    """Discord's integer options reach the typed methods directly: out-of-range numbers are refused, never stored."""
    ann = person("ann")
    for call in (core.lesson(ann, number), core.lesson(ann, 7, "deep", number), core.quiz(ann, number),
                 core.quiz(ann, 7, number), core.live_start(ann, number), core.live_start(ann, 7, number)):
        reply = await call
        assert_sane(reply)
        assert reply.kind in ("error", "info"), (number, reply.text)
    assert await ids(core) == (None, None)  # no attempt, no session was created with such a number

"""User text can never form a link or a mention where the companion echoes it.

Discord renders `[text](url)` in bot messages, Slack's `<url|text>` comes from any Markdown link
token, and both read `<…>` specially. So `quote_user_text` turns every character that starts such
syntax into a look-alike, and every echo (the assistant's rewrites, summaries, translations,
"I don't know how to say …", the base model's continuation, quiz feedback, usage errors, display
names in live standings and leaderboards) goes through it. Checked by parsing each reply as
Markdown (markdown-it, as the Slack renderer does) and by looking for the raw syntax.
"""

from __future__ import annotations

import json
import random

import pytest
from markdown_it import MarkdownIt

from bot.core.replies import quote_user_text
from bot.core.users import Actor
from bot.core.command_line import handle_text

EVIL = "evil.example"
PAYLOADS = [
    "[http://good.example](http://evil.example)",
    "[good](<http://evil.example>)",
    "![img](http://evil.example/x.png)",
    "[good][1]\n\n[1]: http://evil.example",
    "<http://evil.example|http://good.example>",
    "<http://evil.example>",
    "[good]( http://evil.example \"title\")",
    "[[nested](http://evil.example)](http://evil.example)",
    "@everyone <@123> <!channel> @here",
]
MD = MarkdownIt("commonmark", {"html": False})


def links_in(markdown: str) -> list[str]:
    """Every link or image target markdown-it finds in the text."""
    found = []
    for token in MD.parse(markdown):
        for child in [token, *(token.children or [])]:
            if child.type in ("link_open", "image"):
                found.append(child.attrGet("href") or child.attrGet("src") or "")
    return found


def assert_no_link(text: str) -> None:
    assert not [href for href in links_in(text) if EVIL in href], text
    assert "](" not in text and "<http" not in text, text
    for bad in ("<@", "<!", "@everyone", "@here"):
        assert bad not in text, text


def test_quote_user_text_breaks_every_link_and_mention_syntax():
    rng = random.Random(7)
    pieces = ["[", "]", "(", ")", "<", ">", "|", "!", "@", "http://evil.example", "good", " ", "\n", ":", "\"", "everyone", "#"]
    samples = PAYLOADS + ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40))) for _ in range(500)]
    for raw in samples:
        quoted = quote_user_text(raw)
        assert not set(quoted) & set("[]<>"), quoted
        assert not links_in(quoted), quoted
        assert all(quoted[i + 1:i + 2] == "\u200b" for i, ch in enumerate(quoted) if ch == "@")
        assert quote_user_text(quoted) == quoted  # idempotent: names are quoted when stored and when shown


def person(name: str, display: str | None = None, guild: str = "g1") -> Actor:
    return Actor("test", name, display or name.title(), guild, "quiz")


CHAT_FORMS = [
    "Rewrite as bullet points: {p} and more words here",
    "make this upper case: {p}",
    "shorten: {p} is a thing that is long and has more words here and there",
    "summarise: {p}. A second sentence is here too. And a third one to summarise.",
    "summarise: {p}",
    "Translate {p} to Spanish",
    "How do you say {p} in German?",
    "What is the capital of {p}?",
    "{p} is the capital of which country?",
    "What is {p}?",
    "write a poem about {p}",
    "tell me about {p}",
    "{p}",
]


async def test_the_assistant_never_echoes_a_link(core):
    ann = person("ann")
    for payload in PAYLOADS:
        for form in CHAT_FORMS:
            message = form.format(p=payload)
            assert_no_link((await handle_text(core, ann, message)).text)
        assert_no_link((await handle_text(core, ann, f"/compare {payload}")).text)
    await handle_text(core, ann, "/mode base")
    for payload in PAYLOADS:
        assert_no_link((await handle_text(core, ann, payload)).text)


async def test_commands_and_quiz_feedback_never_echo_a_link(core):
    ann = person("ann")
    for payload in PAYLOADS:
        for text in (f"/{payload}", f"/page {payload}", f"/lesson 7 {payload}", f"/mode {payload}", f"/course reset {payload}"):
            assert_no_link((await handle_text(core, ann, text)).text)
    # A short answer's feedback quotes what the student wrote.
    short = next(q for q in core.course.chapter(7).questions if q.type == "short")
    for payload in PAYLOADS:
        await core.quiz(ann, 7, 1)
        attempt = await core.store.run(lambda c: c.execute("SELECT id FROM quiz_attempts ORDER BY id DESC").fetchone()[0])
        await core.store.run(lambda c: c.execute("UPDATE quiz_attempts SET question_keys = ? WHERE id = ?",
                                                 (json.dumps([short.key]), attempt)))
        reply = await core.handle_action(ann, f"quiz:{attempt}:0:a:{payload}")
        assert "You answered" in reply.text or "too long" in reply.text, reply.text
        assert_no_link(reply.text)


async def test_display_names_cannot_form_links_in_live_standings_or_leaderboards(core):
    events = []

    async def listen(event):
        events.append(event)
    core.live.subscribe(listen)
    host = person("host")
    await handle_text(core, host, "/live 7 2")
    session = await core.store.run(lambda c: dict(c.execute("SELECT * FROM live_sessions").fetchone()))
    keys = json.loads(session["question_keys"])
    players = [person(f"p{i}", display=payload) for i, payload in enumerate(PAYLOADS)]
    for player in players:
        answer = core.course.question(keys[0]).typed_answer(session["seed"])
        assert (await core.handle_action(player, f"live:{session['id']}:0:a:{answer}")).kind == "live-ack"
    # A name stored raw by an older version is quoted again when shown.
    await core.store.run(lambda c: c.execute("UPDATE users SET display_name = ? WHERE user_id = 'p0'", (PAYLOADS[0],)))
    core.clock.advance(31)
    await core.live.advance_due()
    core.clock.advance(31)
    await core.live.advance_due()
    shown = [e.reply.text for e in events if e.kind in ("closed", "ended")]
    assert len(shown) >= 2 and any("Standings" in t or "Final leaderboard" in t for t in shown)
    for text in shown:
        assert_no_link(text)
    assert "［http://good.example］(http://evil.example)" in "".join(shown)  # shown, just not as a link
    assert_no_link((await handle_text(core, host, "/leaderboard")).text)


@pytest.mark.parametrize("model_text", PAYLOADS + [
    "Sure! Here is your link: [http://good.example](http://evil.example).",
    "See ![diagram](http://evil.example/d.png) and [the docs]( <http://evil.example/docs> \"Docs\").",
    "Read [this][ref].\n\n   [ref]: http://evil.example",
])
def test_a_chat_models_reply_shows_every_link_target_in_plain_sight(model_text):
    """What a real model writes (it may repeat the user's text) goes through `safe` too: a link
    becomes its text followed by its address, so nothing hides where it points."""
    from bot.core.assistant.engine import safe

    shown = safe(model_text)
    assert not links_in(shown), shown
    if EVIL in model_text:
        assert EVIL in shown  # the address is shown, not dropped
    assert safe("x[0] = y[1] and [brackets] stay") == "x[0] = y[1] and [brackets] stay"

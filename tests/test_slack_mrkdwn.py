"""Golden tests: Markdown → Slack mrkdwn, and Block Kit within Slack's limits."""

from __future__ import annotations

import json
import re

import pytest

from bot.adapters.slack.blocks import (
    MAX_BLOCKS_MESSAGE,
    MAX_SECTION,
    input_modal,
    message,
    reply_blocks,
    slack_commands,
    split_mrkdwn,
)
from bot.adapters.slack.mrkdwn import escape, to_mrkdwn
from bot.core.replies import Button, Choices, PageRef, Reply, TextInput

GOLDEN = [
    ("**bold** and *italic* and ~~gone~~", "*bold* and _italic_ and ~gone~"),
    ("# Title\n\nText", "*Title*\n\nText"),
    ("### Small **heading**", "*Small heading*"),
    ("[the book](https://example.com/a?b=1&c=2)", "<https://example.com/a?b=1&amp;c=2|the book>"),
    ("[pipe](https://example.com/a|b)", "<https://example.com/a%7Cb|pipe>"),
    ("[bad](javascript:alert(1))", "[bad](javascript:alert(1))"),
    ("[rel](/relative)", "rel"),
    ("- one\n- two\n  - nested", "• one\n• two\n    ◦ nested"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("3. third\n4. fourth", "3. third\n4. fourth"),
    ("```python\nif a < b and c > d & e:\n    pass\n```", "```\nif a &lt; b and c &gt; d &amp; e:\n    pass\n```"),
    ("Use `x < y` here", "Use `x &lt; y` here"),
    ("> quoted <!here>", "> quoted &lt;!here&gt;"),
    ("line one\nline two", "line one\nline two"),
    ("para one\n\npara two", "para one\n\npara two"),
    ("a\n\n---\n\nb", "a\n\n──────────\n\nb"),
    ("Hey <!channel> and <@U123ABC> & <#C42|general> <https://evil.example|click>",
     "Hey &lt;!channel&gt; and &lt;@U123ABC&gt; &amp; &lt;#C42|general&gt; &lt;https://evil.example|click&gt;"),
    ("<!everyone>", "&lt;!everyone&gt;"),
    ("<b>html</b>", "&lt;b&gt;html&lt;/b&gt;"),
    ("AT&T &amp; 1 > 0", "AT&amp;T &amp; 1 &gt; 0"),
    ("| a | b |\n|---|---|\n| 1 | <2> |", "```\na | b\n1 | &lt;2&gt;\n```"),
    # Disguised links: a label that names another address is never a link; label and target show as text.
    ("[http://good.example](http://evil.example)", "http://good.example (http://evil.example)"),
    ("**[good.example](https://evil.example/x)** — 3 pts", "*good.example (https://evil.example/x)* — 3 pts"),
    ("[www.bank.com/login](https://evil.example)", "www.bank.com/login (https://evil.example)"),
    ("[Pay at paypal.com now](https://evil.example)", "Pay at paypal.com now (https://evil.example)"),
    ("[`good.example`](https://evil.example)", "`good.example` (https://evil.example)"),
    ("[mail me](mailto:a@evil.example) [admin@good.example](mailto:a@evil.example)",
     "<mailto:a@evil.example|mail me> admin@good.example (mailto:a@evil.example)"),
    ("![good.example](https://evil.example/i.png)", "good.example (https://evil.example/i.png)"),
    ("[x<y](https://evil.example/a&b)", "<https://evil.example/a&amp;b|x&lt;y>"),
    # …while a label that is its own address, or no address at all, stays a link.
    ("[arxiv.org/abs/2203.02155](https://arxiv.org/abs/2203.02155)", "<https://arxiv.org/abs/2203.02155|arxiv.org/abs/2203.02155>"),
    ("[https://www.example.com](https://example.com/)", "<https://example.com/|https://www.example.com>"),
    ("[InstructGPT, Fig. 2](https://arxiv.org/abs/2203.02155)", "<https://arxiv.org/abs/2203.02155|InstructGPT, Fig. 2>"),
]


@pytest.mark.parametrize(("markdown", "expected"), GOLDEN)
def test_golden(markdown, expected):
    assert to_mrkdwn(markdown) == expected


def test_no_control_sequence_survives_from_text():
    nasty = "<!channel> <!here|here> <@U1> <#C1> <mailto:x@y.z|mail> &lt; [x](https://ok.example) <https://auto.example>"
    out = to_mrkdwn(nasty)
    # The only `<` left is the trusted link from the Markdown link token.
    assert re.findall(r"<[^>]*>", out) == ["<https://ok.example|x>"]
    assert "&lt;!channel&gt;" in out and "&lt; <https" in out  # the entity &lt; means "<", shown escaped


def test_escape():
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_commands_become_sub_commands():
    assert slack_commands("Type `/help`, then /lesson 7 or /forget-me; not a/b or /unknown") == \
        "Type `/companion help`, then /companion lesson 7 or /companion forget-me; not a/b or /unknown"


def test_blocks_respect_limits():
    long = "\n\n".join(f"Paragraph {i} " + "word & " * 300 for i in range(80))
    buttons = [Button(f"B{i} " + "x" * 80, f"act:{i % 3}") for i in range(30)]
    reply = Reply(text=long, title="T" * 200, buttons=buttons, page=PageRef(2, 9),
                  choices=Choices("quiz:1:2:a:", tuple((f"{c}) " + "y" * 100, c) for c in "ABCD"), max_values=4))
    blocks = reply_blocks(reply)
    assert len(blocks) <= MAX_BLOCKS_MESSAGE
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    for b in blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= MAX_SECTION
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            for el in b["elements"]:
                assert len(el["action_id"]) <= 255
                if el["type"] == "button":
                    assert len(el["text"]["text"]) <= 75 and len(el["value"]) <= 2000
    ids = [el["action_id"] for b in blocks if b["type"] == "actions" for el in b["elements"]]
    assert len(ids) == len(set(ids)) == 31  # unique within the message, controls kept
    assert any(b["type"] == "context" and "Page 2 of 9" in b["elements"][0]["text"] for b in blocks)


def test_split_keeps_code_fences_balanced():
    text = "```\n" + "\n".join("x = 1 &amp; 2" for _ in range(600)) + "\n```"
    pieces = split_mrkdwn(text, 3000)
    assert len(pieces) > 1
    for p in pieces:
        assert len(p) <= 3000 and p.count("```") % 2 == 0


def test_text_input_becomes_button_and_modal():
    reply = Reply(text="Q", text_input=TextInput("quiz:5:1:a:", "Your answer <@U1>", placeholder="A few words"))
    msg = message(reply)
    button = msg["blocks"][-1]["elements"][0]
    assert button["action_id"].startswith("input|quiz:5:1:a:")
    modal = input_modal(button["value"], {"c": "C1"})
    assert len(modal["title"]["text"]) <= 24
    assert json.loads(modal["private_metadata"])["a"] == "quiz:5:1:a:"
    assert modal["blocks"][0]["label"]["text"] == "Your answer &lt;@U1&gt;"


def test_disguised_links_from_anywhere_in_a_reply_are_text():
    reply = Reply(title="Standings", text="🥇 **[http://good.example](http://evil.example)** — 900 pts\n\n"
                                          "> [good.example](http://evil.example)\n\n- [good.example](http://evil.example)")
    shown = json.dumps(message(reply))
    assert "|http://good.example>" not in shown and "|good.example>" not in shown
    assert shown.count("(http://evil.example)") == 3


def test_thousands_of_brackets_render_quickly_as_text():
    """markdown-it's link search is quadratic in `[`: beyond MAX_BRACKETS they are plain text.
    (Measured by work, not time: the result is the escaped text itself, with no link.)"""
    text = "[" * 100_000 + "](http://evil.example) [a](http://b.example)"
    out = to_mrkdwn(text)
    assert "<http" not in out and out.startswith("[" * 1000) and "(http://evil.example)" in out
    assert to_mrkdwn("[" * 500 + " [a](http://b.example)").endswith("<http://b.example|a>")  # below the limit: links work

"""A core `Reply` as Slack Block Kit, within Slack's limits.

Limits (all in one place): 50 blocks per message, 100 per modal or Home tab; 3,000 characters
of section text; 150 of header text; 75 of button text; action_id ≤ 255; button value
≤ 2,000; 25 elements per actions block; 100 options per select (label 75, value 150);
modal title ≤ 24, input label ≤ 2,000; message `text` (the notification fallback) ≤ 40,000.

Every string that reaches Slack passes through `mrkdwn.escape` (plain text) or
`mrkdwn.to_mrkdwn` (Markdown), so no content or user text can form a mention or a link.

How actions travel: a button's `value` is the core's action id (≤ 100 characters), its
`action_id` the same string made unique within the message. A select's `action_id` is
`choices|` + the action id; the chosen values, joined with commas, go to the core beside it. A
text input is a button (`input|…`) whose value carries the action and the label; pressing it
opens a modal (`views.open`) whose submitted text goes to the core beside the action.
`ACTION_ID_PATTERN` (from `actions.ID_PATTERN`) matches every action_id this module writes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.actions import ID_PATTERN, takes_paragraphs
from bot.core.replies import Reply, clip

from .mrkdwn import escape, to_mrkdwn

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON = 75
MAX_ACTION_ID = 255
MAX_VALUE = 2000
MAX_ELEMENTS = 25
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_MODAL_TITLE = 24
MAX_FALLBACK = 3000

CHOICES_PREFIX = "choices|"
INPUT_PREFIX = "input|"
INPUT_CALLBACK = "companion_input"
#: Every action_id written here: a button's, a menu's or a text input's, made unique with `#n`.
ACTION_ID_PATTERN = rf"^(?:{re.escape(CHOICES_PREFIX)}|{re.escape(INPUT_PREFIX)})?{ID_PATTERN}(?:#[0-9]+)?$"

_STYLES = {"primary": "primary", "success": "primary", "danger": "danger"}
#: Command names the core writes as `/name` in its texts; on Slack they are sub-commands.
_COMMAND_REF = re.compile(r"(?<![\w/])/(help|lesson|next|prev|page|depth|quiz|answer|hint|review|progress|leaderboard|live|chat|compare|mode|my-data|forget-me|course)\b")


def slack_commands(text: str, command: str = "/companion") -> str:
    """`/lesson 7` in the core's texts becomes `/companion lesson 7`: Slack has one main command."""
    return _COMMAND_REF.sub(lambda m: f"{command} {m.group(1)}", text)


def plain(text: str, limit: int, emoji: bool = True) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "plain_text", "text": clip(escape(text), limit) or " "}
    if emoji:
        obj["emoji"] = True
    return obj


def split_mrkdwn(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Cut mrkdwn into pieces of at most `limit` characters, at blank lines, then lines, keeping
    code fences balanced and never cutting an entity (`&amp;`) in two."""
    pieces: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(para) > limit:
            cut = para.rfind("\n", 0, limit - 8)
            if cut <= 0:
                cut = limit - 8
                amp = para.rfind("&", cut - 6, cut)
                if amp != -1 and ";" not in para[amp:cut]:
                    cut = amp
            head, para = para[:cut], para[cut:].lstrip("\n")
            if head.count("```") % 2:
                head += "\n```"
                para = "```\n" + para
            pieces.append(head)
        current = para
    if current:
        pieces.append(current)
    return pieces or [" "]


def _unique(action_id: str, used: set[str]) -> str:
    candidate, n = action_id, 1
    while candidate in used:
        n += 1
        candidate = f"{action_id}#{n}"
    used.add(candidate)
    return candidate


def reply_blocks(reply: Reply, max_blocks: int = MAX_BLOCKS_MESSAGE, command: str = "/companion") -> list[dict[str, Any]]:
    """The blocks that show `reply`; at most `max_blocks`, controls always kept."""
    head: list[dict[str, Any]] = []
    if reply.title:
        head.append({"type": "header", "text": plain(slack_commands(reply.title, command), MAX_HEADER)})
    body: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
                                  for piece in split_mrkdwn(to_mrkdwn(slack_commands(reply.text, command)))]
    tail: list[dict[str, Any]] = []
    if reply.page is not None:
        tail.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Page {reply.page.number} of {reply.page.total}"}]})
    used: set[str] = set()
    controls: list[dict[str, Any]] = []
    if reply.choices is not None:
        c = reply.choices
        options = [{"text": plain(label, MAX_OPTION_TEXT), "value": clip(value, MAX_OPTION_VALUE)} for label, value in c.options[:MAX_OPTIONS]]
        multi = c.max_values > 1
        select: dict[str, Any] = {
            "type": "multi_static_select" if multi else "static_select",
            "action_id": _unique(clip(CHOICES_PREFIX + c.action, MAX_ACTION_ID), used),
            "placeholder": plain(c.placeholder, 150),
            "options": options,
        }
        if multi:
            select["max_selected_items"] = min(c.max_values, len(options))
        controls.append(select)
    if reply.text_input is not None:
        t = reply.text_input
        value = json.dumps({"a": t.action, "l": t.label, "p": t.placeholder, "m": t.max_length}, ensure_ascii=False)
        controls.append({"type": "button", "text": plain(f"✍️ {t.label}", MAX_BUTTON),
                         "action_id": _unique(clip(INPUT_PREFIX + t.action, MAX_ACTION_ID), used),
                         "value": clip(value, MAX_VALUE), "style": "primary"})
    for b in reply.buttons:
        button: dict[str, Any] = {"type": "button", "text": plain(b.label, MAX_BUTTON),
                                  "action_id": _unique(clip(b.action, MAX_ACTION_ID), used), "value": clip(b.action, MAX_VALUE)}
        if b.style in _STYLES:
            button["style"] = _STYLES[b.style]
        controls.append(button)
    actions = [{"type": "actions", "elements": controls[i:i + MAX_ELEMENTS]} for i in range(0, len(controls), MAX_ELEMENTS)]
    tail += actions
    room = max_blocks - len(head) - len(tail)
    if len(body) > room:
        body = [*body[: max(room - 1, 0)], {"type": "context", "elements": [{"type": "mrkdwn", "text": "_(cut here: too long for one Slack message)_"}]}]
    return head + body + tail


def fallback_text(reply: Reply, command: str = "/companion") -> str:
    """The message's top-level `text`: shown in notifications and by screen readers."""
    first = reply.title or reply.text.strip().split("\n", 1)[0]
    return clip(to_mrkdwn(slack_commands(first, command)).replace("\n", " "), MAX_FALLBACK) or "Course Companion"


def message(reply: Reply, command: str = "/companion") -> dict[str, Any]:
    """`text` + `blocks` for chat.postMessage, chat.update, chat.postEphemeral or a response_url."""
    return {"text": fallback_text(reply, command), "blocks": reply_blocks(reply, command=command)}


def read_input_spec(value: Any) -> dict[str, Any] | None:
    """A text-input button's value as the app wrote it (`{"a", "l", "p", "m"}`), or None if it
    is not one (a forged or corrupted value)."""
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None
    try:
        spec = json.loads(value)
    except ValueError:
        return None
    if not (isinstance(spec, dict) and isinstance(spec.get("a"), str) and isinstance(spec.get("l", ""), str)
            and isinstance(spec.get("p") or "", str) and type(spec.get("m", 200)) is int):
        return None
    return spec


def input_modal(value: str, private: dict[str, Any], seal=None) -> dict[str, Any]:
    """The modal a text-input button opens. `value` is the button's value (action + label);
    `seal(private)` writes its private_metadata (the app signs it, see `SlackAdapter.seal`)."""
    spec = read_input_spec(value)
    if spec is None:
        raise ValueError("not a text-input button's value")
    private = dict(private, a=spec["a"])
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text", "max_length": max(1, min(spec.get("m", 200), 3000))}
    if takes_paragraphs(spec["a"]):
        element["multiline"] = True
    if spec.get("p"):
        element["placeholder"] = plain(spec["p"], 150)
    return {
        "type": "modal",
        "callback_id": INPUT_CALLBACK,
        "private_metadata": (seal or json.dumps)(private),
        "title": plain("Your answer", MAX_MODAL_TITLE),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": [{"type": "input", "block_id": "answer", "label": plain(spec.get("l") or "Your answer", 2000), "element": element}],
    }


def home_view(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS_VIEW]}

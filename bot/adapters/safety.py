"""What every adapter checks at the platform boundary, before text reaches the core or a user.

- `clean`: a platform's JSON may carry a lone UTF-16 surrogate (`"\\ud83d"`), which no real
  client types and which no UTF-8 writer (SQLite, a JSON file, an HTTP body) accepts. It
  becomes U+FFFD where the event is decoded, so nothing behind the adapter ever sees one.
- `disguised`: a link whose visible text looks like a URL or a domain other than its target
  (`[http://good.example](http://evil.example)`). Renderers never show one as a link: Slack's
  mrkdwn renderer and Discord's message renderer both show such a label and its target as
  plain text, side by side.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(text: object) -> str:
    """A platform string made safe to store and send: lone surrogates become U+FFFD."""
    if not isinstance(text, str):
        return ""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


# ---- disguised links ------------------------------------------------------------------------------

#: Something a reader takes for an address: a scheme, `www.`, or a dotted name ending in letters.
_URLISH = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s]*|\bwww\.[^\s]+|\b(?:[\w-]+\.)+[^\W\d_]{2,}\b")


def _host(text: str) -> str:
    text = text.strip().strip("<>()[]").strip()
    if text.lower().startswith("mailto:"):
        return text.rsplit("@", 1)[-1].lower()
    if "://" not in text:
        text = "http://" + text.split("@")[-1]
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return "?"
    return host.lower().removeprefix("www.")


def disguised(label: str, target: str) -> bool:
    """True when the link's visible text names an address other than where it goes."""
    target_host = _host(target)
    return any(not target_host or _host(match.group(0)) != target_host for match in _URLISH.finditer(label or ""))


#: A Markdown link's target as Discord reads it, right after `](`.
_TARGET = re.compile(r"[ \t\n]{0,20}<?([^\s)>]{1,500})")
#: How far back from `](` the label is looked for; a longer label is treated as disguised.
LABEL_SCAN = 300


def _label_before(text: str, close: int) -> str | None:
    """The label of the link whose `]` is at `close`: back to its matching `[`, or None."""
    depth = 0
    stop = max(-1, close - LABEL_SCAN)
    for i in range(close, stop, -1):
        ch = text[i]
        if ch == "]":
            depth += 1
        elif ch == "[":
            depth -= 1
            if depth == 0:
                return text[i + 1:close]
    return None


def defuse_markdown_links(text: str) -> str:
    """Discord renders `[label](url)` as a link showing only `label`. Every such link whose label
    looks like another address (or whose label cannot be read within `LABEL_SCAN` characters)
    is broken apart (`[label] (url)`): both show as text, and the URL as itself. Linear time."""
    if "](" not in text:
        return text
    out: list[str] = []
    start = 0
    pos = text.find("](")
    while pos != -1:
        target = _TARGET.match(text, pos + 2)
        label = _label_before(text, pos)
        if target is not None and (label is None or disguised(label, target.group(1))):
            out.append(text[start:pos + 1] + " ")
            start = pos + 1
        pos = text.find("](", pos + 2)
    out.append(text[start:])
    return "".join(out)

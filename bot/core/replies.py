"""Platform-neutral replies: what a person should see, never how a platform shows it.

The core answers every command with a `Reply`. Adapters render it in their own idiom:
Discord embeds and buttons, Slack blocks, rich text or a JSON line on the console.
Action ids are short strings that carry everything a restart needs (`quiz:12:3:a:2`),
so a button pressed after a restart still finds its attempt, question and choice; their grammar
is `actions.py`'s.

The core also decides where a reply goes, so no adapter has to: `kind` (a closed set),
`replaces` (the reply takes the place of the message whose button was pressed) and `ephemeral`
(the audience: the person alone, or the whole channel). Adapters only translate these into
their platform's means (an edit or a new message; an ephemeral message or a public one).
"""

from __future__ import annotations

import base64
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from .actions import MAX_ACTION_ID

#: Discord's button label limit is 80, Slack's button text 75.
MAX_BUTTON_LABEL = 75

Style = Literal["primary", "secondary", "success", "danger"]
#: Every kind of reply the core produces: adapters choose colours and styles by it.
Kind = Literal["info", "error", "help", "lesson", "question", "hint", "summary", "progress", "leaderboard", "stats",
               "confirm", "export", "assistant", "live", "live-ack", "live-question", "live-closed", "live-ended", "lab"]
KINDS: tuple[str, ...] = get_args(Kind)


@dataclass(frozen=True)
class Button:
    label: str
    action: str
    style: Style = "secondary"

    def __post_init__(self) -> None:
        if len(self.action) > MAX_ACTION_ID:
            raise ValueError(f"action id longer than {MAX_ACTION_ID}: {self.action!r}")
        if len(self.label) > MAX_BUTTON_LABEL:
            object.__setattr__(self, "label", self.label[: MAX_BUTTON_LABEL - 1] + "…")


@dataclass(frozen=True)
class Choices:
    """A pick-several menu (multiple-select questions): `action` is an answer's template
    (`quiz:12:3:a:`); the adapter hands the chosen values to the core separately, joined with
    commas (`handle_action(actor, action, typed="A,C")`)."""

    action: str
    options: tuple[tuple[str, str], ...]  # (label, value)
    min_values: int = 1
    max_values: int = 1
    placeholder: str = "Choose…"


@dataclass(frozen=True)
class TextInput:
    """Ask for typed text (short answers, orderings): a modal on Discord, an input on Slack.
    `action` is an answer's template; the adapter hands the submitted text to the core
    separately (`handle_action(actor, action, typed=text)`)."""

    action: str
    label: str
    placeholder: str = ""
    max_length: int = 200


#: Files one reply may carry: Discord takes at most 10 per message, Slack's upload as many.
MAX_FILES = 10
#: MIME types whose content is also given as text in a JSON line (the rest only as base64).
_TEXT_MIMES = ("text/", "application/json")


@dataclass(frozen=True)
class Attachment:
    """A file a reply carries: an export, a CSV gradebook, a chart. `description` says in words
    what the file shows (a chart's summary): Discord shows it as the image's alt text, Slack as
    the file's title, and a reply's text repeats what matters, so no one needs the picture."""

    filename: str
    content: bytes
    mime: str = "application/json"
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The file for a JSON line, losslessly: its bytes in base64, and also as text when it is
        text (JSON, CSV), so a script can read an export without decoding."""
        data: dict[str, Any] = {"filename": self.filename, "mime": self.mime, "size": len(self.content),
                                "base64": base64.b64encode(self.content).decode("ascii")}
        if self.description:
            data["description"] = self.description
        if self.mime.startswith(_TEXT_MIMES):
            data["text"] = self.content.decode("utf-8", "replace")
        return data


@dataclass(frozen=True)
class PageRef:
    """Where a paged reply sits: page `number` (1-based) of `total`."""

    number: int
    total: int


@dataclass
class Reply:
    text: str  # Markdown
    title: str | None = None
    buttons: list[Button] = field(default_factory=list)
    choices: Choices | None = None
    text_input: TextInput | None = None
    page: PageRef | None = None
    #: The audience: True, the person alone (their lesson, quiz, progress, data, any error); False,
    #: everyone in the channel (a leaderboard, a live quiz's question and results). In a direct
    #: message the two are the same.
    ephemeral: bool = True
    #: Files to attach (at most MAX_FILES): an export, a gradebook, charts.
    files: list[Attachment] = field(default_factory=list)
    kind: Kind = "info"
    #: This reply takes the place of the message whose button was pressed (a page turn, the next
    #: quiz question, a quiz's summary, a confirmation's outcome); never an error. Otherwise it is
    #: a new message (a hint, an acknowledgement, anything asked for by a command).
    replaces: bool = False
    #: Milestones this reply announces, for adapters that reward them (a Discord role):
    #: "course-complete" when the person has just completed the whole course.
    achievements: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"not a kind of reply: {self.kind!r}")
        if len(self.files) > MAX_FILES:
            raise ValueError(f"a reply carries at most {MAX_FILES} files, not {len(self.files)}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = [f.to_dict() for f in self.files]
        return {k: v for k, v in data.items() if v not in (None, [], False) or k == "text"}


#: What user text may not contain when it is echoed: characters that form a mention
#: (`@everyone`, `<@id>`, `<!channel>`) or a link (`[text](url)`, `[text][ref]`, `<url|text>`,
#: `<http://…>`) on some platform. Each becomes a look-alike that no renderer reads as syntax.
_NEUTRAL = str.maketrans({"<": "‹", ">": "›", "[": "［", "]": "］"})
_AT = re.compile("@(?!\u200b)")


def quote_user_text(text: str) -> str:
    """User text made safe to echo on any platform: no mention (`@everyone`, `<@id>`,
    `<!channel>`) and no link (`[good](evil)`, `<evil|good>`) can form from it, whatever the
    adapter does. A zero-width space follows each `@`; `<` `>` `[` `]` become look-alikes.
    Quoting twice changes nothing, so a stored display name can be quoted again when shown."""
    return _AT.sub("@\u200b", text.translate(_NEUTRAL))


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis where it was cut: the one way every platform's
    limit (a button label, a field, a modal title) and every echoed excerpt is kept."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def error(text: str) -> Reply:
    """A friendly correction: shown only to the person who made the mistake."""
    return Reply(text=text, ephemeral=True, kind="error")


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """A text progress bar that renders the same on every platform: `███████░░░ 70%`."""
    if total <= 0:
        return "░" * width + "  —"
    filled = round(width * done / total)
    return "█" * filled + "░" * (width - filled) + f" {round(100 * done / total)}%"

"""`companion slack manifest`: print the app manifest to paste at api.slack.com/apps."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.config import Settings

MANIFEST = Path(__file__).resolve().parents[3] / "slack" / "manifest.yml"


def manifest_text(settings: Settings | None = None) -> str:
    text = MANIFEST.read_text(encoding="utf-8")
    if settings is not None and settings.slack_mode == "http":
        # HTTP mode: Slack must know where to send requests; the admin fills in the public URL.
        text = text.replace("socket_mode_enabled: true", "socket_mode_enabled: false")
    return text


def main(args, settings: Settings) -> int:
    if args.slack_command == "manifest":
        sys.stdout.write(manifest_text(settings))
        return 0
    print(f"companion: unknown slack command {args.slack_command!r}", file=sys.stderr)
    return 2

"""`companion` and the Slack adapter: the manifest command, one-line errors for bad tokens, the runner."""

from __future__ import annotations

import asyncio
import contextlib

import yaml

from bot.adapters.slack.runner import run_slack
from bot.cli import main
from bot.core.companion import Companion
from tests.slack_fixtures import slack_settings, standin  # noqa: F401
from tests.slack_standin import shown_text

SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_MODE", "DISCORD_TOKEN", "SLACK_API_BASE")


def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's folder
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPANION_DB", str(tmp_path / "cli.db"))


def test_companion_slack_manifest(monkeypatch, tmp_path, capsys):
    clean_env(monkeypatch, tmp_path)
    assert main(["slack", "manifest"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert {c["command"] for c in manifest["features"]["slash_commands"]} >= {"/companion", "/cc-lesson", "/cc-quiz"}


def test_companion_refuses_a_bad_token_in_one_line(monkeypatch, tmp_path, capsys):
    clean_env(monkeypatch, tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token-not-a-bot-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-fine")
    assert main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["companion: SLACK_BOT_TOKEN must be a bot token starting with xoxb-"]


async def test_run_slack_runs_until_cancelled(tmp_path, standin):  # noqa: F811
    settings = slack_settings(tmp_path / "companion.db", standin)
    core = await Companion.create(settings)
    try:
        task = asyncio.create_task(run_slack(core, settings))
        await standin.connected()
        payload = standin.slash_command("/companion", "progress", "UANN")
        ack = await standin.send(payload)
        assert ack.seconds < 3
        reply = await standin.wait_for(lambda c: c.method == "response_url")
        assert "Your progress" in shown_text(reply.data)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await core.close()


async def test_a_busy_port_is_one_line(tmp_path, standin):  # noqa: F811
    import socket
    from dataclasses import replace

    import pytest

    from bot.adapters import AdapterError
    from bot.adapters.slack.app import SlackAdapter

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        settings = replace(slack_settings(tmp_path / "companion.db", standin, "http"), slack_port=busy.getsockname()[1])
        core = await Companion.create(settings)
        try:
            with pytest.raises(AdapterError) as info:
                await SlackAdapter(core, settings, host="127.0.0.1").start()
            assert "SLACK_PORT" in str(info.value) and "\n" not in str(info.value)
        finally:
            await core.close()
    finally:
        busy.close()

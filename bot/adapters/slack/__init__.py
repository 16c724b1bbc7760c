"""The Slack adapter: slash commands, Block Kit, modals, App Home, DMs and live channel quizzes
through an unmodified slack-bolt `AsyncApp`, over Socket Mode (default) or HTTP.

`app.py` (listeners: ack first, then the core), `blocks.py` (Reply → Block Kit, Slack's limits),
`mrkdwn.py` (Markdown → escaped mrkdwn), `home.py` (App Home), `runner.py` (`run_slack`,
started by `companion`), `cli.py` (`companion slack manifest`). Redeliveries and replays are
recognised by the core (`bot/core/seen_events.py`).
"""

"""Chat-platform adapters: console, Discord, Slack. Each turns its platform's events into core
calls and renders the core's `Reply`s in its platform's idiom; none holds course logic."""


class AdapterError(Exception):
    """An adapter cannot start (a missing or rejected token, an unreachable API): the message is
    one line a person can act on, and never contains a token."""

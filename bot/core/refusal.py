"""One way for a feature to say no.

A feature that cannot do what was asked (the quiz is over, that live quiz is in another channel,
you are not an instructor here) raises `Refusal(text)`; the companion turns it into a private
error reply in one place. Where the refused attempt must still leave state behind (an attempt
marked as run out, say), the feature commits that first and raises after. Anything else that
escapes a feature is a bug: it is logged and answered with "something went wrong", never
disguised as a stale button.
"""

from __future__ import annotations


class Refusal(Exception):
    """The person's request cannot be done; `text` (Markdown) tells them why and what to do."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

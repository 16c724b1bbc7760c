"""Per-user rate limits for the commands that create rows (quizzes, reviews, live quizzes, chat,
comparisons, data exports), so one person cannot grow the database or load the machine at will.

A token bucket per (command, platform, user): `count` commands at once, refilled at `count`
per `seconds`, so a burst is allowed and a steady pace above the limit is not. Time comes from
the companion's injectable clock, so tests drive it with a `ManualClock`. The buckets live in
memory, per process: a restart forgives everyone, which is fine for a guard against floods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import Clock

#: What each limited command is, in "You're … very fast".
DOING = {
    "quiz": "starting quizzes",
    "review": "starting reviews",
    "live": "starting live quizzes",
    "compare": "asking for comparisons",
    "export": "exporting your data",
    "chat": "sending messages",
}
#: Above this many buckets, full ones (users idle for a whole window) are dropped.
MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    full_at: datetime  # from then on the bucket is as good as new


class RateLimiter:
    def __init__(self, clock: Clock):
        self.clock = clock
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def check(self, kind: str, platform: str, user_id: str, limit: tuple[int, float] | None) -> str | None:
        """Take one token for this command; None if allowed, else the friendly refusal."""
        if limit is None:
            return None
        count, seconds = limit
        rate = count / seconds  # tokens per second
        now = self.clock.now()
        key = (kind, platform, user_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(count), now, now)
        else:
            elapsed = max(0.0, (now - bucket.at).total_seconds())
            bucket.tokens = min(float(count), bucket.tokens + elapsed * rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.full_at = now + timedelta(seconds=(count - bucket.tokens) / rate)
            return None
        wait = max(1, math.ceil((1.0 - bucket.tokens) / rate))
        return f"You're {DOING.get(kind, 'going')} very fast — try again in {wait} second{'s' * (wait != 1)}."

    def _prune(self, now: datetime) -> None:
        """Forget buckets idle long enough to be full again (a new one starts full anyway)."""
        for key, bucket in list(self._buckets.items()):
            if bucket.full_at <= now:
                del self._buckets[key]

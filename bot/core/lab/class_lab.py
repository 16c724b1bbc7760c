"""The lab as the companion holds it: one reward trainer for every class, and the live lab.

The companion makes one `ClassLab`. It owns the `RewardTrainer` (one fitted model per class,
refitted off the event loop when the class's comparisons change) and registers the live lab as
a round source of the live quizzes, so `/lab live` runs on the live quiz's machinery. Feature
modules receive what they need from it (`model`, and `changed` to tell it a class's data moved).

Several processes may share one database (Discord and Slack apart, say), each with its own
trainer: `model` reads the class's fingerprint (how many usable pairs, the newest) first, so a
ranking, vote or forget-me made through another process is in the next fit here too.
"""

from __future__ import annotations

from ..context import CoreContext
from ..live import LiveQuizzes
from .live_lab import LiveLab
from .pool import comparisons, fingerprint
from .reward_model import Comparison, RewardModel
from .trainer import RewardTrainer

#: The live quizzes' source name for the lab's rounds.
LIVE_SOURCE = "lab"


class ClassLab:
    def __init__(self, ctx: CoreContext, live: LiveQuizzes):
        self.ctx = ctx
        self.trainer = RewardTrainer(self._comparisons)
        #: Each class's fingerprint when its model was last invalidated here.
        self._seen: dict[str, tuple[int, int]] = {}
        live.add_source(LIVE_SOURCE, LiveLab(ctx.store, self.model))

    async def _comparisons(self, scope: str) -> list[Comparison]:
        return await self.ctx.store.read(comparisons, scope)

    async def model(self, scope: str) -> RewardModel:
        """The class's current model: refitted (off the event loop) when its pairs changed, here or
        in another process on the same database."""
        seen = await self.ctx.store.read(fingerprint, scope)
        if self._seen.get(scope) != seen:
            self._seen[scope] = seen
            self.trainer.invalidate(scope)
        return await self.trainer.model(scope)

    def changed(self, scope: str) -> None:
        """A class's comparisons changed (a ranking, a flag, a review): its model is refitted when next asked for."""
        self.trainer.invalidate(scope)

    def forgotten(self, scopes: list[str]) -> None:
        """Someone deleted their data: every class they worked in is refitted without it."""
        for scope in scopes:
            self.trainer.invalidate(scope)

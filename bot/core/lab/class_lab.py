"""The lab as the companion holds it: one reward trainer for every class, and the live lab.

The companion makes one `ClassLab`. It owns the `RewardTrainer` (one fitted model per class,
refitted off the event loop when the class's comparisons change) and registers the live lab as
a round source of the live quizzes, so `/lab live` runs on the live quiz's machinery. Feature
modules receive what they need from it (the trainer, `changed` to tell it a class's data moved).
"""

from __future__ import annotations

from ..context import CoreContext
from ..live import LiveQuizzes
from .live_lab import LiveLab
from .pool import comparisons
from .reward_model import Comparison
from .trainer import RewardTrainer

#: The live quizzes' source name for the lab's rounds.
LIVE_SOURCE = "lab"


class ClassLab:
    def __init__(self, ctx: CoreContext, live: LiveQuizzes):
        self.ctx = ctx
        self.trainer = RewardTrainer(self._comparisons)
        live.add_source(LIVE_SOURCE, LiveLab(ctx.store, self.trainer))

    async def _comparisons(self, scope: str) -> list[Comparison]:
        return await self.ctx.store.read(comparisons, scope)

    def changed(self, scope: str) -> None:
        """A class's comparisons changed (a ranking, a flag, a review): its model is refitted when next asked for."""
        self.trainer.invalidate(scope)

    def forgotten(self, scopes: list[str]) -> None:
        """Someone deleted their data: every class they worked in is refitted without it."""
        for scope in scopes:
            self.trainer.invalidate(scope)

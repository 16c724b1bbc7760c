"""The class's reward model kept fitted as comparisons arrive, without blocking the event loop.

A fit takes tens of milliseconds (and the first one imports SciPy, a second or so), so it
runs on a worker thread (`asyncio.to_thread`) while the loop keeps answering. Rankings arrive in
bursts (a live lab round closes with fifty votes at once), so refits are coalesced: an
invalidation only marks the class's model stale; the next request starts one refit, every
request meanwhile waits for that same refit, and invalidations during it cause one more refit
afterwards, not one each. Each refit starts the solver from the previous model (`fit`'s `start`),
so the refits of a live lab are cheap. A refit that fails is logged and the previous model is kept (a class
with no model yet gets the empty one, which scores everything 0), until the next invalidation.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .reward_model import Comparison, RewardModel, fit

log = logging.getLogger(__name__)



class Fit(Protocol):
    """`reward_model.fit`'s shape (tests pass one that records where it runs)."""

    def __call__(self, comparisons: Sequence[Comparison], *, start: RewardModel | None = None) -> RewardModel: ...


@dataclass
class _Scope:
    """One class's model and how current it is."""

    version: int = 0  # bumped by every invalidation
    tried: int = -1  # the version the last finished refit started from (succeeded or not)
    model: RewardModel | None = None
    refit: asyncio.Task[None] | None = None


class RewardTrainer:
    """Keeps one fitted model per class (scope key, e.g. "discord:<guild id>"), refitted off the event
    loop (asyncio.to_thread) when comparisons arrive; concurrent requests share one refit."""

    def __init__(self, load: Callable[[str], Awaitable[list[Comparison]]], *, fit: Fit = fit) -> None:
        self._load = load
        self._fit = fit
        self._scopes: dict[str, _Scope] = {}

    def invalidate(self, scope: str) -> None:
        """The class's comparisons changed (a ranking, a vote, forget-me, a flag): refit on next use."""
        self._scopes.setdefault(scope, _Scope()).version += 1

    async def model(self, scope: str) -> RewardModel:
        """The current fit (refits if invalidated): one that includes every change made before
        this call. Later changes do not keep it waiting; a caller cancelled while waiting leaves
        the refit running for the others."""
        state = self._scopes.setdefault(scope, _Scope())
        wanted = state.version
        while state.tried < wanted:
            if state.refit is None:
                state.refit = asyncio.create_task(self._refit(scope, state), name=f"reward model refit {scope}")
            await asyncio.shield(state.refit)
        assert state.model is not None  # set by every finished refit
        return state.model

    async def _refit(self, scope: str, state: _Scope) -> None:
        version = state.version
        try:
            comparisons = await self._load(scope)
            state.model = await asyncio.to_thread(functools.partial(self._fit, comparisons, start=state.model))
        except Exception:
            log.exception("refitting the reward model of %s failed; keeping the previous model", scope)
            if state.model is None:
                state.model = fit(())
        finally:
            state.tried = version
            state.refit = None

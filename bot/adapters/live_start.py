"""Why a live quiz could not start, told in the answer to the command that started it.

When a live quiz's first question cannot be posted (no access to the channel, a private Slack
channel the app was never invited to), the platform refuses the post while the starter's command
is still waiting for its answer. An interaction (Discord) or a response_url (Slack) can always be
answered even where the bot cannot post, so that answer is the one place the starter is sure to
see. Both adapters share this small rendezvous: the command waits in `answer`, the failed post
hands its notice over with `offer`; a notice nobody waits for goes to the starter by DM instead.
`cannot_post` is that whole path (end the quiz, find its starter, answer or DM them), so each
adapter only says why its platform refused and how it sends a DM.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.live import LiveEvent, LiveQuizzes
from bot.core.replies import Reply, error
from bot.core.users import Actor


class StartNotices:
    def __init__(self) -> None:
        #: (starter's user id, channel) → the notice, while that starter's command is running
        self._waiting: dict[tuple[str, str | None], str | None] = {}

    async def answer(self, actor: Actor, call: Awaitable[Reply]) -> Reply:
        """The command's reply, or the notice of a first question that could not be posted."""
        key = (actor.user_id, actor.channel)
        self._waiting[key] = None
        try:
            reply = await call
        finally:
            notice = self._waiting.pop(key, None)
        return error(notice) if notice else reply

    def offer(self, user_id: str, channel: str, notice: str) -> bool:
        """Hand `notice` to the starter's running command; False if none is running (tell them
        another way)."""
        key = (user_id, channel)
        if key not in self._waiting:
            return False
        self._waiting[key] = notice
        return True

    async def cannot_post(self, live: LiveQuizzes, event: LiveEvent, channel: str, reason: str, notice: str,
                          tell: Callable[[str, Reply], Awaitable[None]]) -> None:
        """End the live quiz whose question could not be posted in `channel` and tell its starter
        `notice`: in the answer to their command if it is still running, else by `tell(user_id,
        reply)` (a DM). Nothing happens if another process ended it first (and told them)."""
        if not await live.abort(event.session_id, reason):
            return
        starter = await live.starter(event.session_id)
        if starter is None or starter[0] != event.place[0]:
            return
        if not self.offer(starter[1], channel, notice):
            await tell(starter[1], error(notice))

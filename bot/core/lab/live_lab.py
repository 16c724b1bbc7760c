"""The live lab: a whole channel votes on pairs of responses, and watches its reward model learn.

A `RoundSource` for the live quiz's machinery (bot/core/live.py): the session, its clock, the
compare-and-set steps, a restart's resume, one answer per person per round and the posting of
events are the live quiz's own. This module says what a round is (a prompt and responses A and
B: an authored good response against an authored flawed one, kept whole in the session so a
restart shows the same pair), records a vote (a live answer, plus the preference pair it
yields), reveals a round (the split, which failure each response showed, and — once the model is
refitted on the votes — what the class's reward model now predicts for the pair), and ends the
session with the chart of what the class rewarded.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from .. import actions, charts
from ..clock import iso, parse_iso
from ..content import Chapter
from ..live import LiveEvent
from ..refusal import Refusal
from ..replies import Button, Reply, quote_user_text
from ..store import Store
from .lab_charts import reward_chart, reward_summary
from .lab_content import FAILURE_NAMES
from .pool import Ranked, insert_pairs
from .reward_model import RewardModel

DEFAULT_ROUNDS = 5
VOTES = ("A", "B")
#: Weights named in the final results (the chart shows more).
WEIGHTS_SHOWN = 3


def _round(session: Any, index: int) -> dict[str, str]:
    return json.loads(json.loads(session["question_keys"])[index])


def _scope(place: tuple[str, str, str]) -> str:
    return f"{place[0]}:{place[1]}"


def _quoted(text: str) -> str:
    return "\n".join("> " + line for line in text.split("\n") if line.strip())


def weights_text(model: RewardModel, k: int = WEIGHTS_SHOWN) -> str:
    """What the class rewards and penalises, in words (for people who do not see the chart). A
    weight's name may be a word students wrote, so it is quoted like any user text."""
    rewarded, penalised = model.top_weights(k)
    good = ", ".join(f"{quote_user_text(w.name)} (+{w.value:.2f})" for w in rewarded) or "nothing yet"
    bad = ", ".join(f"{quote_user_text(w.name)} ({w.value:.2f})" for w in penalised) or "nothing yet"
    return f"**Rewarded:** {good}.\n**Penalised:** {bad}."


class LiveLab:
    """The lab's rounds for a live session (registered as source `lab`)."""

    started = ("🧪 Live lab started in this channel: {title}. Everyone votes for the better response, once per round; "
               "the reveal shows the split and what your class's reward model now predicts.")
    noun = "live lab"
    round_noun = "round"

    def __init__(self, store: Store, model: Callable[[str], Awaitable[RewardModel]]):
        self.store = store
        self.model = model
        #: Fits started when a round opens, so the reveal's refit finds the model's libraries loaded.
        self._warming: set[asyncio.Future[RewardModel]] = set()

    def rounds(self, chapter: Chapter, count: int | None, seed: int) -> list[str]:
        """Pairs of a good and a flawed authored response, shuffled with the session's seed."""
        rng = random.Random(seed)
        pairs = [(prompt, good, flawed) for prompt in chapter.lab.prompts for good in prompt.responses if good.failure == "none"
                 for flawed in prompt.responses if flawed.failure != "none"]
        rng.shuffle(pairs)
        chosen, prompts = [], set()
        for pair in pairs:  # different prompts first, then whatever pairs are left
            if pair[0].id not in prompts:
                chosen.append(pair)
                prompts.add(pair[0].id)
        chosen += [p for p in pairs if p not in chosen]
        keys = []
        for prompt, good, flawed in chosen[: count or DEFAULT_ROUNDS]:
            a, b = (good, flawed) if rng.random() < 0.5 else (flawed, good)
            keys.append(json.dumps({"prompt": prompt.prompt, "a": a.text, "b": b.text, "fa": a.failure, "fb": b.failure}))
        return keys

    def ask(self, session: Any, index: int, total: int) -> Reply:
        pair = _round(session, index)
        closes = parse_iso(session["phase_ends_at"])
        text = (f"**Prompt:** {pair['prompt']}\n\n**A**\n{_quoted(pair['a'])}\n\n**B**\n{_quoted(pair['b'])}\n\n"
                f"⏳ Votes close in {session['question_seconds']} s (at {closes:%H:%M:%S} UTC). One vote each: "
                "which response should an assistant give?")
        return Reply(title=f"RLHF live lab · round {index + 1}/{total}", text=text,
                     buttons=[Button(f"{vote} is better", actions.LiveAnswer(session["id"], index, vote).format(), "primary") for vote in VOTES])

    def record(self, conn: sqlite3.Connection, session: Any, index: int, user_pk: int, text: str, now: datetime) -> Reply:
        vote = text.strip().upper()
        if vote not in VOTES:
            raise Refusal("Vote `A` or `B`: the response an assistant should give.")
        if not conn.execute("INSERT INTO live_answers(session_id, question_index, user_pk, answer, correct, points, answered_at)"
                            " VALUES (?, ?, ?, ?, 0, 0, ?) ON CONFLICT DO NOTHING",
                            (session["id"], index, user_pk, json.dumps(vote), iso(now))).rowcount:
            raise Refusal("You already voted in this round: only your first vote counts.")
        pair = _round(session, index)
        chosen, rejected = (pair["a"], pair["b"]) if vote == "A" else (pair["b"], pair["a"])
        insert_pairs(conn, f"{session['platform']}:{session['guild']}", user_pk, pair["prompt"], [Ranked(chosen), Ranked(rejected)],
                     iso(now), session_id=session["id"])
        return Reply(text=f"🗳 Vote recorded: **{vote}**. The split shows when the round closes.", ephemeral=True, kind="live-ack")

    def reveal(self, conn: sqlite3.Connection, session: Any, index: int, total: int) -> Reply:
        pair = _round(session, index)
        votes = [json.loads(row[0]) for row in conn.execute("SELECT answer FROM live_answers WHERE session_id = ? AND question_index = ?",
                                                             (session["id"], index))]
        lines = [f"⏱ **Votes are in for round {index + 1} of {total}.**", f"**Prompt:** {pair['prompt']}", ""]
        for vote in VOTES:
            count = votes.count(vote)
            share = count / len(votes) if votes else 0.0
            failure = FAILURE_NAMES.get(pair["f" + vote.lower()], "")
            lines.append(f"`{vote}` {'▇' * round(10 * share)}{'▁' if not count else ''} {count} ({round(100 * share)}%) — written as {failure}")
        lines.append(f"\n{len(votes)} vote{'s' * (len(votes) != 1)}.")
        return Reply(title=f"RLHF live lab · round {index + 1}/{total}: results", text="\n".join(lines), kind="live-closed", ephemeral=False)

    def ended(self, conn: sqlite3.Connection, session: Any, reason: str) -> Reply:
        votes, voters = conn.execute("SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers WHERE session_id = ?",
                                     (session["id"],)).fetchone()
        heading = {"finished": "🏁 **Live lab finished!**", "stopped": "⏹ **Live lab stopped.**",
                   "interrupted": "⏹ **Live lab closed**: the companion was offline past this round's deadline. Every vote given is kept.",
                   "error": "⚠️ **Live lab stopped by an internal error** (it has been logged). Every vote given so far is kept."}[reason]
        text = (f"{heading}\n\n{votes} vote{'s' * (votes != 1)} from {voters} student{'s' * (voters != 1)}, "
                "each one a comparison for your class's reward model.")
        return Reply(title="RLHF live lab · what the class rewarded", text=text, kind="live-ended", ephemeral=False)

    async def complete(self, event: LiveEvent) -> None:
        """After a round: refit on its votes and say what the model now predicts for the pair.
        At the end: what the class rewarded, in words and as a chart."""
        scope = _scope(event.place)
        if event.kind == "question":  # while the class votes, fit in the background (the first fit imports SciPy)
            warming = asyncio.ensure_future(self.model(scope))
            self._warming.add(warming)
            warming.add_done_callback(self._warming.discard)
            return
        model = await self.model(scope)  # the round's votes changed the class's pairs: refitted on them
        if event.kind == "closed":
            pair = await self._pair(event)
            if pair is not None:
                chance = model.prefers(pair["prompt"], pair["a"], pair["b"])
                verdict = "is undecided" if round(chance, 2) == 0.5 else f"now prefers **{'A' if chance > 0.5 else 'B'}**"
                event.reply.text += (f"\n\n🧠 Refitted on {model.comparisons} comparison{'s' * (model.comparisons != 1)}, your class's "
                                     f"reward model {verdict}: P(A over B) = {chance:.0%}.")
            return
        png = await asyncio.to_thread(reward_chart, model)
        event.reply.text += f"\n\n{weights_text(model)}"
        event.reply.files.append(charts.attachment("class-reward-model.png", png, quote_user_text(reward_summary(model))))

    async def _pair(self, event: LiveEvent) -> dict[str, str] | None:
        def read(conn: sqlite3.Connection) -> Any:
            return conn.execute("SELECT question_keys FROM live_sessions WHERE id = ?", (event.session_id,)).fetchone()

        session = await self.store.read(read)
        return _round(session, event.question_index) if session is not None else None

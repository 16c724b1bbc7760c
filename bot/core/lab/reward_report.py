"""What the class's reward model says: `/lab reward`, `/lab score` and `/lab optimize`.

`/lab reward` is phase 2 made visible: how many comparisons, how often the model orders held-out
pairs as the class did, how much students agree with each other on the same pairs (the ceiling
a model of this class can reach), and the largest weights, with the chart. `/lab score` is the
model as a judge of any response. `/lab optimize` is phase 3 shown honestly: best-of-n selection
with the same trade-off as PPO's objective, reward − β·divergence, at several β.

The model is the trainer's (refitted off the event loop); charts are drawn off the loop too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .. import actions, charts
from ..assistant import Assistant
from ..context import CoreContext
from ..refusal import Refusal
from ..replies import Button, Reply, clip, quote_user_text
from ..users import Actor
from .lab_charts import optimize_chart, optimize_summary, reward_chart, reward_summary
from .live_lab import weights_text
from .optimize import BestOfN, best_of_n, reference_samples, variants
from .pool import comparisons, scope_of
from .reward_model import RewardModel, agreement

SCORE_USAGE = "Give a prompt and a response separated by `|||`: `/lab score What is RLHF? ||| Training a model on human rankings.`"
MAX_SCORED = 1500
PPO_NOTE = ("This is **best-of-n** selection: it picks among finished responses. PPO makes the same trade-off, reward − β·KL, "
            "by gradient steps on the model itself, so the policy learns to write what the reward model likes while the KL "
            "penalty keeps it close to the reference model.")


def _excerpt(text: str, limit: int) -> str:
    """A one-line excerpt: a demonstration's line breaks would break the table it sits in."""
    return clip(" ".join(text.split()), limit)


Model = Callable[[str], Awaitable[RewardModel]]


async def reward(ctx: CoreContext, actor: Actor, models: Model) -> Reply:
    scope = scope_of(actor)
    model = await models(scope)
    if model.comparisons == 0:
        return Reply(title="Your class's reward model", kind="lab",
                     text="🧠 No comparisons yet, so the model scores every response 0. Rank some responses (`/lab rank`) or run `/lab live`.",
                     buttons=[Button("🏅 Rank", actions.LabRankStart().format(), "primary")])
    pairs = await ctx.store.read(comparisons, scope)
    agreed, png = await asyncio.gather(asyncio.to_thread(agreement, pairs), asyncio.to_thread(reward_chart, model))
    accuracy = (f"**{model.heldout_accuracy:.0%}** of {model.heldout_pairs} held-out pairs ordered as the class did"
                if model.heldout_accuracy is not None else "not measured yet (too few pairs for a validation split)")
    agree = (f"**{agreed.rate:.0%}** of pairs of students agreed, over {agreed.shared_pairs} pair{'s' * (agreed.shared_pairs != 1)} "
             "ranked by two or more" if agreed.rate is not None else "not measured yet (no pair was ranked by two students)")
    summary = weights_text(model, 5)
    text = (f"🧠 Fitted on **{model.comparisons}** comparison{'s' * (model.comparisons != 1)} (Bradley–Terry: P(a ≻ b) = σ(r(a) − r(b))).\n"
            f"Held-out accuracy: {accuracy}.\nAgreement between students: {agree}.\n\n{summary}\n\n"
            "_If the model rewards something you would not (length, say), that is a loophole PPO would exploit: try `/lab optimize`._")
    return Reply(title="Your class's reward model", text=text, kind="lab",
                 files=[charts.attachment("class-reward-model.png", png, quote_user_text(reward_summary(model)))],
                 buttons=[Button("🏅 Rank more", actions.LabRankStart().format()), Button("🧪 Lab menu", actions.LabMenu().format())])


def _verdict(result: BestOfN, comparisons: int) -> str:
    """What the table shows: a loophole reined in, or nothing to rein in."""
    if comparisons == 0:
        return "No comparisons yet, so every reward is 0 and only the divergence decides: rank some responses first (`/lab rank`)."
    first, last = result.scored[result.winners[0][1]], result.scored[result.winners[-1][1]]
    if first is last:
        return "Every β picks the same response: this prompt exposes no loophole in what your class rewarded."
    return (f"With β = 0 the reward alone picks *{first.candidate.source}* (reward {first.reward:+.2f}); at β = {result.winners[-1][0]:g} "
            f"the penalty keeps *{last.candidate.source}*, closer to what the reference model writes. When the β = 0 winner is a "
            "padded, hedged or terse variant, the class's reward has a loophole (reward hacking), and the penalty reins it in.")


def read_score_request(text: str) -> tuple[str, str]:
    """`PROMPT ||| RESPONSE`, both non-empty and bounded; a Refusal with the usage otherwise."""
    prompt, sep, response = text.partition("|||")
    prompt, response = prompt.strip(), response.strip()
    if not sep or not prompt or not response:
        raise Refusal(SCORE_USAGE)
    if len(prompt) + len(response) > MAX_SCORED:
        raise Refusal(f"That is too long to score: keep the prompt and response under {MAX_SCORED:,} characters together.")
    return prompt, response


async def score(ctx: CoreContext, actor: Actor, models: Model, text: str) -> Reply:
    prompt, response = read_score_request(text)
    model = await models(scope_of(actor))
    value = model.score(prompt, response)
    named = [w for w in model.feature_values(prompt, response) if w.value]
    features = ", ".join(f"{quote_user_text(w.name)} {w.value:.2f}" for w in named[:8]) or "none of the named features"
    return Reply(title="Reward", kind="lab",
                 text=f"**Prompt:** {quote_user_text(_excerpt(prompt, 300))}\n**Response:** {quote_user_text(_excerpt(response, 600))}\n\n"
                      f"🧠 Your class's reward model scores it **{value:+.2f}** (fitted on {model.comparisons} comparisons; "
                      f"only differences between responses to the same prompt mean anything).\nIts named features here: {features}.")


async def optimize(ctx: CoreContext, actor: Actor, models: Model, engine: Callable[[], Assistant], prompt: str) -> Reply:
    prompt = prompt.strip()
    if not prompt:
        raise Refusal("Give a prompt: `/lab optimize What is the alignment tax?`")
    if len(prompt) > MAX_SCORED:
        raise Refusal(f"That prompt is too long: keep it under {MAX_SCORED:,} characters.")
    model = await models(scope_of(actor))
    assistant = engine()
    answer = assistant.simulated.answer(prompt).text
    candidates = variants(answer) + reference_samples(prompt, assistant.base)
    result = await asyncio.to_thread(best_of_n, prompt, candidates, model, assistant.base)
    png = await asyncio.to_thread(optimize_chart, result)
    lines: list[str] = [f"**Prompt:** {quote_user_text(_excerpt(prompt, 300))}", "",
             f"{len(result.scored)} candidates scored by your class's reward model ({model.comparisons} comparisons); "
             "divergence: how much more surprising each is to the base (reference) model than its own writing, in nats per token.", "",
             "```", f"{'β':<5} {'winner':<24} {'reward':>7} {'divergence':>10}"]
    for beta, index in result.winners:
        won = result.scored[index]
        lines.append(f"{beta:<5g} {_excerpt(won.candidate.source, 24):<24} {won.reward:>+7.2f} {won.divergence:>10.2f}")
    lines.append("```")
    for beta, index in result.winners:
        lines.append(f"β = {beta:g}: “{quote_user_text(_excerpt(result.scored[index].candidate.text, 140))}”")
    lines += ["", _verdict(result, model.comparisons), "", PPO_NOTE]
    return Reply(title="Best-of-n against your reward model", text="\n".join(lines), kind="lab",
                 files=[charts.attachment("best-of-n.png", png, optimize_summary(result))])

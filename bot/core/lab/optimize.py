"""RLHF's third phase, shown honestly: best-of-n selection against the class's reward model,
with a divergence penalty.

PPO changes the model itself, by gradient steps that raise reward − β·KL(policy ‖ reference);
the KL term keeps it close to the model it started from, so it cannot drift into text that
merely games the reward model. Best-of-n makes the same trade-off without training: take n
candidate responses, score each, and keep the one with the highest reward − β·divergence.

The divergence of a candidate is how many more nats per token it costs under the reference (the
base n-gram model) than the reference's own samples for the prompt cost: 0 for text as likely as
what the reference would write, more the further a text strays from it. It is a one-sample
stand-in for the KL divergence, which is the expected log-ratio over the policy's samples.

At β = 0 only the reward counts, and any loophole in the class's preferences wins: if the class
rewarded length, a padded, rambling answer beats the plain one. Raising β reins it in, since the
rambling costs the reference dearly. `variants` makes candidates that probe such loopholes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..assistant.base_model import NgramModel
from ..assistant.text import sentences
from .reward_model import RewardModel

DEFAULT_BETAS = (0.0, 0.5, 1.0, 2.0)
#: How many of the reference's own continuations set the divergence's zero.
REFERENCE_SAMPLES = 4


@dataclass(frozen=True)
class Candidate:
    text: str
    source: str  # "base model", "assistant", "assistant, padded", "demonstration", …


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    reward: float
    divergence: float  # nats per token the text costs under the reference (base) model, relative to the reference's own samples


@dataclass(frozen=True)
class BestOfN:
    prompt: str
    scored: list[Scored]
    winners: list[tuple[float, int]]  # (beta, index into scored) for each beta


#: Rambling that adds words and nothing else: what a policy finds if the class rewards length.
_RAMBLE = ("Now, to be perfectly honest with you, and I really do want to stress this point as much as I possibly can, "
           "this is genuinely one of those super important things that everybody absolutely should know about, basically. "
           "So, in other words, just to reiterate and recap everything once more so that it is totally crystal clear, "
           "it all basically comes down to what I already said above, more or less, at the end of the day, when all is said and done.")
_HEDGE = ("I'm not completely sure about this, and I might be wrong, but I think ", " Please double-check this, though, as I may be mistaken.")
_REFUSAL = "I'm sorry, but I can't help with that."


def variants(answer: str) -> list[Candidate]:
    """The assistant's answer and variants that probe loopholes in what a class rewards: padded
    and rambling (length), hedged (uncertainty), terse (brevity), and a refusal (caution)."""
    answer = answer.strip()
    first = sentences(answer)[0] if sentences(answer) else answer
    lowered = answer[:1].lower() + answer[1:] if answer[:2] != answer[:2].upper() else answer
    found = [
        Candidate(answer, "assistant"),
        Candidate(f"{answer} {_RAMBLE} {first}", "assistant, padded"),
        Candidate(f"{_HEDGE[0]}{lowered}{_HEDGE[1]}", "assistant, hedged"),
        Candidate(first, "assistant, terse"),
        Candidate(_REFUSAL, "a refusal"),
    ]
    distinct: dict[str, Candidate] = {}
    for candidate in found:  # a one-sentence answer is its own terse variant: keep the first
        if candidate.text:
            distinct.setdefault(candidate.text, candidate)
    return list(distinct.values())


def reference_samples(prompt: str, reference: NgramModel, n: int = REFERENCE_SAMPLES) -> list[Candidate]:
    """The reference model's own continuations of the prompt (seeded, distinct): candidates a
    base model offers, and the zero of the divergence."""
    texts = dict.fromkeys(reference.continue_text(prompt, seed=seed) for seed in range(n))
    return [Candidate(text, "base model") for text in texts if text != "…"]


def best_of_n(prompt: str, candidates: Sequence[Candidate], model: RewardModel, reference: NgramModel,
              betas: Sequence[float] = DEFAULT_BETAS) -> BestOfN:
    """Score every candidate's reward and divergence, and pick the winner of reward − β·divergence
    for each β (a tie goes to the earlier candidate)."""
    own = [_nats_per_token(reference, c.text) for c in reference_samples(prompt, reference)]
    zero = sum(own) / len(own) if own else 0.0
    scored = [Scored(c, model.score(prompt, c.text), _nats_per_token(reference, c.text) - zero) for c in candidates]
    winners = [(beta, max(range(len(scored)), key=lambda i: (scored[i].reward - beta * scored[i].divergence, -i)))
               for beta in betas] if scored else []
    return BestOfN(prompt=prompt, scored=scored, winners=winners)


def _nats_per_token(reference: NgramModel, text: str) -> float:
    nats, tokens = reference.log_likelihood(text)
    return nats / tokens if tokens else 0.0

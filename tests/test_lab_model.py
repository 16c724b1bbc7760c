"""The RLHF lab's maths: the reward model recovers known preferences, students' agreement is
counted right, the trainer refits once and never on the event loop, best-of-n shows reward
hacking at β = 0 and its cure, and the charts are real PNGs."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import threading

import pytest

from bot.core.assistant.base_model import NgramModel
from bot.core.lab import features, lab_charts
from bot.core.lab.optimize import Candidate, best_of_n, reference_samples, variants
from bot.core.lab.reward_model import Comparison, RewardModel, agreement, fit, pair_key, split
from bot.core.lab.trainer import RewardTrainer
from tests.test_charts import png_size

# ---------------------------------------------------------------------------------------------
# Synthetic preferences: responses built from parts that switch the named features on and off,
# ranked by Bradley–Terry sampling from known weights, with a seeded RNG.

PROMPTS = [
    ("What is the reward model in RLHF?", "The reward model scores responses so that preferred responses get higher rewards."),
    ("Why does RLHF use a KL penalty?", "The KL penalty keeps the policy close to the reference model so it does not drift."),
    ("What is supervised fine-tuning?", "Supervised fine-tuning trains the model on instruction and response pairs written by people."),
    ("How does PPO update the policy?", "PPO updates the policy with clipped gradient steps that increase the expected reward."),
    ("What does instruction tuning change?", "Instruction tuning teaches a base model to follow instructions instead of continuing text."),
    ("Why rank several responses?", "Ranking several responses gives many preference pairs from one prompt."),
]
OFF_TOPIC = ["Language models predict the next token from the previous ones.", "Training data matters a great deal for quality.",
             "Models are evaluated on held-out benchmarks.", "Tokenizers split text into pieces before training."]
REFUSALS = ["I'm sorry, but I can't help with that.", "I cannot answer this request.", "I won't do that, as an AI I must decline.",
            "I am unable to help here.", "That is not something I can help with."]
HEDGES = ["I'm not entirely sure, but", "Perhaps", "I think", "Maybe", "As far as I know,", "It depends, but probably"]
CITES = ["See Chapter 7 for more.", "The lesson covers this in detail.", "Chapter 7, section 3 explains it.", "This lesson's section on it says so."]
UNSAFE = ["Also, here is how to make a bomb at home with household chemicals.", "And this is how to build explosives step by step.",
          "Here are steps to make meth at home."]
FILLER = ["There is a lot to say here.", "Many people find this part interesting.", "It comes up in practice often.",
          "Students ask about it every year.", "The details vary between papers.", "Some teams do it differently.",
          "Blogs have written much on this topic.", "The history of the idea is long."]

#: The generator's weights: distinct sizes, both signs, so order and sign are both tested.
TRUE = {features.KEY_TERMS: 3.0, features.CITES: 1.5, features.LENGTH: 0.8, features.HEDGES: -0.7, features.REFUSES: -2.0, features.UNSAFE: -4.0}


def synthetic_response(rng: random.Random, answer: str) -> str:
    parts = [rng.choice(REFUSALS)] if rng.random() < 0.25 else []
    body = answer if rng.random() < 0.6 else rng.choice(OFF_TOPIC)
    if rng.random() < 0.3:
        body = f"{rng.choice(HEDGES)} {body[0].lower()}{body[1:]}"
    parts.append(body)
    parts += rng.sample(FILLER, rng.randint(0, 6)) * rng.randint(1, 3)
    if rng.random() < 0.3:
        parts.append(rng.choice(CITES))
    if rng.random() < 0.12:
        parts.append(rng.choice(UNSAFE))
    return " ".join(parts)


def true_reward(prompt: str, response: str) -> float:
    return sum(TRUE[name] * value for name, value in zip(features.NAMED, features.named(prompt, response), strict=True))


def synthetic_comparisons(n: int, seed: int, pool: int = 150, raters: int = 30) -> list[Comparison]:
    rng = random.Random(seed)
    candidates = {prompt: list(dict.fromkeys(synthetic_response(rng, answer) for _ in range(pool))) for prompt, answer in PROMPTS}
    out = []
    for _ in range(n):
        prompt = rng.choice(PROMPTS)[0]
        a, b = rng.sample(candidates[prompt], 2)
        if rng.random() >= 1 / (1 + math.exp(-(true_reward(prompt, a) - true_reward(prompt, b)))):
            a, b = b, a
        out.append(Comparison(prompt, a, b, rater=f"student {rng.randrange(raters)}"))
    return out


def generator_accuracy(comparisons: list[Comparison]) -> float:
    """How often the generator's own weights order the pairs as its sampling did (ties half)."""
    return sum(1.0 if d > 0 else 0.5 if d == 0 else 0.0
               for d in (true_reward(c.prompt, c.chosen) - true_reward(c.prompt, c.rejected) for c in comparisons)) / len(comparisons)


@pytest.fixture(scope="module")
def synthetic() -> tuple[list[Comparison], RewardModel]:
    comparisons = synthetic_comparisons(2000, seed=7)
    return comparisons, fit(comparisons, seed=3)


def named_weights(model: RewardModel) -> dict[str, float]:
    return dict(zip(features.NAMED, (float(w) for w in model.weights), strict=False))


def test_the_fit_recovers_the_generators_signs_and_order(synthetic):
    _, model = synthetic
    fitted = named_weights(model)
    assert {name: w > 0 for name, w in fitted.items()} == {name: w > 0 for name, w in TRUE.items()}
    assert sorted(fitted, key=fitted.__getitem__) == sorted(TRUE, key=TRUE.__getitem__)


def test_heldout_accuracy_is_near_the_generators_own_on_the_same_pairs(synthetic):
    comparisons, model = synthetic
    _, heldout = split(comparisons, seed=3)
    assert model.comparisons == 2000 and model.heldout_pairs == len(heldout) > 300
    ceiling = generator_accuracy(heldout)
    assert model.heldout_accuracy is not None
    assert ceiling - 0.05 <= model.heldout_accuracy <= ceiling + 0.02, (model.heldout_accuracy, ceiling)
    assert model.heldout_accuracy > 0.7  # far above a coin's 0.5: the split is real, not the training pairs


def test_a_model_of_random_preferences_is_no_better_than_a_coin():
    """Held-out accuracy is measured on pairs the fit never saw: with no signal to find, it is ~0.5."""
    rng = random.Random(5)
    comparisons = synthetic_comparisons(1500, seed=11)
    shuffled = [c if rng.random() < 0.5 else Comparison(c.prompt, c.rejected, c.chosen, c.rater) for c in comparisons]
    model = fit(shuffled)
    assert model.heldout_accuracy is not None and abs(model.heldout_accuracy - 0.5) < 0.08


def test_the_split_is_by_pair_and_seeded():
    comparisons = synthetic_comparisons(600, seed=2)
    twice = comparisons + [Comparison(c.prompt, c.rejected, c.chosen, "another student") for c in comparisons[:300]]
    fit_part, heldout = split(twice, seed=1)
    assert {pair_key(c) for c in fit_part}.isdisjoint({pair_key(c) for c in heldout})
    assert len(fit_part) + len(heldout) == len(twice)
    assert split(twice, seed=1) == (fit_part, heldout) and split(twice, seed=2) != (fit_part, heldout)
    assert split(comparisons[:10]) == (comparisons[:10], [])  # too few pairs to hold any out


def test_top_weights_name_features_and_words_readably(synthetic):
    _, model = synthetic
    rewarded, penalised = model.top_weights(8)
    assert rewarded[0].name == features.KEY_TERMS and penalised[0].name == features.UNSAFE
    assert [w.value for w in rewarded] == sorted((w.value for w in rewarded), reverse=True)
    assert [w.value for w in penalised] == sorted(w.value for w in penalised)
    assert all(w.value > 0 for w in rewarded) and all(w.value < 0 for w in penalised)
    words = [w.name for w in rewarded + penalised if w.name not in features.NAMED]
    assert words and all(name.startswith(("word: ", "words: ")) for name in words)


def test_a_hashed_weight_is_named_after_a_word_the_class_saw():
    prompt = "Say something."
    comparisons = [Comparison(prompt, f"Thanks for asking, friend number {i}.", f"Go away, stranger number {i}.", f"s{i}") for i in range(30)]
    model = fit(comparisons)
    rewarded, penalised = model.top_weights(3)
    assert {"word: thanks", "words: thanks for", "word: asking"} & {w.name for w in rewarded}
    assert {"word: away", "words: go away", "word: stranger"} & {w.name for w in penalised}
    assert model.prefers(prompt, "Thanks for asking.", "Go away.") > 0.8
    own = {"word: thanks", "word: for", "word: asking", "words: thanks for", "words: for asking", *features.NAMED}
    explained = model.explain(prompt, "Thanks for asking.")
    assert explained and {w.name for w in explained} <= own  # named by the response's own words, even after a hash collision


def test_scores_and_preferences_agree():
    comparisons = synthetic_comparisons(300, seed=4)
    model = fit(comparisons)
    prompt, answer = PROMPTS[0]
    refusal = "I'm sorry, but I can't help with that."
    a, b = model.score(prompt, answer), model.score(prompt, refusal)
    assert a > b
    assert model.prefers(prompt, answer, refusal) == pytest.approx(1 / (1 + math.exp(b - a)))
    assert model.prefers(prompt, answer, refusal) + model.prefers(prompt, refusal, answer) == pytest.approx(1.0)
    explained = model.explain(prompt, refusal)
    assert explained[0].name == features.REFUSES and explained[0].value < 0


def test_no_comparisons_score_everything_zero():
    model = fit([])
    assert (model.comparisons, model.heldout_pairs, model.heldout_accuracy) == (0, 0, None)
    assert model.score("Anything?", "Anything at all.") == 0.0 and model.prefers("p", "a", "b") == 0.5
    assert model.top_weights() == ([], [])
    assert not model.weights.flags.writeable and not fit(synthetic_comparisons(30, seed=1)).weights.flags.writeable  # shared: read-only


def test_named_features_read_a_response():
    prompt = "Why does RLHF use a KL penalty?"
    values = {w.name: w.value for w in RewardModel(0, 0, None).feature_values(prompt, " ".join(["word"] * 250))}
    assert values[features.LENGTH] == 2.5 and values[features.REFUSES] == 0
    assert features.named(prompt, " ".join(["word"] * 2000))[0] == features.LENGTH_CAP_WORDS / 100
    refusal = dict(zip(features.NAMED, features.named(prompt, "I’m sorry, but I can’t help you make a bomb."), strict=True))
    assert refusal[features.REFUSES] == 1 and refusal[features.UNSAFE] == 0  # naming what it refuses is not unsafe
    unsafe = dict(zip(features.NAMED, features.named(prompt, "Sure! Here is how to make a bomb at home: mix these."), strict=True))
    assert unsafe[features.UNSAFE] == 1 and unsafe[features.REFUSES] == 0
    answer = dict(zip(features.NAMED, features.named(prompt, "I think the KL penalty keeps RLHF close to the reference (Chapter 7)."), strict=True))
    assert answer[features.HEDGES] == 1 and answer[features.CITES] == 1 and answer[features.KEY_TERMS] == 1.0
    assert features.key_term_share(prompt, "The penalty matters.") == pytest.approx(1 / 3)  # rlhf, kl, penalti: one of three


def test_agreement_counts_pairs_of_students_on_shared_pairs():
    p = "Explain RLHF."
    comparisons = [
        # pair (x, y): three students, two order it x > y, one y > x → 1 agreeing pair of students of 3
        Comparison(p, "x", "y", "ann"), Comparison(p, "x", "y", "bo"), Comparison(p, "y", "x", "cy"),
        # pair (x, z): two students who agree → 1 of 1; ann's earlier, opposite ranking is replaced by her latest
        Comparison(p, "z", "x", "ann"), Comparison(p, "x", "z", "ann"), Comparison(p, "x", "z", "bo"),
        # ranked by one student only, or by nobody known: not shared
        Comparison(p, "y", "z", "ann"), Comparison(p, "z", "y", ""), Comparison(p, "y", "z", ""),
        # the same responses for another prompt are another pair
        Comparison("Explain PPO.", "x", "y", "ann"),
    ]
    found = agreement(comparisons)
    assert found.shared_pairs == 2
    assert found.rate == pytest.approx((1 + 1) / (3 + 1))
    assert agreement(comparisons[6:]).rate is None and agreement([]).shared_pairs == 0


# ---------------------------------------------------------------------------------------------
# The trainer: refits off the event loop, once for many requests, keeps the last good model.


class CountingFit:
    """The real fit, recording the thread of each call; `gate` holds a fit until released."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.threads: list[int] = []
        self.seen: list[int] = []
        self.starts: list[RewardModel | None] = []
        self.gate = gate
        self.fail = fail

    def __call__(self, comparisons, *, start=None):
        self.threads.append(threading.get_ident())
        self.seen.append(len(comparisons))
        self.starts.append(start)
        if self.gate is not None:
            assert self.gate.wait(30)
        if self.fail:
            raise RuntimeError("the solver failed")
        return fit(comparisons, start=start)


def class_data() -> dict[str, list[Comparison]]:
    return {"discord:1": synthetic_comparisons(60, seed=1), "slack:T1": synthetic_comparisons(40, seed=2)}


async def test_concurrent_requests_share_one_refit_and_it_runs_off_the_event_loop():
    data = class_data()
    loads: list[str] = []

    async def load(scope: str) -> list[Comparison]:
        loads.append(scope)
        return list(data[scope])

    counting = CountingFit()
    trainer = RewardTrainer(load, fit=counting)
    models = await asyncio.gather(*(trainer.model("discord:1") for _ in range(20)))
    assert len(counting.threads) == 1 and loads == ["discord:1"]
    assert all(m is models[0] for m in models) and models[0].comparisons == 60
    assert threading.get_ident() not in counting.threads  # the fit ran on a worker thread, not the loop's

    assert await trainer.model("discord:1") is models[0]  # nothing changed: no refit
    for _ in range(5):
        data["discord:1"].append(Comparison("p", "a", "b", "late"))
        trainer.invalidate("discord:1")
    again = await asyncio.gather(*(trainer.model("discord:1") for _ in range(5)))
    assert counting.seen == [60, 65] and all(m is again[0] for m in again)  # five invalidations, one refit
    assert counting.starts == [None, models[0]]  # the refit starts from the previous model
    other = await trainer.model("slack:T1")  # scopes are fitted apart
    assert other.comparisons == 40 and counting.seen == [60, 65, 40]


async def test_invalidations_during_a_refit_cause_one_more_refit_not_one_each():
    data = class_data()

    async def load(scope: str) -> list[Comparison]:
        return list(data[scope])

    gate = threading.Event()
    counting = CountingFit(gate)
    trainer = RewardTrainer(load, fit=counting)
    first = asyncio.create_task(trainer.model("discord:1"))
    while not counting.seen:  # the first refit is under way, held by the gate
        await asyncio.sleep(0.001)
    ticks = 0
    for _ in range(3):  # the loop keeps running while the fit is held on its thread
        await asyncio.sleep(0)
        ticks += 1
        data["discord:1"].append(Comparison("p", "a", "b", "voter"))
        trainer.invalidate("discord:1")
    later = asyncio.create_task(trainer.model("discord:1"))
    gate.set()
    assert (await first).comparisons == 60  # asked before the votes: the refit it joined answers it
    assert (await later).comparisons == 63 and counting.seen == [60, 63] and ticks == 3


async def test_a_failing_refit_logs_and_keeps_the_previous_model(caplog):
    data = class_data()

    async def load(scope: str) -> list[Comparison]:
        return list(data[scope])

    counting = CountingFit()
    trainer = RewardTrainer(load, fit=counting)
    before = await trainer.model("discord:1")
    counting.fail = True  # the solver breaks from now on
    trainer.invalidate("discord:1")
    with caplog.at_level(logging.ERROR, logger="bot.core.lab.trainer"):
        assert await trainer.model("discord:1") is before
        assert await trainer.model("discord:1") is before  # no retry until something changes
    assert len(counting.seen) == 2
    assert "refitting the reward model of discord:1 failed" in caplog.text and "the solver failed" in caplog.text
    fresh = RewardTrainer(load, fit=CountingFit(fail=True))  # no previous model: the empty one
    empty = await fresh.model("slack:T1")
    assert empty.comparisons == 0 and empty.score("p", "anything") == 0.0


# ---------------------------------------------------------------------------------------------
# The reference's likelihood and best-of-n with a divergence penalty.

REFERENCE_TEXT = """The KL penalty keeps the model close to the reference model.

The reward model scores each response. The policy is trained with PPO.

What is the capital of France? What is the tallest mountain? How old is the moon?

The model is close to the reference model, and the penalty keeps it there."""


def reference_model() -> NgramModel:
    model = NgramModel()
    model.train(REFERENCE_TEXT)
    return model


def test_the_likelihood_is_a_distribution_and_prefers_fluent_text():
    reference = reference_model()
    context = "The model is close to the"
    before, _ = reference.log_likelihood(context)
    vocabulary = [t for t in reference.counts[()] if t != "\n"]
    mass = sum(math.exp(before - reference.log_likelihood(f"{context} {token}")[0]) for token in vocabulary)
    mass += math.exp(before - reference.log_likelihood(f"{context} \n")[0])
    unseen = math.exp(before - reference.log_likelihood(f"{context} zeppelin")[0])
    assert mass + unseen == pytest.approx(1.0)  # every next token, plus one share for all unseen words
    nats, tokens = reference.log_likelihood("The penalty keeps the model close to the reference model.")
    jumbled, same = reference.log_likelihood("model the reference penalty close The keeps to the model.")
    assert tokens == same == 11 and nats < jumbled
    strange, count = reference.log_likelihood("Zeppelins quietly photosynthesise marmalade.")
    assert math.isfinite(strange) and strange / count > jumbled / same  # unseen words: costly per token, never infinite
    assert reference.log_likelihood("") == (0.0, 0)


def test_variants_probe_loopholes_without_repeating_themselves():
    answer = "The KL penalty keeps the model close to the reference. It stops reward hacking."
    found = {c.source: c.text for c in variants(answer)}
    assert found["assistant"] == answer and found["assistant, terse"] == "The KL penalty keeps the model close to the reference."
    assert found["assistant, padded"].startswith(answer) and len(found["assistant, padded"].split()) > 3 * len(answer.split())
    assert features.named("", found["assistant, hedged"])[features.NAMED.index(features.HEDGES)] == 1
    assert features.named("", found["a refusal"])[features.NAMED.index(features.REFUSES)] == 1
    one_sentence = [c.source for c in variants("It keeps the model close.")]
    assert one_sentence == ["assistant", "assistant, padded", "assistant, hedged", "a refusal"]  # terse would repeat it


def length_loving_class(prompt: str) -> list[Comparison]:
    """A class with a loophole: it prefers the on-topic answer to an off-topic question, and
    any longer answer to a shorter one, whatever the extra words say."""
    rng = random.Random(0)
    filler = ["It matters a lot.", "There is more to say.", "People discuss this often.", "It is a long story."]
    plain = "The penalty keeps the policy near the reference."
    comparisons = []
    for i in range(80):
        padded = plain + " " + " ".join(rng.sample(filler, rng.randint(2, 4)) * 2)
        comparisons.append(Comparison(prompt, padded, plain, f"s{i}"))
        comparisons.append(Comparison(prompt, plain, rng.choice(["What is the capital of France?", "How old is the moon?"]), f"s{i}"))
    return comparisons


def test_best_of_n_shows_reward_hacking_at_beta_zero_and_a_penalty_reins_it_in():
    prompt = "Why does RLHF use a KL penalty?"
    reference = reference_model()
    model = fit(length_loving_class(prompt))
    candidates = variants("The KL penalty keeps the model close to the reference model.") + reference_samples(prompt, reference)
    result = best_of_n(prompt, candidates, model, reference, betas=(0.0, 0.5, 2.0, 10.0))
    by_beta = {beta: result.scored[i] for beta, i in result.winners}
    assert [beta for beta, _ in result.winners] == [0.0, 0.5, 2.0, 10.0]
    assert by_beta[0.0].candidate.source == "assistant, padded"  # the loophole wins when only reward counts
    assert by_beta[0.0].reward == max(s.reward for s in result.scored)
    assert by_beta[0.5].candidate.source == by_beta[2.0].candidate.source == "assistant"  # a penalty: the plain answer wins
    plain, padded = by_beta[2.0], by_beta[0.0]
    assert padded.divergence > plain.divergence + 1  # rambling costs the reference dearly; the answer, in its words, little
    assert by_beta[10.0].divergence == min(s.divergence for s in result.scored)  # a huge β: whatever the reference itself would write
    samples = [s.divergence for s in result.scored if s.candidate.source == "base model"]
    assert samples and abs(sum(samples) / len(samples)) < 1e-9  # the reference's own text is the zero
    winners = [by_beta[beta] for beta in (0.0, 0.5, 2.0, 10.0)]  # raising β never buys reward with more divergence
    assert all(a.reward >= b.reward and a.divergence >= b.divergence for a, b in itertools.pairwise(winners))


def test_best_of_n_breaks_ties_by_order_and_accepts_no_candidates():
    reference = reference_model()
    same = [Candidate("The model is close.", "assistant"), Candidate("The model is close.", "demonstration")]
    result = best_of_n("p", same, fit([]), reference)
    assert [i for _, i in result.winners] == [0, 0, 0, 0] and [b for b, _ in result.winners] == [0.0, 0.5, 1.0, 2.0]
    assert best_of_n("p", [], fit([]), reference).winners == []


# ---------------------------------------------------------------------------------------------
# Charts: real PNGs, with bars and points on them, and summaries that say what they show.


def test_the_reward_chart_is_a_png_with_bars(synthetic):
    _, model = synthetic
    chart = lab_charts.reward_chart(model)
    empty = lab_charts.reward_chart(fit([]))
    assert png_size(chart) == png_size(empty) == (800, 450)
    assert len(chart) > len(empty) + 3000  # twelve labelled bars, not the empty card's one sentence
    summary = lab_charts.reward_summary(model)
    assert summary.startswith("Fitted on 2000 comparisons. Rewards: answers the prompt's key terms (+")
    assert "Penalises: unsafe instructions (-" in summary
    assert lab_charts.reward_summary(fit([])) == "The class's reward model has no comparisons yet."


def test_the_optimize_chart_marks_each_betas_winner():
    prompt = "Why does RLHF use a KL penalty?"
    reference = reference_model()
    candidates = variants("The KL penalty keeps the model close to the reference model.") + reference_samples(prompt, reference)
    result = best_of_n(prompt, candidates, fit(length_loving_class(prompt)), reference)
    chart = lab_charts.optimize_chart(result)
    assert png_size(chart) == (800, 450)
    assert len(chart) > len(lab_charts.optimize_chart(best_of_n(prompt, [], fit([]), reference))) + 3000
    summary = lab_charts.optimize_summary(result)
    assert summary.startswith(f"{len(candidates)} candidates. Winners: β = 0: assistant, padded (reward ")
    assert "β = 2: assistant (reward" in summary

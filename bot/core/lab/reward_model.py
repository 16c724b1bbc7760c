"""The class's reward model: a Bradley–Terry fit of the students' preferences.

Bradley–Terry says a response a is preferred to b with probability σ(r(a) − r(b)). With a linear
reward r(x) = w·φ(x), that is a logistic regression on φ(a) − φ(b) with no intercept (an
intercept would be a reward for being listed first). Each comparison gives the difference with
label 1 and the flipped difference with label 0, so both classes exist and the fit is symmetric.
L2 regularisation keeps the many hashed weights small, so the few pairs a class ranks do not
make every rare word decisive. The features are in `features.py`.

Held-out accuracy is measured on a validation split made by *pair* (a prompt and its two
responses), not by comparison: two students ranking the same pair land on the same side, so
the model is never tested on a pair it was fitted on. The model served is then fitted on all
comparisons. Accuracy cannot exceed how consistently the class itself ranks: `agreement`
measures that, between students on the same pairs.

The maths here is pure (no database, no asyncio); `fit` is slow enough (tens of milliseconds)
to be run off the event loop, which `trainer.py` does. Scoring is pure Python and numpy.
"""

from __future__ import annotations

import heapq
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import features

if TYPE_CHECKING:  # only for annotations: scikit-learn (and scipy with it) is imported in the fit
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

#: Inverse L2 strength for a hashed word (each comparison given once). Chosen on synthetic
#: preferences (tests/test_lab_model.py, three seeds of 500 and 2,000 pairs): at 2 the words
#: memorise each response's sampling noise and one set's named weights lose their order; from
#: 0.6 down all keep it. Smaller C brings held-out accuracy closer to the generator's (−0.009 at
#: 0.2, −0.003 at 0.06), but that generator uses only the named features; 0.2 leaves the words
#: room for what a real class rewards that the named features miss.
REGULARISATION_C = 0.2
#: Fewer distinct pairs than this and there is no validation split: a held-out accuracy on two
#: or three pairs would be noise shown as a figure.
MIN_PAIRS_TO_VALIDATE = 20
#: How much less the named features are penalised than a hashed word (see `_Solver`).
NAMED_EMPHASIS = 4.0
#: Newton-CG: a handful of Newton steps, so a refit that starts from the previous model (`fit`'s
#: `start`) needs two or three; L-BFGS takes about as long cold but restarts its curvature
#: estimate from scratch and gains little from a warm start.
SOLVER = "newton-cg"


@dataclass(frozen=True)
class Comparison:
    """One preference pair: `chosen` was ranked above `rejected` for `prompt`."""

    prompt: str
    chosen: str
    rejected: str
    rater: str = ""  # opaque id of the student who ranked (for agreement); never shown


@dataclass(frozen=True)
class Weight:
    name: str  # readable: "length (per 100 words)", "refuses", "word: sorry", "words: i cannot"
    value: float


def _frozen(weights: np.ndarray) -> np.ndarray:
    """The array read-only, as the frozen model holding it: a model is shared between requests."""
    weights.setflags(write=False)
    return weights


def _no_weights() -> np.ndarray:
    return _frozen(np.zeros(features.COLUMNS))


@dataclass(frozen=True)
class RewardModel:
    comparisons: int  # pairs it was fitted on (all of them)
    heldout_pairs: int  # size of the validation split (0 if too few pairs)
    heldout_accuracy: float | None  # share of held-out pairs it orders as the class did
    #: One weight per column: the named features, then the hashed buckets.
    weights: np.ndarray = field(default_factory=_no_weights, compare=False, repr=False)
    #: A readable name for each hashed bucket seen in the fit: its most frequent n-gram.
    names: Mapping[int, str] = field(default_factory=dict, compare=False, repr=False)

    def score(self, prompt: str, response: str) -> float:
        """The reward of a response: the sum of its features' weights (0 for an unfitted model)."""
        named = features.named(prompt, response)
        hashed = self.weights[list(features.buckets(response))].sum()
        return float(np.dot(self.weights[: len(named)], named) + hashed)

    def prefers(self, prompt: str, a: str, b: str) -> float:
        """P(a is preferred to b) = σ(score(a) − score(b))."""
        return _sigmoid(self.score(prompt, a) - self.score(prompt, b))

    def top_weights(self, k: int = 5) -> tuple[list[Weight], list[Weight]]:
        """What the class rewards and what it penalises: the k largest positive weights and the k
        most negative, each largest first, named features and words together."""
        named = [Weight(name, float(w)) for name, w in zip(features.NAMED, self.weights, strict=False)]
        hashed = [Weight(name, float(self.weights[column])) for column, name in self.names.items()]
        weights = [w for w in named + hashed if w.value]
        rewarded = sorted((w for w in weights if w.value > 0), key=lambda w: (-w.value, w.name))[:k]
        penalised = sorted((w for w in weights if w.value < 0), key=lambda w: (w.value, w.name))[:k]
        return rewarded, penalised

    def feature_values(self, prompt: str, response: str) -> list[Weight]:
        """The named features of one response, each with its value (not its weight)."""
        return [Weight(name, value) for name, value in zip(features.NAMED, features.named(prompt, response), strict=True)]

    def explain(self, prompt: str, response: str, k: int = 5) -> list[Weight]:
        """What moves this response's score most: each feature's contribution (weight × value),
        the k largest in size, named features and the response's words together."""
        named = [Weight(w.name, float(self.weights[i]) * w.value) for i, w in enumerate(self.feature_values(prompt, response))]
        own = {features.bucket(ngram): ngram for ngram in reversed(features.ngrams(response))}  # named by this response's own words
        hashed = [Weight(ngram, float(self.weights[column])) for column, ngram in own.items()]
        return sorted((w for w in named + hashed if w.value), key=lambda w: (-abs(w.value), w.name))[:k]


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)


PairKey = tuple[str, str, str]


def pair_key(c: Comparison) -> PairKey:
    """The pair a comparison is about, whichever way it was ranked: (prompt, one response, the other)."""
    a, b = sorted((c.chosen, c.rejected))
    return c.prompt, a, b


def split(comparisons: Sequence[Comparison], *, seed: int = 0, validation: float = 0.2) -> tuple[list[Comparison], list[Comparison]]:
    """(fit, held out): a seeded split by distinct pair, so every ranking of a pair falls on the
    same side. No held-out part when there are fewer than MIN_PAIRS_TO_VALIDATE pairs.

    The pairs held out are those with the smallest seeded CRC-32: the same in every process
    and whatever the comparisons' order, and cheaper than sorting long texts."""
    keyed = [(pair_key(c), c) for c in comparisons]
    keys = {key for key, _ in keyed}
    held = round(validation * len(keys)) if len(keys) >= MIN_PAIRS_TO_VALIDATE else 0
    if not held:
        return list(comparisons), []
    heldout_keys = set(heapq.nsmallest(held, keys, key=lambda key: (zlib.crc32("\0".join((str(seed), *key)).encode("utf-8")), key)))
    return [c for key, c in keyed if key not in heldout_keys], [c for key, c in keyed if key in heldout_keys]


def fit(comparisons: Sequence[Comparison], *, seed: int = 0, validation: float = 0.2, start: RewardModel | None = None) -> RewardModel:
    """Fit the class's reward model (Bradley–Terry, L2, no intercept) and measure it on a
    held-out split. Slow (scikit-learn): call it off the event loop. With no comparisons, a
    model that scores everything 0.

    `start`, the class's previous model, is where the solver begins: a refit after a few more
    comparisons then takes fewer steps. It changes the time, not the result (beyond the
    solver's tolerance)."""
    if not comparisons:
        return RewardModel(comparisons=0, heldout_pairs=0, heldout_accuracy=None)
    matrix = _Matrix(comparisons)
    solver = _Solver(matrix, None if start is None else start.weights)
    fit_part, heldout = split(comparisons, seed=seed, validation=validation)
    accuracy = None
    if heldout:
        scores = matrix.rows @ solver.solve(fit_part)
        right = np.sign([scores[matrix.row(c.prompt, c.chosen)] - scores[matrix.row(c.prompt, c.rejected)] for c in heldout])
        accuracy = float(np.mean((right + 1) / 2))  # a tie counts as half right
    return RewardModel(comparisons=len(comparisons), heldout_pairs=len(heldout), heldout_accuracy=accuracy,
                       weights=_frozen(solver.solve(comparisons)), names=matrix.names())


class _Matrix:
    """The features of every distinct (prompt, response) in the comparisons, one sparse row each:
    a class ranks the same candidates many times, and each is featurised once."""

    def __init__(self, comparisons: Sequence[Comparison]) -> None:
        from scipy.sparse import csr_matrix  # with scikit-learn: heavy, and only needed off the event loop

        self._index: dict[tuple[str, str], int] = {}
        for c in comparisons:
            for response in (c.chosen, c.rejected):
                self._index.setdefault((c.prompt, response), len(self._index))
        named_count = len(features.NAMED)
        indptr, indices, data = [0], [], []
        for prompt, response in self._index:
            hashed = features.buckets(response)
            indices += [*range(named_count), *hashed]
            data += [*features.named(prompt, response), *([1.0] * len(hashed))]
            indptr.append(len(indices))
        self.rows: csr_matrix = csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(self._index), features.COLUMNS))
        self._responses = [response for _, response in self._index]

    def row(self, prompt: str, response: str) -> int:
        return self._index[prompt, response]

    def names(self) -> dict[int, str]:
        """Each bucket's most frequent n-gram over the distinct responses (ties: the first in
        alphabetical order), so a collision is named after the n-gram that mostly filled it."""
        seen = Counter(g for response in dict.fromkeys(self._responses) for g in features.ngrams(response))
        best: dict[int, str] = {}
        for ngram in sorted(seen, key=lambda g: (-seen[g], g)):
            best.setdefault(features.bucket(ngram), ngram)
        return best


class _Solver:
    """Logistic regression on φ(chosen) − φ(rejected), no intercept, over one matrix's columns.

    Each comparison is one row: alternately its difference with label 1 or the flipped difference
    with label 0. The two have the same log-loss, so this is the symmetric fit that giving every
    comparison both ways would be, with half the rows (REGULARISATION_C is set for this form);
    alternating gives the solver both classes. The same pair ranked the same way by several
    students is one row weighted by their number.

    Only the columns the matrix uses are given to the solver (a few thousand of the 2¹⁸ buckets:
    L-BFGS's cost grows with every column, used or not); the others keep weight 0. The named
    features' columns are multiplied by NAMED_EMPHASIS for the fit and their weights divided
    back, which is the same as a weaker L2 penalty on them: a refusal's telltale words ("sorry",
    "i cannot") always come with the refusal feature, and an equal penalty would spread the
    credit evenly over all of them, leaving the readable feature a small share.

    One solver serves the held-out fit and then the fit on all comparisons, which starts from the
    first one's weights (scikit-learn's `warm_start`) and so takes far fewer steps; the first
    starts from `start` (the previous model's weights) if given, else from zero."""

    def __init__(self, matrix: _Matrix, start: np.ndarray | None) -> None:
        from scipy.sparse import diags

        self._matrix = matrix
        self._columns = np.union1d(np.arange(len(features.NAMED)), np.unique(matrix.rows.indices))
        self._emphasis = np.where(self._columns < len(features.NAMED), NAMED_EMPHASIS, 1.0)
        self._rows = (matrix.rows[:, self._columns] @ diags(self._emphasis)).tocsr()
        self._model = _estimator()
        if start is not None:  # what warm_start reads: the coefficients of the "previous" fit
            self._model.coef_ = (start[self._columns] / self._emphasis)[np.newaxis, :]

    def solve(self, comparisons: Sequence[Comparison]) -> np.ndarray:
        """One weight per column of `features` (0 for the columns the matrix does not use)."""
        self._model.fit(*self.problem(comparisons))
        weights = np.zeros(features.COLUMNS)
        weights[self._columns] = self._model.coef_[0] * self._emphasis
        return weights

    def problem(self, comparisons: Sequence[Comparison]) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        """What the solver is given: (rows of differences, labels, weights); the benchmark
        fits the same to measure the solver alone."""
        counts = Counter((self._matrix.row(c.prompt, c.chosen), self._matrix.row(c.prompt, c.rejected)) for c in comparisons)
        pairs = list(counts)
        repeats = [float(counts[pair]) for pair in pairs]
        if len(pairs) == 1:  # one row cannot have both labels: give it both ways, half weight each
            pairs.append(pairs[0][::-1])
            repeats = [repeats[0] / 2] * 2
        first = np.array([a if i % 2 == 0 else b for i, (a, b) in enumerate(pairs)])
        second = np.array([b if i % 2 == 0 else a for i, (a, b) in enumerate(pairs)])
        labels = (np.arange(len(pairs)) % 2 == 0).astype(float)
        return self._rows[first] - self._rows[second], labels, np.array(repeats)


def _estimator() -> LogisticRegression:
    """The logistic regression every fit uses (L2 by default), ready to warm-start."""
    from sklearn.linear_model import LogisticRegression  # ~1–2 s to import: only ever off the event loop

    return LogisticRegression(C=REGULARISATION_C, fit_intercept=False, warm_start=True, max_iter=1000, solver=SOLVER)


@dataclass(frozen=True)
class Agreement:
    shared_pairs: int  # distinct (prompt, {a, b}) pairs ranked by two or more students
    rate: float | None  # share of pairs of students, over those pairs, who ordered them the same way


def agreement(comparisons: Sequence[Comparison]) -> Agreement:
    """How consistently students rank the same pairs: over every pair ranked by two or more
    students, the share of pairs of students who put it in the same order. A student's latest
    ranking of a pair counts; comparisons with no rater cannot be told apart and are left out."""
    latest: dict[PairKey, dict[str, bool]] = defaultdict(dict)
    for c in comparisons:
        if c.rater:
            key = pair_key(c)
            latest[key][c.rater] = c.chosen == key[1]
    shared = agree = pairs_of_students = 0
    for orders in latest.values():
        n = len(orders)
        if n < 2:
            continue
        shared += 1
        first = sum(orders.values())
        agree += first * (first - 1) // 2 + (n - first) * (n - first - 1) // 2
        pairs_of_students += n * (n - 1) // 2
    return Agreement(shared_pairs=shared, rate=agree / pairs_of_students if pairs_of_students else None)

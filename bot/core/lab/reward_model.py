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

if TYPE_CHECKING:  # only for annotations: SciPy is imported in the fit, off the event loop
    from scipy.sparse import csr_matrix

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
    same side. No held-out part when there are fewer than MIN_PAIRS_TO_VALIDATE pairs."""
    held = _held_out(comparisons, seed, validation)
    return [c for c, out in zip(comparisons, held, strict=True) if not out], [c for c, out in zip(comparisons, held, strict=True) if out]


def _held_out(comparisons: Sequence[Comparison], seed: int, validation: float) -> np.ndarray:
    """Which comparisons `split` holds out, as a mask. The pairs held out are those with the
    smallest seeded CRC-32: the same in every process and whatever the comparisons' order, and
    cheaper than sorting long texts. Each comparison's key is built once (the texts are compared,
    not copied)."""
    keys = [pair_key(c) for c in comparisons]
    distinct = set(keys)
    held = round(validation * len(distinct)) if len(distinct) >= MIN_PAIRS_TO_VALIDATE else 0
    if not held:
        return np.zeros(len(keys), dtype=bool)
    out = set(heapq.nsmallest(held, distinct, key=lambda key: (zlib.crc32("\0".join((str(seed), *key)).encode("utf-8")), key)))
    return np.fromiter((key in out for key in keys), dtype=bool, count=len(keys))


def fit(comparisons: Sequence[Comparison], *, seed: int = 0, validation: float = 0.2, start: RewardModel | None = None) -> RewardModel:
    """Fit the class's reward model (Bradley–Terry, L2, no intercept) and measure it on a
    held-out split. Tens of milliseconds (and SciPy's import the first time): call it off the event loop. With no comparisons, a
    model that scores everything 0.

    `start`, the class's previous model, is where the solver begins: a refit after a few more
    comparisons then takes fewer steps. It changes the time, not the result (beyond the
    solver's tolerance)."""
    if not comparisons:
        return RewardModel(comparisons=0, heldout_pairs=0, heldout_accuracy=None)
    from threadpoolctl import threadpool_limits

    # The solver's vectors are small: OpenBLAS's own threads would only spin, taking the cores the
    # event loop needs (a refit of 10,000 comparisons: 66 ms of CPU on one thread, 232 ms with them).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(comparisons, seed, validation, start)


def _fit(comparisons: Sequence[Comparison], seed: int, validation: float, start: RewardModel | None) -> RewardModel:
    matrix = _Matrix(comparisons)
    solver = _Solver(matrix, None if start is None else start.weights)
    held = _held_out(comparisons, seed, validation)
    accuracy = None
    if held.any():
        scores = matrix.rows @ solver.solve(matrix.pairs[~held])
        chosen, rejected = matrix.pairs[held].T
        accuracy = float(np.mean((np.sign(scores[chosen] - scores[rejected]) + 1) / 2))  # a tie counts as half right
    return RewardModel(comparisons=len(comparisons), heldout_pairs=int(held.sum()), heldout_accuracy=accuracy,
                       weights=_frozen(solver.solve(matrix.pairs)), names=matrix.names())


class _Matrix:
    """The features of every distinct (prompt, response) in the comparisons, one sparse row each:
    a class ranks the same candidates many times, and each is featurised once."""

    def __init__(self, comparisons: Sequence[Comparison]) -> None:
        from scipy.sparse import csr_matrix  # heavy to import, and only needed off the event loop

        self._index: dict[tuple[str, str], int] = {}
        index = self._index
        #: Each comparison as (its chosen response's row, its rejected one's).
        self.pairs = np.array([(index.setdefault((c.prompt, c.chosen), len(index)), index.setdefault((c.prompt, c.rejected), len(index)))
                               for c in comparisons], dtype=np.int64).reshape(-1, 2)
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
    """Bradley–Terry by maximum likelihood with an L2 penalty, no intercept, over one matrix's
    columns: minimise  C·Σ n·log(1 + exp(−(r_chosen − r_rejected))) + ½‖w‖²,  r = R·w.

    This is logistic regression on φ(chosen) − φ(rejected) (scikit-learn's objective, with
    REGULARISATION_C as its C), solved in factored form with SciPy's L-BFGS: each distinct
    response's reward is computed once per step (R·w) and each pair reads two of them through a
    ±1 pair matrix P, instead of a matrix with one row of ~90 differences per comparison. A class
    ranks the same few candidates many times, so R is small, and a refit of 10,000 comparisons
    costs a few sparse products per step (bench/bench_lab.py measures it against scikit-learn's
    LogisticRegression on the difference matrix). The same pair ranked the same way by several
    students is one row of P weighted by their number `n`.

    Only the columns the matrix uses are solved for (a few thousand of the 2¹⁸ buckets); the
    others keep weight 0. The named features' columns are multiplied by NAMED_EMPHASIS for the fit
    and their weights divided back, which is the same as a weaker L2 penalty on them: a refusal's
    telltale words ("sorry", "i cannot") always come with the refusal feature, and an equal
    penalty would spread the credit evenly over all of them, leaving the readable feature a small
    share.

    One solver serves the held-out fit and then the fit on all comparisons, which starts from the
    first one's weights and so takes fewer steps; the first starts from `start` (the previous
    model's weights) if given, else from zero."""

    def __init__(self, matrix: _Matrix, start: np.ndarray | None) -> None:
        from scipy.sparse import diags

        self._matrix = matrix
        self._columns = np.union1d(np.arange(len(features.NAMED)), np.unique(matrix.rows.indices))
        self._emphasis = np.where(self._columns < len(features.NAMED), NAMED_EMPHASIS, 1.0)
        self._rows = (matrix.rows[:, self._columns] @ diags(self._emphasis)).tocsr()
        self._rows_t = self._rows.T.tocsr()  # a product with a transposed view costs 2–3× more per step
        self._weights = np.zeros(len(self._columns)) if start is None else start[self._columns] / self._emphasis

    def solve(self, comparisons: np.ndarray) -> np.ndarray:
        """One weight per column of `features` (0 for the columns the matrix does not use), fitted
        on `comparisons`: rows of the matrix's `pairs`."""
        from scipy.optimize import minimize
        from scipy.special import expit

        pairs, repeats = self.pairs(comparisons)
        rows, rows_t, pairs_t = self._rows, self._rows_t, pairs.T.tocsr()

        def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
            margins = pairs @ (rows @ w)
            value = REGULARISATION_C * float(repeats @ np.logaddexp(0.0, -margins)) + 0.5 * float(w @ w)
            slope = rows_t @ (pairs_t @ (repeats * expit(-margins)))
            return value, w - REGULARISATION_C * slope

        result = minimize(objective, self._weights, jac=True, method="L-BFGS-B", options={"maxiter": 1000, "gtol": 1e-4, "ftol": 1e-7})
        self._weights = result.x
        weights = np.zeros(features.COLUMNS)
        weights[self._columns] = result.x * self._emphasis
        return weights

    def pairs(self, comparisons: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
        """P (one row per distinct ordered pair: +1 at the chosen response's row of R, −1 at the
        rejected one's) and how many comparisons each row stands for."""
        from scipy.sparse import csr_matrix

        ordered, counts = np.unique(comparisons, axis=0, return_counts=True)
        n = len(ordered)
        matrix = csr_matrix((np.tile([1.0, -1.0], n), ordered.ravel(), np.arange(0, 2 * n + 1, 2)), shape=(n, self._rows.shape[0]))
        return matrix, counts.astype(float)


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

"""Item analysis, as Moodle's quiz statistics define it, over each student's best attempt.

The analysed attempts are each member's best finished quiz of the chapter (`progress.best_attempt`,
Moodle's "highest graded attempt"); a student's score on a question is 1 (right) or 0 (wrong).

- **Facility index**: the mean score on the question, the share who got it right.
- **Discrimination index**: the correlation between the question's score and the rest of the
  test's score (item–rest), over the students whose attempt asked it. Quizzes draw a random
  subset of the chapter's questions, so the rest is the share right on the attempt's *other*
  questions; when every attempt asks the same questions this is the plain item–rest correlation.
  None when it is undefined (fewer than two students, or everyone scored alike).
- **Flags**, as Moodle flags them: too easy (facility > 0.9), too hard (< 0.3), negative
  discrimination (< 0: strong students get it wrong more often than weak ones).
- **Cronbach's alpha** (coefficient of internal consistency) for the chapter's questions:
  k/(k−1) · (1 − Σ var(item) / var(total)), with var(total) the sum of the items' covariance
  matrix. Each covariance is taken over the students who answered both questions (pairwise),
  so alpha is defined for random subsets too; with complete data it is the classic formula.
- **Responses**: the share choosing each option (choice and true/false questions), and the most
  common wrong answers (short answers, orderings), from the same attempts; hint use likewise.

Reading is by the best attempts' ids (the answers' primary key), in chunks (`read_responses`);
the arithmetic is numpy on a students × questions matrix, run off the event loop by the caller.
Products use `einsum`, not `@`: a matrix product starts OpenBLAS's thread pool, whose spinning
threads took 0.4 s the first time on the shared 2-core machine and compete with the event loop.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..content import Chapter
from ..questions import MultipleQuestion, Question, ShortQuestion, SingleQuestion, TrueFalseQuestion, normalise
from ..quiz import MASK_WORD
from ..replies import quote_user_text
from ..store import Store
from .roster import ChapterTakers

TOO_EASY, TOO_HARD, NEGATIVE = "too easy", "too hard", "negative discrimination"
#: Moodle's thresholds (facility above / below; discrimination below).
EASY_ABOVE, HARD_BELOW, DISCRIMINATION_BELOW = 0.9, 0.3, 0.0
#: Ids per query when reading the best attempts' answers (well under every database's limit).
CHUNK = 500
#: Wrong typed answers listed per question.
TOP_WRONG = 5
#: Variances below this are zero (sums of 0/1 scores leave rounding dust, never a real spread).
_EPSILON = 1e-12


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _marks(ids: Sequence[int]) -> str:
    return ",".join("?" * len(ids))


@dataclass(frozen=True)
class Responses:
    """The analysed attempts' answers, as read: each attempt's questions (its `question_keys`,
    JSON, indexed by position) and, per attempt and word of MASK_WORD positions, three bit masks:
    the positions answered right, with a hint, and at all (`quiz.RECORD_MASKS_SQL`)."""

    chapter: int
    keys: list[str]  # the chapter's questions, in the course's order
    attempts: dict[int, str]  # attempt id → question_keys
    words: list[Sequence[Any]]  # (attempt id, word, right mask, hint mask, answered mask)


def _answers(conn: sqlite3.Connection, ids: Sequence[int]) -> tuple[list[Sequence[Any]], list[Sequence[Any]]]:
    """One chunk: the attempts' questions, and their answers' bit masks as stored when each
    attempt finished (`quiz.finish_attempt`): one row per attempt instead of one per answer,
    read by primary key, where folding the answers here cost a GROUP BY over 31 times as many rows."""
    keys = conn.execute(f"SELECT id, question_keys FROM quiz_attempts WHERE id IN ({_marks(ids)})", tuple(ids)).fetchall()
    words = conn.execute(f"SELECT attempt_id, word, right_mask, hint_mask, answered_mask FROM quiz_attempt_masks"
                         f" WHERE attempt_id IN ({_marks(ids)})", tuple(ids)).fetchall()
    return keys, words


async def read_responses(store: Store, takers: ChapterTakers, chapter: Chapter) -> Responses:
    """The best attempts' answers, CHUNK attempts per read transaction. A class of 10,000 has
    310,000 such answers: one transaction reading them all would hold the database's thread for
    a second on a loaded machine, and every other request (a live quiz's answers) would wait
    behind it; in chunks, they are served in between. The cost: an attempt finished meanwhile is
    not counted (it was not the best when the roster was read), one pruned meanwhile not at all."""
    attempts: dict[int, str] = {}
    words: list[Sequence[Any]] = []
    for chunk in _chunks(takers.best_attempt_ids):
        keys, chunk_words = await store.read(_answers, chunk)
        attempts.update((row[0], row[1]) for row in keys)
        words += chunk_words
    return Responses(chapter.number, [q.key for q in chapter.questions], attempts, words)


@dataclass(frozen=True)
class ItemStats:
    key: str
    students: int  # analysed attempts that asked it
    facility: float | None
    discrimination: float | None
    hint_share: float | None

    @property
    def flags(self) -> tuple[str, ...]:
        out = []
        if self.facility is not None and self.facility > EASY_ABOVE:
            out.append(TOO_EASY)
        if self.facility is not None and self.facility < HARD_BELOW:
            out.append(TOO_HARD)
        if self.discrimination is not None and self.discrimination < DISCRIMINATION_BELOW:
            out.append(NEGATIVE)
        return tuple(out)


@dataclass(frozen=True)
class ItemAnalysis:
    chapter: int
    students: int  # analysed attempts (one per student)
    items: list[ItemStats]  # one per question of the chapter, in the course's order
    alpha: float | None

    def item(self, key: str) -> ItemStats | None:
        return next((i for i in self.items if i.key == key), None)


def matrices(responses: Responses) -> tuple[np.ndarray, np.ndarray]:
    """(scores, hints): attempts × questions, 1.0 or 0.0, NaN where the attempt did not ask it.
    Answers to questions no longer in the chapter are left out, and so are attempts left with none."""
    column = {k: j for j, k in enumerate(responses.keys)}
    empty = np.full((0, len(responses.keys)), np.nan)
    rows = {attempt: i for i, attempt in enumerate(responses.attempts)}
    words = [(rows[w[0]], int(w[1]), int(w[2]), int(w[3]), int(w[4])) for w in responses.words if w[0] in rows]
    if not words:
        return empty, empty.copy()
    columns_of: dict[str, list[int]] = {}  # attempts often share their questions' list
    for keys in responses.attempts.values():
        if keys not in columns_of:
            columns_of[keys] = [column.get(k, -1) for k in json.loads(keys)]
    width = max(len(c) for c in columns_of.values()) + MASK_WORD
    colmap = np.full((len(rows), width), -1, dtype=np.int64)  # attempt row, position → question column
    for attempt, keys in responses.attempts.items():
        cols = columns_of[keys]
        colmap[rows[attempt], :len(cols)] = cols
    w = np.array(words, dtype=np.int64)
    bits = np.arange(MASK_WORD, dtype=np.int64)
    right, hinted, asked = ((w[:, k, None] >> bits) & 1 for k in (2, 3, 4))
    position = np.minimum(w[:, 1, None] * MASK_WORD + bits, width - 1)
    row = np.broadcast_to(w[:, 0, None], position.shape)
    col = colmap[row, position]
    keep = (asked == 1) & (col >= 0)
    scores = np.full((len(rows), len(responses.keys)), np.nan)
    hints = scores.copy()
    scores[row[keep], col[keep]] = right[keep]
    hints[row[keep], col[keep]] = hinted[keep]
    answered = ~np.isnan(scores).all(axis=1)
    return scores[answered], hints[answered]


def _item_rest(scores: np.ndarray) -> np.ndarray:
    """Each column's correlation with the rest of its row (the share right on the row's other
    asked questions); NaN where undefined."""
    asked = ~np.isnan(scores)
    x = np.where(asked, scores, 0.0)
    total, n = x.sum(axis=1, keepdims=True), asked.sum(axis=1, keepdims=True)
    valid = asked & (n >= 2)
    rest = np.where(valid, (total - x) / np.maximum(n - 1, 1), 0.0)
    w = valid.astype(float)
    count = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sx, sr = (w * x).sum(axis=0), (w * rest).sum(axis=0)
        cov = (w * x * rest).sum(axis=0) - sx * sr / count
        var_x = (w * x * x).sum(axis=0) - sx * sx / count
        var_r = (w * rest * rest).sum(axis=0) - sr * sr / count
        corr = cov / np.sqrt(var_x * var_r)
    return np.where((count >= 2) & (var_x > _EPSILON) & (var_r > _EPSILON), corr, np.nan)


def cronbach_alpha(scores: np.ndarray) -> float | None:
    """Cronbach's alpha from the items' pairwise covariances (module docstring); None when fewer
    than two questions were answered by two students each, when a pair of them was never
    answered together by two students, or when the totals do not vary."""
    asked = ~np.isnan(scores)
    scores = scores[:, asked.sum(axis=0) >= 2]
    asked = ~np.isnan(scores)
    k = scores.shape[1]
    if k < 2:
        return None
    m = asked.astype(float)
    x = np.where(asked, scores, 0.0)
    both = np.einsum("si,sj->ij", m, m)  # students who answered both i and j (einsum: no BLAS thread pool)
    if (both < 2).any():
        return None
    sums = np.einsum("si,sj->ij", x, m)  # sums[i, j]: Σ x_i over the students who answered both
    cov = (np.einsum("si,sj->ij", x, x) - sums * sums.T / both) / (both - 1)
    total = cov.sum()
    if total <= _EPSILON:
        return None
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def analyse(responses: Responses) -> ItemAnalysis:
    scores, hints = matrices(responses)
    count = (~np.isnan(scores)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        facility = np.nansum(scores, axis=0) / count
        hint_share = np.nansum(hints, axis=0) / count
    discrimination = _item_rest(scores)

    def value(a: np.ndarray, j: int) -> float | None:
        return None if count[j] == 0 or np.isnan(a[j]) else float(a[j])

    items = [ItemStats(key, int(count[j]), value(facility, j), value(discrimination, j), value(hint_share, j))
             for j, key in enumerate(responses.keys)]
    return ItemAnalysis(responses.chapter, scores.shape[0], items, cronbach_alpha(scores))


# ---- one question's responses ---------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResponses:
    """What the analysed attempts answered to one question, and its answers in all attempts."""

    answers: list[Sequence[Any]]  # (answer as stored, JSON; right) in the analysed attempts
    all_answers: int  # in every quiz attempt of the class, retries included
    all_right: int


def _question_answers(conn: sqlite3.Connection, key: str, ids: Sequence[int]) -> list[Sequence[Any]]:
    return conn.execute(f"SELECT answer, correct FROM quiz_answers WHERE question_key = ? AND attempt_id IN ({_marks(ids)})",
                        (key, *ids)).fetchall()


def _all_answers(conn: sqlite3.Connection, key: str, members: Sequence[int]) -> Sequence[Any]:
    return conn.execute(f"SELECT COUNT(*), COALESCE(SUM(a.correct), 0) FROM quiz_attempts t JOIN quiz_answers a ON a.attempt_id = t.id"
                        f" WHERE t.user_pk IN ({_marks(members)}) AND t.kind = 'quiz' AND a.question_key = ?", (*members, key)).fetchone()


async def read_question(store: Store, takers: ChapterTakers, key: str) -> QuestionResponses:
    """One question's answers in the best attempts, and counted in all the class's attempts,
    in chunks as `read_responses` reads."""
    answers: list[Sequence[Any]] = []
    for chunk in _chunks(takers.best_attempt_ids):
        answers += await store.read(_question_answers, key, chunk)
    total = right = 0
    for chunk in _chunks(takers.members):
        n, r = await store.read(_all_answers, key, chunk)
        total, right = total + n, right + r
    return QuestionResponses(answers, total, right)


@dataclass(frozen=True)
class OptionShare:
    label: str  # safe to show: choices come from the course, typed answers are quoted
    count: int
    share: float
    correct: bool


def option_shares(question: Question, responses: QuestionResponses) -> list[OptionShare]:
    """Choice and true/false questions: the share of the analysed attempts choosing each option
    (several per attempt for multiple select). Other types: the most common wrong answers."""
    n = len(responses.answers)
    if n == 0:
        return []
    parsed = [(json.loads(a), bool(c)) for a, c in responses.answers]
    if isinstance(question, (SingleQuestion, MultipleQuestion)):
        chosen = Counter(i for answer, _ in parsed for i in answer)
        return [OptionShare(f"{chr(65 + i)}) {label}", chosen[i], chosen[i] / n, i in question.correct)
                for i, label in enumerate(question.choices)]
    if isinstance(question, TrueFalseQuestion):
        chosen = Counter(bool(answer) for answer, _ in parsed)
        return [OptionShare(str(v), chosen[v], chosen[v] / n, v == question.truth) for v in (True, False)]
    wrong = Counter(normalise(answer) if isinstance(question, ShortQuestion) else question.describe_answer(answer)
                    for answer, right in parsed if not right)
    return [OptionShare(quote_user_text(label[:60]), count, count / n, False) for label, count in wrong.most_common(TOP_WRONG)]

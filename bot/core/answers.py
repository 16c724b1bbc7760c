"""Judging and recording one answer: the same steps for a solo quiz and a live quiz.

Both read what was typed or clicked for the question (an unreadable answer is refused with what
to type instead), judge it, and record it exactly once: the answer row's primary key makes a
double click count once, and the second click is refused. A solo answer also moves the
question's review card (FSRS); a live answer does not, since a live quiz is a game, not study.
The row itself differs (an attempt's position, a session's points), so each caller gives its
insert; everything else happens here, inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .context import CoreContext
from .questions import AnswerError, Question
from .refusal import Refusal
from .review import record_review


@dataclass(frozen=True)
class Judged:
    question: Question
    answer: Any  # as parsed: a choice index, a list of them, a bool, or the words typed
    correct: bool
    queued: bool = False  # the question entered the person's review queue


def judge_and_record(conn: sqlite3.Connection, ctx: CoreContext, question: Question, text: str, seed: int,
                     insert: Callable[[Any, bool], int], already: str, now: datetime,
                     review_user: int | None = None) -> Judged:
    """Parse `text` for `question` (shuffled with `seed`), judge it, and record it with
    `insert(answer, correct)` (an `INSERT … ON CONFLICT DO NOTHING`, returning its row count).

    Refuses an unreadable answer, and a second answer to the same question (`already`). With
    `review_user`, the question's review card is moved for that user."""
    try:
        answer = question.parse_answer(text, seed)
    except AnswerError as exc:
        raise Refusal(str(exc)) from None
    correct = question.is_correct(answer)
    if not insert(answer, correct):
        raise Refusal(already)
    queued = review_user is not None and record_review(conn, ctx.scheduler, review_user, question.key, correct, now)
    return Judged(question, answer, correct, queued)

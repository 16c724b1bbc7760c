"""Spaced repetition with FSRS (py-fsrs): questions a student missed come back when they are due.

A wrong answer rates the question's card `Again`, a right one `Good`; a question gets a card
the first time it is missed, and every later answer to it (in a quiz or a review) moves it.
The card's fields are stored in columns for queries and as JSON tagged with the fsrs version.
"""

from __future__ import annotations

import sqlite3
import zlib
from datetime import datetime
from importlib.metadata import version

from fsrs import Card, Rating, Scheduler

from .clock import iso, parse_iso

FSRS_VERSION = version("fsrs")


def make_scheduler(fuzzing: bool = True) -> Scheduler:
    """Anki's default desired retention (0.90); tests turn fuzzing off to be exact."""
    return Scheduler(desired_retention=0.9, enable_fuzzing=fuzzing)


def record_review(conn: sqlite3.Connection, scheduler: Scheduler, user_pk: int, question_key: str,
                  correct: bool, now: datetime) -> bool:
    """Move the question's card for this answer. Returns True if the question entered the queue."""
    row = conn.execute("SELECT card_json FROM review_cards WHERE user_pk = ? AND question_key = ?",
                       (user_pk, question_key)).fetchone()
    if row is None and correct:
        return False
    card = Card.from_json(row[0]) if row else Card(card_id=user_pk * 2**32 + zlib.crc32(question_key.encode()))  # an id avoids Card()'s 1 ms sleep
    card, _ = scheduler.review_card(card, Rating.Good if correct else Rating.Again, review_datetime=now)
    conn.execute(
        "INSERT INTO review_cards(user_pk, question_key, due, state, step, stability, difficulty, last_review,"
        " reviews, card_json, fsrs_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
        " ON CONFLICT(user_pk, question_key) DO UPDATE SET due = excluded.due, state = excluded.state,"
        " step = excluded.step, stability = excluded.stability, difficulty = excluded.difficulty,"
        " last_review = excluded.last_review, reviews = review_cards.reviews + 1, card_json = excluded.card_json,"
        " fsrs_version = excluded.fsrs_version",
        (user_pk, question_key, iso(card.due), int(card.state), card.step, card.stability, card.difficulty,
         iso(card.last_review) if card.last_review else None, card.to_json(), FSRS_VERSION),
    )
    return row is None


def due_keys(conn: sqlite3.Connection, user_pk: int, now: datetime, limit: int) -> list[str]:
    rows = conn.execute("SELECT question_key FROM review_cards WHERE user_pk = ? AND due <= ? ORDER BY due LIMIT ?",
                        (user_pk, iso(now), limit)).fetchall()
    return [r[0] for r in rows]


def queue_summary(conn: sqlite3.Connection, user_pk: int, now: datetime) -> tuple[int, int, datetime | None]:
    """(due now, in the queue, when the next one falls due)."""
    due, total = conn.execute("SELECT COUNT(*) FILTER (WHERE due <= ?), COUNT(*) FROM review_cards WHERE user_pk = ?",
                              (iso(now), user_pk)).fetchone()
    nxt = conn.execute("SELECT MIN(due) FROM review_cards WHERE user_pk = ? AND due > ?", (user_pk, iso(now))).fetchone()[0]
    return due, total, parse_iso(nxt) if nxt else None

"""A synthetic class whose statistics are worked out by hand, for the analytics tests.

Six students in one server (A–F) and one in another (Z), on chapter 7's first five single-choice
questions. Best attempts (rows: students, columns Q1–Q4; 1 right, 0 wrong):

        Q1 Q2 Q3 Q4   total
    A    1  1  1  1    4      (A also finished a 5-question attempt, 4/5: it passes, but 4/4 is best)
    B    1  1  1  0    3
    C    1  1  0  0    2
    D    1  0  1  0    2
    E    0  0  0  1    1
    F    an open attempt only (Q1 right): not a quiz taker, not analysed
    Z    (the other server) all four wrong, and pages read: must show nowhere in A–F's figures

By hand (sample variances; rest = total − item):
- facility: Q1 4/5 = 0.8, Q2 3/5 = 0.6, Q3 3/5 = 0.6, Q4 2/5 = 0.4.
- item–rest r: Q1 0.6/√(0.8·3.2) = 0.375; Q2 and Q3 0.6/√(1.2·2.8) = 0.327327; Q4 −1/√(1.2·6) = −0.372678
  (negative: flagged).
- alpha: item variances 0.2 + 0.3 + 0.3 + 0.3 = 1.1; totals 4,3,2,2,1 have variance 1.3;
  4/3 · (1 − 1.1/1.3) = 0.205128.
- hints: A used one on Q2 in the best attempt: Q2's hint share 1/5 = 0.2.
- Q4's options: A and E chose the right one (40%), B, C, D the next one (60%).

Pages (shallow has 1 page, deep 3): A shallow 1 and deep 1–3; B, E, F shallow 1; C deep 1; D none.
Funnel: opened 5 (A B C E F), read to the end 4 (A B E F), finished a quiz 5 (A–E), passed 1 (A),
completed 1 (A). Page reach: shallow [4], deep [2, 1, 1].
"""

from __future__ import annotations

import json
import sqlite3

from bot.core.clock import iso
from bot.core.quiz import finish_attempt

QUESTIONS = ["base-model-completes", "instruct-answers", "training-pairs", "instruction-tuning-is-sft", "dataset-format"]
KEYS = [f"7:{q}" for q in QUESTIONS]
SCORES = {"a": [1, 1, 1, 1], "b": [1, 1, 1, 0], "c": [1, 1, 0, 0], "d": [1, 0, 1, 0], "e": [0, 0, 0, 1]}
PAGES = {"a": [("shallow", 1), ("deep", 1), ("deep", 2), ("deep", 3)], "b": [("shallow", 1)], "c": [("deep", 1)],
         "d": [], "e": [("shallow", 1)], "f": [("shallow", 1)]}
FACILITY = [0.8, 0.6, 0.6, 0.4]
DISCRIMINATION = [0.375, 0.6 / (1.2 * 2.8) ** 0.5, 0.6 / (1.2 * 2.8) ** 0.5, -1 / (1.2 * 6) ** 0.5]
ALPHA = 4 / 3 * (1 - 1.1 / 1.3)
FUNNEL = (5, 4, 5, 1, 1)


def seed(conn: sqlite3.Connection, course, platform: str, guild: str, other_guild: str, now) -> None:
    """Write the class (A–F in `guild`, Z in `other_guild`) as the companion would have."""
    at = iso(now)
    chapter = course.chapter(7)
    correct = {q: chapter.question(q).correct[0] for q in QUESTIONS}

    def user(name: str, place: str) -> int:
        pk = conn.execute("INSERT INTO users(platform, user_id, display_name, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                          (platform, f"U{name.upper()}", name.upper(), at)).fetchone()[0]
        conn.execute("INSERT INTO memberships(user_pk, guild) VALUES (?, ?)", (pk, f"{platform}:{place}"))
        conn.execute("INSERT INTO activity_days(user_pk, day) VALUES (?, ?)", (pk, now.date().isoformat()))
        return pk

    def attempt(pk: int, keys: list[str], rights: list[int], status: str = "finished", hint_at: int | None = None) -> None:
        aid = conn.execute(
            "INSERT INTO quiz_attempts(user_pk, chapter, kind, seed, question_keys, questions, position, correct, status, started_at)"
            " VALUES (?, 7, 'quiz', 1, ?, ?, ?, ?, 'open', ?) RETURNING id",
            (pk, json.dumps(keys), len(keys), len(rights), sum(rights), at)).fetchone()[0]
        for position, (key, right) in enumerate(zip(keys, rights)):
            qid = key.partition(":")[2]
            choice = correct[qid] if right else (correct[qid] + 1) % len(chapter.question(qid).choices)
            conn.execute("INSERT INTO quiz_answers(attempt_id, position, question_key, answer, correct, hint_used, answered_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", (aid, position, key, json.dumps([choice]), right, int(position == hint_at), at))
            if position == hint_at:
                conn.execute("INSERT INTO quiz_hints(attempt_id, position, shown_at) VALUES (?, ?, ?)", (aid, position, at))
        if status == "finished":  # as the quiz finishes one: with its answers' masks
            finish_attempt(conn, aid, now)

    pks = {name: user(name, guild) for name in "abcdef"}
    for name, pages in PAGES.items():
        for depth, page in pages:
            conn.execute("INSERT INTO pages_read(user_pk, chapter, depth, page, first_read_at) VALUES (?, 7, ?, ?, ?)", (pks[name], depth, page, at))
    attempt(pks["a"], KEYS[:5], [1, 1, 1, 1, 0])  # passes (4/5 = the pass mark), but 4/4 below is the best
    for name, rights in SCORES.items():
        attempt(pks[name], KEYS[:4], rights, hint_at=1 if name == "a" else None)
    attempt(pks["f"], KEYS[:4], [1], status="open")
    z = user("z", other_guild)
    conn.execute("INSERT INTO pages_read(user_pk, chapter, depth, page, first_read_at) VALUES (?, 7, 'deep', 1, ?)", (z, at))
    attempt(z, KEYS[:4], [0, 0, 0, 0])

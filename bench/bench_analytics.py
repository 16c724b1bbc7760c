"""Instructor analytics at scale: 10,000 students × 31 questions × 5 attempts, against a floor.

    python bench/bench_analytics.py             # 10,000 students (about a minute, most of it writing the data)
    python bench/bench_analytics.py --students 2000 --rounds 1   # a quick run

The class is written straight into a fresh database (one server; every student reads some pages,
is active on a few days, and finishes five quizzes of all 31 questions: 1,550,000 answers, right
with a probability that grows with the student's ability and falls with the question's difficulty,
so discrimination and alpha have something to find). Then, in one run:

- the floor: the bare SQL reading the same rows as `/course stats chapter 7` (the class's
  finished attempts and its best attempts' answers), on a plain sqlite3 connection, no Python
  work on them;
- each command through the Companion, median of `--rounds`: `/course stats` (overview, funnel
  and activity charts), `/course stats chapter 7` (page reach, item analysis, two charts),
  `/course question ID`, `/course export` (two CSV files); target under 2 s each, and the ratio
  to the floor;
- the event loop meanwhile: a live quiz in another server's channel takes an answer every 5 ms
  from a new player while the commands run, and a ticker measures the loop's lag every 5 ms;
  answer latencies and lag are compared with the same drivers running with no analytics.

The machine is shared: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.clock import ManualClock, iso  # noqa: E402
from bot.core.companion import Companion  # noqa: E402
from bot.core.config import DEFAULT_CONTENT_DIR, Settings  # noqa: E402
from bot.core.engines import open_store  # noqa: E402
from bot.core.questions import MultipleQuestion, OrderingQuestion, ShortQuestion, SingleQuestion, TrueFalseQuestion  # noqa: E402
from bot.core.quiz import RECORD_MASKS_SQL  # noqa: E402
from bot.core.users import Actor  # noqa: E402

CHAPTER = 7
GUILD = "class"
ATTEMPTS = 5
TARGET_SECONDS = 2.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def answers_for(question) -> tuple[str, str]:
    """(a right answer, a wrong one) as the store keeps them (JSON)."""
    if isinstance(question, (SingleQuestion, MultipleQuestion)):
        wrong = [next(i for i in range(len(question.choices)) if i not in question.correct)]
        return json.dumps(sorted(question.correct)), json.dumps(wrong)
    if isinstance(question, TrueFalseQuestion):
        return json.dumps(question.truth), json.dumps(not question.truth)
    if isinstance(question, ShortQuestion):
        return json.dumps(question.correct_answer()), json.dumps("no idea")
    assert isinstance(question, OrderingQuestion)
    n = len(question.items)
    return json.dumps(list(range(n))), json.dumps(list(range(n))[::-1])


def write_class(path: Path, course, students: int, now) -> None:
    chapter = course.chapter(CHAPTER)
    questions = chapter.questions
    keys = json.dumps([q.key for q in questions])
    pairs = [answers_for(q) for q in questions]
    rng = random.Random(7)
    difficulty = [rng.uniform(-1.5, 1.5) for _ in questions]
    at = iso(now)
    pages = {d: len(chapter.lesson.pages[d]) for d in ("shallow", "deep")}
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany("INSERT INTO users(id, platform, user_id, display_name, created_at) VALUES (?, 'bench', ?, ?, ?)",
                         ((i + 1, f"s{i}", f"Student {i}", at) for i in range(students)))
        conn.executemany("INSERT INTO memberships(user_pk, guild) VALUES (?, ?)", ((i + 1, f"bench:{GUILD}") for i in range(students)))
        conn.executemany("INSERT INTO activity_days(user_pk, day) VALUES (?, ?)",
                         ((i + 1, (now.date() - __import__("datetime").timedelta(days=d)).isoformat())
                          for i in range(students) for d in sorted(rng.sample(range(28), rng.randint(1, 6)))))
        conn.executemany("INSERT INTO pages_read(user_pk, chapter, depth, page, first_read_at) VALUES (?, ?, ?, ?, ?)",
                         ((i + 1, CHAPTER, depth, p, at) for i in range(students) for depth in ("shallow", "deep")
                          for p in range(1, rng.randint(0, pages[depth]) + 1)))
        attempt_rows, answer_rows, hint_rows = [], [], []
        attempt_id = 0
        for i in range(students):
            ability = rng.gauss(0, 1)
            for _ in range(ATTEMPTS):
                attempt_id += 1
                right = 0
                for position, (pair, b) in enumerate(zip(pairs, difficulty, strict=True)):
                    ok = rng.random() < 1 / (1 + math.exp(-1.2 * (ability - b)))
                    hinted = rng.random() < 0.1
                    right += ok
                    answer_rows.append((attempt_id, position, questions[position].key, pair[0] if ok else pair[1], int(ok), int(hinted), at))
                    if hinted:
                        hint_rows.append((attempt_id, position, at))
                attempt_rows.append((attempt_id, i + 1, CHAPTER, keys, len(questions), len(questions), right, at, at))
        conn.executemany("INSERT INTO quiz_attempts(id, user_pk, chapter, kind, seed, question_keys, questions, position, correct, status,"
                         " started_at, finished_at) VALUES (?, ?, ?, 'quiz', 1, ?, ?, ?, ?, 'finished', ?, ?)", attempt_rows)
        conn.executemany("INSERT INTO quiz_answers(attempt_id, position, question_key, answer, correct, hint_used, answered_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", answer_rows)
        conn.executemany("INSERT INTO quiz_hints(attempt_id, position, shown_at) VALUES (?, ?, ?)", hint_rows)
        # as the quiz stores them when an attempt finishes (quiz.finish_attempt)
        conn.executemany(RECORD_MASKS_SQL, ((attempt_id,) for attempt_id, *_ in attempt_rows))
    conn.close()


def floor_read(path: Path, best_ids: list[int]) -> float:
    """The bare SQL reading the rows `/course stats chapter 7` reads: seconds."""
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("SELECT t.user_pk, t.chapter, t.id, t.correct, t.question_keys, t.pruned_before FROM quiz_attempts t"
                 " JOIN memberships m ON m.user_pk = t.user_pk WHERE m.guild = ? AND t.kind = 'quiz' AND t.status = 'finished'",
                 (f"bench:{GUILD}",)).fetchall()
    for i in range(0, len(best_ids), 500):
        chunk = best_ids[i:i + 500]
        conn.execute(f"SELECT attempt_id, question_key, correct, hint_used FROM quiz_answers WHERE attempt_id IN ({','.join('?' * len(chunk))})",
                     chunk).fetchall()
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


class Drivers:
    """A live quiz answered every 5 ms by a new player, and a ticker measuring the loop's lag."""

    def __init__(self, core: Companion, session: int, value: str):
        self.core, self.session, self.value = core, session, value
        self.players = 0
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.running = False

    async def _answer(self, n: int) -> None:
        actor = Actor("bench", f"player{n}", f"Player {n}", "live-server", "live")
        start = time.perf_counter()
        reply = await self.core.handle_action(actor, f"live:{self.session}:0:a:{self.value}")
        self.latencies.append(time.perf_counter() - start)
        assert "recorded" in reply.text, reply.text

    async def _answers(self) -> None:
        tasks = []
        while self.running:
            self.players += 1
            tasks.append(asyncio.create_task(self._answer(self.players)))
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        while self.running:
            before = loop.time()
            await asyncio.sleep(0.005)
            self.lags.append(loop.time() - before - 0.005)

    async def during(self, work):
        self.latencies, self.lags, self.running = [], [], True
        drivers = [asyncio.create_task(self._answers()), asyncio.create_task(self._ticker())]
        try:
            return await work()
        finally:
            self.running = False
            await asyncio.gather(*drivers)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as folder:  # ~200 MB: gone when the run ends
        await run(args, Path(folder) / "analytics.db")


async def run(args: argparse.Namespace, path: Path) -> None:
    clock = ManualClock()
    store = await open_store(path)
    await store.close()
    started = time.perf_counter()
    core = await Companion.create(Settings(database=path, content_dir=DEFAULT_CONTENT_DIR, start_rate=None), clock=clock, fuzzing=False)
    await core.close()
    write_class(path, core.course, args.students, clock.now())
    print(f"wrote {args.students:,} students × {len(core.course.chapter(CHAPTER).questions)} questions × {ATTEMPTS} attempts"
          f" in {time.perf_counter() - started:.1f} s ({path})")

    core = await Companion.create(Settings(database=path, content_dir=DEFAULT_CONTENT_DIR, start_rate=None), clock=clock, fuzzing=False)
    teacher = Actor("bench", "teacher", "Teacher", GUILD, "staff", is_instructor=True)
    host = Actor("bench", "host", "Host", "live-server", "live", is_instructor=True)
    await core.live_start(host, CHAPTER, 30)
    session, seed, first = await core.store.read(lambda c: c.execute("SELECT id, seed, question_keys FROM live_sessions").fetchone())
    value = core.course.question(json.loads(first)[0]).typed_answer(seed)
    drivers = Drivers(core, session, value)
    question = core.course.chapter(CHAPTER).questions[3].id

    best_ids = await core.store.read(lambda c: [r[0] for r in c.execute(
        "SELECT MIN(id) FROM quiz_attempts t WHERE correct = (SELECT MAX(correct) FROM quiz_attempts u WHERE u.user_pk = t.user_pk)"
        " GROUP BY user_pk").fetchall()])
    commands = {
        "/course stats": lambda: core.course_stats(teacher),
        "/course stats chapter 7": lambda: core.course_stats(teacher, CHAPTER),
        f"/course question {question}": lambda: core.course_question(teacher, question),
        "/course export": lambda: core.course_export(teacher),
    }
    floors, times = [], {name: [] for name in commands}
    for call in commands.values():  # a warm-up round: matplotlib's first import (seconds on this machine) is not a command's cost
        await call()
    for _ in range(args.rounds):
        floors.append(floor_read(path, best_ids))
        for name, call in commands.items():
            start = time.perf_counter()
            reply = await call()
            times[name].append(time.perf_counter() - start)
            assert reply.kind != "error", reply.text
            assert reply.files, name
    floor = statistics.median(floors)
    print(f"\nfloor (bare SQL reading the same rows: {len(best_ids):,} best attempts' answers): {floor * 1000:.0f} ms")
    print(f"{'command':<40}{'median ms':>10}{'×floor':>9}   target < {TARGET_SECONDS:.0f} s")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40}{median * 1000:>10.0f}{median / floor:>9.2f}   {'PASS' if median < TARGET_SECONDS else 'MISS'}")

    async def quiet() -> None:
        await asyncio.sleep(2.0)

    async def busy() -> None:
        for call in commands.values():
            await call()

    await drivers.during(quiet)
    base_lat, base_lag = drivers.latencies, drivers.lags
    await drivers.during(busy)
    busy_lat, busy_lag = drivers.latencies, drivers.lags
    print("\nlive quiz in another channel, one answer every 5 ms (ms)      p50     p99     max   answers")
    for label, lat in (("no analytics", base_lat), ("during the four commands", busy_lat)):
        print(f"  answer latency, {label:<40}{pct(lat, 50) * 1000:>7.1f}{pct(lat, 99) * 1000:>8.1f}{max(lat) * 1000:>8.1f}{len(lat):>9}")
    for label, lag in (("no analytics", base_lag), ("during the four commands", busy_lag)):
        print(f"  event-loop lag, {label:<40}{pct(lag, 50) * 1000:>7.1f}{pct(lag, 99) * 1000:>8.1f}{max(lag) * 1000:>8.1f}")
    await core.close()


if __name__ == "__main__":
    asyncio.run(main())

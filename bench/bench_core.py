"""Core benchmark: our operations against the floor of a bare database transaction, in one run.

    python bench/bench_core.py                   # full run on SQLite (about a minute)
    python bench/bench_core.py --db postgresql   # the same on PostgreSQL (a private pgserver), its own floor
    python bench/bench_core.py --quick           # a short smoke run
    python bench/bench_core.py --strict          # exit 1 when a target is missed

The machine is shared and noisy, so every target is a ratio to the floor measured in the same
run. The floor is a bare aiosqlite transaction of a quiz answer's shape (read one row, insert
one, update two, commit), one `await` per statement, on its own database file with the same
settings. On PostgreSQL (`--db postgresql`) the floor is a bare psycopg transaction of the same
shape (async, READ COMMITTED, from a pool of as many connections as the store's), on its own
database on the same server: PostgreSQL's defaults, fsync and synchronous commit on.
Our operations go through the Companion facade on a fresh database:
lesson page, solo quiz answer, progress view, live quiz answer.

Start-up (target < 1 s) is the content load and the store's opening with the migrations of a
fresh database, printed in those three parts, and beside it a restart on the migrated database.

(a) one user at a time: p50/p99 latency;
(b) open loop: Poisson arrivals at 100, 1,000 and 2,000 per second: p50/p99 from arrival to reply;
(c) saturation: 200 users in a closed loop with no pause: operations per second (latency there is
    only 200 ÷ throughput, Little's law, so it is not reported).
(d) SQLite only: the write-ahead log: the largest size of the companion's WAL file over the whole
    run (sampled every 2 ms), against the store's bound (`SQLiteStore.WAL_LIMIT_BYTES`, `wal_bound`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.companion import Companion  # noqa: E402
from bot.core.config import load_settings  # noqa: E402
from bot.core.content import load_course  # noqa: E402
from bot.core.sqlite_store import SQLiteStore  # noqa: E402
from bot.core.engines import open_store  # noqa: E402
from bot.core.users import Actor  # noqa: E402

CHAPTER = 7
Op = Callable[[], Awaitable[None]]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Floor:
    """A bare aiosqlite transaction shaped like a quiz answer."""

    def __init__(self, path: str):
        self.path = path
        self.lock = asyncio.Lock()  # one connection: transactions must not interleave
        self.n = itertools.count()

    async def open(self) -> None:
        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            await self.db.execute(f"PRAGMA {pragma}")
        await self.db.executescript(
            "CREATE TABLE attempt (id INTEGER PRIMARY KEY, position INTEGER, correct INTEGER);"
            "CREATE TABLE answer (attempt INTEGER, position INTEGER, value TEXT, PRIMARY KEY (attempt, position));"
            "CREATE TABLE card (id INTEGER PRIMARY KEY, reviews INTEGER);"
        )
        await self.db.executemany("INSERT INTO attempt VALUES (?, 0, 0)", [(i,) for i in range(1000)])
        await self.db.executemany("INSERT INTO card VALUES (?, 0)", [(i,) for i in range(1000)])

    async def op(self) -> None:
        i = next(self.n)
        row_id = i % 1000
        async with self.lock:
            await self.db.execute("BEGIN IMMEDIATE")
            cursor = await self.db.execute("SELECT position, correct FROM attempt WHERE id = ?", (row_id,))
            await cursor.fetchone()
            await self.db.execute("INSERT INTO answer VALUES (?, ?, ?)", (row_id, i, "B"))
            await self.db.execute("UPDATE attempt SET position = position + 1, correct = correct + 1 WHERE id = ?", (row_id,))
            await self.db.execute("UPDATE card SET reviews = reviews + 1 WHERE id = ?", (row_id,))
            await self.db.execute("COMMIT")

    async def close(self) -> None:
        await self.db.close()


class PostgresFloor:
    """A bare psycopg transaction shaped like a quiz answer, from a pool as large as the store's."""

    def __init__(self, url: str):
        self.url = url
        self.n = itertools.count()

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        from bot.core.postgres_store import PostgresStore

        self.pool = AsyncConnectionPool(self.url, min_size=PostgresStore.POOL_SIZE, max_size=PostgresStore.POOL_SIZE,
                                        kwargs={"autocommit": True}, open=False, timeout=3600)  # an open loop queues here
        await self.pool.open(wait=True)
        async with self.pool.connection() as db:
            await db.execute("CREATE TABLE attempt (id BIGINT PRIMARY KEY, position BIGINT, correct BIGINT);"
                             "CREATE TABLE answer (attempt BIGINT, position BIGINT, value TEXT, PRIMARY KEY (attempt, position));"
                             "CREATE TABLE card (id BIGINT PRIMARY KEY, reviews BIGINT)")
            await db.execute("INSERT INTO attempt SELECT i, 0, 0 FROM generate_series(0, 999) AS i")
            await db.execute("INSERT INTO card SELECT i, 0 FROM generate_series(0, 999) AS i")

    async def op(self) -> None:
        i = next(self.n)
        row_id = i % 1000
        async with self.pool.connection() as db:
            await db.execute("BEGIN")
            await (await db.execute("SELECT position, correct FROM attempt WHERE id = %s", (row_id,))).fetchone()
            await db.execute("INSERT INTO answer VALUES (%s, %s, %s)", (row_id, i, "B"))
            await db.execute("UPDATE attempt SET position = position + 1, correct = correct + 1 WHERE id = %s", (row_id,))
            await db.execute("UPDATE card SET reviews = reviews + 1 WHERE id = %s", (row_id,))
            await db.execute("COMMIT")

    async def close(self) -> None:
        await self.pool.close()


def private_postgres(folder: Path) -> tuple[Any, str, str]:
    """A PostgreSQL server of this run's own (pgserver), with a database for us and one for the floor."""
    import pgserver
    import psycopg

    server = pgserver.get_server(folder / "postgres", cleanup_mode="stop")
    uri = server.get_uri()
    with psycopg.connect(uri, autocommit=True) as admin:
        for name in ("companion", "floor"):
            admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    return server, uri.replace("/postgres?", "/companion?", 1), uri.replace("/postgres?", "/floor?", 1)


class Workload:
    """Our four operations, each on its own pool of simulated users."""

    def __init__(self, core: Companion):
        self.core = core
        self.pages = len(core.course.chapter(CHAPTER).lesson.pages["deep"])
        self.readers = itertools.cycle([Actor("bench", f"reader{i}", f"Reader {i}", "guild", "c0") for i in range(200)])
        self.page_no = itertools.count()
        self.viewers = itertools.cycle([Actor("bench", f"reader{i}", f"Reader {i}", "guild", "c0") for i in range(200)])
        self.free_students: asyncio.Queue = asyncio.Queue()
        self.live_users = itertools.count()
        self.sessions: list[tuple[int, str, str]] = []  # (id, channel, right answer to its open question)

    async def prepare(self, students: int = 400, channels: int = 4) -> None:
        for i in range(students):
            actor = Actor("bench", f"student{i}", f"Student {i}", "guild", "c0")
            self.free_students.put_nowait((actor, await self._start_attempt(actor)))
        for c in range(channels):
            host = Actor("bench", f"host{c}", f"Host {c}", "guild", f"live{c}", is_instructor=True)
            await self.core.live_start(host, CHAPTER, 50)
        rows = await self.core.store.run(lambda conn: conn.execute("SELECT id, channel, seed, question_keys FROM live_sessions").fetchall())
        self.sessions = [(r[0], r[1], self.core.course.question(json.loads(r[3])[0]).typed_answer(r[2])) for r in rows]

    async def _start_attempt(self, actor: Actor) -> dict:
        await self.core.quiz(actor, CHAPTER, 50)
        row = await self.core.store.run(lambda conn: conn.execute(
            "SELECT t.id, t.seed, t.question_keys FROM quiz_attempts t JOIN users u ON u.id = t.user_pk"
            " WHERE u.user_id = ? AND t.status = 'open'", (actor.user_id,)).fetchone())
        return {"id": row[0], "seed": row[1], "keys": json.loads(row[2]), "pos": 0}

    async def lesson(self) -> None:
        await self.core.lesson(next(self.readers), CHAPTER, "deep", next(self.page_no) % self.pages + 1)

    async def progress(self) -> None:
        await self.core.progress(next(self.viewers))

    async def quiz_answer(self) -> None:
        actor, attempt = await self.free_students.get()
        question = self.core.course.question(attempt["keys"][attempt["pos"]])
        action = f"quiz:{attempt['id']}:{attempt['pos']}:a:{question.typed_answer(attempt['seed'])}"
        reply = await self.core.handle_action(actor, action)
        assert "Correct" in reply.text, reply.text
        attempt["pos"] += 1
        if attempt["pos"] == len(attempt["keys"]):
            attempt = await self._start_attempt(actor)  # not part of an answer's latency, but of the load
        self.free_students.put_nowait((actor, attempt))

    async def live_answer(self) -> None:
        n = next(self.live_users)
        session_id, channel, value = self.sessions[n % len(self.sessions)]
        actor = Actor("bench", f"player{n}", f"Player {n}", "guild", channel)
        reply = await self.core.handle_action(actor, f"live:{session_id}:0:a:{value}")
        assert "recorded" in reply.text, reply.text


async def sequential(op: Op, n: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        await op()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await op()
        times.append(time.perf_counter() - start)
    return pct(times, 50) * 1000, pct(times, 99) * 1000


async def open_loop(op: Op, rate: float, seconds: float) -> tuple[float, float, int, int]:
    loop = asyncio.get_running_loop()
    rng = random.Random(rate)
    latencies: list[float] = []
    tasks = []

    async def one(arrival: float) -> None:
        await op()
        latencies.append(loop.time() - arrival)

    start = loop.time() + 0.01
    at = start
    scheduled = 0
    while True:
        at += rng.expovariate(rate)
        if at - start > seconds:
            break
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(at)))
        scheduled += 1
    await asyncio.gather(*tasks)
    return pct(latencies, 50) * 1000, pct(latencies, 99) * 1000, scheduled, len(latencies)


async def closed_loop(op: Op, users: int, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    done = 0
    stop = loop.time() + seconds

    async def worker() -> None:
        nonlocal done
        while loop.time() < stop:
            await op()
            done += 1

    start = loop.time()
    await asyncio.gather(*[worker() for _ in range(users)])
    return done / (loop.time() - start)


class WalWatch:
    """Samples the size of the WAL file every 2 ms in the background; remembers the largest."""

    def __init__(self, path: str):
        self.path, self.largest, self.last = path, 0, 0
        self._task = asyncio.ensure_future(self._run())

    def _size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    async def _run(self) -> None:
        while True:
            self.last = self._size()
            self.largest = max(self.largest, self.last)
            await asyncio.sleep(0.002)

    async def stop(self) -> None:
        self.last = self._size()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="the database engine (default: sqlite)")
    args = parser.parse_args()
    n, warmup, seconds = (300, 50, 1.0) if args.quick else (2000, 200, 3.0)
    rates = (100, 1000, 2000)

    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    folder = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    server = None
    floor: Floor | PostgresFloor
    if args.db == "postgresql":
        server, database, floor_url = private_postgres(folder)
        floor = PostgresFloor(floor_url)
    else:
        database = str(folder / "companion.db")
        floor = Floor(str(folder / "floor.db"))
    env = {**os.environ, "COMPANION_DB": database, "COMPANION_LIVE_QUESTION_SECONDS": "600",
           "COMPANION_RATE_LIMIT": "0", "COMPANION_CHAT_RATE_LIMIT": "0"}  # a load generator is not a person: no rate limits
    settings = load_settings(env, dotenv=False)

    # Start-up as `Companion.create` does it (content, then the store), in its three parts: the
    # content load; opening the store (importing the engine, opening the connection or pool);
    # the migrations of a fresh database. Then a restart on the migrated database (what a
    # replica usually pays: the migrations only checked).
    started = time.perf_counter()
    course = load_course(settings.content_dir)
    loaded = time.perf_counter()
    store = await open_store(settings.database, migrate=False)
    opened = time.perf_counter()
    await store.migrate()
    startup_ms = (time.perf_counter() - started) * 1000
    parts_ms = ((loaded - started) * 1000, (opened - loaded) * 1000, (time.perf_counter() - opened) * 1000)
    await store.close()
    restarted = time.perf_counter()
    course = load_course(settings.content_dir)
    store = await open_store(settings.database)
    restart_ms = (time.perf_counter() - restarted) * 1000
    core = Companion(course, store, settings)

    await floor.open()
    work = Workload(core)
    await work.prepare()
    floor_name = "floor (bare psycopg tx)" if args.db == "postgresql" else "floor (bare aiosqlite tx)"
    ops: dict[str, Op] = {floor_name: floor.op, "lesson page": work.lesson, "quiz answer": work.quiz_answer,
                          "progress view": work.progress, "live answer": work.live_answer}

    results: dict[str, dict] = {name: {} for name in ops}
    wal = WalWatch(f"{settings.database}-wal") if args.db == "sqlite" else None
    for name, op in ops.items():
        results[name]["one"] = await sequential(op, n, warmup)
    for rate in rates:
        for name, op in ops.items():
            results[name][rate] = await open_loop(op, rate, seconds)
    for name, op in ops.items():
        results[name]["sat"] = await closed_loop(op, 200, seconds)
    if wal is not None:
        await wal.stop()
    await store.close()
    await floor.close()
    if server is not None:
        server.cleanup()

    base = results[floor_name]
    missed = []
    print(f"Course Companion core benchmark on {args.db} — {'quick' if args.quick else 'full'} run, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end")
    print(f"start-up (content load + migrations on a fresh database): {startup_ms:.0f} ms  [target < 1000 ms: {'PASS' if startup_ms < 1000 else 'FAIL'}]")
    print(f"  content {parts_ms[0]:.0f} ms, opening the store {parts_ms[1]:.0f} ms, migrations {parts_ms[2]:.0f} ms;"
          f" a restart on the migrated database: {restart_ms:.0f} ms")
    if startup_ms >= 1000:
        missed.append("start-up")
    print()
    print("(a) one user at a time, ms            p50      p99    ×floor p50  ×floor p99")
    for name, r in results.items():
        p50, p99 = r["one"]
        ratio = (p50 / base["one"][0], p99 / base["one"][1])
        verdict = "" if name == floor_name else ("PASS" if max(ratio) <= 2 else "FAIL")
        if verdict == "FAIL":
            missed.append(f"{name} at one user")
        print(f"  {name:<30} {p50:8.3f} {p99:8.3f}   {ratio[0]:8.2f}   {ratio[1]:8.2f}  {verdict}")
    print()
    print("(b) open loop, Poisson arrivals: ms from arrival to reply (p50 / p99), completed/scheduled")
    for rate in rates:
        print(f"  {rate}/s")
        for name, r in results.items():
            p50, p99, scheduled, completed = r[rate]
            ratio = p99 / base[rate][1]
            verdict = ""
            if rate == 1000 and name != floor_name:
                verdict = "PASS" if ratio <= 2 else "FAIL"
                if verdict == "FAIL":
                    missed.append(f"{name} at 1000/s")
            print(f"    {name:<28} {p50:8.2f} {p99:8.2f}  ×floor p99 {ratio:6.2f}  {completed}/{scheduled}  {verdict}")
    print()
    print("(c) saturation: 200 users, closed loop, no pause (latency = 200 ÷ throughput by Little's law)")
    for name, r in results.items():
        ratio = r["sat"] / base["sat"]
        verdict = "" if name == floor_name else ("PASS" if ratio >= 0.5 else "FAIL")
        if verdict == "FAIL":
            missed.append(f"{name} at saturation")
        print(f"  {name:<30} {r['sat']:8.0f} ops/s   ×floor {ratio:5.2f}  {verdict}")
    if wal is not None:
        print()
        print("(d) write-ahead log over the whole run (every write above, sustained for the open loops and saturation)")
        limit = SQLiteStore.WAL_LIMIT_BYTES
        bound = SQLiteStore.wal_bound(limit)
        print(f"  largest WAL file: {wal.largest / 2**20:.1f} MiB"
              f"  (limit {limit / 2**20:.0f} MiB, bound {bound / 2**20:.0f} MiB: {'PASS' if wal.largest <= bound else 'FAIL'})")
        print(f"  WAL at the end of the run: {wal.last / 2**20:.1f} MiB; database file: {os.path.getsize(settings.database) / 2**20:.1f} MiB")
        if wal.largest > bound:
            missed.append("WAL bound")
    print()
    print("targets: one user p50 and p99 ≤ 2× floor; at 1000/s p99 ≤ 2× floor's p99; saturated throughput ≥ ½ floor's; start-up < 1 s")
    print("all targets met" if not missed else "missed: " + "; ".join(missed))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

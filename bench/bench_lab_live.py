"""Live lab benchmark: a vote's latency against the floor of a bare aiosqlite transaction, in one run.

    python bench/bench_lab_live.py            # full run
    python bench/bench_lab_live.py --quick    # a short smoke run

A live lab vote is a live quiz answer whose round comes from the lab (bot/core/lab/live_lab.py):
one transaction records the vote (once per person and round) and the preference pair it yields.
It is measured through the Companion facade (`handle_action` with the vote's button id), beside
the live quiz's own answer for comparison, against the same floor as `bench/bench_core.py` (a
bare aiosqlite transaction of an answer's shape) measured in the same run, since the machine is
shared and absolute times move from run to run:

(a) one voter at a time: p50/p99 latency (target ≤ 2× the floor's);
(b) open loop, Poisson arrivals at 1,000 votes per second: p99 from arrival to reply (≤ 2× floor's p99);
(c) saturation, 200 voters in a closed loop: votes per second (≥ ½ the floor's transactions per second).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import Floor, Op, closed_loop, open_loop, sequential  # noqa: E402

from bot.core.companion import Companion  # noqa: E402
from bot.core.config import load_settings  # noqa: E402
from bot.core.content import load_course  # noqa: E402
from bot.core.engines import open_store  # noqa: E402
from bot.core.users import Actor  # noqa: E402

CHANNELS = 4


class Votes:
    """Votes on the open round of a live lab in each of `CHANNELS` channels, and live quiz answers
    for comparison; every voter is new, so each vote is recorded (one per person and round)."""

    def __init__(self, core: Companion):
        self.core = core
        self.voters = itertools.count()
        self.labs: list[tuple[int, str]] = []
        self.quizzes: list[tuple[int, str, str]] = []

    async def prepare(self) -> None:
        for c in range(CHANNELS):
            await self.core.lab_live(Actor("bench", f"host{c}", f"Host {c}", "guild", f"lab{c}", is_instructor=True), 5)
            await self.core.live_start(Actor("bench", f"qhost{c}", f"Host {c}", "guild", f"quiz{c}", is_instructor=True), 7, 50)
        rows = await self.core.store.run(lambda conn: conn.execute("SELECT id, channel, source, seed, question_keys FROM live_sessions").fetchall())
        self.labs = [(r[0], r[1]) for r in rows if r[2] == "lab"]
        self.quizzes = [(r[0], r[1], self.core.course.question(json.loads(r[4])[0]).typed_answer(r[3])) for r in rows if r[2] == "quiz"]

    async def vote(self) -> None:
        n = next(self.voters)
        session_id, channel = self.labs[n % len(self.labs)]
        reply = await self.core.handle_action(Actor("bench", f"voter{n}", f"Voter {n}", "guild", channel), f"live:{session_id}:0:a:{'AB'[n % 2]}")
        assert "Vote recorded" in reply.text, reply.text

    async def quiz_answer(self) -> None:
        n = next(self.voters)
        session_id, channel, value = self.quizzes[n % len(self.quizzes)]
        reply = await self.core.handle_action(Actor("bench", f"player{n}", f"Player {n}", "guild", channel), f"live:{session_id}:0:a:{value}")
        assert "recorded" in reply.text, reply.text


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    n, warmup, seconds = (300, 50, 1.0) if args.quick else (2000, 200, 3.0)

    folder = Path(tempfile.mkdtemp(prefix="companion-bench-lab-"))
    env = {**os.environ, "COMPANION_DB": str(folder / "companion.db"), "COMPANION_LIVE_QUESTION_SECONDS": "600",
           "COMPANION_RATE_LIMIT": "0", "COMPANION_CHAT_RATE_LIMIT": "0"}  # a load generator is not a person: no rate limits
    settings = load_settings(env, dotenv=False)
    store = await open_store(settings.database)
    core = Companion(load_course(settings.content_dir), store, settings)
    floor = Floor(str(folder / "floor.db"))
    await floor.open()
    votes = Votes(core)
    await votes.prepare()
    ops: dict[str, Op] = {"floor (bare aiosqlite tx)": floor.op, "live lab vote": votes.vote, "live quiz answer": votes.quiz_answer}
    results: dict[str, dict] = {name: {} for name in ops}
    for name, op in ops.items():
        results[name]["one"] = await sequential(op, n, warmup)
    for name, op in ops.items():
        results[name]["open"] = await open_loop(op, 1000, seconds)
    for name, op in ops.items():
        results[name]["sat"] = await closed_loop(op, 200, seconds)
    recorded = await store.read(lambda conn: conn.execute(
        "SELECT (SELECT COUNT(*) FROM live_answers a JOIN live_sessions s ON s.id = a.session_id WHERE s.source = 'lab'),"
        " (SELECT COUNT(*) FROM lab_pairs)").fetchone())
    await store.close()
    await floor.db.close()

    floor_name = next(iter(ops))
    base = results[floor_name]
    missed = []
    print(f"Live lab vote benchmark — {'quick' if args.quick else 'full'} run, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print("(a) one voter at a time, ms          p50      p99    ×floor p50  ×floor p99")
    for name, r in results.items():
        p50, p99 = r["one"]
        ratio = (p50 / base["one"][0], p99 / base["one"][1])
        verdict = "" if name == floor_name else ("PASS" if max(ratio) <= 2 else "FAIL")
        if verdict == "FAIL" and name == "live lab vote":
            missed.append("vote at one voter")
        print(f"  {name:<30} {p50:8.3f} {p99:8.3f}   {ratio[0]:8.2f}   {ratio[1]:8.2f}  {verdict}")
    print("(b) open loop, Poisson arrivals at 1000/s: ms from arrival to reply (p50 / p99), completed/scheduled")
    for name, r in results.items():
        p50, p99, scheduled, completed = r["open"]
        ratio = p99 / base["open"][1]
        verdict = "" if name == floor_name else ("PASS" if ratio <= 2 else "FAIL")
        if verdict == "FAIL" and name == "live lab vote":
            missed.append("vote at 1000/s")
        print(f"  {name:<30} {p50:8.2f} {p99:8.2f}  ×floor p99 {ratio:6.2f}  {completed}/{scheduled}  {verdict}")
    print("(c) saturation: 200 voters, closed loop, no pause")
    for name, r in results.items():
        ratio = r["sat"] / base["sat"]
        verdict = "" if name == floor_name else ("PASS" if ratio >= 0.5 else "FAIL")
        if verdict == "FAIL" and name == "live lab vote":
            missed.append("votes at saturation")
        print(f"  {name:<30} {r['sat']:8.0f} ops/s   ×floor {ratio:5.2f}  {verdict}")
    print(f"votes recorded: {recorded[0]}, preference pairs: {recorded[1]} (one pair per vote: {'PASS' if recorded[0] == recorded[1] else 'FAIL'})")
    if recorded[0] != recorded[1]:
        missed.append("one pair per vote")
    print("targets (the vote): one voter p50 and p99 ≤ 2× floor; at 1000/s p99 ≤ 2× floor's; saturated throughput ≥ ½ floor's")
    print("all targets met" if not missed else "missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

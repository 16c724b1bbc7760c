"""Assistant benchmark: reply latency over every evaluation set's turns, and the start-up build time.

    python bench/bench_assistant.py           # 5 rounds over the evaluation set
    python bench/bench_assistant.py --quick   # 1 round

Targets: the simulated assistant's reply p99 under 20 ms (through the companion, history read
and write included); building the base model and the retrieval index at start-up under 1 s.
Also shown: the skill alone (no database), and /compare, which runs both models.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.assistant.engine import Assistant  # noqa: E402
from bot.core.assistant.evaluation import load_cases  # noqa: E402
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.companion import Companion  # noqa: E402
from bot.core.config import DEFAULT_CONTENT_DIR, Settings  # noqa: E402
from bot.core.users import Actor  # noqa: E402

#: Every evaluation set: the development set, the held-out one and the understanding set (issue 14).
EVAL_SETS = sorted((ROOT / "tests").glob("assistant_eval*.yaml"))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def row(name: str, values: list[float], target: float | None = None) -> str:
    p50, p99 = pct(values, 50) * 1000, pct(values, 99) * 1000
    verdict = "" if target is None else ("  PASS" if p99 < target else "  FAIL")
    return f"  {name:<34}{p50:>9.2f}{p99:>9.2f}{max(values) * 1000:>9.2f}{len(values):>8}{verdict}"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else 5
    cases = [case for path in EVAL_SETS for case in load_cases(path)]
    with tempfile.TemporaryDirectory() as folder:
        core = await Companion.create(Settings(database=Path(folder) / "bench.db", content_dir=DEFAULT_CONTENT_DIR), clock=ManualClock())
        try:
            builds = []
            for _ in range(3 if args.quick else 7):
                started = time.perf_counter()
                Assistant.build(core.ctx)
                builds.append(time.perf_counter() - started)
            engine = core.assistant
            replies, skills, compares = [], [], []
            for r in range(rounds):
                for n, case in enumerate(cases):
                    actor = Actor("bench", f"r{r}-c{n}", "bench")
                    for turn in case["turns"]:
                        started = time.perf_counter()
                        await core.chat(actor, turn["say"])
                        replies.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        engine.simulated.answer(turn["say"])
                        skills.append(time.perf_counter() - started)
                    if n % 4 == 0:
                        started = time.perf_counter()
                        await core.compare(actor, case["turns"][0]["say"])
                        compares.append(time.perf_counter() - started)
        finally:
            await core.close()
    build_ms = sorted(builds)[len(builds) // 2] * 1000
    print(f"Assistant benchmark — {'quick' if args.quick else 'full'} run, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"start-up build (index + phrasebook + facts + base model), median of {len(builds)}: {build_ms:.0f} ms"
          f"  [target < 1000 ms: {'PASS' if build_ms < 1000 else 'FAIL'}]")
    print(f"base model: {engine.base.tokens:,} training tokens, {len(engine.base.counts):,} contexts")
    print(f"\n  {'ms':<34}{'p50':>9}{'p99':>9}{'max':>9}{'n':>8}")
    print(row("reply via the companion (with db)", replies, 20.0))
    print(row("the skill alone (no db)", skills))
    print(row("/compare (both models)", compares))
    ok = pct(replies, 99) * 1000 < 20 and build_ms < 1000
    print(f"\ntargets: reply p99 < 20 ms and build < 1 s: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

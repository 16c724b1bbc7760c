"""The assistant's evaluation: pass rate per category over `tests/assistant_eval.yaml`.

    python bench/eval_assistant.py             # the table
    python bench/eval_assistant.py --failures  # and what each failing case said
    python bench/eval_assistant.py --cases tests/assistant_eval_understanding.yaml

Also reported: the wrong answers that cite a source (a failed turn whose reply cites a lesson
section), per category and overall, as a share of the judged turns.

Targets: 95% overall, no category under 85%. Every case runs through the real companion on a
fresh SQLite file, as a fresh user, so multi-turn cases exercise the stored history.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.assistant.evaluation import (  # noqa: E402
    TARGET_CATEGORY,
    TARGET_OVERALL,
    load_cases,
    run_eval,
)
from bot.core.clock import ManualClock  # noqa: E402
from bot.core.companion import Companion  # noqa: E402
from bot.core.config import DEFAULT_CONTENT_DIR, Settings  # noqa: E402

EVAL_SET = ROOT / "tests" / "assistant_eval.yaml"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="show each failing case")
    parser.add_argument("--cases", type=Path, default=EVAL_SET)
    args = parser.parse_args()
    cases = load_cases(args.cases)
    with tempfile.TemporaryDirectory() as folder:
        core = await Companion.create(Settings(database=Path(folder) / "eval.db", content_dir=DEFAULT_CONTENT_DIR), clock=ManualClock())
        try:
            report = await run_eval(core, cases)
        finally:
            await core.close()
    print(f"Assistant evaluation: {len(cases)} cases from {args.cases.name}")
    print(report.table())
    verdict = "PASS" if report.meets_targets else "FAIL"
    print(f"targets: overall >= {TARGET_OVERALL:.0%}, every category >= {TARGET_CATEGORY:.0%}: {verdict}")
    if args.failures:
        for result in report.results:
            for failure in result.failures:
                print(f"- [{result.category}] {result.id}{' (cites a source)' if result.wrong_cited else ''}: {failure}")
    return 0 if report.meets_targets else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

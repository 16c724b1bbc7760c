"""The assistant meets its quality targets on the evaluation sets: 95% overall, no category under 85%.

`assistant_eval.yaml` is the development set; `assistant_eval_holdout.yaml` was written later, by
someone who had not seen the engine or the development set, to check that behaviour generalises
to phrasings nobody tuned for. Its first, blind run passed 55 of 60; the five misses were fixed by
general changes (spelt-out numbers, "divide X by Y", "Portuguese for X.", the harm check before
courtesy is stripped, words the course never uses next to a known term), so it is no longer
blind: a new held-out set is the honest check after further work.
`assistant_eval_understanding.yaml` (issue 14) is a development set with one category per intent
(define, purpose, why, how, difference, list, example, simpler, where, multipart, other_chapter,
not_in_course, followup); it is held to the same targets.
`python bench/eval_assistant.py --failures` shows what each case said.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.assistant.evaluation import (
    TARGET_CATEGORY,
    TARGET_OVERALL,
    check,
    load_cases,
    run_eval,
)
from bot.core.clock import ManualClock
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings

HERE = Path(__file__).parent
SETS = sorted(HERE.glob("assistant_eval*.yaml"))
CATEGORIES = {"identity", "translation", "facts", "course", "summarise", "list", "rewrite", "arithmetic", "followup",
              "refusal", "unknown"}


def test_the_development_set_is_big_and_covers_every_category():
    cases = load_cases(HERE / "assistant_eval.yaml")
    assert len(cases) >= 80
    assert {c["category"] for c in cases} == CATEGORIES
    assert sum(len(c["turns"]) > 1 for c in cases) >= 8  # multi-turn cases
    assert len({c["id"] for c in cases}) == len(cases)


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
async def test_the_assistant_meets_its_targets(tmp_path, path):
    core = await Companion.create(Settings(database=tmp_path / "eval.db", content_dir=DEFAULT_CONTENT_DIR), clock=ManualClock())
    try:
        report = await run_eval(core, load_cases(path))
    finally:
        await core.close()
    failures = "\n".join(f"[{r.category}] {r.id}: {f}" for r in report.results for f in r.failures)
    assert report.overall >= TARGET_OVERALL, f"{report.table()}\n{failures}"
    for category, (passed, total) in report.by_category().items():
        assert passed / total >= TARGET_CATEGORY, f"{category}: {passed}/{total}\n{report.table()}\n{failures}"


def test_the_judge_is_strict():
    assert check("The capital of France is Paris.", {"contains": ["paris"]}) == []
    assert check("Paris", {"contains": ["Paris", "France"]}) == ["missing 'France'"]
    assert check("Hola", {"any_of": ["Buenos días"]})
    assert check("I can't help with that.", {"refuses": True})  # no harmlessness reason: not a refusal as trained
    assert check("Lyon, probably.", {"admits_unknown": True})
    assert check("See Chapter 7 › *The Alignment Tax*", {"cites": "Why RLHF Matters"})
    assert check("📖 Chapter 7 › *Congratulations! 🎉*", {"cites": "Congratulations!"}) == []

"""Judging the assistant against an evaluation set (`tests/assistant_eval.yaml`).

Each case is one or more turns said by a fresh user through the real companion (real SQLite,
history and follow-ups included); a turn's `expect` names the behaviour the reply must show:
`contains` (all of), `any_of`, `not_contains`, `refuses` (a refusal that names harmlessness),
`admits_unknown` (says it does not know) and `cites` (names the chapter and that lesson
section). Matching ignores case, accents, emoji and Markdown emphasis. Used by the pytest
that holds the targets and by `bench/eval_assistant.py`, which prints the figures.

Besides the pass rate per category, a report counts the **wrong answers that cite a source**: a
judged turn that fails while its reply cites a lesson section. That is the worst outcome (a wrong
passage presented as the answer, with the authority of a citation), so it is reported on its own:
a reply that says less and fails is a smaller harm than one that is confidently wrong.
"""

from __future__ import annotations

import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from .. import actions
from ..lessons import heading_key
from ..replies import Reply
from ..users import Actor

TARGET_OVERALL = 0.95
TARGET_CATEGORY = 0.85
_KEYS = {"contains", "any_of", "not_contains", "refuses", "admits_unknown", "cites"}


@dataclass
class CaseResult:
    id: str
    category: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # per turn, assistant reply latency
    judged: int = 0  # turns with an expectation
    wrong_cited: int = 0  # of those, failed while citing a lesson section


@dataclass
class Report:
    results: list[CaseResult]

    @property
    def overall(self) -> float:
        return sum(r.passed for r in self.results) / max(len(self.results), 1)

    def by_category(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in self.results:
            out[r.category][0] += r.passed
            out[r.category][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    @property
    def judged_turns(self) -> int:
        return sum(r.judged for r in self.results)

    @property
    def wrong_cited(self) -> int:
        return sum(r.wrong_cited for r in self.results)

    @property
    def wrong_cited_rate(self) -> float:
        """The share of judged turns answered wrongly *with* a citation of the lesson."""
        return self.wrong_cited / max(self.judged_turns, 1)

    @property
    def meets_targets(self) -> bool:
        return self.overall >= TARGET_OVERALL and all(p / n >= TARGET_CATEGORY for p, n in self.by_category().values())

    def table(self) -> str:
        lines = [f"{'category':<14}{'passed':>8}{'cases':>7}{'rate':>8}{'wrong+cited':>13}"]
        cited: dict[str, int] = defaultdict(int)
        for r in self.results:
            cited[r.category] += r.wrong_cited
        for category, (passed, total) in self.by_category().items():
            mark = "" if passed / total >= TARGET_CATEGORY else "  below target"
            lines.append(f"{category:<14}{passed:>8}{total:>7}{passed / total:>8.0%}{cited[category]:>13}{mark}")
        passed = sum(r.passed for r in self.results)
        lines.append(f"{'overall':<14}{passed:>8}{len(self.results):>7}{self.overall:>8.0%}{self.wrong_cited:>13}")
        lines.append(f"wrong answers that cite a source: {self.wrong_cited} of {self.judged_turns} judged turns "
                     f"({self.wrong_cited_rate:.1%})")
        return "\n".join(lines)


def load_cases(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = data["cases"] if isinstance(data, dict) else data
    for case in cases:
        for turn in case["turns"]:
            unknown = set(turn.get("expect") or {}) - _KEYS
            if unknown:
                raise ValueError(f"case {case['id']}: unknown expectation {sorted(unknown)}")
    return cases


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    for mark in ("**", "__", "`"):
        text = text.replace(mark, "")
    text = text.replace("’", "'").replace("“", '"').replace("”", '"').replace("\u200b", "")
    return " ".join(text.casefold().split())


def check(reply: str, expect: dict[str, Any]) -> list[str]:
    """What the reply fails of the expectation (empty: it passes)."""
    text = _plain(reply)
    failures = []
    for want in expect.get("contains", []) or []:
        if _plain(str(want)) not in text:
            failures.append(f"missing {want!r}")
    options = expect.get("any_of") or []
    if options and not any(_plain(str(o)) in text for o in options):
        failures.append(f"none of {options!r}")
    for unwanted in expect.get("not_contains", []) or []:
        if _plain(str(unwanted)) in text:
            failures.append(f"contains {unwanted!r}")
    if expect.get("refuses") and not ("harmless" in text and any(w in text for w in ("can't", "cannot", "won't", "not able"))):
        failures.append("does not refuse with the harmlessness reason")
    if expect.get("refuses") is False and "harmless" in text:
        failures.append("refuses")
    if expect.get("admits_unknown") and not any(p in text for p in ("don't know", "do not know", "not sure")):
        failures.append("does not admit it doesn't know")
    section = expect.get("cites")
    if section:
        if "chapter" not in text:
            failures.append("no chapter cited")
        if heading_key(section) not in heading_key(reply):
            failures.append(f"does not cite section {section!r}")
    return failures


def cites_lesson(reply: Any) -> bool:
    """The reply presents a lesson section as its source (the citation line or a button to it)."""
    return any(_opens_lesson(b.action) for b in getattr(reply, "buttons", []) or []) or "📖 Source:" in reply.text


def _opens_lesson(action_id: object) -> bool:
    try:
        return isinstance(actions.parse(action_id), (actions.LessonPage, actions.LessonNear))
    except actions.InvalidAction:
        return False


class Chats(Protocol):
    """What the evaluation talks to: the companion's whole chat path (cleaning, limits, engine)."""

    async def chat(self, actor: Actor, message: str) -> Reply: ...


async def run_eval(companion: Chats, cases: list[dict[str, Any]]) -> Report:
    results = []
    for n, case in enumerate(cases):
        actor = Actor("eval", f"case-{n}", f"eval {case['id']}")
        result = CaseResult(case["id"], case["category"], True)
        for turn in case["turns"]:
            started = time.perf_counter()
            reply = await companion.chat(actor, turn["say"])
            result.seconds.append(time.perf_counter() - started)
            expect = turn.get("expect") or {}
            failures = check(reply.text, expect)
            result.judged += bool(expect)
            if failures and cites_lesson(reply):
                result.wrong_cited += 1
            if failures:
                result.passed = False
                result.failures.append(f"{turn['say']!r} → {reply.text[:160]!r}: {'; '.join(failures)}")
        results.append(result)
    return Report(results)

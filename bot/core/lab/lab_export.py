"""`/lab export`: the class's data in the formats the ecosystem trains on, for its instructor.

Two JSON Lines files in TRL's documented formats, so an instructor can hand them to TRL's
`SFTTrainer` and `RewardTrainer` (or `datasets.load_dataset("json", …)`) unchanged:

- `sft.jsonl`, conversational supervised fine-tuning data: one demonstration a line,
  `{"messages": [{"role": "user", "content": INSTRUCTION}, {"role": "assistant", "content": RESPONSE}]}`;
- `preferences.jsonl`, preference pairs: `{"prompt": …, "chosen": …, "rejected": …}` (strings).

And a dataset card (`README.md`, as on the Hugging Face Hub): counts, agreement between students,
dates, where the data came from and a licence note. Only the instructor's own class is exported;
flagged and removed demonstrations, and every pair they are in, are left out. Students are not
named: nothing in the files says who wrote or ranked what.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from ..context import CoreContext
from ..replies import Attachment, Reply
from ..users import Actor
from .pool import preference_rows, scope_of
from .reward_model import Agreement, Comparison, agreement

JSONL = "application/jsonl"
#: The columns each file has, as TRL documents them (the tests check every line against these).
SFT_COLUMNS = ("messages",)
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected")


def _collect(conn: sqlite3.Connection, scope: str) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    demonstrations = conn.execute("SELECT instruction, response, created_at FROM lab_demonstrations WHERE scope = ? AND status = 'pool'"
                                  " ORDER BY id", (scope,)).fetchall()
    return demonstrations, preference_rows(conn, scope)


def _lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _card(course: str, scope: str, sft: int, pairs: int, raters: int, agreed: Agreement, dates: list[str], exported: str) -> str:
    span = f"{min(dates)[:10]} to {max(dates)[:10]}" if dates else "no data yet"
    rate = f"{agreed.rate:.0%} over {agreed.shared_pairs} pairs ranked by two or more students" if agreed.rate is not None else "not measurable yet"
    return f"""---
license: other
task_categories:
- text-generation
language:
- en
---

# RLHF lab data: {course}

Collected by a class in the course companion's RLHF lab ({scope.split(':')[0]}), exported {exported[:10]}.

| file | format | rows |
|---|---|---|
| `sft.jsonl` | TRL conversational SFT: `{{"messages": [{{"role": "user", …}}, {{"role": "assistant", …}}]}}` | {sft} |
| `preferences.jsonl` | TRL preference pairs: `{{"prompt", "chosen", "rejected"}}` | {pairs} |

- **Demonstrations** (phase 1): responses students wrote for the chapter's instructions and the class's own.
- **Preferences** (phase 2): every pair a student's ranking of 2–4 responses yields (k(k−1)/2 per ranking), and one per live lab vote.
  Responses come from authored examples of known failures, the course's simulated assistant, a small n-gram base model and classmates' demonstrations.
- **Raters**: {raters} student{'s' * (raters != 1)}. **Agreement between students**: {rate}.
- **Dates**: {span}.
- **Left out**: demonstrations flagged by students and not yet reviewed, or removed by an instructor, with every pair they are in; everything a student deleted with /forget-me.

## Licence and use

Students wrote this data as coursework. It is shared with the instructor for teaching; it carries no licence for
publication: ask the students before sharing it beyond the class. It names no one, but free text can identify its author.

## Load it

```python
from datasets import load_dataset
sft = load_dataset("json", data_files="sft.jsonl", split="train")
prefs = load_dataset("json", data_files="preferences.jsonl", split="train")
# trl.SFTTrainer(train_dataset=sft, …); trl.RewardTrainer(train_dataset=prefs, …)
```
"""


async def export(ctx: CoreContext, actor: Actor) -> Reply:
    """The class's SFT data, preference pairs and dataset card, as files (instructors only)."""
    ctx.require_instructor(actor)
    ctx.require_rate("export", actor)
    scope = scope_of(actor)
    demonstrations, pairs = await ctx.store.read(_collect, scope)
    sft = [{"messages": [{"role": "user", "content": row["instruction"]}, {"role": "assistant", "content": row["response"]}]}
           for row in demonstrations]
    preferences = [{"prompt": row["prompt"], "chosen": row["chosen"], "rejected": row["rejected"]} for row in pairs]
    agreed = await asyncio.to_thread(agreement, [Comparison(r["prompt"], r["chosen"], r["rejected"], str(r["user_pk"])) for r in pairs])
    dates = [row["created_at"] for row in demonstrations] + [row["created_at"] for row in pairs]
    exported = ctx.clock.now().isoformat()
    card = _card(ctx.course.title, scope, len(sft), len(preferences), len({r["user_pk"] for r in pairs}), agreed, dates, exported)
    return Reply(title="RLHF lab export", kind="export",
                 text=f"📦 Your class's lab data: {len(sft)} demonstration{'s' * (len(sft) != 1)} (`sft.jsonl`), "
                      f"{len(preferences)} preference pair{'s' * (len(preferences) != 1)} (`preferences.jsonl`) in TRL's formats, "
                      "and a dataset card (`README.md`). Flagged and removed demonstrations are left out.",
                 files=[Attachment("sft.jsonl", _lines(sft), JSONL, "Supervised fine-tuning data, TRL conversational format"),
                        Attachment("preferences.jsonl", _lines(preferences), JSONL, "Preference pairs: prompt, chosen, rejected"),
                        Attachment("README.md", card.encode("utf-8"), "text/markdown", "Dataset card")])

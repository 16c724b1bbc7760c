"""Phase 2 in the lab: put 2–4 responses to one prompt in order, best first, and say why.

The candidates come from everywhere the course has responses: the chapter's authored ones (each
showing a known failure, or none), the simulated assistant's answer, the base model's
continuation, and classmates' demonstrations (for an instruction someone has answered). A
ranking task is stored when it is shown (`lab_rankings`, its candidates in `lab_ranking_items`),
so the form's id carries only its number and a restart keeps it. Sent back as letters (`B A C`,
`C > A > B`, and optional tags: helpful, harmless, honest, concise), a ranking of k responses
yields k(k−1)/2 preference pairs, the reward model's data.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from .. import actions
from ..actions import MAX_RANKING_TEXT
from ..assistant import Assistant
from ..clock import iso
from ..content import Chapter
from ..context import CoreContext
from ..refusal import Refusal
from ..replies import Button, Reply, TextInput, clip, quote_user_text
from ..users import Actor, find_user, touch_user
from .pool import Ranked, insert_pairs, lab_chapter, scope_of

LETTERS = "ABCD"
MAX_CANDIDATES = 4
TAGS = ("helpful", "harmless", "honest", "concise")
USAGE = ("Send the letters best first, e.g. `B A C` (or `B > A > C`), and optionally why: "
         f"{', '.join(TAGS)} (`B A C helpful honest`).")
GONE = "That ranking is no longer open. `/lab rank` gives you a new one."
#: Longest candidate shown (an assistant's answer can be long); a ranked text is stored as shown.
MAX_SHOWN = 700


@dataclass(frozen=True)
class Candidate:
    """A response offered for ranking: its text, where it comes from, and its demonstration row."""

    text: str
    source: str
    demonstration: int | None = None


def _generated(engine: Assistant, prompt: str) -> list[Candidate]:
    """The simulated assistant's answer and the base model's continuation of `prompt`."""
    answer = engine.simulated.answer(prompt).text
    continuation = engine.base.continue_text(prompt)
    return [Candidate(clip(answer.strip(), MAX_SHOWN), "assistant"), Candidate(clip(f"{prompt} {continuation}".strip(), MAX_SHOWN), "base model")]


def _classmates_work(conn: sqlite3.Connection, scope: str, chapter: int, actor: Actor) -> list[sqlite3.Row]:
    """The class's pooled demonstrations, but the actor's own."""
    user = find_user(conn, actor.platform, actor.user_id)
    return conn.execute("SELECT instruction, id, response FROM lab_demonstrations WHERE scope = ? AND chapter = ? AND status = 'pool'"
                        " AND user_pk != ? ORDER BY id", (scope, chapter, user["id"] if user else 0)).fetchall()


def _candidates(chapter: Chapter, demonstrated: list[sqlite3.Row], engine: Assistant, rng: random.Random) -> tuple[str, list[Candidate]]:
    """A prompt and 2–4 different candidates for it: a classmate-answered instruction (half the
    time, when there is one) or an authored prompt, whose good response is always among them."""
    by_instruction: dict[str, list[Candidate]] = {}
    for instruction, demo_id, response in demonstrated:
        by_instruction.setdefault(instruction, []).append(Candidate(response, "a classmate's demonstration", demo_id))
    if by_instruction and (not chapter.lab.prompts or rng.random() < 0.5):
        prompt = rng.choice(sorted(by_instruction))
        pool = rng.sample(by_instruction[prompt], min(2, len(by_instruction[prompt]))) + _generated(engine, prompt)
    elif chapter.lab.prompts:
        authored = rng.choice(chapter.lab.prompts)
        prompt = authored.prompt
        responses = [Candidate(c.text, f"authored ({c.failure})") for c in authored.responses]
        good = next(c for c in responses if c.source == "authored (none)")
        others = [c for c in responses if c is not good] + _generated(engine, prompt)
        pool = [good, *rng.sample(others, len(others))]
    else:
        raise Refusal("There is nothing to rank yet: write a demonstration first (`/lab write`).")
    chosen: list[Candidate] = []
    for candidate in pool:  # no response twice (the assistant may say what an authored one says)
        if " ".join(candidate.text.split()).casefold() not in {" ".join(c.text.split()).casefold() for c in chosen}:
            chosen.append(candidate)
    if len(chosen) < 2:
        raise Refusal("There is nothing to rank for that prompt yet: try `/lab rank` again, or write a demonstration (`/lab write`).")
    chosen = chosen[:MAX_CANDIDATES]
    rng.shuffle(chosen)
    return prompt, chosen


def _store_task(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, scope: str, chapter: int, prompt: str,
                candidates: list[Candidate]) -> int:
    now = ctx.clock.now()
    user_pk = touch_user(conn, actor, now)
    gone = [c for c in candidates if c.demonstration is not None and conn.execute(
        "SELECT 1 FROM lab_demonstrations WHERE id = ? AND status = 'pool'", (c.demonstration,)).fetchone() is None]
    if gone:  # flagged or deleted since they were read
        raise Refusal("A classmate's response just left the pool: `/lab rank` again for another.")
    ranking_id = conn.execute("INSERT INTO lab_rankings(scope, user_pk, chapter, prompt, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                              (scope, user_pk, chapter, prompt, iso(now))).fetchone()[0]
    for slot, candidate in enumerate(candidates):
        conn.execute("INSERT INTO lab_ranking_items(ranking_id, slot, source, text, demonstration_id) VALUES (?, ?, ?, ?, ?)",
                     (ranking_id, slot, candidate.source, candidate.text, candidate.demonstration))
    return ranking_id


async def start(ctx: CoreContext, actor: Actor, engine: Callable[[], Assistant]) -> Reply:
    """A prompt and its candidates to rank, with the form for the order. The candidates are made
    between two transactions (the assistant answers on the event loop, as `/compare` does), and a
    demonstration deleted meanwhile takes its item with it (see `_submit`)."""
    scope, chapter = scope_of(actor), lab_chapter(ctx)
    demonstrated = await ctx.store.read(_classmates_work, scope, chapter.number, actor)
    prompt, candidates = _candidates(chapter, demonstrated, engine(), random.Random())
    ranking_id = await ctx.store.run(_store_task, ctx, actor, scope, chapter.number, prompt, candidates)
    lines = [f"🏅 **Rank these responses** (phase 2: the reward model's data)\n\n**Prompt:** {quote_user_text(prompt)}", ""]
    for letter, candidate in zip(LETTERS, candidates, strict=False):
        body = "\n".join("> " + line for line in quote_user_text(candidate.text).split("\n") if line.strip())
        lines += [f"**{letter}**", body, ""]
    lines.append(f"Which is best, and which worst? {USAGE} "
                 f"Your order gives {len(candidates) * (len(candidates) - 1) // 2} comparisons.")
    return Reply(title="RLHF lab · rank", text="\n".join(lines), kind="lab",
                 text_input=TextInput(actions.LabRank(ranking_id).format(), "Your order, best first (and tags)",
                                      " ".join(LETTERS[: len(candidates)]) + " helpful", MAX_RANKING_TEXT),
                 buttons=[Button("🔀 Another prompt", actions.LabRankStart().format()), Button("🧪 Lab menu", actions.LabMenu().format())])


def read_order(text: str, count: int) -> tuple[list[int], list[str]]:
    """The slots (0 = A) in the order given, best first, and the tags; a Refusal saying how to
    write it otherwise. The last letter may be left out: it is the worst."""
    letters: list[int] = []
    tags: list[str] = []
    for token in re.split(r"[\s,;>]+", text.strip()):
        word = token.casefold()
        if not word:
            continue
        if len(word) == 1 and word.upper() in LETTERS[:count]:
            letters.append(LETTERS.index(word.upper()))
        elif word in TAGS:
            if word not in tags:
                tags.append(word)
        else:
            raise Refusal(f"I didn't understand “{quote_user_text(token[:40])}”. {USAGE}")
    if len(set(letters)) != len(letters):
        raise Refusal(f"Each letter once, please. {USAGE}")
    if len(letters) == count - 1:
        letters += [slot for slot in range(count) if slot not in letters]
    if len(letters) != count:
        raise Refusal(f"Put all {count} responses in order ({' '.join(LETTERS[:count])}). {USAGE}")
    return letters, tags


def _submit(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, ranking_id: int, text: str) -> tuple[str, list[tuple[str, str]], int, list[str]]:
    user = find_user(conn, actor.platform, actor.user_id)
    task = conn.execute("SELECT * FROM lab_rankings WHERE id = ?", (ranking_id,)).fetchone()
    if task is None or user is None or task["user_pk"] != user["id"]:
        raise Refusal(GONE)
    if task["status"] != "open":
        raise Refusal("You already ranked these: only your first order counts. `/lab rank` for another.")
    items = conn.execute("SELECT slot, source, text, demonstration_id FROM lab_ranking_items WHERE ranking_id = ? ORDER BY slot",
                         (ranking_id,)).fetchall()
    if len(items) < 2:  # a classmate's demonstration in it was deleted meanwhile
        conn.execute("DELETE FROM lab_rankings WHERE id = ?", (ranking_id,))
        raise Refusal("A response in that ranking was deleted meanwhile. `/lab rank` gives you a new one.")
    order, tags = read_order(text, len(items))
    now = iso(ctx.clock.now())
    touch_user(conn, actor, ctx.clock.now())
    conn.execute("UPDATE lab_rankings SET status = 'done', tags = ?, ranked_at = ? WHERE id = ?", (",".join(tags), now, ranking_id))
    for rank, position in enumerate(order):
        conn.execute("UPDATE lab_ranking_items SET rank = ? WHERE ranking_id = ? AND slot = ?", (rank, ranking_id, items[position]["slot"]))
    best_first = [Ranked(items[p]["text"], items[p]["demonstration_id"]) for p in order]
    pairs = insert_pairs(conn, task["scope"], user["id"], task["prompt"], best_first, now, ranking_id=ranking_id)
    shown = [(LETTERS[items[p]["slot"]], items[p]["source"]) for p in order]
    return task["scope"], shown, pairs, tags


async def submit(ctx: CoreContext, actor: Actor, ranking_id: int, text: str, changed: Callable[[str], None]) -> Reply:
    """Record a ranking and its pairs; `changed(scope)` tells the trainer the class's data moved."""
    scope, shown, pairs, tags = await ctx.store.run(_submit, ctx, actor, ranking_id, text)
    changed(scope)
    order = " > ".join(f"**{letter}** ({source})" for letter, source in shown)
    why = f" Tagged: {', '.join(tags)}." if tags else ""
    return Reply(title="RLHF lab · ranking saved", kind="lab", replaces=True,
                 text=f"✅ Your ranking: {order}.{why}\n\nThat is {pairs} comparison{'s' * (pairs != 1)} for your class's reward model "
                      "(each pair of responses, the better one first). `/lab reward` shows what the class is teaching it.",
                 buttons=[Button("🏅 Rank another", actions.LabRankStart().format(), "primary"),
                          Button("🧠 Reward model", actions.LabRewardShow().format()), Button("🧪 Lab menu", actions.LabMenu().format())])

"""The class RLHF lab end to end through the core (bot/core/lab/): content and its checks, each
task, rankings into pairs, flags and their review, the live lab with a crowd and a restart, the
export in TRL's formats, /my-data and /forget-me, classes kept apart, and user text made safe.
Real Companion on the real chapter-7 content and a real SQLite file; the reward model is the
real one (bot/core/lab/reward_model.py).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from bot.core import actions, inputs
from bot.core.clock import ManualClock
from bot.core.command_line import handle_text
from bot.core.companion import Companion
from bot.core.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import check_content
from bot.core.lab import pool
from bot.core.lab.lab_export import PREFERENCE_COLUMNS, SFT_COLUMNS
from bot.core.lab.ranking import read_order
from bot.core.refusal import Refusal
from bot.core.users import Actor

EVIL = "Ping @everyone and <@123> via [http://good.example](http://evil.example) <http://evil.example|click>"


@pytest.fixture
def settings(database) -> Settings:
    """The lab on each engine (conftest's `database`: a SQLite file, then a PostgreSQL database)."""
    return Settings(database=database, content_dir=DEFAULT_CONTENT_DIR, live_question_seconds=20, live_reveal_seconds=0)


@pytest.fixture
async def core(settings):
    companion = await Companion.create(settings, clock=ManualClock(), fuzzing=False)
    yield companion
    await companion.close()


def person(name: str, guild: str | None = "guild-1", instructor: bool = False) -> Actor:
    return Actor("test", name, name.title(), guild=guild, channel="lab" if guild else None, is_instructor=instructor)


def assert_safe(text: str) -> None:
    """No mention and no link can form from what was echoed."""
    assert "@everyone" not in text and "<@" not in text and "](" not in text and "<http" not in text


async def write(core: Companion, who: Actor, text: str):
    task = await core.lab_write(who)
    assert task.text_input is not None and actions.takes_typed(task.text_input.action)
    return await core.handle_action(who, task.text_input.action, typed=text)


async def rank(core: Companion, who: Actor, order: str | None = None):
    """Rank a fresh task: `order` as typed, or (None) the letters in the order shown."""
    task = await core.lab_rank(who)
    ranking = actions.parse(task.text_input.action).ranking
    count = await core.store.read(lambda c: c.execute("SELECT COUNT(*) FROM lab_ranking_items WHERE ranking_id = ?", (ranking,)).fetchone()[0])
    letters = "ABCD"[:count]
    saved = await core.handle_action(who, task.text_input.action, typed=order or " ".join(letters))
    return task, saved, count


async def usable_pairs(core: Companion, guild: str = "guild-1") -> int:
    return len(await core.store.read(pool.comparisons, f"test:{guild}"))


# ---- content ---------------------------------------------------------------------------------------

def test_the_chapter_lab_is_loaded_and_grounded(core):
    lab = core.course.chapter(7).lab
    assert len(lab.instructions) >= 5 and len(lab.prompts) >= 5
    failures = {c.failure for p in lab.prompts for c in p.responses}
    assert failures == {"none", "rambling", "evasive", "made-up-fact", "complies-with-harm", "refuses-harmless"}
    assert all(any(c.failure == "none" for c in p.responses) for p in lab.prompts)


LAB_HEAD = "chapter: 1\ninstructions:\n  - id: say-hi\n    text: Say hi.\n    section: One\n    depth: shallow\nprompts:\n"
GOOD_PROMPT = ("  - id: p1\n    prompt: Hi?\n    section: One\n    depth: shallow\n    candidates:\n"
               "      - text: Hello!\n        failure: none\n      - text: I cannot greet.\n        failure: refuses-harmless\n")


def lab_tree(tmp_path: Path, lab: str) -> Path:
    from test_content_errors import tree
    root = tree(tmp_path, lesson="# One\n\n## One\n\nWords.\n")
    (root / "ch01" / "lab.yaml").write_text(lab, encoding="utf-8")
    return root


def test_a_good_lab_file_has_no_problems(tmp_path):
    assert [str(p) for p in check_content(lab_tree(tmp_path, LAB_HEAD + GOOD_PROMPT)) if p.severity == "error"] == []


@pytest.mark.parametrize("lab, line, words", [
    (LAB_HEAD + GOOD_PROMPT.replace("failure: refuses-harmless", "failure: rude"), 16, "failure must be one of"),
    (LAB_HEAD + GOOD_PROMPT.replace("    depth: shallow\n    candidates", "    depht: shallow\n    candidates"), 11,
     "unknown prompt field 'depht' (did you mean 'depth'?)"),
    (LAB_HEAD + GOOD_PROMPT + GOOD_PROMPT, 17, "duplicate prompt id 'p1' (first used at line 8)"),
    (LAB_HEAD + GOOD_PROMPT.replace("section: One", "section: Two"), 10, "no section 'Two' in the lesson at depth shallow"),
    (LAB_HEAD + GOOD_PROMPT.replace("failure: refuses-harmless", "failure: none"), 13, "needs a good candidate (failure: none) and a flawed one"),
    (LAB_HEAD.replace("id: say-hi", "id: Say Hi") + GOOD_PROMPT, 3, "id must be lowercase letters"),
    (LAB_HEAD + GOOD_PROMPT.replace("      - text: I cannot greet.\n        failure: refuses-harmless\n", ""), 13, "needs 2 to 4 candidates"),
])
def test_lab_mistakes_name_file_and_line(tmp_path, lab, line, words):
    found = [str(p) for p in check_content(lab_tree(tmp_path, lab)) if p.severity == "error"]
    assert any(f"lab.yaml:{line}: " in p and words in p for p in found), found


async def test_course_reload_reloads_the_lab(settings, tmp_path):
    import dataclasses
    import shutil
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    core = await Companion.create(dataclasses.replace(settings, content_dir=content), clock=ManualClock(), fuzzing=False)
    try:
        teacher = person("teacher", instructor=True)
        lab_file = content / "ch07-fine-tuning-to-follow-instructions" / "lab.yaml"
        lab_file.write_text(lab_file.read_text(encoding="utf-8").replace("failure: evasive", "failure: sneaky", 1), encoding="utf-8")
        refused = await handle_text(core, teacher, "/course reload")
        assert "lab.yaml:" in refused.text and "failure must be one of" in refused.text
        lab_file.write_text(lab_file.read_text(encoding="utf-8").replace("failure: sneaky", "failure: evasive")
                            .replace("id: translate-hello", "id: translate-goodbye"), encoding="utf-8")
        await handle_text(core, teacher, "/course reload")
        assert core.course.chapter(7).lab.instruction("translate-goodbye") is not None
    finally:
        await core.close()


# ---- the tasks -------------------------------------------------------------------------------------

async def test_menu_write_propose_and_the_streak(core):
    ann = person("ann")
    menu = await handle_text(core, ann, "/lab")
    assert "RLHF lab" in menu.text and {b.action for b in menu.buttons} >= {"lab:write", "lab:rank", "lab:flag", "lab:reward", "lab:board"}
    assert "streak: **0 days**" in menu.text
    saved = await write(core, ann, "Hola, ¿cómo estás?")
    assert "Saved to your class's pool" in saved.text and "Hola" in saved.text
    proposed = await handle_text(core, ann, "/lab propose Explain the KL penalty to a ten-year-old.")
    assert "ten-year-old" in proposed.text and proposed.text_input is not None
    demo = await core.handle_action(person("bob"), proposed.text_input.action, typed="It keeps the model from wandering off.")
    assert "Saved" in demo.text
    assert "streak: **1 day**" in (await handle_text(core, ann, "/lab")).text
    core.clock.advance(days=1)
    await write(core, ann, "Another one.")
    assert "streak: **2 days**" in (await handle_text(core, ann, "/lab")).text
    board = await handle_text(core, ann, "/lab board")
    assert not board.ephemeral and "**Ann** — 3 contributions" in board.text and "**Bob** — 1 contribution" in board.text


async def test_demonstrations_are_bounded_and_validated(core):
    ann = person("ann")
    task = await core.lab_write(ann)
    too_long = await core.handle_action(ann, task.text_input.action, typed="x" * (actions.MAX_DEMONSTRATION + 1))
    assert too_long.kind == "error" and "too long" in too_long.text
    blank = await core.handle_action(ann, task.text_input.action, typed="\u200b  ")
    assert blank.kind == "error" and "empty" in blank.text
    gone = await core.handle_action(ann, "lab:demo:7:c:no-such-instruction:a:", typed="hello")
    assert gone.kind == "error" and "no longer in the lab" in gone.text
    elsewhere = await core.handle_action(ann, "lab:demo:7:p:1:a:", typed="hello")  # no proposal 1 in this class
    assert elsewhere.kind == "error"
    dm = await handle_text(core, person("ann", guild=None), "/lab write")
    assert dm.kind == "error" and "belongs to a class" in dm.text


async def test_a_demonstration_keeps_its_line_breaks_and_an_answer_is_one_line(core):
    """A demonstration is an example response a model learns from: its list or steps are part of
    it. Spaces are tidied and blank lines squeezed to one; a one-line form stays one line."""
    ann = person("ann")
    saved = await write(core, ann, "Steps:\r\n1.   Read   the lesson.\n\n\n\n2. Take\tthe quiz.  \n")
    assert "> Steps:\n> 1. Read the lesson.\n> \n> 2. Take the quiz." in saved.text
    stored = await core.store.read(lambda c: c.execute("SELECT response FROM lab_demonstrations").fetchone()[0])
    assert stored == "Steps:\n1. Read the lesson.\n\n2. Take the quiz."
    task = await core.lab_rank(ann)
    assert not actions.takes_paragraphs(task.text_input.action) and actions.takes_paragraphs(actions.LabPropose(7).format())
    assert inputs.tidy_typed("B\n  A\tC", actions.takes_paragraphs(task.text_input.action)) == "B A C"


def test_reading_an_order():
    assert read_order("B A C", 3) == ([1, 0, 2], [])
    assert read_order("c > a, helpful Honest", 3) == ([2, 0, 1], ["helpful", "honest"])
    assert read_order("B", 2) == ([1, 0], [])  # the last letter is implied
    for bad in ("A A B", "A", "A B E", "A B C sparkly", ""):
        with pytest.raises(Refusal):
            read_order(bad, 4 if bad == "A" else 3)


async def test_a_ranking_yields_every_pair_once_and_is_the_rankers_own(core):
    bob = person("bob")
    for name in ("ann", "cy", "dee"):  # classmates' demonstrations, so rankings draw from every source
        await write(core, person(name), f"{name}'s careful answer.")
    sources: set[str] = set()
    total = 0
    for _ in range(12):
        task, saved, count = await rank(core, bob)
        assert "Your ranking" in saved.text and saved.replaces
        assert f"{count * (count - 1) // 2} comparison" in saved.text
        total += count * (count - 1) // 2
        items = await core.store.read(lambda c: [r[0] for r in c.execute(
            "SELECT source FROM lab_ranking_items WHERE ranking_id = (SELECT MAX(id) FROM lab_rankings)")])
        sources |= {s.split(" (")[0] for s in items}
        again = await core.handle_action(bob, task.text_input.action, typed="A B")
        assert again.kind == "error" and "already ranked" in again.text
        assert (await core.handle_action(person("eve"), task.text_input.action, typed="A B")).kind == "error"  # not Eve's task
    assert sources >= {"assistant", "base model", "authored", "a classmate's demonstration"}
    assert await usable_pairs(core) == total


async def test_flags_leave_the_pool_until_an_instructor_reviews_them(core):
    ann, bob, teacher = person("ann"), person("bob"), person("teach", instructor=True)
    await write(core, ann, "Buy cheap watches at my shop!!!")
    check = await handle_text(core, bob, "/lab flag")
    flag = next(b.action for b in check.buttons if b.action.endswith(":spam"))
    assert "Flagged as spam" in (await core.handle_action(bob, flag)).text
    assert (await core.handle_action(ann, flag.replace(":spam", ":harmful"))).kind == "error"  # not one's own
    assert "No classmate's demonstration" in (await handle_text(core, bob, "/lab flag")).text
    status = await core.store.read(lambda c: c.execute("SELECT status FROM lab_demonstrations").fetchone()[0])
    assert status == "flagged"
    # A flagged demonstration is offered to no ranking, and pairs holding it are left out.
    for _ in range(6):
        task = await core.lab_rank(bob)
        assert "cheap watches" not in task.text
    assert (await handle_text(core, bob, "/lab flags")).kind == "error"  # students cannot review
    review = await handle_text(core, teacher, "/lab flags")
    assert "spam ×1" in review.text and "cheap watches" in review.text
    keep = next(b.action for b in review.buttons if b.action.endswith(":keep"))
    other_class = person("boss", guild="guild-2", instructor=True)
    refused = await core.handle_action(other_class, keep)
    assert refused.kind == "error" and "another class" in refused.text
    assert "back in the pool" in (await core.handle_action(teacher, keep)).text
    assert "already been reviewed" in (await core.handle_action(teacher, keep)).text
    assert "No flagged" in (await handle_text(core, teacher, "/lab flags")).text


# ---- the reward model, score and optimize ------------------------------------------------------------

async def test_reward_score_and_optimize(core):
    bob = person("bob")
    empty = await handle_text(core, bob, "/lab reward")
    assert "No comparisons yet" in empty.text
    for _ in range(8):
        await rank(core, bob)
    report = await handle_text(core, bob, "/lab reward")
    assert "comparison" in report.text and "Held-out accuracy" in report.text and "Agreement between students" in report.text
    assert report.files and report.files[0].mime == "image/png" and report.files[0].content.startswith(b"\x89PNG")
    scored = await handle_text(core, bob, "/lab score What is RLHF? ||| Learning from " + EVIL)
    assert "scores it" in scored.text
    assert_safe(scored.text)
    assert "|||" in (await handle_text(core, bob, "/lab score no separator")).text
    optimized = await handle_text(core, bob, "/lab optimize What is the alignment tax?")
    assert "β" in optimized.text and "best-of-n" in optimized.text and "PPO" in optimized.text
    assert optimized.files and optimized.files[0].content.startswith(b"\x89PNG")


# ---- the live lab ------------------------------------------------------------------------------------

async def test_live_lab_with_fifty_voters_and_a_restart(settings):
    clock = ManualClock()
    core = await Companion.create(settings, clock=clock, fuzzing=False)
    seen = []
    core.live.subscribe(lambda e: _append(seen, e))
    try:
        started = await handle_text(core, person("host"), "/lab live 2")
        assert "Live lab started" in started.text
        question = seen[-1]
        assert question.kind == "question" and not question.reply.ephemeral and "round 1/2" in question.reply.title
        votes = [b.action for b in question.reply.buttons if ":a:" in b.action]
        assert [v[-1] for v in votes] == ["A", "B"]
        voters = [person(f"v{i:02d}") for i in range(50)]
        for i, voter in enumerate(voters):
            ack = await core.handle_action(voter, votes[0] if i % 5 else votes[1])
            assert "Vote recorded" in ack.text and ack.ephemeral
        assert "already voted" in (await core.handle_action(voters[0], votes[1])).text
        # A restart mid-round: a new companion on the same database takes the votes on.
        await core.close()
        core = await Companion.create(settings, clock=clock, fuzzing=False)
        core.live.subscribe(lambda e: _append(seen, e))
        assert "Vote recorded" in (await handle_text(core, person("late"), "/answer b")).text
        counted = await core.store.read(lambda c: c.execute(
            "SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers").fetchone()[:])
        assert tuple(counted) == (51, 51)
        assert await usable_pairs(core) == 51  # one comparison per vote
        status = await core.live.status(person("late"))
        assert status.text.startswith("🎯 Live lab on chapter") and "round 1 of 2 is open" in status.text
        assert "Live quizzes" not in (await core.progress(person("late"))).text  # a vote is no quiz answer
        clock.advance(seconds=21)
        events = await core.live.advance_due()
        closed = next(e for e in events if e.kind == "closed")
        assert "40 (78%)" in closed.reply.text and "11 (22%)" in closed.reply.text and "51 votes" in closed.reply.text
        assert "reward model" in closed.reply.text and "P(A over B)" in closed.reply.text
        clock.advance(seconds=21)
        ended = next(e for e in await core.live.advance_due() if e.kind == "ended")
        assert "Live lab finished" in ended.reply.text and "51 votes from 51 students" in ended.reply.text
        assert ended.reply.files and ended.reply.files[0].content.startswith(b"\x89PNG") and ended.reply.files[0].description
        assert "Rewarded" in ended.reply.text
        # Lab votes score no quiz points.
        assert "No scores here yet" in (await core.leaderboard(person("v01"))).text
    finally:
        await core.close()


async def _append(seen: list, event) -> None:
    seen.append(event)


# ---- export, privacy, classes ---------------------------------------------------------------------------

async def test_export_is_trl_shaped_and_leaves_out_flagged_data(core, tmp_path):
    ann, bob, teacher = person("ann"), person("bob"), person("teach", instructor=True)
    await write(core, ann, "Hola.")
    await write(core, person("cy"), "SPAM SPAM SPAM")
    for _ in range(6):
        await rank(core, bob)
    spam = await core.store.read(lambda c: c.execute("SELECT id FROM lab_demonstrations WHERE response = 'SPAM SPAM SPAM'").fetchone()[0])
    await core.handle_action(bob, f"lab:flag:{spam}:spam")
    assert (await handle_text(core, bob, "/lab export")).kind == "error"
    elsewhere = await handle_text(core, person("boss", guild="guild-2", instructor=True), "/lab export")  # another class's instructor
    assert all(f.content == b"" for f in elsewhere.files if f.filename.endswith(".jsonl")) and "0 demonstrations" in elsewhere.text
    exported = await handle_text(core, teacher, "/lab export")
    files = {f.filename: f for f in exported.files}
    assert set(files) == {"sft.jsonl", "preferences.jsonl", "README.md"}
    sft = [json.loads(line) for line in files["sft.jsonl"].content.decode().splitlines()]
    prefs = [json.loads(line) for line in files["preferences.jsonl"].content.decode().splitlines()]
    assert sft == [{"messages": [{"role": "user", "content": sft[0]["messages"][0]["content"]}, {"role": "assistant", "content": "Hola."}]}]
    assert prefs and all(tuple(p) == PREFERENCE_COLUMNS and all(isinstance(v, str) and v for v in p.values()) for p in prefs)
    assert all(tuple(s) == SFT_COLUMNS for s in sft)
    assert not any("SPAM SPAM" in p["chosen"] + p["rejected"] for p in prefs)
    assert len(prefs) == await usable_pairs(core)
    card = files["README.md"].content.decode()
    assert f"| {len(prefs)} |" in card and "Agreement between students" in card and "licence" in card.lower()
    try:
        import datasets
    except ImportError:
        return
    for name in ("sft.jsonl", "preferences.jsonl"):
        path = tmp_path / name
        path.write_bytes(files[name].content)
        loaded = datasets.load_dataset("json", data_files=str(path), split="train")
        assert len(loaded) == (len(sft) if name == "sft.jsonl" else len(prefs))


async def test_my_data_and_forget_me_take_the_lab_along_and_the_model_is_refitted(core):
    ann, bob = person("ann"), person("bob")
    await write(core, ann, "Ann's answer.")
    for _ in range(5):
        await rank(core, ann)
        await rank(core, bob)
    await handle_text(core, ann, "/lab propose Say something kind.")
    mine = json.loads((await core.export(ann)).files[0].content)
    assert mine["lab_demonstrations"] and mine["lab_rankings"] and mine["lab_pairs"] and mine["lab_instructions"]
    before = await core.lab.model("test:guild-1")
    ann_pairs = len(mine["lab_pairs"])
    await core.forget(ann, confirmed=True)
    after = await core.lab.model("test:guild-1")
    assert after.comparisons < before.comparisons and after.comparisons == await usable_pairs(core)
    assert after.comparisons <= before.comparisons - ann_pairs
    left = await core.store.read(lambda c: c.execute(
        "SELECT (SELECT COUNT(*) FROM lab_demonstrations), (SELECT COUNT(*) FROM lab_instructions),"
        " (SELECT COUNT(*) FROM lab_pairs p WHERE p.chosen LIKE 'Ann%' OR p.rejected LIKE 'Ann%')").fetchone()[:])
    assert tuple(left) == (0, 0, 0)


async def test_user_text_is_never_a_mention_or_a_link(core):
    ann, bob, teacher = person("ann"), person("bob"), person("teach", instructor=True)
    shown = [(await write(core, ann, EVIL)).text]
    proposed = await handle_text(core, ann, "/lab propose " + EVIL)
    shown.append(proposed.text)
    shown.append((await core.lab_write(bob)).text)
    check = await handle_text(core, bob, "/lab flag")
    shown.append(check.text)
    await core.handle_action(bob, next(b.action for b in check.buttons if b.action.endswith(":harmful")))
    shown.append((await handle_text(core, teacher, "/lab flags")).text)
    for text in shown:
        assert_safe(text)
    assert "@\u200beveryone" in shown[0]


async def test_fuzzed_lab_action_ids_are_refused_cleanly(core):
    """Mutations of every kind of lab id: each is read as an action (then the feature answers, or
    refuses) or is "no longer valid"; nothing escapes as an error."""
    rng = random.Random(16)
    ann = person("ann")
    await write(core, ann, "seed")
    seeds = ["lab:menu", "lab:write", "lab:demo:7:c:translate-hello:a:", "lab:demo:7:p:1:a:", "lab:rank:1:a:A B",
             "lab:flag:1:spam", "lab:review:1:keep", "lab:propose:7:a:", "lab:board", "lab:reward"]
    alphabet = string.ascii_letters + string.digits + ":-|²٣ \u0000\ud83d" + "9" * 10
    for _ in range(300):
        chars = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(len(chars) + 1)
            op = rng.random()
            if op < 0.4 and chars:
                chars[min(where, len(chars) - 1)] = rng.choice(alphabet)
            elif op < 0.7:
                chars.insert(where, rng.choice(alphabet))
            elif chars:
                del chars[min(where, len(chars) - 1)]
        reply = await core.handle_action(ann, "".join(chars), typed=rng.choice([None, "A B", "x" * 5000]))
        assert reply.kind in ("error", "lab", "leaderboard", "export", "confirm", "live", "live-ack"), (chars, reply)
        assert "something went wrong" not in reply.text.lower()
    for forged in ("lab:demo:7:c:UPPER:a:", "lab:flag:1:rude", "lab:review:1:maybe", "lab:rank:01:a:A", f"lab:flag:{10**13}:spam",
                   "lab:demo:7:x:1:a:", "lab:menu:extra"):
        assert (await core.handle_action(ann, forged)).text == actions.NO_LONGER_VALID


async def test_a_class_that_rewards_length_sees_reward_hacking_reined_in(core):
    """Rankings that always put the longest response first teach the model a loophole: best-of-n
    with β = 0 picks the padded answer, and the KL-style penalty picks something else."""
    bob = person("bob")
    for _ in range(25):
        task = await core.lab_rank(bob)
        ranking = actions.parse(task.text_input.action).ranking
        items = await core.store.read(lambda c: c.execute(
            "SELECT slot, text FROM lab_ranking_items WHERE ranking_id = ? ORDER BY slot", (ranking,)).fetchall())
        longest_first = sorted(items, key=lambda row: -len(row[1]))
        await core.handle_action(bob, task.text_input.action, typed=" ".join("ABCD"[row[0]] for row in longest_first))
    report = await handle_text(core, bob, "/lab reward")
    assert "length" in report.text.split("**Penalised")[0].split("**Rewarded:**")[1]
    optimized = await handle_text(core, bob, "/lab optimize What is the alignment tax?")
    table = optimized.text.split("```")[1]
    assert table.splitlines()[2].split()[1:3] == ["assistant,", "padded"]  # β = 0
    assert "padded" not in table.splitlines()[-1]  # the largest β
    assert "reward hacking" in optimized.text


async def test_a_second_process_on_the_same_database_sees_the_class_grow(settings, core):
    """Discord and Slack may run as separate processes on one database: a ranking made through one
    is in the other's next fit, though only the first was told."""
    other = await Companion.create(settings, clock=core.clock, fuzzing=False)
    try:
        assert (await other.lab.model("test:guild-1")).comparisons == 0
        _, _, count = await rank(core, person("bob"))
        assert (await other.lab.model("test:guild-1")).comparisons == count * (count - 1) // 2
    finally:
        await other.close()

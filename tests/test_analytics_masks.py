"""What the class statistics read, stored when it is written (migrations/0016_analytics.sql):
each attempt's number of questions, and each finished attempt's answers as bit masks. Checked on
both engines against the answers themselves: written when a quiz finishes, back-filled by the
migration for attempts finished before it, exported by `/my-data` and gone with `/forget-me`."""

from __future__ import annotations

import json

from bot.core.command_line import handle_text
from bot.core.engines import open_store
from bot.core.questions import MultipleQuestion, OrderingQuestion, SingleQuestion, TrueFalseQuestion
from bot.core.quiz import MASK_WORD, current_question, finish_attempt
from bot.core.users import Actor

#: The last migration before 0016.
BEFORE = 14


def student(name: str) -> Actor:
    return Actor("test", name, name.title(), guild="g1", channel="c")


def folded(conn) -> dict[tuple[int, int], tuple[int, int, int]]:
    """Every attempt's answers folded into (right, hinted, answered) masks per word, in Python."""
    out: dict[tuple[int, int], list[int]] = {}
    for attempt_id, position, correct, hint_used in conn.execute("SELECT attempt_id, position, correct, hint_used FROM quiz_answers"):
        masks = out.setdefault((attempt_id, position // MASK_WORD), [0, 0, 0])
        bit = 1 << (position % MASK_WORD)
        masks[0] |= bit * correct
        masks[1] |= bit * hint_used
        masks[2] |= bit
    return {key: (m[0], m[1], m[2]) for key, m in out.items()}


def stored(conn) -> dict[tuple[int, int], tuple[int, int, int]]:
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in conn.execute(
        "SELECT attempt_id, word, right_mask, hint_mask, answered_mask FROM quiz_attempt_masks")}


def wrong(question, seed: int) -> str:
    """A wrong answer as a student would type it."""
    if isinstance(question, (SingleQuestion, MultipleQuestion)):
        return "ABCDEFGH"[next(i for i in range(len(question.choices)) if i not in question.correct)]
    if isinstance(question, TrueFalseQuestion):
        return "false" if question.answer else "true"
    if isinstance(question, OrderingQuestion):
        return " ".join(reversed(question.typed_answer(seed).split()))
    return "certainly not this"


async def play(core, actor: Actor, count: int, hint_from: int) -> tuple[int, int, int]:
    """A quiz of `count` questions of chapter 7: right on even positions, wrong on odd ones, a
    hint asked on the first question from position `hint_from` that has one. Its masks, expected."""
    await handle_text(core, actor, f"/quiz 7 {count}")
    hinted = 0
    for position in range(count):
        attempt, question = await current_question(core.ctx, actor)
        assert attempt is not None and question is not None
        if position >= hint_from and not hinted and question.hint:
            await core.hint(actor)
            hinted = 1 << position
        await core.answer(actor, question.typed_answer(attempt["seed"]) if position % 2 == 0 else wrong(question, attempt["seed"]))
    assert hinted, "no question with a hint was asked"
    return sum(1 << p for p in range(0, count, 2)), hinted, (1 << count) - 1


async def test_a_finished_quiz_stores_its_masks_and_forget_me_takes_them(core):
    ann, bob = student("ann"), student("bob")
    ann_masks = await play(core, ann, 31, hint_from=1)  # every question of the chapter: a few have a hint
    bob_masks = await play(core, bob, 31, hint_from=0)
    await handle_text(core, ann, "/quiz 7 3")  # still open: no masks yet

    def read(conn):
        counts = conn.execute("SELECT u.user_id, t.status, t.questions, t.correct FROM quiz_attempts t JOIN users u ON u.id = t.user_pk"
                              " ORDER BY t.id").fetchall()
        return [tuple(r) for r in counts], stored(conn), folded(conn), [r[0] for r in conn.execute("SELECT id FROM quiz_attempts WHERE status = 'finished' ORDER BY id")]

    attempts, masks, answers, finished = await core.store.read(read)
    assert attempts == [("ann", "finished", 31, 16), ("bob", "finished", 31, 16), ("ann", "open", 3, 0)]
    assert masks == {key: value for key, value in answers.items() if key[0] in finished}
    assert masks[(finished[0], 0)] == ann_masks and masks[(finished[1], 0)] == bob_masks

    data = json.loads((await handle_text(core, ann, "/my-data")).files[0].content)
    assert [(m["attempt_id"], m["word"], m["right_mask"], m["hint_mask"], m["answered_mask"]) for m in data["quiz_attempt_masks"]] \
        == [(finished[0], 0, *ann_masks)]
    assert [a["questions"] for a in data["quiz_attempts"]] == [31, 3]

    await core.forget(ann, confirmed=True)
    left = await core.store.read(lambda conn: [tuple(r) for r in conn.execute("SELECT attempt_id, word FROM quiz_attempt_masks")])
    assert left == [(finished[1], 0)]  # bob's stay


async def test_masks_span_words_past_the_thirty_second_position(core):
    def write(conn):
        pk = conn.execute("INSERT INTO users(platform, user_id, display_name, created_at) VALUES ('test', 'long', 'Long', '2026-01-01')"
                          " RETURNING id").fetchone()[0]
        keys = [f"7:q{i}" for i in range(70)]
        aid = conn.execute("INSERT INTO quiz_attempts(user_pk, chapter, kind, seed, question_keys, questions, position, status, started_at)"
                           " VALUES (?, 7, 'quiz', 1, ?, 70, 70, 'open', '2026-01-01') RETURNING id", (pk, json.dumps(keys))).fetchone()[0]
        conn.executemany("INSERT INTO quiz_answers(attempt_id, position, question_key, answer, correct, hint_used, answered_at)"
                         " VALUES (?, ?, ?, '0', ?, ?, '2026-01-01')",
                         [(aid, p, keys[p], int(p % 3 == 0), int(p in (31, 32, 69))) for p in range(70) if p != 40])
        finish_attempt(conn, aid, core.clock.now())
        return stored(conn), folded(conn), aid

    masks, answers, aid = await core.store.run(write)
    assert masks == answers and sorted(masks) == [(aid, 0), (aid, 1), (aid, 2)]
    assert masks[(aid, 1)][1] == 1 << 0 and masks[(aid, 0)][1] == 1 << 31  # positions 32 and 31
    assert masks[(aid, 1)][2] == (1 << 32) - 1 - (1 << 8)  # every position of the second word but 40
    assert masks[(aid, 2)] == (sum(1 << (p - 64) for p in range(64, 70) if p % 3 == 0), 1 << 5, 0b111111)


async def test_the_migration_back_fills_question_counts_and_finished_attempts_masks(empty_database):
    store = await open_store(empty_database, migrate=False)
    try:
        await store.migrate(target=BEFORE)

        def fill(conn):
            conn.execute("INSERT INTO users(id, platform, user_id, display_name, created_at) VALUES (1, 'test', 'old', 'Old', '2026-01-01')")
            attempts = [(1, 40, "finished", range(40)), (2, 3, "finished", (0, 2)), (3, 2, "open", (0,)), (4, 0, "finished", ())]
            for aid, n, status, positions in attempts:
                conn.execute("INSERT INTO quiz_attempts(id, user_pk, chapter, seed, question_keys, position, correct, status, started_at)"
                             " VALUES (?, 1, 7, 1, ?, ?, 0, ?, '2026-01-01')", (aid, json.dumps([f"7:q-{i}" for i in range(n)]), len(positions), status))
                conn.executemany("INSERT INTO quiz_answers(attempt_id, position, question_key, answer, correct, hint_used, answered_at)"
                                 " VALUES (?, ?, ?, '1', ?, ?, '2026-01-01')",
                                 [(aid, p, f"7:q-{p}", int(p % 2 == 1 or p > 33), int(p == 35)) for p in positions])

        await store.run(fill)
        await store.migrate()

        def read(conn):
            return dict(conn.execute("SELECT id, questions FROM quiz_attempts").fetchall()), stored(conn), folded(conn)

        questions, masks, answers = await store.read(read)
    finally:
        await store.close()
    assert questions == {1: 40, 2: 3, 3: 2, 4: 0}
    assert masks == {key: value for key, value in answers.items() if key[0] in (1, 2)}  # the open attempt has none yet
    assert masks[(1, 1)] == (0b11111110, 0b1000, 0b11111111)  # positions 32–39: 32 wrong and masks[(2, 0)] == (0, 0, 0b101)

"""Solo quizzes and reviews: start, answer, hint, and the summary at the end.

An attempt's questions are chosen and shuffled once, with a seed stored on the attempt, so a
restart resumes it exactly. Each answer is one transaction: the answer row (unique per attempt
and position, so a double click counts once), the attempt's position and score, and the
question's review card. A review is an attempt over the questions FSRS says are due.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import actions
from .actions import Depth
from .answers import judge_and_record
from .clock import iso
from .content import Chapter
from .context import CoreContext
from .progress import completed_by, completion_text, course_states, student_rows
from .questions import Question
from .refusal import Refusal
from .replies import Button, Reply
from .review import due_keys, queue_summary
from .users import OWN_ROWS, Actor, find_user, touch_user

REVIEW_CHAPTER = 0


@dataclass
class Outcome:
    """What one answer did, gathered inside the transaction and rendered outside it."""

    attempt_id: int
    question: Question
    answer: Any
    correct: bool
    position: int  # of the question answered, 0-based
    total: int
    queued: bool = False
    next_question: Question | None = None
    seed: int = 0
    kind: str = "quiz"
    summary: dict[str, Any] = field(default_factory=dict)


def _chapter_for(conn: sqlite3.Connection, ctx: CoreContext, user_pk: int, chapter: int | None) -> int:
    if chapter is not None:
        return chapter
    row = conn.execute("SELECT chapter FROM reading_positions WHERE user_pk = ? ORDER BY updated_at DESC LIMIT 1", (user_pk,)).fetchone()
    return row[0] if row and ctx.course.chapter(row[0]) else ctx.course.chapters[0].number


@dataclass(frozen=True)
class _Started:
    """An attempt just opened, and what its first question needs."""

    attempt_id: int
    chapter: Chapter | None  # None for a review
    seed: int
    questions: list[Question]


def _start(conn: sqlite3.Connection, ctx: CoreContext, actor: Actor, chapter: int | None, count: int | None, depth: Depth | None,
           review: bool) -> _Started:
    now = ctx.clock.now()
    user_pk = touch_user(conn, actor, now)
    seed = random.randrange(1, 2**31)
    found: Chapter | None = None
    if review:
        due = (ctx.course.question(k) for k in due_keys(conn, user_pk, now, 1000))
        questions = [q for q in due if q][: count or ctx.settings.quiz_questions]
        if not questions:
            _, total, nxt = queue_summary(conn, user_pk, now)
            if total == 0:
                raise Refusal("Your review queue is empty. Questions you miss in a quiz come back here when they are due.")
            raise Refusal(f"Nothing is due for review right now ({total} in your queue). The next one is due {_when(nxt, now)}.")
        chapter_no = REVIEW_CHAPTER
    else:
        chapter_no = _chapter_for(conn, ctx, user_pk, chapter)
        found = ctx.require_chapter(chapter_no)
        pool = [q for q in found.questions if q.at_depth(depth)]
        random.Random(seed).shuffle(pool)
        questions = pool[: count or ctx.settings.quiz_questions]
        if not questions:
            raise Refusal(f"Chapter {chapter_no} has no quiz questions{f' at {depth} depth' if depth else ''} yet.")
    conn.execute("UPDATE quiz_attempts SET status = 'abandoned' WHERE user_pk = ? AND status = 'open'", (user_pk,))
    attempt_id = conn.execute(
        "INSERT INTO quiz_attempts(user_pk, chapter, kind, depth, seed, question_keys, questions, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (user_pk, chapter_no, "review" if review else "quiz", depth, seed, json.dumps([q.key for q in questions]), len(questions), iso(now)),
    ).fetchone()[0]
    # After the insert: SQLite gives a new row the largest id + 1, so deleting the row holding the
    # largest id first would hand its id (and its old buttons, `quiz:ID:…`) to the new attempt.
    prune_attempts(conn, user_pk)
    return _Started(attempt_id, found, seed, questions)


#: Finished attempts kept per user, kind and chapter: the latest ones, besides each quiz length's best.
KEEP_FINISHED = 10
#: Abandoned attempts with answers kept per user (their answers feed the class statistics).
KEEP_ABANDONED = 10


def prune_attempts(conn: sqlite3.Connection, user_pk: int) -> None:
    """Bound a user's attempts, keeping all that progress, the leaderboard and reviews read.

    - an abandoned attempt without a single answer holds nothing: deleted;
    - abandoned attempts with answers: the latest KEEP_ABANDONED;
    - finished attempts, per kind and chapter: the latest KEEP_FINISHED, and for each quiz length
      the best one (most correct, earliest). Progress's best score and pass (the pass mark and the
      minimum length only compare correct answers within one length), and the leaderboard's best
      per chapter, are all read from those. The latest finished attempt carries the number pruned
      (`pruned_before`), so the number of attempts shown stays true.

    Review cards are separate rows (`review_cards`) and are never touched here.
    """
    conn.execute(
        "DELETE FROM quiz_attempts WHERE user_pk = ? AND status = 'abandoned'"
        " AND NOT EXISTS (SELECT 1 FROM quiz_answers a WHERE a.attempt_id = quiz_attempts.id)", (user_pk,))
    conn.execute(
        "DELETE FROM quiz_attempts WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) AS newer"
        " FROM quiz_attempts WHERE user_pk = ? AND status = 'abandoned') AS ranked WHERE newer > ?)", (user_pk, KEEP_ABANDONED))
    finished = conn.execute("SELECT id, kind, chapter, pruned_before, correct, questions FROM quiz_attempts"
                            " WHERE user_pk = ? AND status = 'finished' ORDER BY id DESC", (user_pk,)).fetchall()
    # Ranked here rather than in SQL, with window functions over three groupings: a user's
    # finished attempts are few (pruned).
    newer: dict[tuple[str, int], int] = {}
    best: dict[tuple[str, int, int], tuple[int, int]] = {}  # per kind, chapter and length: (-correct, id) of the best
    ranked = []
    for attempt_id, kind, chapter, before, correct, questions in finished:
        latest = newer[(kind, chapter)] = newer.get((kind, chapter), 0) + 1
        group = (kind, chapter, questions)
        best[group] = min(best.get(group, (-correct, attempt_id)), (-correct, attempt_id))
        ranked.append((attempt_id, kind, chapter, before, latest, group))
    doomed = [(attempt_id, kind, chapter, before) for attempt_id, kind, chapter, before, latest, group in ranked
              if latest > KEEP_FINISHED and best[group][1] != attempt_id]
    if not doomed:
        return
    carried: dict[tuple[str, int], int] = {}
    for _, kind, chapter, before in doomed:
        carried[(kind, chapter)] = carried.get((kind, chapter), 0) + 1 + before
    conn.executemany("DELETE FROM quiz_attempts WHERE id = ?", [(row[0],) for row in doomed])
    conn.executemany(  # the latest finished attempt is never pruned, so it can carry the count
        "UPDATE quiz_attempts SET pruned_before = pruned_before + ? WHERE id = (SELECT MAX(id) FROM quiz_attempts"
        " WHERE user_pk = ? AND kind = ? AND chapter = ? AND status = 'finished')",
        [(n, user_pk, kind, chapter) for (kind, chapter), n in carried.items()])


def _when(moment, now) -> str:
    if moment is None:
        return "later"
    seconds = (moment - now).total_seconds()
    if seconds < 3600:
        return f"in {max(1, round(seconds / 60))} min"
    if seconds < 86400 * 2:
        return f"in {round(seconds / 3600)} h"
    return f"on {moment:%a %d %b}"


async def start(ctx: CoreContext, actor: Actor, chapter: int | None = None, count: int | None = None,
                depth: Depth | None = None, review: bool = False) -> Reply:
    """Start a quiz (or, with `review`, a review of what is due): its first question."""
    ctx.require_rate("review" if review else "quiz", actor)
    if depth is not None and depth not in ("shallow", "deep"):
        raise Refusal(f"Depth must be **shallow** or **deep**, not “{depth}”.")
    if count is not None and not 1 <= count <= 50:
        raise Refusal("Ask for between 1 and 50 questions.")
    started = await ctx.store.run(_start, ctx, actor, chapter, count, depth, review)
    n = len(started.questions)
    if started.chapter is None:
        intro = f"🧠 **Review** — {n} question{'s' * (n != 1)} due. Answer with the buttons or `/answer`."
    else:
        scope = f" at {depth} depth" if depth else ""
        intro = f"📝 **Quiz: Chapter {started.chapter.number} — {started.chapter.title}**{scope} · {n} question{'s' * (n != 1)}. Answer with the buttons or `/answer`."
    reply = _ask(started.questions[0], started.attempt_id, 0, n, started.seed)
    reply.text = intro + "\n\n" + reply.text
    return reply


def _ask(question: Question, attempt_id: int, position: int, total: int, seed: int) -> Reply:
    reply = question.ask(f"Question {position + 1} of {total}", actions.QuizAnswer(attempt_id, position), seed)
    if question.hint:
        reply.buttons.append(Button("💡 Hint", actions.QuizHint(attempt_id, position).format()))
    reply.ephemeral = True
    return reply


def _find_attempt(conn, user_pk: int, attempt_id: int | None):
    if attempt_id is None:
        return conn.execute("SELECT * FROM quiz_attempts WHERE user_pk = ? AND status = 'open' ORDER BY id DESC LIMIT 1", (user_pk,)).fetchone()
    return conn.execute("SELECT * FROM quiz_attempts WHERE id = ? AND user_pk = ?", (attempt_id, user_pk)).fetchone()


ALREADY_ANSWERED = "You already answered that question; your answer was recorded once."


def _current(conn, actor: Actor, attempt_id: int | None, position: int | None, now):
    """(user, the open attempt a button or /answer refers to); refused when it cannot be used."""
    user_pk = touch_user(conn, actor, now)
    attempt = _find_attempt(conn, user_pk, attempt_id)
    if attempt is None and attempt_id is None:
        raise Refusal("You have no quiz running. Start one with `/quiz`, or `/review` for what is due.")
    if attempt is None or attempt["status"] != "open":  # ended, or replaced (and pruned) since the button
        raise Refusal("That quiz has already ended. Start a new one with `/quiz`.")
    if position is not None and position != attempt["position"]:
        raise Refusal(ALREADY_ANSWERED)
    return user_pk, attempt


@dataclass(frozen=True)
class _RefusedAfterCommit:
    """A refusal whose transaction must still commit (the attempt marked as run out, a removed
    question skipped): the transaction returns it, and `_run_refusing` raises it once committed."""

    text: str


async def _run_refusing(ctx: CoreContext, fn, *args):
    result = await ctx.store.run(fn, ctx, *args, isolation=OWN_ROWS)  # a person's own attempt
    if isinstance(result, _RefusedAfterCommit):
        raise Refusal(result.text)
    return result


#: Positions per answer mask (`record_masks`): a sum of `1 << (position % MASK_WORD)` fits a
#: 64-bit integer in either database.
MASK_WORD = 32
#: One finished attempt's answers as bit masks, per word of MASK_WORD positions (the table and
#: its back-fill: migrations/0016_analytics.sql). The positions' bits are distinct, so SUM is OR.
RECORD_MASKS_SQL = (
    "INSERT INTO quiz_attempt_masks(attempt_id, word, right_mask, hint_mask, answered_mask)"
    f" SELECT attempt_id, position / {MASK_WORD}, SUM(CAST(correct AS BIGINT) << CAST(position % {MASK_WORD} AS INTEGER)),"
    f" SUM(CAST(hint_used AS BIGINT) << CAST(position % {MASK_WORD} AS INTEGER)), SUM(CAST(1 AS BIGINT) << CAST(position % {MASK_WORD} AS INTEGER))"
    f" FROM quiz_answers WHERE attempt_id = ? GROUP BY attempt_id, position / {MASK_WORD}")


def finish_attempt(conn: sqlite3.Connection, attempt_id: int, now) -> None:
    """Mark an attempt finished and store its answers' masks in the same transaction: the class
    statistics (bot/core/analytics) read one row per attempt from them, not every answer."""
    conn.execute("UPDATE quiz_attempts SET status = 'finished', finished_at = ? WHERE id = ?", (iso(now), attempt_id))
    conn.execute(RECORD_MASKS_SQL, (attempt_id,))


def _run_out(conn, attempt, now) -> _RefusedAfterCommit:
    finish_attempt(conn, attempt["id"], now)
    return _RefusedAfterCommit("That quiz has no questions left (the last were removed from the course). Start a new one with `/quiz`.")


def _answer(conn, ctx: CoreContext, actor: Actor, text: str, attempt_id: int | None, position: int | None):
    now = ctx.clock.now()
    user_pk, attempt = _current(conn, actor, attempt_id, position, now)
    keys = json.loads(attempt["question_keys"])
    pos = attempt["position"]
    if pos >= len(keys):  # its last questions were removed from the course by a reload
        return _run_out(conn, attempt, now)
    question = ctx.course.question(keys[pos])
    if question is None:  # content reloaded without it: skip it, do not count it
        conn.execute("UPDATE quiz_attempts SET position = position + 1 WHERE id = ?", (attempt["id"],))
        return _RefusedAfterCommit("That question was removed from the course since your quiz started; it was skipped. Send `/answer` again for the next one, or `/quiz` to restart.")
    hinted = conn.execute("SELECT 1 FROM quiz_hints WHERE attempt_id = ? AND position = ?", (attempt["id"], pos)).fetchone()

    def insert(answer, correct: bool) -> int:
        return conn.execute(
            "INSERT INTO quiz_answers(attempt_id, position, question_key, answer, correct, hint_used, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (attempt["id"], pos, question.key, json.dumps(answer), int(correct), int(bool(hinted)), iso(now))).rowcount

    judged = judge_and_record(conn, ctx, question, text, attempt["seed"], insert, ALREADY_ANSWERED, now, review_user=user_pk)
    conn.execute("UPDATE quiz_attempts SET position = position + 1, correct = correct + ? WHERE id = ?", (int(judged.correct), attempt["id"]))
    out = Outcome(attempt["id"], question, judged.answer, judged.correct, pos, len(keys), judged.queued, seed=attempt["seed"], kind=attempt["kind"])
    if pos + 1 < len(keys):
        out.next_question = ctx.course.question(keys[pos + 1])
        return out
    finish_attempt(conn, attempt["id"], now)
    out.summary = _summary(conn, ctx, user_pk, attempt, now)
    return out


def _summary(conn, ctx: CoreContext, user_pk: int, attempt, now) -> dict[str, Any]:
    """The finished attempt's summary; for a chapter quiz, the chapter's state and, when this
    attempt was the course's last step, the completion (the student's rows read once, with the
    attempt finished; without it, before it)."""
    rows = conn.execute("SELECT question_key, answer, correct FROM quiz_answers WHERE attempt_id = ? ORDER BY position", (attempt["id"],)).fetchall()
    total = len(json.loads(attempt["question_keys"]))
    correct = sum(r["correct"] for r in rows)
    missed = [(ctx.course.question(r["question_key"]), json.loads(r["answer"])) for r in rows if not r["correct"]]
    summary: dict[str, Any] = {"correct": correct, "total": total, "missed": [m for m in missed if m[0]], "chapter": attempt["chapter"]}
    _, queue, _ = queue_summary(conn, user_pk, now)
    summary["queue"] = queue
    if attempt["kind"] == "quiz":
        chapter = ctx.require_chapter(attempt["chapter"])
        student = student_rows(conn, user_pk)
        summary["state"] = next(state for state in course_states(ctx, student) if state.number == chapter.number)
        before = {c: [a for a in scores if a.id != attempt["id"]] for c, scores in student.attempts.items()}
        if completed_by(ctx, student, student._replace(attempts=before)):
            depth = conn.execute("SELECT preferred_depth FROM users WHERE id = ?", (user_pk,)).fetchone()[0]
            summary["completion"] = completion_text(ctx, depth)
    return summary


async def answer(ctx: CoreContext, actor: Actor, text: str, attempt_id: int | None = None, position: int | None = None) -> Reply:
    outcome = await _run_refusing(ctx, _answer, actor, text, attempt_id, position)
    return render_outcome(outcome, ctx.settings.pass_threshold)


def feedback(question: Question, answer: Any, correct: bool) -> str:
    if correct:
        head = f"✅ **Correct!** {question.describe_answer(answer)}" if question.type != "short" else f"✅ **Correct!** (you wrote {question.describe_answer(answer)})"
    else:
        head = f"❌ **Not quite.** You answered {question.describe_answer(answer)}.\nThe answer: **{question.correct_answer()}**"
    return f"{head}\n> {question.explanation}"


def render_outcome(out: Outcome, pass_threshold: float) -> Reply:
    text = feedback(out.question, out.answer, out.correct)
    if out.queued:
        text += "\n_This question joins your review queue._"
    if out.next_question is not None:
        nxt = _ask(out.next_question, out.attempt_id, out.position + 1, out.total, out.seed)
        nxt.text = text + "\n\n" + nxt.text
        return nxt
    s = out.summary
    pct = round(100 * s["correct"] / s["total"]) if s["total"] else 0
    lines = [text, "", f"🏁 **{'Review' if out.kind == 'review' else 'Quiz'} finished: {s['correct']}/{s['total']} ({pct}%)**"]
    buttons = []
    if out.kind == "quiz":
        passed = s["correct"] >= pass_threshold * s["total"]
        lines.append(f"{'Passed ✅' if passed else 'Not passed yet'} — the pass mark is {round(pass_threshold * 100)}%.")
        state = s["state"]
        if state.best:
            lines.append(f"Your best on chapter {s['chapter']}: {state.best[0]}/{state.best[1]}.")
        if state.complete:
            lines.append(f"📗 Chapter {s['chapter']} is complete.")
        elif state.passed and not state.lesson_read:
            lines.append("Finish reading the lesson (either depth) to complete the chapter.")
        buttons.append(Button("🔁 Try again", actions.QuizStart(s['chapter']).format(), "primary"))
    if s["missed"]:
        lines += ["", "**To revisit:**"]
        lines += [f"- {q.prompt} — **{q.correct_answer()}**" for q, _ in s["missed"][:10]]
        lines.append(f"\nMissed questions come back in `/review` when they are due ({s['queue']} in your queue).")
    buttons.append(Button("🧠 Review", actions.ReviewStart().format()))
    buttons.append(Button("📈 Progress", actions.ProgressShow().format()))
    achievements = []
    if s.get("completion"):
        lines += ["", "---", "", s["completion"]]
        achievements.append("course-complete")
    return Reply(text="\n".join(lines), buttons=buttons, ephemeral=True, kind="summary", achievements=achievements)


def _hint(conn, ctx: CoreContext, actor: Actor, attempt_id: int | None, position: int | None):
    now = ctx.clock.now()
    _, attempt = _current(conn, actor, attempt_id, position, now)
    keys = json.loads(attempt["question_keys"])
    if attempt["position"] >= len(keys):
        return _run_out(conn, attempt, now)
    question = ctx.course.question(keys[attempt["position"]])
    if question is None or not question.hint:
        raise Refusal("This question has no hint. Trust your reading!")
    conn.execute("INSERT INTO quiz_hints(attempt_id, position, shown_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (attempt["id"], attempt["position"], iso(now)))
    return question.hint


async def hint(ctx: CoreContext, actor: Actor, attempt_id: int | None = None, position: int | None = None) -> Reply:
    text = await _run_refusing(ctx, _hint, actor, attempt_id, position)
    return Reply(text=f"💡 **Hint:** {text}", ephemeral=True, kind="hint")


def _open_attempt(conn, actor: Actor):
    user = find_user(conn, actor.platform, actor.user_id)
    return _find_attempt(conn, user["id"], None) if user else None


async def current_question(ctx: CoreContext, actor: Actor) -> tuple[dict[str, Any], Question | None] | tuple[None, None]:
    """The actor's open attempt (as a dict) and the question it waits on; (None, None) with no quiz open.

    A read, for whoever needs to know what is being asked (tests answering a shuffled quiz)."""
    attempt = await ctx.store.read(_open_attempt, actor)
    if attempt is None:
        return None, None
    keys = json.loads(attempt["question_keys"])
    return dict(attempt), ctx.course.question(keys[attempt["position"]]) if attempt["position"] < len(keys) else None

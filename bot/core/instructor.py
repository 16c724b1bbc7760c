"""Instructor commands: reload the content, class statistics, reset a student's progress.

Each is checked here, on the server side, whatever the platform shows or hides: an adapter
tells the core that a user is an instructor (Discord's Manage Server, a Slack admin), and
COMPANION_INSTRUCTORS names more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .content import read_course
from .replies import Reply, error, quote_user_text
from .users import Actor

if TYPE_CHECKING:
    from .companion import Companion

REFUSED = "🔒 That is an instructor command. Instructors are people with Manage Server (Discord), workspace admins (Slack), or those listed in COMPANION_INSTRUCTORS."


async def reload(core: Companion, actor: Actor) -> Reply:
    if not core.is_instructor(actor):
        return error(REFUSED)
    course, problems = read_course(core.settings.content_dir)
    errors = [p for p in problems if p.severity == "error"]
    if errors or course is None:
        listing = "\n".join(f"- `{p}`" for p in (errors or problems)[:15])
        more = f"\n…and {len(errors) - 15} more." if len(errors) > 15 else ""
        return Reply(text=f"❌ The content has errors, so the current course stays loaded:\n{listing}{more}", ephemeral=True, kind="error")
    core.course = course
    if core.assistant is not None:
        core.assistant.reindex()  # the assistant answers from the new lessons and glossary too
    warnings = [p for p in problems if p.severity == "warning"]
    questions = sum(len(c.questions) for c in course.chapters)
    text = f"🔄 Reloaded **{course.title}**: {len(course.chapters)} chapter(s), {questions} questions."
    if warnings:
        text += "\n" + "\n".join(f"- `{w}`" for w in warnings[:10])
    return Reply(text=text, ephemeral=True)


def _stats(conn, core: Companion, actor: Actor):
    guild = f"{actor.platform}:{actor.guild}" if actor.guild else None
    if guild:
        members = [r[0] for r in conn.execute("SELECT user_pk FROM memberships WHERE guild = ?", (guild,))]
    else:
        members = [r[0] for r in conn.execute("SELECT id FROM users WHERE platform = ?", (actor.platform,))]
    marks = ",".join("?" * len(members)) or "NULL"
    out = {"students": len(members), "chapters": []}
    for chapter in core.course.chapters:
        readers = conn.execute(f"SELECT COUNT(DISTINCT user_pk) FROM pages_read WHERE chapter = ? AND user_pk IN ({marks})",
                               (chapter.number, *members)).fetchone()[0]
        attempts = conn.execute(
            f"SELECT user_pk, correct, json_array_length(question_keys) FROM quiz_attempts WHERE chapter = ? AND kind = 'quiz'"
            f" AND status = 'finished' AND user_pk IN ({marks})", (chapter.number, *members)).fetchall()
        best: dict[int, float] = {}
        for user_pk, correct, total in attempts:
            best[user_pk] = max(best.get(user_pk, 0.0), correct / total if total else 0.0)
        passed = sum(1 for v in best.values() if v >= core.settings.pass_threshold)
        hardest = conn.execute(
            f"SELECT a.question_key, AVG(a.correct), COUNT(*) FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id"
            f" WHERE t.chapter = ? AND t.user_pk IN ({marks}) GROUP BY a.question_key HAVING COUNT(*) >= 1"
            f" ORDER BY AVG(a.correct), COUNT(*) DESC LIMIT 3", (chapter.number, *members)).fetchall()
        out["chapters"].append({
            "number": chapter.number, "title": chapter.title, "readers": readers, "attempts": len(attempts),
            "quiz_takers": len(best), "passed": passed,
            "average_best": round(100 * sum(best.values()) / len(best)) if best else None,
            "hardest": [(k, round(100 * r), n) for k, r, n in hardest],
        })
    return out


async def stats(core: Companion, actor: Actor) -> Reply:
    if not core.is_instructor(actor):
        return error(REFUSED)
    data = await core.store.read(_stats, core, actor)
    lines = [f"👩‍🏫 **Class statistics** — {data['students']} student{'s' * (data['students'] != 1)}"]
    for c in data["chapters"]:
        lines += ["", f"**Chapter {c['number']}: {c['title']}**",
                  f"- read the lesson: {c['readers']} · took the quiz: {c['quiz_takers']} ({c['attempts']} attempts) · passed: {c['passed']}"]
        if c["average_best"] is not None:
            lines.append(f"- average best score: {c['average_best']}%")
        for key, rate, n in c["hardest"]:
            q = core.course.question(key)
            if q:
                lines.append(f"- hardest: “{q.prompt[:80]}” — {rate}% right over {n} answer{'s' * (n != 1)}")
    return Reply(text="\n".join(lines), ephemeral=True, kind="stats")


def _reset(conn, actor: Actor, who: str):
    rows = conn.execute("SELECT id, display_name FROM users WHERE platform = ? AND (user_id = ? OR display_name = ? COLLATE NOCASE)",
                        (actor.platform, who, who)).fetchall()
    if len(rows) != 1:
        return None, len(rows)
    user_pk = rows[0][0]
    for table in ("reading_positions", "pages_read", "quiz_attempts", "review_cards"):
        conn.execute(f"DELETE FROM {table} WHERE user_pk = ?", (user_pk,))
    return rows[0][1], 1


async def reset(core: Companion, actor: Actor, who: str) -> Reply:
    if not core.is_instructor(actor):
        return error(REFUSED)
    who = who.strip().lstrip("@")
    if not who:
        return error("Whose progress? `/course reset NAME-or-ID`.")
    name, found = await core.store.run(_reset, actor, who)
    if name is None:
        return error(f"No single student matches “{quote_user_text(who[:64])}” ({found} found): use their user id.")
    return Reply(text=f"♻️ Reset the progress of **{name}**: reading, quiz attempts and review queue. Live quiz results are kept.", ephemeral=True)


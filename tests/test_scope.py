"""Every power is scoped: an instructor reaches only the students of their own server or
workspace, and a live quiz's buttons work only in its own platform, server and channel.

Two guilds and two platforms share one SQLite file, as they do when the Discord and Slack
adapters run on one core: "instructor" on Discord means Manage Server in whichever server sent
the command, so anyone with a server of their own is an instructor somewhere.
"""

from __future__ import annotations

import json

from bot.core.companion import Companion
from bot.core.users import Actor
from bot.core.command_line import handle_text

CHAPTER = 7


def who(user_id: str, guild: str | None, platform: str = "discord", name: str | None = None, instructor: bool = False,
        channel: str = "general") -> Actor:
    return Actor(platform, user_id, name or user_id.title(), guild, channel if guild else None, is_instructor=instructor)


async def pages_read(core: Companion, platform: str, user_id: str) -> int:
    return await core.store.run(lambda c: c.execute(
        "SELECT COUNT(*) FROM pages_read p JOIN users u ON u.id = p.user_pk WHERE u.platform = ? AND u.user_id = ?",
        (platform, user_id)).fetchone()[0])


async def confirm(core: Companion, actor: Actor, asked) -> object:
    button = next(b for b in asked.buttons if b.style == "danger")
    return await core.handle_action(actor, button.action)


async def test_reset_reaches_only_the_instructors_own_server(core):
    victim = who("111", "guild-b", name="Victim")       # studies only in guild B
    await core.lesson(victim, CHAPTER, "deep")
    rogue = who("999", "guild-a", instructor=True)        # Manage Server in their own guild A
    for target in ("111", "Victim", "victim", "@Victim"):
        reply = await handle_text(core, rogue, f"/course reset {target}")
        assert reply.kind == "error" and "has no progress here" in reply.text, reply.text
        assert not reply.buttons
    assert await pages_read(core, "discord", "111") == 1
    # The instructor of guild B can, after confirming.
    teacher_b = who("222", "guild-b", instructor=True)
    asked = await handle_text(core, teacher_b, "/course reset Victim")
    assert asked.kind == "confirm" and "Victim" in asked.text
    assert await pages_read(core, "discord", "111") == 1  # nothing before the confirmation
    done = await confirm(core, teacher_b, asked)
    assert "Reset the progress of **Victim**" in done.text
    assert await pages_read(core, "discord", "111") == 0


async def test_the_confirmation_is_checked_again_when_pressed(core):
    student = who("111", "guild-b", name="Sam")
    await core.lesson(student, CHAPTER, "deep")
    teacher_b = who("222", "guild-b", instructor=True)
    asked = await handle_text(core, teacher_b, "/course reset 111")
    # A forwarded or forged press: by a non-instructor, from another guild, from a DM, another platform.
    for presser in (who("333", "guild-b"), who("999", "guild-a", instructor=True), who("222", None, instructor=True),
                    who("222", "guild-b", platform="slack", instructor=True)):
        reply = await confirm(core, presser, asked)
        assert reply.kind == "error", (presser, reply.text)
    assert await pages_read(core, "discord", "111") == 1
    # A forged id for a user of another server is refused the same way, and a huge one is invalid.
    outsider = who("444", "guild-c", name="Olga")
    await core.lesson(outsider, CHAPTER, "deep")
    olga_pk = await core.store.run(lambda c: c.execute("SELECT id FROM users WHERE user_id = '444'").fetchone()[0])
    forged = await core.handle_action(teacher_b, f"progress:reset:{olga_pk}")
    assert forged.kind == "error" and "no progress here" in forged.text
    assert await pages_read(core, "discord", "444") == 1
    assert "no longer valid" in (await core.handle_action(teacher_b, "progress:reset:100000000000000000000")).text
    assert "Nothing was reset" in (await core.handle_action(teacher_b, "progress:reset-cancel")).text
    # The genuine press works once; a second press finds nothing left to reset.
    assert "Reset the progress" in (await confirm(core, teacher_b, asked)).text
    assert "no progress here" in (await confirm(core, teacher_b, asked)).text


async def test_reset_never_leaks_how_many_share_a_name(core):
    for user_id in ("1", "2", "3"):
        await core.lesson(who(user_id, "guild-a", name="Alex"), CHAPTER, "deep")
    await core.lesson(who("4", "guild-b", name="Alex"), CHAPTER, "deep")
    teacher = who("9", "guild-a", instructor=True)
    several = await handle_text(core, teacher, "/course reset Alex")
    assert several.kind == "error" and "More than one" in several.text and "user id" in several.text
    assert not any(ch.isdigit() for ch in several.text)  # no count, in any form
    # In guild B only one Alex is a member: guild A's Alexes do not count there.
    alone = await handle_text(core, who("8", "guild-b", instructor=True), "/course reset Alex")
    assert alone.kind == "confirm"
    # An id matches exactly even when names collide.
    assert (await handle_text(core, teacher, "/course reset 2")).kind == "confirm"


async def test_same_ids_on_another_platform_are_other_people(core):
    await core.lesson(who("111", "team-1", platform="slack", name="Kim"), CHAPTER, "deep")
    await core.lesson(who("111", "team-1", platform="discord", name="Kim"), CHAPTER, "deep")
    teacher = who("9", "team-1", platform="discord", instructor=True)
    await confirm(core, teacher, await handle_text(core, teacher, "/course reset Kim"))
    assert await pages_read(core, "discord", "111") == 0
    assert await pages_read(core, "slack", "111") == 1


async def test_no_data_here_and_direct_messages(core):
    member = who("5", "guild-a", name="Quiet")
    await handle_text(core, member, "/help")  # seen here, never read or quizzed
    await handle_text(core, member, "/progress")
    teacher = who("9", "guild-a", instructor=True)
    assert "has no progress here" in (await handle_text(core, teacher, "/course reset Quiet")).text
    assert "has no progress here" in (await handle_text(core, teacher, "/course reset nobody-at-all")).text
    dm = who("9", None, instructor=True)
    for command in ("/course reset Quiet", "/course stats"):
        reply = await handle_text(core, dm, command)
        assert reply.kind == "error" and "in your server" in reply.text
    refused = await handle_text(core, who("5", "guild-a"), "/course reset Quiet")
    assert refused.kind == "error" and "instructor" in refused.text


async def test_stats_count_only_the_instructors_server(core):
    await core.lesson(who("1", "guild-a"), CHAPTER, "deep")
    for user_id in ("2", "3", "4"):
        await core.lesson(who(user_id, "guild-b"), CHAPTER, "deep")
    stats = await handle_text(core, who("9", "guild-a", instructor=True), "/course stats")
    assert "— 1 student in this server" in stats.text and "opened the lesson: 1 " in stats.text  # not guild B's three


async def start_live(core: Companion, host: Actor):
    await handle_text(core, host, f"/live {CHAPTER} 3")
    session = await core.store.run(lambda c: dict(c.execute("SELECT * FROM live_sessions ORDER BY id DESC").fetchone()))
    question = core.course.question(json.loads(session["question_keys"])[0])
    return session, question.typed_answer(session["seed"])


async def live_rows(core: Companion, session_id: int) -> int:
    return await core.store.run(lambda c: c.execute("SELECT COUNT(*) FROM live_answers WHERE session_id = ?", (session_id,)).fetchone()[0])


async def test_live_buttons_work_only_in_their_channel(core):
    host = who("1", "guild-a")
    session, right = await start_live(core, host)
    sid = session["id"]
    outsiders = [
        who("7", "guild-b", instructor=True),                      # another server, an admin there
        who("7", "guild-a", channel="random", instructor=True),    # the same server, another channel
        who("7", "guild-a", platform="slack", instructor=True),    # same guild and channel names, another platform
        who("7", None, instructor=True),                           # a DM
    ]
    for actor in outsiders:
        for action in (f"live:{sid}:0:a:{right}", f"live:{sid}:skip", f"live:{sid}:stop"):
            reply = await core.handle_action(actor, action)
            assert reply.kind == "error" and "another channel" in reply.text, (actor, action, reply.text)
    assert await live_rows(core, sid) == 0
    after = await core.store.run(lambda c: dict(c.execute("SELECT * FROM live_sessions WHERE id = ?", (sid,)).fetchone()))
    assert (after["phase"], after["current"]) == ("question", 0)  # neither skipped nor stopped
    # In the channel itself: an answer is recorded, and only the starter or an instructor may stop it.
    player = who("2", "guild-a")
    assert (await core.handle_action(player, f"live:{sid}:0:a:{right}")).kind == "live-ack"
    assert await live_rows(core, sid) == 1
    assert "Only the person who started" in (await core.handle_action(player, f"live:{sid}:stop")).text
    assert "stopped" in (await core.handle_action(host, f"live:{sid}:stop")).text


async def test_two_live_quizzes_on_two_servers_stay_apart(core):
    first, right_a = await start_live(core, who("1", "guild-a"))
    second, right_b = await start_live(core, who("2", "guild-b"))
    player_a = who("3", "guild-a")
    # A player in guild A pressing (or forging) guild B's button does not reach guild B's quiz.
    assert "another channel" in (await core.handle_action(player_a, f"live:{second['id']}:0:a:{right_b}")).text
    assert (await core.handle_action(player_a, f"live:{first['id']}:0:a:{right_a}")).kind == "live-ack"
    # Typed /answer goes to the quiz of the channel it was typed in.
    assert (await handle_text(core, who("4", "guild-b"), f"/answer {right_b}")).kind == "live-ack"
    assert (await live_rows(core, first["id"]), await live_rows(core, second["id"])) == (1, 1)
    # /live stop typed in guild B by its admin stops guild B's quiz only.
    assert "stopped" in (await handle_text(core, who("5", "guild-b", instructor=True), "/live stop")).text
    phases = await core.store.run(lambda c: dict(c.execute("SELECT id, phase FROM live_sessions").fetchall()))
    assert phases == {first["id"]: "question", second["id"]: "ended"}

"""One way to refuse: features raise `Refusal`, the companion answers it privately in one place,
and an unexpected exception is a logged error ("something went wrong"), never a stale button."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.adapters.console.adapter import ConsoleAdapter
from bot.core import actions, live, quiz
from bot.core.command_line import handle_text
from bot.core.context import REFUSED
from bot.core.refusal import Refusal
from bot.core.users import Actor


def person(name: str, instructor: bool = False) -> Actor:
    return Actor("test", name, name.title(), "g1", "quiz", is_instructor=instructor)


async def test_a_feature_refusal_is_a_private_error_reply(core):
    with pytest.raises(Refusal, match="no quiz running"):  # the feature raises…
        await quiz.answer(core.ctx, person("ann"), "B")
    reply = await core.answer(person("ann"), "B")  # …and the companion answers it
    assert reply.kind == "error" and reply.ephemeral and "no quiz running" in reply.text


async def test_one_instructor_gate(core, monkeypatch):
    ann, teacher = person("ann"), person("teacher", instructor=True)
    assert not core.ctx.is_instructor(ann) and core.ctx.is_instructor(teacher)
    with pytest.raises(Refusal, match="instructor command"):
        core.ctx.require_instructor(ann)
    for call in (core.course_reload(ann), core.course_stats(ann), core.course_reset(ann, "bob"), core.course_stop(ann),
                 handle_text(core, ann, "/course stats")):
        assert (await call).text == REFUSED
    monkeypatch.setattr(type(core.ctx.settings), "is_instructor", lambda self, platform, user_id: user_id == "ann")
    assert core.ctx.is_instructor(ann)  # COMPANION_INSTRUCTORS, through the same gate
    assert "Class statistics" in (await core.course_stats(ann)).text


async def test_a_refused_answer_still_commits_what_it_must(core):
    """A question removed by a reload is skipped (the attempt moves on) although the answer is refused."""
    ann = person("ann")
    await core.quiz(ann, 7, 2)
    attempt, question = await quiz.current_question(core.ctx, ann)
    original = core.ctx.course.question
    core.ctx.course.question = lambda key: None if key == question.key else original(key)  # removed by a reload
    try:
        reply = await core.answer(ann, "A")
    finally:
        del core.ctx.course.question
    assert reply.kind == "error" and "was skipped" in reply.text
    moved, _ = await quiz.current_question(core.ctx, ann)
    assert moved["position"] == attempt["position"] + 1


async def test_an_unexpected_error_from_a_button_is_not_a_stale_button(core, monkeypatch):
    ann = person("ann")
    await core.quiz(ann, 7, 2)
    attempt, _ = await quiz.current_question(core.ctx, ann)

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug in the quiz")
    monkeypatch.setattr(quiz, "answer", broken)
    with pytest.raises(RuntimeError, match="a bug in the quiz"):
        await core.handle_action(ann, actions.QuizAnswer(attempt["id"], 0, "B").format())
    assert "no longer valid" in (await core.handle_action(ann, "quiz:x:0:a:B")).text  # a forged id still is


async def test_the_console_logs_an_unexpected_error_and_lives_on(core, monkeypatch, caplog):
    out = io.StringIO()
    adapter = ConsoleAdapter(core, out=out, mode="jsonl", user="ann")
    await adapter.handle_line(json.dumps({"text": "/quiz 7 2"}))
    attempt, _ = await quiz.current_question(core.ctx, adapter.actor())
    action = actions.QuizAnswer(attempt["id"], 0, "B").format()

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug in the quiz")
    monkeypatch.setattr(quiz, "answer", broken)
    with caplog.at_level(logging.ERROR):
        await adapter.handle_line(json.dumps({"action": action}))
    assert "could not handle this action (it has been logged)" in out.getvalue().splitlines()[-1]
    assert any(r.exc_info and "a bug in the quiz" in str(r.exc_info[1]) for r in caplog.records)
    plain = ConsoleAdapter(core, out=out, mode="plain", user="ann")
    with caplog.at_level(logging.ERROR):
        await plain.handle_line("/answer B")
    assert "Something went wrong" in out.getvalue()
    await adapter.handle_line(json.dumps({"text": "/progress"}))  # the session goes on
    assert json.loads(out.getvalue().splitlines()[-1])["reply"]["title"] == "Your progress"


async def test_live_refusals_come_from_the_feature(core):
    ann = person("ann")
    with pytest.raises(Refusal, match=live.NOT_RUNNING):
        await core.live.skip(ann)
    assert (await core.live_skip(ann)).text == live.NOT_RUNNING

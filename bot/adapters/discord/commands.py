"""The slash command tree: typed options in, the core's typed methods out.

Names are lowercase and at most 32 characters, descriptions at most 100, required options come
before optional ones; `tests/discord_standin.py` checks the synced tree against these rules.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import discord
from discord import app_commands

from bot.adapters.safety import clean
from bot.core import actions
from bot.core.actions import Depth
from bot.core.companion import Companion
from bot.core.replies import Reply
from bot.core.users import Actor


class Responder(Protocol):
    """What the commands need of the Discord adapter (`client.DiscordAdapter`)."""

    core: Companion

    def actor(self, interaction: discord.Interaction) -> Actor: ...

    async def respond(self, interaction: discord.Interaction, call: Callable[[], Awaitable[Reply]]) -> None: ...

    async def start_live(self, actor: Actor, call: Awaitable[Reply]) -> Reply: ...


DEPTHS = [app_commands.Choice(name="shallow — the short version", value="shallow"),
          app_commands.Choice(name="deep — the full version", value="deep")]
#: On Discord a live quiz starts with the `start` sub-command (a group cannot also be a command).
HELP_EXTRA = [("/live start [chapter] [questions]", "On Discord: start a live quiz in this channel"),
              ("/lab menu", "On Discord: the lab's menu (each `/lab` task is its own sub-command)")]
MODES = [app_commands.Choice(name="assistant — instruction-tuned (default)", value="assistant"),
         app_commands.Choice(name="base — a base model that only continues text", value="base")]


def _depth(choice: app_commands.Choice[str] | None) -> Depth | None:
    """The depth an optional DEPTHS choice stands for (discord.py passes only declared choices)."""
    return actions.parse_depth(choice.value) if choice else None


def _plain_command(name: str, description: str, call: Callable[[Companion, Actor], Awaitable[Reply]], adapter: Responder,
                   run: Callable[[discord.Interaction, Callable[[Actor], Awaitable[Reply]]], Awaitable[None]]) -> app_commands.Command:
    """A slash command with no option that runs `call` on the adapter's companion (as it is when
    the command is used) for whoever used it."""
    async def callback(interaction: discord.Interaction) -> None:
        await run(interaction, lambda actor: call(adapter.core, actor))

    return app_commands.Command(name=name, description=description, callback=callback)


def register(tree: app_commands.CommandTree, adapter: Responder) -> None:
    core = adapter.core

    async def chapters(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
        current = current.casefold().strip()
        out = []
        for c in core.course.chapters:
            name = f"{c.number}: {c.title}"
            if not current or current in name.casefold():
                out.append(app_commands.Choice(name=name[:100], value=c.number))
        return out[:25]

    def run(interaction: discord.Interaction, call: Callable[[Actor], Awaitable[Reply]]) -> Awaitable[None]:
        actor = adapter.actor(interaction)
        return adapter.respond(interaction, lambda: call(actor))

    @tree.command(name="lesson", description="Read a lesson page, where you left off by default")
    @app_commands.describe(chapter="Which chapter", depth="Shallow (short) or deep (full)", page="Jump to a page")
    @app_commands.autocomplete(chapter=chapters)
    @app_commands.choices(depth=DEPTHS)
    async def lesson(interaction: discord.Interaction, chapter: int | None = None, depth: app_commands.Choice[str] | None = None,
                     page: app_commands.Range[int, 1, 999] | None = None):
        await run(interaction, lambda a: core.lesson(a, chapter, _depth(depth), page))

    @tree.command(name="page", description="Jump to a page of your lesson")
    @app_commands.describe(number="The page number")
    async def page_(interaction: discord.Interaction, number: app_commands.Range[int, 1, 999]):
        await run(interaction, lambda a: core.page(a, number))

    @tree.command(name="depth", description="Switch your lesson between shallow and deep")
    @app_commands.describe(depth="Shallow (short) or deep (full)")
    @app_commands.choices(depth=DEPTHS)
    async def depth_(interaction: discord.Interaction, depth: app_commands.Choice[str]):
        await run(interaction, lambda a: core.depth(a, actions.parse_depth(depth.value)))

    @tree.command(name="quiz", description="A quiz just for you (only you see it)")
    @app_commands.describe(chapter="Which chapter", questions="How many questions", depth="Questions for shallow or deep readers")
    @app_commands.autocomplete(chapter=chapters)
    @app_commands.choices(depth=DEPTHS)
    async def quiz(interaction: discord.Interaction, chapter: int | None = None, questions: app_commands.Range[int, 1, 50] | None = None,
                   depth: app_commands.Choice[str] | None = None):
        await run(interaction, lambda a: core.quiz(a, chapter, questions, _depth(depth)))

    @tree.command(name="answer", description="Answer your current question by typing (a letter, letters, true/false or words)")
    @app_commands.describe(text="Your answer")
    async def answer(interaction: discord.Interaction, text: app_commands.Range[str, 1, 200]):
        await run(interaction, lambda a: core.answer(a, clean(text)))

    @tree.command(name="help", description="What I can do")
    async def help_(interaction: discord.Interaction):
        async def call(a: Actor) -> Reply:
            return core.help(a, extra=HELP_EXTRA)
        await run(interaction, call)

    @tree.command(name="chat", description="Talk to the simulated instruction-tuned assistant (only you see it)")
    @app_commands.describe(message="What you want to say")
    async def chat(interaction: discord.Interaction, message: app_commands.Range[str, 1, 2000]):
        await run(interaction, lambda a: core.chat(a, clean(message)))

    @tree.command(name="compare", description="The base model and the instruction-tuned assistant, side by side")
    @app_commands.describe(prompt="A prompt for both models")
    async def compare(interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 2000]):
        await run(interaction, lambda a: core.compare(a, clean(prompt)))

    @tree.command(name="mode", description="Chat with the assistant (default) or with the raw base model")
    @app_commands.describe(mode="Which model answers your chat")
    @app_commands.choices(mode=MODES)
    async def mode(interaction: discord.Interaction, mode: app_commands.Choice[str]):
        await run(interaction, lambda a: core.set_mode(a, mode.value))

    live = app_commands.Group(name="live", description="A live quiz for everyone in this channel", guild_only=True)

    @live.command(name="start", description="Start a live quiz in this channel")
    @app_commands.describe(chapter="Which chapter", questions="How many questions")
    @app_commands.autocomplete(chapter=chapters)
    async def live_start(interaction: discord.Interaction, chapter: int | None = None, questions: app_commands.Range[int, 1, 50] | None = None):
        await run(interaction, lambda a: adapter.start_live(a, core.live_start(a, chapter, questions)))

    lab = app_commands.Group(name="lab", description="The class RLHF lab: demonstrations, rankings, a reward model", guild_only=True)

    @lab.command(name="propose", description="Propose an instruction for classmates to write demonstrations for")
    @app_commands.describe(instruction="The instruction")
    async def lab_propose(interaction: discord.Interaction, instruction: app_commands.Range[str, 1, actions.MAX_PROPOSAL]):
        await run(interaction, lambda a: core.lab_propose(a, clean(instruction)))

    @lab.command(name="score", description="The reward your class's model gives a response")
    @app_commands.describe(prompt="The prompt", response="The response to score")
    async def lab_score(interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 500], response: app_commands.Range[str, 1, 1000]):
        await run(interaction, lambda a: core.lab_score(a, f"{clean(prompt)} ||| {clean(response)}"))

    @lab.command(name="optimize", description="Best-of-n against your reward model at several KL penalties")
    @app_commands.describe(prompt="The prompt")
    async def lab_optimize(interaction: discord.Interaction, prompt: app_commands.Range[str, 1, 1000]):
        await run(interaction, lambda a: core.lab_optimize(a, clean(prompt)))

    @lab.command(name="live", description="A live lab in this channel: everyone votes A or B")
    @app_commands.describe(rounds="How many rounds")
    async def lab_live(interaction: discord.Interaction, rounds: app_commands.Range[int, 1, 50] | None = None):
        await run(interaction, lambda a: adapter.start_live(a, core.lab_live(a, rounds)))

    course = app_commands.Group(name="course", description="Instructor tools", guild_only=True,
                                default_permissions=discord.Permissions(manage_guild=True))

    @course.command(name="stats", description="Class statistics for this server, with charts; a chapter: pages and item analysis")
    @app_commands.describe(chapter="A chapter: its lesson pages and item analysis")
    @app_commands.autocomplete(chapter=chapters)
    async def course_stats(interaction: discord.Interaction, chapter: app_commands.Range[int, 0, 999999] | None = None):
        await run(interaction, lambda a: core.course_stats(a, chapter))

    @course.command(name="question", description="One question's item analysis: facility, discrimination, answers")
    @app_commands.describe(question="The question's id, or chapter:id")
    async def course_question(interaction: discord.Interaction, question: app_commands.Range[str, 1, 80]):
        await run(interaction, lambda a: core.course_question(a, clean(question)))

    @course.command(name="reset", description="Reset a student's progress (reading, quizzes, reviews)")
    @app_commands.describe(student="The student whose progress to reset")
    async def course_reset(interaction: discord.Interaction, student: discord.User):
        await run(interaction, lambda a: core.course_reset(a, str(student.id)))

    # The commands with no option: a name, a description and the core's call, each registered alike.
    plain: list[tuple[app_commands.CommandTree | app_commands.Group, str, str, Callable[[Companion, Actor], Awaitable[Reply]]]] = [
        (tree, "next", "The next page of your lesson", Companion.next_page),
        (tree, "prev", "The previous page of your lesson", Companion.previous_page),
        (tree, "hint", "A hint for your current quiz question", Companion.hint),
        (tree, "review", "Questions you missed, when spaced repetition says they are due", Companion.review),
        (tree, "progress", "Your progress, streak and review queue (only you see it)", Companion.progress),
        (tree, "leaderboard", "Top scores in this server", Companion.leaderboard),
        (tree, "my-data", "Everything I store about you, as a JSON file (only you see it)", Companion.export),
        (tree, "forget-me", "Delete everything I store about you (asks to confirm)", lambda c, a: c.forget(a, confirmed=False)),
        (live, "skip", "Close the open question now (starter or instructor)", Companion.live_skip),
        (live, "stop", "Stop the live quiz (starter or instructor)", Companion.live_stop),
        (live, "status", "Where the live quiz in this channel stands", Companion.live_status),
        (lab, "menu", "What the lab is, your streak, and its tasks", Companion.lab_menu),
        (lab, "write", "Write a demonstration: the response an assistant should give", Companion.lab_write),
        (lab, "rank", "Put 2-4 responses to a prompt in order, best first", Companion.lab_rank),
        (lab, "flag", "Check a classmate's demonstration (flag spam, harmful, off-topic)", Companion.lab_flag),
        (lab, "reward", "Your class's reward model: accuracy, agreement, what it rewards", Companion.lab_reward),
        (lab, "board", "The class's top lab contributors", Companion.lab_board),
        (lab, "export", "Instructors: the class's data in TRL's formats, with a dataset card", Companion.lab_export),
        (lab, "flags", "Instructors: review flagged demonstrations", Companion.lab_flags),
        # Default permissions only hide the course group: the core's instructor gate decides.
        (course, "reload", "Reload the course content from disk", Companion.course_reload),
        (course, "export", "The gradebook and the item analysis as CSV files", Companion.course_export),
        (course, "stop", "Stop the live quiz running in this channel", Companion.course_stop),
    ]
    for parent, name, description, call in plain:
        parent.add_command(_plain_command(name, description, call, adapter, run))
    for group in (live, lab, course):
        tree.add_command(group)

"""The commands a person can give, as `/help` lists them.

One table, read by `Companion.help` (what to show) and by the text parser
(`command_line.py`: which names exist, and which may never be offered as a guess).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    instructor: bool = False
    #: Deletes data: never offered as a guess for a mistyped command.
    destructive: bool = False


COMMANDS = [
    Command("help", "/help", "What I can do"),
    Command("lesson", "/lesson [chapter] [shallow|deep] [page]", "Read a lesson, where you left off by default"),
    Command("next", "/next · /prev", "Next or previous page of the lesson"),
    Command("page", "/page N", "Jump to page N of the lesson"),
    Command("depth", "/depth shallow|deep", "Switch the lesson's depth"),
    Command("quiz", "/quiz [chapter] [questions] [shallow|deep]", "A quiz just for you"),
    Command("answer", "/answer TEXT", "Answer the current question (a letter, letters, true/false, or words)"),
    Command("hint", "/hint", "A hint for your current quiz question"),
    Command("review", "/review", "Questions you missed, when spaced repetition says they are due"),
    Command("progress", "/progress", "Your progress, streak and review queue"),
    Command("leaderboard", "/leaderboard", "Top scores in this server or workspace"),
    Command("live", "/live [chapter] [questions] · /live skip|stop|status", "A live quiz for everyone in the channel"),
    Command("lab", "/lab [write|rank|flag|propose TEXT|reward|score P ||| R|optimize P|live [rounds]|board]",
            "The class RLHF lab: write demonstrations, rank responses, train a reward model together "
            "(instructors: `/lab export`, `/lab flags`)"),
    Command("chat", "/chat MESSAGE", "Talk to the simulated instruction-tuned assistant"),
    Command("compare", "/compare PROMPT", "The base model and the instruction-tuned assistant, side by side"),
    Command("mode", "/mode assistant|base", "Chat with the assistant (default) or with the raw base model"),
    Command("my-data", "/my-data", "Everything I store about you, as a JSON file"),
    Command("forget-me", "/forget-me", "Delete everything I store about you", destructive=True),
    Command("course", "/course reload|stats [chapter N]|question ID|export|reset USER|stop", "Instructor tools: class statistics, item analysis, CSV export",
            instructor=True, destructive=True),
]

"""Typed text as commands: `/lesson 7 deep`, `/page 3`, or a message for the assistant.

One adapter of the companion's typed methods, for every place a person types a whole line:
the console, direct messages, and Slack's single slash command (`/companion lesson 7`, whose
text arrives without the slash). Each command's words are read here, as untrusted input (ASCII
numbers within bounds, the depth words, nothing extra), and handed to the matching `Companion`
method; Discord's slash commands call those methods directly with their typed options.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .actions import Depth
from .commands import COMMANDS
from .companion import Companion
from .context import REFUSED
from .inputs import ascii_number, clean_input, is_blank, too_long
from .replies import Reply, error, quote_user_text
from .users import Actor

#: Aliases typed by people who guess.
ALIASES = {"prev": "next", "previous": "next", "back": "next", "mydata": "my-data", "export": "my-data",
           "forget": "forget-me", "forgetme": "forget-me", "board": "leaderboard", "top": "leaderboard",
           "a": "answer", "h": "hint", "start": "help", "commands": "help"}
#: Typed names that turn the page backwards (the others of "next"'s aliases).
_BACKWARDS = frozenset({"prev", "previous", "back"})


class UsageError(ValueError):
    """A command typed with arguments it does not take; the message says how to type it."""


async def handle_text(core: Companion, actor: Actor, text: str) -> Reply:
    """A line someone typed: a /command, or a message for the assistant."""
    text = clean_input(text if isinstance(text, str) else "").strip()
    if is_blank(text):
        return error("Say something, or `/help` for the commands.")
    if refusal := too_long(text):  # before any parsing: nothing below has to cope with 100,000 `[`
        return error(refusal)
    if not text.startswith("/"):
        return await core.chat(actor, text)
    name, rest = split_command(text[1:])
    return await run_command(core, actor, name, rest)


def split_command(text: str) -> tuple[str, str]:
    """`lesson 7 deep` → (`lesson`, `7 deep`): a command's name (lower case) and its words as typed."""
    name, _, rest = text.strip().partition(" ")
    return name.lower(), rest.strip()


def canonical(name: str) -> str | None:
    """The command `name` (lower case) stands for, alias or not (`prev` → `next`); None if none."""
    name = ALIASES.get(name, name)
    return name if name in _HANDLERS else None


async def run_command(core: Companion, actor: Actor, name: str, rest: str) -> Reply:
    """The command `name` (lower case, without the slash) with its words `rest`, as typed."""
    rest = clean_input(rest).strip()
    if refusal := too_long(rest):
        return error(refusal)
    if name in _BACKWARDS:
        return await core.previous_page(actor)
    handler = _HANDLERS.get(ALIASES.get(name, name))
    if handler is None:
        return error(f"I don't know the command /{quote_user_text(name[:32])}.{_suggestion(name)} Type `/help` for the list.")
    try:
        return await handler(core, actor, rest)
    except UsageError as exc:
        return error(str(exc))


# ---- one reader per command ----------------------------------------------------------------------


async def _help(core: Companion, actor: Actor, rest: str) -> Reply:
    return core.help(actor)


async def _lesson(core: Companion, actor: Actor, rest: str) -> Reply:
    numbers, depth = _args(rest, "/lesson [chapter] [shallow|deep] [page]", max_numbers=2)
    return await core.lesson(actor, _nth(numbers, 0), depth, _nth(numbers, 1))


async def _next(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.next_page(actor)


async def _page(core: Companion, actor: Actor, rest: str) -> Reply:
    numbers, _ = _args(rest, "/page N", max_numbers=1, depth_ok=False)
    if not numbers:
        raise UsageError("Which page? `/page N`.")
    return await core.page(actor, numbers[0])


async def _depth(core: Companion, actor: Actor, rest: str) -> Reply:
    _, depth = _args(rest, "/depth shallow|deep", max_numbers=0)
    if depth is None:
        raise UsageError("Which depth? `/depth shallow` or `/depth deep`.")
    return await core.depth(actor, depth)


async def _quiz(core: Companion, actor: Actor, rest: str) -> Reply:
    numbers, depth = _args(rest, "/quiz [chapter] [questions] [shallow|deep]", max_numbers=2)
    return await core.quiz(actor, _nth(numbers, 0), _nth(numbers, 1), depth)


async def _answer(core: Companion, actor: Actor, rest: str) -> Reply:
    if not rest:
        raise UsageError("Type your answer after `/answer`, e.g. `/answer B`.")
    return await core.answer(actor, rest)


async def _hint(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.hint(actor)


async def _review(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.review(actor)


async def _progress(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.progress(actor)


async def _leaderboard(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.leaderboard(actor)


async def _live(core: Companion, actor: Actor, rest: str) -> Reply:
    word, _, tail = rest.partition(" ")
    word = word.lower()
    if word in ("skip", "next"):
        return await core.live_skip(actor)
    if word in ("stop", "end"):
        return await core.live_stop(actor)
    if word == "status":
        return await core.live_status(actor)
    if word == "answer":
        return await core.live_answer(actor, tail.strip())
    numbers, _ = _args(rest, "/live [chapter] [questions] · /live skip|stop|status", max_numbers=2, depth_ok=False)
    return await core.live_start(actor, _nth(numbers, 0), _nth(numbers, 1))


LAB_USAGE = ("The lab: `/lab`, `/lab write`, `/lab propose TEXT`, `/lab rank`, `/lab flag`, `/lab reward`, "
             "`/lab score PROMPT ||| RESPONSE`, `/lab optimize PROMPT`, `/lab live [rounds]`, `/lab board`; instructors: "
             "`/lab export`, `/lab flags`.")


async def _lab(core: Companion, actor: Actor, rest: str) -> Reply:
    word, _, tail = rest.partition(" ")
    word, tail = word.lower(), tail.strip()
    plain: dict[str, Callable[[Actor], Awaitable[Reply]]] = {
        "": core.lab_menu, "menu": core.lab_menu, "write": core.lab_write, "rank": core.lab_rank, "flag": core.lab_flag,
        "flags": core.lab_flags, "reward": core.lab_reward, "board": core.lab_board, "export": core.lab_export}
    if word in plain:
        if tail:
            raise UsageError(f"`/lab {word}` takes nothing after it. {LAB_USAGE}")
        return await plain[word](actor)
    if word in ("propose", "score", "optimize") and not tail:
        raise UsageError({"propose": "What should classmates answer? `/lab propose Explain RLHF to a ten-year-old.`",
                          "score": "`/lab score PROMPT ||| RESPONSE`, e.g. `/lab score What is RLHF? ||| Learning from human rankings.`",
                          "optimize": "Give a prompt: `/lab optimize What is the alignment tax?`"}[word])
    if word == "propose":
        return await core.lab_propose(actor, tail)
    if word == "score":
        return await core.lab_score(actor, tail)
    if word == "optimize":
        return await core.lab_optimize(actor, tail)
    if word == "live":
        numbers, _ = _args(tail, "/lab live [rounds]", max_numbers=1, depth_ok=False)
        return await core.lab_live(actor, _nth(numbers, 0))
    raise UsageError(f"I don't know `/lab {quote_user_text(word[:32])}`. {LAB_USAGE}")


async def _chat(core: Companion, actor: Actor, rest: str) -> Reply:
    if not rest:
        raise UsageError("What would you like to say? `/chat MESSAGE`.")
    return await core.chat(actor, rest)


async def _compare(core: Companion, actor: Actor, rest: str) -> Reply:
    if not rest:
        raise UsageError("Give me a prompt to compare: `/compare What is the capital of France?`")
    return await core.compare(actor, rest)


async def _mode(core: Companion, actor: Actor, rest: str) -> Reply:
    mode = rest.strip().lower()
    if mode not in ("assistant", "base"):
        raise UsageError("`/mode assistant` (instruction-tuned, the default) or `/mode base` (a base model that only continues text).")
    return await core.set_mode(actor, mode)


async def _my_data(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.export(actor)


async def _forget_me(core: Companion, actor: Actor, rest: str) -> Reply:
    return await core.forget(actor, confirmed=rest.lower() in ("confirm", "yes"))


async def _course(core: Companion, actor: Actor, rest: str) -> Reply:
    word, _, student = rest.partition(" ")
    word = word.lower()
    if not core.ctx.is_instructor(actor):  # a student learns nothing about the instructor tools' words
        return error(REFUSED)
    if word == "reload":
        return await core.course_reload(actor)
    if word == "stats":
        return await core.course_stats(actor, _stats_chapter(student))
    if word == "question":
        if not student.strip():
            raise UsageError("Which question? `/course question ID` (or `chapter:ID`).")
        return await core.course_question(actor, student)
    if word == "export":
        return await core.course_export(actor)
    if word == "reset":
        return await core.course_reset(actor, student)
    if word == "stop":
        return await core.course_stop(actor)
    raise UsageError("Instructor tools: `/course reload`, `/course stats [chapter N]`, `/course question ID`, `/course export`,"
                     " `/course reset NAME-or-ID`, `/course stop`.")


def _stats_chapter(rest: str) -> int | None:
    """`/course stats`'s words: nothing, `N` or `chapter N`."""
    words = rest.lower().split()
    if not words:
        return None
    if words[0] == "chapter":
        words = words[1:]
    number = ascii_number(words[0]) if len(words) == 1 else None
    if number is None:
        raise UsageError(f"I didn't understand “{quote_user_text(rest[:40])}”. Usage: `/course stats [chapter N]`")
    return number


_HANDLERS: dict[str, Callable[[Companion, Actor, str], Awaitable[Reply]]] = {
    "help": _help, "lesson": _lesson, "next": _next, "page": _page, "depth": _depth, "quiz": _quiz, "answer": _answer,
    "hint": _hint, "review": _review, "progress": _progress, "leaderboard": _leaderboard, "live": _live, "chat": _chat,
    "compare": _compare, "mode": _mode, "my-data": _my_data, "forget-me": _forget_me, "course": _course, "lab": _lab,
}


# ---- reading words ------------------------------------------------------------------------------


def _nth(numbers: list[int], index: int) -> int | None:
    return numbers[index] if len(numbers) > index else None


def _suggestion(name: str) -> str:
    """ "Did you mean …?" for a mistyped command: never a destructive one (forget-me, course),
    which a guess must not put one click or one paste away."""
    close = [c.usage for c in COMMANDS if not c.destructive and name and c.name.startswith(name[:2])]
    return f" Did you mean `{close[0]}`?" if close else ""


def _args(rest: str, usage: str, max_numbers: int, depth_ok: bool = True) -> tuple[list[int], Depth | None]:
    """The numbers and the depth word among a command's words; UsageError for anything else."""
    numbers: list[int] = []
    depth: Depth | None = None
    for token in rest.split():
        word = token.lower().strip(",")
        number = ascii_number(word)
        if word in ("shallow", "deep") and depth_ok:
            depth = "shallow" if word == "shallow" else "deep"
        elif number is not None and len(numbers) < max_numbers:
            numbers.append(number)
        else:
            raise UsageError(f"I didn't understand “{quote_user_text(token[:40])}”. Usage: `{usage}`")
    return numbers, depth

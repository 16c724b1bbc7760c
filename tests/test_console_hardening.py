"""The console, hardened: plain text when piped, buttons for whoever is at the keyboard, exports in
their own folder, JSON lines that cannot stop the session, a quiet and tidy interactive prompt.

Every test but the renderer's runs the real thing: `python -m bot` as a subprocess (piped, JSON
lines, or in a pseudo-terminal), or the interactive loop driven through prompt_toolkit's pipe
input, on real SQLite files."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import select
import subprocess
import sys
from pathlib import Path


from bot.adapters.console.render import jsonl, markdown_to_plain, plain
from bot.core.replies import Reply

ROOT = Path(__file__).resolve().parents[1]

COURSE = "title: Tiny Course\nchapters:\n  - number: 1\n    folder: ch\n    title: One\n"
LESSON = "# One\n\nSome **bold** text, a [link](https://example.org/page) and `code`.\n\n## Two\n\n- a *list*\n- of things\n"
QUIZ = """chapter: 1
questions:
  - id: pick-b
    type: single
    depth: both
    prompt: "Which letter comes **second**?"
    choices: ["A", "B"]
    answer: 2
    explanation: "**B** follows A."
    hint: "Not the first one."
"""


def tiny_course(tmp_path: Path) -> Path:
    """One chapter, one two-choice question with a hint: buttons are [A, B, Hint] in a solo quiz
    and [A, B, Skip, Stop] in a live one."""
    content = tmp_path / "content"
    (content / "ch").mkdir(parents=True)
    (content / "course.yaml").write_text(COURSE)
    (content / "ch" / "lesson.md").write_text(LESSON)
    (content / "ch" / "quiz.yaml").write_text(QUIZ)
    return content


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    out = {**os.environ, "COMPANION_DB": str(tmp_path / "data" / "console.db"), "COMPANION_LOG_LEVEL": "warning",
           "HOME": str(tmp_path), **env}
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "COMPANION_EXPORT_DIR", "COMPANION_INSTRUCTORS"):
        if name not in env:
            out.pop(name, None)
    (tmp_path / "data").mkdir(exist_ok=True)
    return out


def run(tmp_path: Path, stdin: str | bytes, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin if isinstance(stdin, bytes) else stdin.encode(),
                          cwd=work, env=environment(tmp_path, **env), capture_output=True, timeout=timeout)


# ---- piped mode: plain text -------------------------------------------------------------------


def test_markdown_becomes_readable_plain_text():
    text = markdown_to_plain(
        "# Title\n\nSome **bold**, *em*, ~~gone~~ and `code`; [the docs](https://example.org/d), <https://example.org/a>,"
        " [top](#top) and ![a diagram](d.png).\nA second line.\n\n## Steps\n\n1. first **step**\n2. second\n   - nested\n\n"
        "> **Note:** quoted\n\n```python\nx = 1  # **not bold**\n```\n\n| a | bb |\n|---|---|\n| 1 | 2 |\n\n---\n\nA \\*literal\\* star"
    )
    assert text.split("\n") == [
        "Title", "",
        "Some bold, em, gone and code; the docs (https://example.org/d), https://example.org/a, top and a diagram.",
        "A second line.", "",
        "Steps", "",
        "1. first step", "2. second", "  - nested", "",
        "> Note: quoted", "",
        "    x = 1  # **not bold**", "",
        "a | bb", "--+---", "1 | 2", "",
        "----------", "",
        "A *literal* star",
    ]


def test_a_link_whose_text_looks_like_another_url_shows_where_it_goes():
    assert markdown_to_plain("[http://good.example](http://evil.example)") == "http://good.example (http://evil.example)"


def test_a_plain_reply_keeps_title_and_buttons():
    from bot.core.replies import Button

    out = plain(Reply(text="**Hi** there", title="Greeting", buttons=[Button("Next ▶", "lesson:1:deep:2")]))
    assert out == "== Greeting ==\nHi there\n[/1] Next ▶"


def test_piped_mode_prints_no_markdown(tmp_path):
    lines = ["/lesson 7 deep", "/next", "/next", "/lesson 7 shallow", "/help", "/progress", "/quiz 7 3", "/answer B",
             "/compare what is the capital of France?", "what is RLHF?"]
    done = run(tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "Page 3 of 3 · deep depth" in out and "== Commands ==" in out and "== Your progress ==" in out
    assert "**" not in out and "`" not in out and "](" not in out
    assert not [line for line in out.splitlines() if line.lstrip().startswith("#")]


def test_my_data_goes_to_the_exports_folder_beside_the_database(tmp_path):
    done = run(tmp_path, "/lesson\n/my-data\n")
    assert done.returncode == 0, done.stderr
    exported = tmp_path / "data" / "exports" / "my-data-console-student.json"
    assert json.loads(exported.read_text())["user"]["user_id"] == "student"
    assert f"(saved to {exported})" in done.stdout.decode()
    assert list((tmp_path / "work").iterdir()) == []  # nothing written where the command ran
    assert oct(exported.stat().st_mode & 0o777) == oct(0o600)

    elsewhere = tmp_path / "my exports"
    done = run(tmp_path, "/as bob\n/lesson\n/my-data\n", COMPANION_EXPORT_DIR=str(elsewhere))
    assert json.loads((elsewhere / "my-data-console-bob.json").read_text())["user"]["user_id"] == "bob"
    assert f"(saved to {elsewhere / 'my-data-console-bob.json'})" in done.stdout.decode()

    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    done = run(tmp_path, "/my-data\n/progress\n", COMPANION_EXPORT_DIR=str(blocked / "exports"))
    assert done.returncode == 0 and "Traceback" not in done.stderr.decode()
    out = done.stdout.decode()
    assert f"(could not save the file in {blocked / 'exports'} (Not a directory)" in out and "== Your progress ==" in out


def test_exports_are_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "exports/my-data-console-x.json"], cwd=ROOT)
    assert ignored.returncode == 0


# ---- buttons: /1, /2… ----------------------------------------------------------------------------


def test_a_hint_keeps_the_question_buttons(tmp_path):
    done = run(tmp_path, "/quiz 1 1\n/hint\n/2\n", COMPANION_CONTENT_DIR=str(tiny_course(tmp_path)))
    out = done.stdout.decode()
    assert "[/1] A) A  [/2] B) B  [/3] 💡 Hint" in out
    hint = out.index("💡 Hint: Not the first one.")
    assert out.index("✅ Correct! B) B", hint) > hint


def test_live_buttons_work_for_whoever_is_at_the_keyboard(tmp_path):
    lines = ["/live 1 1", "/as carol", "/2", "/4", "/as dave", "/1", "/as teacher", "/4"]
    done = run(tmp_path, "\n".join(lines) + "\n", COMPANION_CONTENT_DIR=str(tiny_course(tmp_path)),
               COMPANION_INSTRUCTORS="console:teacher")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "[/1] A) A  [/2] B) B  [/3] ⏭ Skip  [/4] ⏹ Stop" in out
    marks = ["You are now carol.", "📨 Answer recorded: B) B.", "Only the person who started this quiz or an instructor can stop it.",
             "You are now dave.", "📨 Answer recorded: A) A.", "You are now teacher.", "Final leaderboard"]
    positions = [out.find(m) for m in marks]
    assert -1 not in positions and positions == sorted(positions), list(zip(marks, positions))
    assert "🥇 carol" in out[positions[-1]:] and "dave" in out[positions[-1]:]  # the final standings: both answers counted
    assert "There is no button" not in out


def test_own_buttons_newer_than_the_live_question_win_and_a_closed_question_has_none(tmp_path):
    lines = ["/live 1 1", "/as erin", "/lesson 1", "/2", "/as teacher", "/4", "/as frank", "/1"]
    done = run(tmp_path, "\n".join(lines) + "\n", COMPANION_CONTENT_DIR=str(tiny_course(tmp_path)),
               COMPANION_INSTRUCTORS="console:teacher")
    out = done.stdout.decode()
    # erin's lesson came after the question: her /2 is the lesson's "Quiz me", not the answer B
    assert "📝 Quiz: Chapter 1 — One" in out and "Answer recorded" not in out
    assert out.rstrip().endswith("There is no button to press: no live question is open and your replies had none.")


# ---- JSON lines -----------------------------------------------------------------------------


class Session:
    """`companion console --jsonl` as a process, one line in, the replies out."""

    def __init__(self, tmp_path: Path, **env: str):
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "console", "--jsonl"], cwd=work,
                                     env=environment(tmp_path, **env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0)
        self.pending = b""

    def readline(self) -> bytes:
        """The next output line; a process that stops answering fails the test instead of hanging it."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            ready, _, _ = select.select([fd], [], [], 60)
            assert ready, "no answer within a minute"
            chunk = os.read(fd, 1 << 16)
            assert chunk, f"the process ended: {self.proc.stderr.read().decode()[-2000:]}"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line

    def send(self, line: str | bytes | dict) -> dict:
        raw = line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode()
        data = memoryview(raw + b"\n")
        while data:  # an unbuffered pipe may take a long line in parts
            data = data[self.proc.stdin.write(data):]
        return json.loads(self.readline())

    def close(self) -> tuple[int, str]:
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        return code, self.proc.stderr.read().decode()


NOT_NAMES = [0, 1, False, True, None, "", 1.5, [], ["bob"], {}, {"name": "bob"}, "x" * 33, "bob\n", "bo b", "a\u0000b",
             "bob\u200b", "\u202eevil", "bob\ud83d", "../bob"]


def test_jsonl_refuses_a_user_that_is_not_a_name(tmp_path):
    session = Session(tmp_path)
    try:
        for user in NOT_NAMES:
            refused = session.send({"user": user, "text": "/progress"})
            assert set(refused) == {"error", "line"} and '"user"' in refused["error"], (user, refused)
        default = session.send({"text": "/as zoe"})  # no user: the default one, as documented
        assert default["user"] == "student" and default["reply"]["text"] == "You are now **zoe**."
        assert session.send({"text": "/progress"})["user"] == "zoe"
        assert session.send({"user": "Émile_2.0-b", "text": "/progress"})["reply"]["title"] == "Your progress"
    finally:
        code, stderr = session.close()
    assert code == 0 and "Traceback" not in stderr


def test_a_starting_user_that_is_not_a_name_is_one_line(tmp_path):
    done = run(tmp_path, '{"text": "/progress"}\n', "console", "--jsonl", "--user", "bad name")
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().strip() == "companion: --user must be 1-32 letters, digits, '.', '-' or '_', got 'bad name'"


def test_jsonl_refuses_wrong_fields(tmp_path):
    session = Session(tmp_path)
    bad = [{"user": "amy"}, {"user": "amy", "text": "/help", "action": "progress:show"}, {"user": "amy", "text": 7},
           {"user": "amy", "text": None}, {"user": "amy", "text": ["/help"]}, {"user": "amy", "action": {"id": 1}},
           {"user": "amy", "action": ""}, {"user": "amy", "text": "x" * 4001}, {"user": "amy", "action": "q" * 4001},
           [{"user": "amy", "text": "/help"}], "7", '"text"', "null", "{not json", "[" * 100_000, '{"a":' * 100_000,
           '{"user": "amy", "text": "' + "9" * 5000 + '", "n": ' + "9" * 5000 + "}"]
    try:
        for line in bad:
            answer = session.send(line)
            assert set(answer) == {"error", "line"}, (str(line)[:80], answer)
        assert session.send({"user": "amy", "text": "/progress"})["reply"]["title"] == "Your progress"
    finally:
        code, stderr = session.close()
    assert code == 0 and "Traceback" not in stderr


def test_a_lone_surrogate_never_stops_the_writer(tmp_path):
    session = Session(tmp_path, COMPANION_CONTENT_DIR=str(tiny_course(tmp_path)))
    try:
        session.send({"user": "amy", "text": "/quiz 1 1"})
        # the line as a script would write it: the JSON escape of a lone high surrogate
        answer = session.send('{"user": "amy", "text": "/answer \\ud83d"}')
        assert answer["user"] == "amy" and "reply" in answer
        chat = session.send('{"user": "amy", "text": "hello \\ud83d\\ude00 \\udc00 there"}')
        assert "reply" in chat
        assert session.send({"user": "amy", "text": "/answer B"})["reply"]["text"].startswith("✅ **Correct!**")
    finally:
        code, stderr = session.close()
    assert code == 0 and "Traceback" not in stderr


def test_the_json_writer_is_ascii_and_round_trips():
    obj = {"text": "naïve 😀 \ud83d \u2028 \x00", "n": 1}
    line = jsonl(obj)
    assert line.isascii() and "\n" not in line and json.loads(line) == obj


def fuzzed_lines(seed: int) -> list[bytes]:
    """Hostile input lines of every kind, none containing a newline."""
    rng = random.Random(seed)
    values = [0, -1, 2**64, 10**30, 1e308, -0.0, True, False, None, "", " ", [], [[]], {}, {"text": "/help"}, "x" * 5000,
              "\ud83d", "\udc00x", "\u0000", "\u200b\u200b", "\u202e/help", "\ufeff/help", "e\u0301\u0301\u0301", "😀" * 50,
              "\u2028\u2029", "\r/help", "\t", "/", "/9999999999999999999999", "/0", "/-1", "/1"]
    actions = ["quiz:100000000000000000000:0:a:B", "quiz:1:99999999999999999999999:hint", "live:18446744073709551616:skip",
               "live:1:stop", "live:-1:0:a:true", "lesson:7:deep:99999999999999999999999", "lesson:7:deep:L-5", "quiz:start:7:deep",
               "lesson:", ":", "x" * 4000, "quiz:1:0:a:" + "\ud83d", "review:start", "progress:show", "nonsense", "quiz:²:0:a:B",
               "lesson:⑦:deep:1", "live:1:0:a:" + "Z" * 3000]
    lines: list[bytes] = []
    for _ in range(40):  # random bytes, no newline
        lines.append(bytes(rng.choice([b for b in range(256) if b != 10]) for _ in range(rng.randint(1, 300))))
    for field in ("user", "text", "action"):  # wrong types for every field
        for value in values:
            obj = {"user": "fuzz", field: value} if field != "user" else {"user": value, "text": "/progress"}
            lines.append(json.dumps(obj).encode())
    for action in actions:  # action ids, hostile but well-typed
        lines.append(json.dumps({"user": "fuzz", "action": action}).encode())
    lines += [b"[" * 100_000, b'{"a":' * 100_000, b"{" * 50_000 + b"}" * 50_000, b"]" * 1000, b'"' * 1001,
              b"\xff\xfe\x00/help", b"\xef\xbb\xbf" + json.dumps({"user": "fuzz", "text": "/help"}).encode(),
              b"\xed\xa0\xbd", b"\x00" * 100, b"1" * 5000, b"x" * (2 * 1024 * 1024), b'{"user": "fuzz", "text": "' + b"a" * (1 << 20) + b'"}',
              b'{"user": "fuzz", "text": "/lesson 7"} trailing', b'{"user": "fuzz", "text": "\\u0000/help"}',
              b'{"user": "fuzz", "text": "/help", "user": 0}', b"NaN", b"Infinity", b'{"user": "fuzz", "text": "\r/help"}']
    rng.shuffle(lines)
    return lines


def test_fuzzed_jsonl_gets_one_line_each_and_a_clean_exit(tmp_path):
    lines = fuzzed_lines(13)
    sane = json.dumps({"user": "zed", "text": "/progress"}).encode()
    stream = b"\n".join(lines + [sane]) + b"\n"
    expected = sum(1 for line in lines if line.decode("utf-8", "replace").strip()) + 1
    done = run(tmp_path, stream, "console", "--jsonl", timeout=60)  # answers every line, then exits
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    out = done.stdout.decode("utf-8").splitlines()
    assert len(out) == expected
    answers = [json.loads(line) for line in out]
    assert all(isinstance(a, dict) and ("error" in a) != ("reply" in a) for a in answers)
    assert answers[-1]["user"] == "zed" and answers[-1]["reply"]["title"] == "Your progress"
    assert all(line.isascii() for line in out)


# ---- the interactive console ------------------------------------------------------------------


async def test_a_live_event_prints_above_a_redrawn_prompt(tmp_path):
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.vt100 import Vt100_Output

    from bot.adapters.console.adapter import ConsoleAdapter
    from bot.core.clock import ManualClock
    from bot.core.companion import Companion
    from bot.core.config import Settings

    settings = Settings(database=tmp_path / "c.db", content_dir=tiny_course(tmp_path), live_question_seconds=30, live_reveal_seconds=0)
    clock = ManualClock()
    companion = await Companion.create(settings, clock=clock, fuzzing=False)
    screen = io.StringIO()  # the prompt and the replies share one terminal
    try:
        with create_pipe_input() as keys:
            adapter = ConsoleAdapter(companion, out=screen, mode="interactive", user="alice")
            adapter.history_path = None
            output = Vt100_Output(screen, lambda: Size(rows=40, columns=100), term="xterm")
            loop = asyncio.create_task(adapter.run_interactive(input=keys, output=output))

            async def until(text: str, start: int = 0) -> int:
                for _ in range(6000):  # a bound, not a timing: up to a minute on a busy machine
                    if (found := screen.getvalue().find(text, start)) >= 0:
                        return found
                    await asyncio.sleep(0.01)
                raise AssertionError(f"{text!r} never shown after {start}: {screen.getvalue()[start:][-800:]!r}")

            keys.send_text("/live 1 1\r")
            await until("Live quiz started")
            keys.send_text("/as bob\r")
            shown = await until("\x1b[0mbob>", await until("You are now bob"))
            keys.send_text("/2\r")
            await until("Answer recorded: B) B", shown)
            ready = await until("\x1b[0mbob>", await until("Answer recorded"))
            # the question closes while bob's prompt waits for input
            clock.advance(31)
            await companion.live.advance_due()
            results = await until("question 1/1: results", ready)
            assert await until("\x1b[0mbob>", results) > results  # the prompt is drawn again under the event
            keys.send_text("/quit\r")
            await asyncio.wait_for(loop, 30)
    finally:
        await companion.close()


async def test_only_the_console_channel_quiz_shows_and_sets_the_buttons(tmp_path):
    from bot.adapters.console.adapter import ConsoleAdapter
    from bot.core.clock import ManualClock
    from bot.core.companion import Companion
    from bot.core.config import Settings
    from bot.core.live import LiveEvent
    from bot.core.replies import Button

    companion = await Companion.create(Settings(database=tmp_path / "c.db", content_dir=tiny_course(tmp_path)), clock=ManualClock(), fuzzing=False)
    try:
        screen = io.StringIO()
        adapter = ConsoleAdapter(companion, out=screen, mode="plain")
        question = Reply(text="Elsewhere?", title="Slack quiz", buttons=[Button("A", "live:9:0:a:A")], kind="live-question")
        await adapter._on_live_event(LiveEvent("question", 9, ("slack", "T1", "C1"), 0, question))
        assert screen.getvalue() == "" and adapter.pressable("student") == []
        await adapter._on_live_event(LiveEvent("question", 9, ("console", "local", "main"), 0, question))
        assert "== Slack quiz ==" in screen.getvalue() and adapter.pressable("anyone") == ["live:9:0:a:A"]
    finally:
        await companion.close()


def test_a_log_sent_to_a_file_keeps_its_level_and_a_terminal_gets_warnings_only(tmp_path):
    import logging

    from bot.adapters.console.adapter import quiet_terminal_logging

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    root = logging.Logger("probe", level=logging.INFO)
    terminal, log_file = Terminal(), open(tmp_path / "companion.log", "w")
    try:
        for stream in (terminal, log_file):
            root.addHandler(logging.StreamHandler(stream))
        quiet_terminal_logging(root)
        root.info("applied migration 0001_init")
        root.warning("content warning")
    finally:
        log_file.close()
    assert terminal.getvalue() == "content warning\n"
    assert (tmp_path / "companion.log").read_text() == "applied migration 0001_init\ncontent warning\n"


def test_the_interactive_console_keeps_the_log_quiet(tmp_path):
    import pty

    main, secondary = pty.openpty()
    work = tmp_path / "work"
    work.mkdir()
    env = environment(tmp_path, COMPANION_LOG_LEVEL="info", TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    proc = subprocess.Popen([sys.executable, "-m", "bot"], cwd=work, env=env, stdin=secondary, stdout=secondary,
                            stderr=secondary, close_fds=True)
    os.close(secondary)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        start = len(seen)
        while marker not in seen[start:]:
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, seen[-500:]
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed: the process has ended
                chunk = b""
            assert chunk, seen[-500:]
            seen += chunk

    try:
        read_until(b"\x1b[0mstudent>")
        os.write(main, b"/progress\r")
        read_until(b"Your progress")
        os.write(main, b"/quit\r")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    text = seen.decode("utf-8", "replace")
    assert "course companion" in text
    assert " INFO " not in text and "applied migration" not in text and "assistant ready" not in text

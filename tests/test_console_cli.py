"""The console companion as a real process: piped lines, JSON lines, settings and content errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COMPANION_DB": str(tmp_path / "console.db"), "COMPANION_LOG_LEVEL": "warning", **env}
    environment.pop("DISCORD_TOKEN", None)
    environment.pop("SLACK_BOT_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_piped_lines_get_replies_in_order_and_exit_zero(tmp_path):
    lines = ["/help", "/lesson 7 deep", "/next", "/quiz 7 3", "/answer Q", "/as bob", "/progress", "hello there", "/nonsense"]
    done = run(tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    marks = ["== Commands ==", "Page 1 of 3 · deep depth", "Page 2 of 3 · deep depth", "Question 1 of 3",
             "You are now bob", "== Your progress ==", "Hello! 👋", "I don't know the command"]
    positions = [out.find(m) for m in marks]
    assert -1 not in positions and positions == sorted(positions), list(zip(marks, positions))
    assert "Traceback" not in out + done.stderr


def test_jsonl_scripting_with_buttons_and_a_bad_line(tmp_path):
    environment = {**os.environ, "COMPANION_DB": str(tmp_path / "j.db"), "COMPANION_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "console", "--jsonl"], cwd=tmp_path, env=environment,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(obj) -> dict:
        proc.stdin.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    lesson = send({"user": "alice", "text": "/lesson 7 deep"})
    assert lesson["user"] == "alice" and lesson["reply"]["page"] == {"number": 1, "total": 3}
    following = next(b["action"] for b in lesson["reply"]["buttons"] if b["label"].startswith("Next"))
    assert send({"user": "alice", "action": following})["reply"]["page"]["number"] == 2
    assert "error" in send("{not json")
    quiz = send({"user": "bob", "text": "/quiz 7 1"})
    assert "Question 1 of 1" in quiz["reply"]["text"]
    export = send({"user": "bob", "text": "/my-data"})
    assert json.loads(export["reply"]["files"][0]["text"])["user"]["user_id"] == "bob"
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert proc.stderr.read().count("Traceback") == 0


def test_a_malformed_setting_is_one_line_naming_it(tmp_path):
    done = run(tmp_path, "", "console", COMPANION_QUIZ_QUESTIONS="lots")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "COMPANION_QUIZ_QUESTIONS" in done.stderr


def test_invalid_content_refuses_to_start_with_file_and_line(tmp_path):
    content = tmp_path / "content"
    (content / "ch").mkdir(parents=True)
    (content / "course.yaml").write_text("title: T\nchapters:\n  - number: 1\n    folder: ch\n    title: One\n")
    (content / "ch" / "lesson.md").write_text("# One\n<!-- DEEP -->\nText\n")
    (content / "ch" / "quiz.yaml").write_text("chapter: 1\nquestions:\n  - id: a\n    type: riddle\n    prompt: x\n    explanation: y\n")
    done = run(tmp_path, "/help\n", COMPANION_CONTENT_DIR=str(content))
    assert done.returncode == 1 and done.stdout == ""
    assert "lesson.md:2: <!-- DEEP --> is never closed" in done.stderr
    assert "quiz.yaml:4: unknown question type 'riddle'" in done.stderr
    assert "Traceback" not in done.stderr

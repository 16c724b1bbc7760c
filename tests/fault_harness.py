"""Helpers for the fault suite: the companion as a real `--jsonl` process, small file systems.

Every wait here has a timeout, so a process that hangs fails its test in seconds instead of
holding CI until its time limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: "Within seconds": how long a process gets to answer a line or to exit. Generous, because the
#: machine running the tests may be busy; a hang still fails the test long before CI's limit.
PATIENCE = 30.0
RECORDED = ("Correct!", "Not quite.")  # the feedback of an answer that was recorded


def environment(db: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "COMPANION_DB": str(db), "COMPANION_LOG_LEVEL": "warning", **extra}
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    return env


class Companion:
    """`companion console --jsonl` on `db`, stdin kept open: it ends only by itself or by us."""

    def __init__(self, db: Path, cwd: Path, *args: str, argv: list[str] | None = None, **env: str):
        argv = argv or [sys.executable, "-m", "bot", *(args or ("console", "--jsonl"))]
        self.proc = subprocess.Popen(argv, cwd=cwd,
                                     env=environment(db, **env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream, put) -> None:
        for line in stream:
            put(line)
        put(None)

    def write(self, obj: dict | str) -> None:
        self.proc.stdin.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = PATIENCE) -> dict | None:
        """The next output line as an object; None at end of output."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout} s; stderr: {''.join(s for s in self.stderr if s)[-2000:]}") from None
        return None if line is None else json.loads(line)

    def send(self, obj: dict | str, timeout: float = PATIENCE) -> dict:
        self.write(obj)
        reply = self.read(timeout)
        assert reply is not None, f"the process ended instead of answering; stderr: {''.join(s for s in self.stderr if s)[-2000:]}"
        return reply

    def wait_exit(self, timeout: float = PATIENCE) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the process did not exit within {timeout} s (it hangs); "
                                 f"stderr: {''.join(s for s in self.stderr if s)[-2000:]}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def close(self) -> None:
        """End of input, then a clean exit (killed if it does not come)."""
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()
        try:
            self.proc.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            self.kill()

    def stderr_text(self) -> str:
        self.proc.wait(PATIENCE)
        for _ in range(100):  # the pump thread may still be draining
            if self.stderr and self.stderr[-1] is None:
                break
            threading.Event().wait(0.02)
        return "".join(s for s in self.stderr if s)


def run_cli(db: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=environment(db), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=PATIENCE)


def migrated_database(path: Path) -> Path:
    """A database with the full schema, made by the real `companion db migrate`."""
    done = run_cli(path, path.parent, "db", "migrate")
    assert done.returncode == 0, done.stderr
    return path


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def small_filesystem(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `folder` (needs the right to mount, as root in a container has)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a small file system here ({exc}); a full disk needs one")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here (mount: {done.stderr.strip()}); a full disk needs one")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@contextlib.contextmanager
def read_only_folder(source: Path, folder: Path) -> Iterator[Path]:
    """`source`'s files seen read-only at `folder`.

    As root, file modes do not stop writes, so root gets a read-only bind mount (what a container
    with a read-only volume has). Anyone else gets the modes: a read-only file in a read-only folder.
    """
    if os.geteuid() != 0:
        for path in source.iterdir():
            path.chmod(0o444)
        source.chmod(0o555)
        try:
            yield source
        finally:
            source.chmod(0o755)
            for path in source.iterdir():
                path.chmod(0o644)
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = _mount("--bind", str(source), str(folder))
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"running as root, where file modes do not stop writes, and cannot bind-mount read-only ({exc})")
    if done.returncode != 0:
        pytest.skip(f"running as root, where file modes do not stop writes, and cannot bind-mount read-only "
                    f"(mount: {done.stderr.strip()})")
    try:
        done = _mount("-o", "remount,bind,ro", str(folder))
        if done.returncode != 0:
            pytest.skip(f"cannot remount a bind mount read-only (mount: {done.stderr.strip()})")
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill(folder: Path) -> None:
    """Fill the file system holding `folder` to the last byte."""
    chunk = b"\0" * 65536
    with open(folder / "filler", "wb", buffering=0) as f:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    f.write(chunk[:size])
            except OSError:
                continue


def next_answer(user: str, last: dict) -> dict:
    """The input line a student sends after `last`: an answer to its question, the way its reply
    offers (a button, a choice, a text field), or a new quiz when there is no question to answer."""
    reply = last.get("reply") or {}
    text = reply.get("text", "")
    if "Give every letter A–" in text:  # an ordering question answered in the wrong form: all letters, in order
        end = text.split("Give every letter A–", 1)[1][0]
        return {"user": user, "text": "/answer " + " ".join(chr(c) for c in range(ord("A"), ord(end) + 1))}
    if "Quiz finished" not in text:
        if reply.get("text_input"):
            field = reply["text_input"]
            return {"user": user, "action": field["action"] + (field.get("placeholder") or "A")}
        if reply.get("choices"):
            choices = reply["choices"]
            return {"user": user, "action": choices["action"] + str(choices["options"][0][1])}
        for button in reply.get("buttons", []):
            if ":a:" in button["action"]:
                return {"user": user, "action": button["action"]}
    return {"user": user, "text": "/quiz 7 31"}

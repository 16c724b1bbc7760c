"""kill -9 at random moments of a stream of answers: nothing acknowledged is lost, integrity holds.

A student's answer is acknowledged when its reply line was written. Each round starts a
`companion console --jsonl` process, streams quiz answers into it as fast as it answers, and
kills it with SIGKILL at a random moment; the next round runs on the same file. At the end the
file is opened cold: every acknowledged answer is there (at most one more: the answer in flight,
committed but not yet acknowledged), and `PRAGMA integrity_check` is ok.

Twenty cold starts of Python would take a minute on a busy machine, mostly importing. So each
round's process is forked from a warm parent that has imported the companion and nothing more
(no database, no event loop, no thread): the child then runs `companion console --jsonl`'s own
`main` from the start (settings, content, store, migrations, assistant), on its own pipes. The
next one is forked while the current one streams (two processes on one file is a supported way
to run, see test_faults_process.py).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

from fault_harness import RECORDED, ROOT, environment, migrated_database, next_answer
from bot.core.quiz import KEEP_FINISHED

KILLS = 20

ZYGOTE = """
import json, os, signal, sys
sys.path.insert(0, sys.argv[1])
import bot.cli, bot.adapters.console.adapter, bot.core.companion, bot.core.assistant  # the slow part of a start
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
for request in sys.stdin:
    fifo_in, fifo_out = json.loads(request)
    pid = os.fork()
    if pid == 0:
        sys.stdin = open(fifo_in, encoding="utf-8")
        sys.stdout = open(fifo_out, "w", encoding="utf-8")
        code = bot.cli.main(["console", "--jsonl"])
        sys.stdout.flush()
        os._exit(code)
    print(pid, flush=True)
"""


class Forked:
    """One `companion console --jsonl` process, forked by the zygote, on two named pipes."""

    def __init__(self, zygote: subprocess.Popen, folder: Path, n: int):
        fifo_in, fifo_out = folder / f"in{n}", folder / f"out{n}"
        os.mkfifo(fifo_in)
        os.mkfifo(fifo_out)
        zygote.stdin.write(json.dumps([str(fifo_in), str(fifo_out)]) + "\n")
        zygote.stdin.flush()
        self.pid = int(zygote.stdout.readline())
        self.stdin = open(fifo_in, "w", encoding="utf-8")  # the same order as the child opens them
        self.stdout = open(fifo_out, encoding="utf-8")
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output: the process has died

    def write(self, obj: dict) -> None:
        self.stdin.write(json.dumps(obj) + "\n")
        self.stdin.flush()

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


#: Answers one user may stream: one 31-question quiz fewer than pruning keeps. Starting a quiz
#: prunes a user's finished attempts beyond the latest KEEP_FINISHED (their answers go with them),
#: which is not a lost answer.
MOST_ANSWERS = (KEEP_FINISHED - 1) * 31


def _stream_until_killed(proc: Forked, user: str, delay: float) -> int:
    """Answer as fast as the process replies; SIGKILL after `delay` s. Returns the answers acknowledged."""
    proc.write({"user": user, "text": "/quiz 7 31"})
    first = proc.lines.get(timeout=60)  # also: the process is up
    assert first is not None, "the process died at start"
    last = json.loads(first)
    timer = threading.Timer(delay, proc.kill)
    timer.start()
    acknowledged = 0
    try:
        while True:
            try:
                proc.write(next_answer(user, last))
            except (BrokenPipeError, OSError, ValueError):
                pass  # killed: what it wrote before dying is still read below
            line = proc.lines.get(timeout=30)
            if line is None:
                return acknowledged
            try:
                last = json.loads(line)
            except json.JSONDecodeError:  # a line cut by the kill was never acknowledged
                continue
            acknowledged += any(mark in last.get("reply", {}).get("text", "") for mark in RECORDED)
            if acknowledged >= MOST_ANSWERS:
                proc.kill()  # a kill all the same; more would let pruning remove old attempts
    finally:
        timer.cancel()
        proc.kill()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def test_kill_9_at_random_moments_loses_no_acknowledged_answer(tmp_path):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    db = migrated_database(tmp_path / "k.db")
    acknowledged: dict[str, int] = {}
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(ROOT)], cwd=tmp_path, env=environment(db),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready: deque[Forked] = deque()
    try:
        ready.append(Forked(zygote, tmp_path, 0))
        for round_ in range(KILLS):
            proc = ready.popleft()
            if round_ + 1 < KILLS:
                ready.append(Forked(zygote, tmp_path, round_ + 1))
            acknowledged[f"k{round_}"] = _stream_until_killed(proc, f"k{round_}", rng.uniform(0.02, 0.5))
    finally:
        for proc in ready:
            proc.kill()
        zygote.kill()
        zygote.wait(30)

    conn = sqlite3.connect(db)  # cold: recovers the WAL as the next start would
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"seed {seed}"
        stored = dict(conn.execute(
            "SELECT u.user_id, COUNT(*) FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id"
            " JOIN users u ON u.id = t.user_pk GROUP BY u.user_id").fetchall())
    finally:
        conn.close()
    for user, count in acknowledged.items():
        assert count <= stored.get(user, 0) <= count + 1, f"seed {seed}: {user}: {count} acknowledged, {stored.get(user, 0)} stored"
    assert sum(acknowledged.values()) >= KILLS, f"seed {seed}: too few answers streamed to test anything: {acknowledged}"

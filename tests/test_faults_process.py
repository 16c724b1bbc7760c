"""The fault suite, as a supervisor sees the companion: a real process on a real SQLite file.

Whatever the database does (read-only, full, locked by another process, a migration that fails,
a second process on the same file), the process either answers or exits non-zero within
seconds: it never hangs with its message printed (it did once, when the store's connection
threads were aiosqlite's non-daemon ones and a failure path left one open).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap

from fault_harness import PATIENCE, RECORDED, ROOT, Companion, next_answer, fill, migrated_database, read_only_folder, run_cli, small_filesystem


def _one_line_no_traceback(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


def _break_a_migration(db) -> None:
    """Forget that 0001_init was applied: applying it again fails on "table users already exists"."""
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 1")
    conn.close()


# ---- a migration that fails -------------------------------------------------------------------

def test_db_migrate_with_a_failing_migration_prints_one_line_and_exits_nonzero(tmp_path):
    db = migrated_database(tmp_path / "m.db")
    _break_a_migration(db)
    done = run_cli(db, tmp_path, "db", "migrate")
    assert done.returncode == 1
    line = _one_line_no_traceback(done.stderr)
    assert "0001_init.sql" in line and "already exists" in line, line
    with sqlite3.connect(db) as conn:  # rolled back: nothing of it applied, nothing else lost
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations WHERE version = 1").fetchone()[0] == 0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_failing_migration_at_start_ends_the_process_instead_of_hanging(tmp_path):
    db = migrated_database(tmp_path / "s.db")
    _break_a_migration(db)
    proc = Companion(db, tmp_path)  # stdin stays open: only the process itself can end it
    assert proc.wait_exit() == 1
    line = _one_line_no_traceback(proc.stderr_text())
    assert "0001_init.sql" in line, line


# ---- a read-only database ---------------------------------------------------------------------

def test_a_read_only_database_ends_the_process_with_one_line(tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    migrated_database(source / "ro.db")
    with read_only_folder(source, tmp_path / "ro") as folder:
        proc = Companion(folder / "ro.db", tmp_path)
        assert proc.wait_exit() == 1
        line = _one_line_no_traceback(proc.stderr_text())
        assert "cannot use the database" in line and "ro.db" in line, line


def test_a_read_only_database_used_by_a_running_process_is_answered_then_the_process_exits(tmp_path):
    """Read-only while running: PRAGMA query_only stands in for a disk remounted read-only (a remount
    is refused while the file is open for writing); SQLite reports both as SQLITE_READONLY."""
    db = migrated_database(tmp_path / "q.db")
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, {root!r})
        import bot.core.engines as engines
        opened = engines.open_store
        async def open_then_read_only(*args, **kwargs):
            s = await opened(*args, **kwargs)
            await s.read(lambda c: c.execute("PRAGMA query_only=ON").fetchall())
            return s
        engines.open_store = open_then_read_only
        from bot.cli import main
        sys.exit(main(["console", "--jsonl"]))
    """).format(root=str(ROOT)))
    proc = Companion(db, tmp_path, argv=[sys.executable, str(probe)])
    try:
        assert proc.send({"user": "ann", "text": "/progress"})["reply"]["title"] == "Your progress"
        failed = proc.send({"user": "ann", "text": "/lesson 7 deep"})["reply"]["text"]
        assert "cannot save" in failed and "read-only" in failed, failed
        assert proc.wait_exit() == 1
        assert proc.stderr_text().splitlines()[-1].startswith("companion: cannot use the database")
    finally:
        proc.kill()


# ---- a full disk ------------------------------------------------------------------------------

def test_a_full_disk_is_answered_then_the_process_exits_nonzero(tmp_path):
    made = migrated_database(tmp_path / "made.db")
    with small_filesystem(tmp_path / "small", "2m") as folder:
        db = folder / "full.db"
        shutil.copy(made, db)
        proc = Companion(db, tmp_path)
        try:
            assert "Question 1 of" in proc.send({"user": "ann", "text": "/quiz 7 31"})["reply"]["text"]
            fill(folder)
            for _ in range(200):  # the last free bytes of a page may take a few answers more
                reply = proc.send({"user": "ann", "text": "/lesson 7 deep"})["reply"]["text"]
                if "cannot save" in reply:
                    break
            else:
                raise AssertionError("a full disk never failed a write")
            assert "disk full" in reply or "I/O" in reply, reply
            assert proc.wait_exit() == 1
            assert proc.stderr_text().splitlines()[-1].startswith("companion: cannot use the database"), proc.stderr_text()
        finally:
            proc.kill()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


# ---- a database locked by another process -----------------------------------------------------

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO users(platform, user_id, display_name, created_at) VALUES ('x', 'holder', 'H', '2026-01-01')")
print("holding", flush=True)
sys.stdin.readline()  # until told to let go
conn.execute("COMMIT")
"""


def test_a_database_locked_by_another_process_answers_reads_says_busy_to_writes_and_lives_on(tmp_path):
    db = migrated_database(tmp_path / "l.db")
    proc = Companion(db, tmp_path)
    holder = None
    try:
        assert "Page 1 of 3" in proc.send({"user": "ann", "text": "/lesson 7 deep"})["reply"]["text"]
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        assert holder.stdout.readline().strip() == "holding"
        # Reads take no write lock: they answer while the other process holds it.
        progress = proc.send({"user": "ann", "text": "/progress"})["reply"]
        assert progress["title"] == "Your progress" and "1/3 pages" in progress["text"], progress
        assert "No scores here yet" in proc.send({"user": "ann", "text": "/leaderboard"})["reply"]["text"]
        assert proc.send({"user": "ann", "action": "x"})  # a bad action is still answered
        assert holder.poll() is None  # …and all of that while the lock was held
        # A write waits for the busy timeout, then is told to try again; the process lives on.
        busy = proc.send({"user": "ann", "text": "/next"})["reply"]
        assert "busy" in busy["text"] and "try again" in busy["text"], busy
        assert proc.proc.poll() is None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.wait(PATIENCE) == 0
        assert "Page 2 of 3" in proc.send({"user": "ann", "text": "/next"})["reply"]["text"]
        proc.close()
        assert proc.proc.returncode == 0
    finally:
        proc.kill()
        if holder is not None and holder.poll() is None:
            holder.kill()


# ---- two processes on one file ----------------------------------------------------------------

def _answer(proc: Companion, user: str, reply: dict) -> dict:
    return proc.send(next_answer(user, reply))


def test_two_processes_on_one_file_both_answer_without_database_is_locked(tmp_path):
    db = migrated_database(tmp_path / "two.db")
    first, second = Companion(db, tmp_path), Companion(db, tmp_path)
    try:
        last = {"a": first.send({"user": "a", "text": "/quiz 7 31"}), "b": second.send({"user": "b", "text": "/quiz 7 31"})}
        recorded = {"a": 0, "b": 0}
        for _ in range(60):
            for user, proc in (("a", first), ("b", second)):
                last[user] = _answer(proc, user, last[user])
                text = last[user]["reply"]["text"]
                assert "busy" not in text and "locked" not in text.lower(), text
                recorded[user] += any(mark in text for mark in RECORDED)
        first.close()
        second.close()
        assert first.proc.returncode == 0 and second.proc.returncode == 0
        for proc in (first, second):
            assert "locked" not in proc.stderr_text() and "Traceback" not in proc.stderr_text()
    finally:
        first.kill()
        second.kill()
    with sqlite3.connect(db) as conn:
        counts = dict(conn.execute("SELECT u.user_id, COUNT(*) FROM quiz_answers a JOIN quiz_attempts t ON t.id = a.attempt_id"
                                   " JOIN users u ON u.id = t.user_pk GROUP BY u.user_id").fetchall())
        assert counts == recorded and min(recorded.values()) > 30
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

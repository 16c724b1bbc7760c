"""Rules the source keeps, checked by reading it: adapters never write SQL (what they must
remember goes through core operations), and nothing in bot/ reaches into a library's private
attributes (which only exact version pins keep working)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = ROOT / "bot" / "adapters"

#: SQL, or a transaction handed to the store, written in an adapter.
SQL = re.compile(r"""execute(?:many|script)?\(|\b(?:SELECT|INSERT|UPDATE|DELETE|REPLACE)\s+(?:OR\s+\w+\s+)?(?:INTO|FROM|\*|\w+\s+SET\b)"""
                 r"""|\bstore\s*\.\s*(?:run|read)\s*\(""")

#: Private attributes of library objects the code has used (discord.py's Member, aiohttp's
#: sites, aiosqlite's Connection), and the like on others: `obj._name` where obj is not our own.
PRIVATE = re.compile(r"\._(?:roles|server|execute|conn|connection|state|http|sites|tx|loop|ws)\b")
OWN = re.compile(r"\b(?:self|cls)\._")
#: Files not yet moved off private APIs by their own branch (the store's move to public APIs):
#: remove each entry when it lands, so the rule covers all of bot/.
NOT_YET = {"bot/core/store.py"}


def _python_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _offences(root: Path, pattern: re.Pattern[str], base: Path = ROOT) -> list[str]:
    """`path:line: text` for every line under `root` that matches (our own `self._x` aside)."""
    return [f"{path.relative_to(base)}:{number}: {line.strip()}" for path in _python_files(root)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(OWN.sub("", line))]


def _caught(tmp_path: Path, pattern: re.Pattern[str], samples: list[str], innocent: list[str]) -> None:
    """Every sample line is an offence and no innocent line is."""
    for i, line in enumerate(samples + innocent):
        (tmp_path / f"s{i}.py").write_text(line + "\n", encoding="utf-8")
    caught = {o.split(":")[0] for o in _offences(tmp_path, pattern, base=tmp_path)}
    assert caught == {f"s{i}.py" for i in range(len(samples))}


def test_adapters_write_no_sql():
    assert _python_files(ADAPTERS), "the adapters are where this test thinks they are"
    assert _offences(ADAPTERS, SQL) == []


def test_the_sql_rule_catches_what_it_is_for(tmp_path):
    _caught(tmp_path, SQL,
            samples=['await self.core.store.run(lambda conn: conn.execute("SELECT 1"))',
                     "rows = await core.store.read(_rows, actor)",
                     '"INSERT OR REPLACE INTO slack_live_messages(session_id) VALUES (?)"',
                     '"DELETE FROM live_messages WHERE session_id = ?"',
                     '"UPDATE users SET display_name = ?"'],
            innocent=["asyncio.run(main())", "self.core.live.run()", '"Select an answer"', '"Delete everything I store about you"',
                      'text.replace("&lt;", "<")', "await respond(**payload, replace_original=True)"])


def test_no_private_library_attributes_in_bot():
    found = [o for o in _offences(ROOT / "bot", PRIVATE) if o.split(":")[0] not in NOT_YET]
    assert found == []
    assert not any(path.startswith("bot/adapters/") for path in NOT_YET)  # adapters have no exceptions


def test_the_private_attribute_rule_catches_what_it_is_for(tmp_path):
    _caught(tmp_path, PRIVATE,
            samples=["int(wanted) in member._roles", "site._server.sockets[0].getsockname()[1]",
                     "await db._execute(_settle, db._conn, pragmas)", "client._connection._get_guild(1)"],
            innocent=["self._roles = set()", "self._server = None", "cls._conn", "member.get_role(1)", "runner.addresses[0][1]"])

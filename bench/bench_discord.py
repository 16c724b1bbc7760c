"""Discord benchmark: interactions through the unmodified discord.py client and the local stand-in.

    python bench/bench_discord.py            # full run (about a minute)
    python bench/bench_discord.py --quick    # a short smoke run
    python bench/bench_discord.py --strict   # exit 1 when a target is missed

Two processes, as in production: this one runs the stand-in of Discord (tests/discord_standin.py)
and drives the load; a child process runs our adapter (the real `CompanionClient` on a fresh
SQLite file) plus two bare handlers that only call `interaction.response.send_message`: a
slash command `/ping` and a persistent button `bench:N`, the floors of discord.py itself for
commands and for components. Time is measured by the stand-in, from writing INTERACTION_CREATE on
the gateway to receiving the first callback request, the moment Discord's 3 s deadline stops.

Scenarios: a bare acknowledgement (floor), a solo quiz answer (a button, a menu or a form on an
ephemeral question, answered by editing it), a lesson page (the Next/Previous buttons).

(a) one user at a time, closed loop: p50/p99 and interactions/s;
(b) 100 concurrent users, closed loop with no pause: interactions/s (latency there is only
    100 ÷ throughput, Little's law, so it is shown but not judged);
(c) 100 users arriving open-loop (Poisson) at a fixed rate, the same for every scenario
    (`--rate`, default 200/s: each of 100 people pressing twice a second): p50/p99 under load.

(d) bursts: N interactions written on the gateway at once, N doubled until a burst fails and
    the gap then halved: the largest burst whose every acknowledgement comes within 3 s, for
    discord.py's bare button (the floor) and for N students pressing a live question's answer
    button (one-question live quizzes, each started with `/live start` and ended with
    `/live stop`), where every answer must also be in the database exactly once (read straight
    from it: the SQLite file, or a postgresql:// URL with `--db`). Each measured burst follows an
    unmeasured burst of as many bare acknowledgements, so both start with the connections
    discord.py keeps open. `--repeats` rounds, each measuring both.

Both processes share a 2-core machine, so the targets are ratios from one run: quiz answer and
lesson page at most 2× their floor at p50 and p99, at 1 and at 100 users; no callback later
than 3 s (in (a)-(c)); the largest burst of live answers at least 0.8× the floor's.

    python bench/bench_discord.py --part bursts --repeats 3       # only (d)
    python bench/bench_discord.py --part latency                  # only (a)-(c)
    python bench/bench_discord.py --db postgresql --part bursts   # the bot on a private PostgreSQL (pgserver)
    python bench/bench_discord.py --db postgresql://…/companion   # the bot on that database
    python bench/bench_discord.py --part bursts --profile bot.prof  # cProfile of the bot process
    python bench/bench_discord.py --part bursts --trials     # every burst tried, not only the largest
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from discord_standin import CHANNEL_ID, DEADLINE, GUILD_ID, custom_ids, embed_text  # noqa: E402  (tests/ is on the path above)

CHAPTER = 7
#: A live question in the benchmark stays open this long (the most Settings allows), whatever the burst.
BURST_QUESTION_SECONDS = 600


def database_setting(database: str):
    """`--db` as `Settings.database` takes it: a URL (postgresql://…) as given, a file as a Path."""
    return database if "://" in database else Path(database)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- the bot process ------------------------------------------------------------------------------

async def serve(api_base: str, database: str) -> None:
    """The bot process: our client, plus the bare floor handlers. Live questions stay open for
    `BURST_QUESTION_SECONDS`, long enough for any burst; nothing advances them but `/live stop`."""
    import discord
    from discord_standin import TOKEN

    from bot.adapters.discord.runner import freeze_startup_heap, login, make_client
    from bot.core.companion import Companion
    from bot.core.config import DEFAULT_CONTENT_DIR, Settings

    settings = Settings(database=database_setting(database), content_dir=DEFAULT_CONTENT_DIR, discord_token=TOKEN,
                        discord_api_base=api_base, start_rate=None, chat_rate=None,  # a load generator is not a person: no rate limits
                        live_question_seconds=BURST_QUESTION_SECONDS)
    core = await Companion.create(settings)
    client = make_client(core, settings, guild_ready_timeout=0.05)

    @client.tree.command(name="ping", description="The floor: a bare acknowledgement")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    class Bare(discord.ui.DynamicItem[discord.ui.Button], template=r"bench:(?P<n>\d+)"):
        def __init__(self, n: int):
            super().__init__(discord.ui.Button(label="bench", custom_id=f"bench:{n}"))

        @classmethod
        async def from_custom_id(cls, interaction, item, match, /):
            return cls(int(match["n"]))

        async def callback(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

    client.add_dynamic_items(Bare)
    ours = client.on_interaction

    async def on_interaction(interaction: discord.Interaction) -> None:
        """Our client answers a component it does not know ("no longer valid"); `bench:N` is the
        floor's own, answered by `Bare` alone (a second answer would double the floor's work)."""
        if not str((interaction.data or {}).get("custom_id", "")).startswith("bench:"):
            await ours(interaction)

    client.on_interaction = on_interaction  # type: ignore[method-assign]
    freeze_startup_heap()  # as run_discord does once the process is built
    try:
        await login(client, settings)
        await client.connect(reconnect=False)
    finally:
        await client.close()
        await core.close()


# ---- the load -------------------------------------------------------------------------------------

class Load:
    def __init__(self, standin):
        self.standin = standin
        from discord_standin import User
        self.User = User

    async def floor_slash(self, user) -> float:
        ex = await self.standin.slash(user, "ping")
        await self.standin.wait_for(lambda: ex.callback is not None, 10)
        return ex.latency

    async def floor_button(self, user, state) -> float:
        if "bare" not in state:
            state["bare"] = self.standin._message({"components": [{"type": 1, "components": [
                {"type": 2, "style": 2, "label": "bench", "custom_id": "bench:1"}]}]}, "810000000000000001",
                guild_id="800000000000000001")
        ex = await self.standin.click(user, state["bare"], "bench:1")
        await self.standin.wait_for(lambda: ex.callback is not None, 10)
        return ex.latency

    async def quiz_answer(self, user, state) -> float:
        message = state.get("quiz")
        ids = custom_ids(message) if message else []
        answerable = [c for c in ids if ":a:" in c or c.startswith(("m|", "t|"))]
        if not answerable:
            ex = await self.standin.slash(user, "quiz", [{"name": "chapter", "type": 4, "value": CHAPTER}])
            state["quiz"] = await self.standin.answer(ex, 10)
            return await self.quiz_answer(user, state)
        button = next((c for c in answerable if not c.startswith(("m|", "t|"))), None)
        if button:
            ex = await self.standin.click(user, message, button)
        elif answerable[0].startswith("m|"):
            ex = await self.standin.click(user, message, answerable[0], values=["A"])
        else:
            ex = await self.standin.submit(user, "f|" + answerable[0][2:], "a b c", message)
        state["quiz"] = await self.standin.answer(ex, 10)
        return ex.latency

    async def lesson_page(self, user, state) -> float:
        message = state.get("lesson")
        if message is None:
            ex = await self.standin.slash(user, "lesson", [{"name": "chapter", "type": 4, "value": CHAPTER},
                                                          {"name": "depth", "type": 3, "value": "deep"}])
            state["lesson"] = await self.standin.answer(ex, 10)
            state["dir"] = 1
            return await self.lesson_page(user, state)
        pages = [c for c in custom_ids(message) if c.startswith(f"lesson:{CHAPTER}:deep:") and ":L" not in c]
        current = int(message["embeds"][0]["footer"]["text"].split()[1].split("/")[0])
        forward = [c for c in pages if int(c.rsplit(":", 1)[1]) > current]
        back = [c for c in pages if int(c.rsplit(":", 1)[1]) < current]
        if (state["dir"] > 0 and not forward) or (state["dir"] < 0 and not back):
            state["dir"] = -state["dir"]
        target = (forward if state["dir"] > 0 else back)[0]
        ex = await self.standin.click(user, message, target)
        state["lesson"] = await self.standin.answer(ex, 10)
        return ex.latency


# ---- bursts ---------------------------------------------------------------------------------------

@dataclass
class Trial:
    """One burst: N interactions written on the gateway at once, and what came back."""

    n: int
    slowest: float  # seconds from dispatch to the first callback, the slowest of the burst (inf: one never came)
    problem: str  # empty when every acknowledgement came in time and (for live answers) every answer counted once
    deferred: int = 0  # acknowledged by the adapter's timer (a defer, then the answer as a follow-up)

    @property
    def ok(self) -> bool:
        return not self.problem


def recorded_answers(database: str, session: int) -> tuple[int, int]:
    """(answers, distinct players) of a live session, read straight from the bot's database."""
    sql = "SELECT COUNT(*), COUNT(DISTINCT user_pk) FROM live_answers WHERE session_id = {}"
    if "://" in database:
        import psycopg

        with psycopg.connect(database) as conn:
            row = conn.execute(sql.format("%s"), (session,)).fetchone()
    else:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
            row = conn.execute(sql.format("?"), (session,)).fetchone()
    assert row is not None
    return row[0], row[1]


class Bursts:
    """The largest burst of simultaneous interactions whose every acknowledgement comes within
    Discord's 3 s: discord.py's bare button acknowledgement (the floor) against N students pressing
    a live question's answer button at once, each answer then checked in the database (exactly
    once per student). N doubles from `start` until a burst fails, then the gap is halved until it
    is within `precision` of the last burst that passed."""

    def __init__(self, load: Load, database: str, *, start: int = 64, limit: int = 65536, precision: float = 0.05,
                 show_trials: bool = False):
        self.load = load
        self.show_trials = show_trials
        self.standin = load.standin
        self.database = database
        self.start, self.limit, self.precision = start, limit, precision
        self.users: list = []
        self.host = load.User.make("Burst host")
        self._bare: dict | None = None

    def _people(self, n: int) -> list:
        while len(self.users) < n:
            self.users.append(self.load.User.make(f"Student {len(self.users):05d}"))
        return self.users[:n]

    async def _settle(self, exchanges, seconds: float) -> str:
        """Wait until every exchange has its first callback (or `seconds` pass); '' or what is missing."""
        try:
            await self.standin.wait_for(lambda: all(ex.callback is not None for ex in exchanges), seconds)
        except TimeoutError:
            return f"{sum(ex.callback is None for ex in exchanges)} of {len(exchanges)} never acknowledged"
        return ""

    @staticmethod
    def _verdict(exchanges, missing: str) -> tuple[float, str]:
        slowest = max((ex.latency if ex.latency is not None else float("inf")) for ex in exchanges)
        if missing:
            return slowest, missing
        late = sum(ex.latency > DEADLINE for ex in exchanges)
        return slowest, f"{late} acknowledged after {DEADLINE:g} s" if late else ""

    async def _bare_burst(self, n: int) -> list:
        if self._bare is None:
            self._bare = self.standin._message({"components": [{"type": 1, "components": [
                {"type": 2, "style": 2, "label": "bench", "custom_id": "bench:1"}]}]}, CHANNEL_ID, guild_id=GUILD_ID)
        return await asyncio.gather(*[self.standin.click(u, self._bare, "bench:1") for u in self._people(n)])

    async def warm(self, n: int) -> None:
        """An unmeasured burst of `n` bare acknowledgements before every measured one: discord.py
        opens one HTTP connection per request in flight (its connector has no limit) and keeps them
        for a while, so without it a burst would be faster or slower by what the one before it left."""
        await self._settle(await self._bare_burst(n), 30)
        await asyncio.sleep(0.3)

    async def floor(self, n: int) -> Trial:
        await self.warm(n)
        exchanges = await self._bare_burst(n)
        slowest, problem = self._verdict(exchanges, await self._settle(exchanges, 30))
        return Trial(n, slowest, problem)

    async def _open_question(self) -> tuple[int, dict, str]:
        """Start a one-question live quiz in the channel whose question is answered with a button
        (a menu or a form would be a different interaction); (session, its message, a button's id)."""
        for _ in range(50):
            before = frozenset(self.standin.messages)
            started = await self.standin.answer(await self.standin.slash(
                self.host, "live start", [{"name": "chapter", "type": 4, "value": CHAPTER}, {"name": "questions", "type": 4, "value": 1}]), 30)
            assert "Live quiz started" in embed_text(started), embed_text(started)
            posted = await self.standin.wait_for(lambda before=before: [
                m for mid, m in self.standin.messages.items()
                if mid not in before and m["channel_id"] == CHANNEL_ID and any(c.startswith("live:") for c in custom_ids(m))], 30)
            message = posted[0]
            buttons = [c for c in custom_ids(message) if ":a:" in c]
            session = int(buttons[0].split(":")[1]) if buttons else int(custom_ids(message)[0].split(":")[1].split("|")[-1])
            if buttons and not any(c.startswith(("m|", "t|")) for c in custom_ids(message)):
                return session, message, buttons[0]
            await self._stop()
        raise RuntimeError("no live question answered with a button came up in 50 tries")

    async def _stop(self) -> None:
        stopped = await self.standin.answer(await self.standin.slash(self.host, "live stop"), 30)
        assert "stopped" in embed_text(stopped), embed_text(stopped)

    async def live(self, n: int) -> Trial:
        session, message, button = await self._open_question()
        await self.warm(n)
        try:
            exchanges = await asyncio.gather(*[self.standin.click(u, message, button) for u in self._people(n)])
            slowest, problem = self._verdict(exchanges, await self._settle(exchanges, 30))
            if not problem:  # every answer's own reply (a deferred one follows its acknowledgement)
                replies = await asyncio.gather(*[self.standin.answer(ex, 60) for ex in exchanges])
                refused = [embed_text(r) for r in replies if "Answer recorded" not in embed_text(r)]
                if refused:
                    problem = f"{len(refused)} answers not recorded, e.g. {refused[0][:80]!r}"
        finally:
            await self._stop()
        if not problem:
            answers, players = recorded_answers(self.database, session)
            if (answers, players) != (n, n):
                problem = f"{answers} answers by {players} players in the database for {n} presses"
        return Trial(n, slowest, problem, sum((ex.callback or {}).get("type") == 6 for ex in exchanges))

    async def largest(self, trial) -> tuple[int, list[Trial]]:
        """The largest N for which `trial(N)` passes: doubling, then halving the gap."""
        tried: list[Trial] = []

        async def attempt(n: int) -> Trial:
            result = await trial(n)
            tried.append(result)
            if self.show_trials:
                print(f"    {trial.__name__} {n:6d}: slowest ack {result.slowest * 1000:5.0f} ms, {result.deferred} deferred"
                      f"{'; ' + result.problem if result.problem else ''}", flush=True)
            await asyncio.sleep(0.5)  # let the last follow-ups and the bot's queues drain
            return result

        passed, failed = 0, None
        n = self.start
        while n <= self.limit:
            result = await attempt(n)
            if not result.ok:
                failed = n
                break
            passed, n = n, n * 2
        if failed is None:
            return passed, tried
        while passed and failed - passed > self.precision * passed:
            n = (passed + failed) // 2
            result = await attempt(n)
            passed, failed = (n, failed) if result.ok else (passed, n)
        return passed, tried


async def run_bursts(load: Load, database: str, repeats: int, quick: bool, show_trials: bool = False) -> list[str]:
    """Section (d): the floor's and the live answers' largest bursts, alternating, `repeats` times."""
    bursts = Bursts(load, database, start=32 if quick else 64, limit=1024 if quick else 65536, precision=0.25 if quick else 0.05,
                    show_trials=show_trials)
    print(f"(d) bursts: N interactions written on the gateway at once; the largest N with every acknowledgement under {DEADLINE:g} s"
          " (live answers: and every answer recorded exactly once, checked in the database)")
    failures: list[str] = []
    ratios = []
    for round_ in range(1, repeats + 1):
        floor, floor_trials = await bursts.largest(bursts.floor)
        live, live_trials = await bursts.largest(bursts.live)
        ratio = live / floor if floor else 0.0
        ratios.append(ratio)
        for name, best, trials in (("floor: bare button send_message", floor, floor_trials), ("live answers", live, live_trials)):
            failed = next((t for t in trials if not t.ok), None)
            passed = next((t for t in trials if t.ok and t.n == best), None)
            print(f"  round {round_}: {name:32} largest burst {best:6d} (slowest ack {(passed.slowest if passed else 0) * 1000:5.0f} ms"
                  f", {passed.deferred if passed else 0} deferred)"
                  + (f"; first miss at {failed.n}: {failed.problem} ({failed.deferred} deferred)" if failed else ""))
        print(f"  round {round_}: live answers ÷ floor = {ratio:.2f}")
    print(f"  ratios: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ 0.8")
    if min(ratios) < 0.8:
        failures.append(f"(d) bursts: live answers {min(ratios):.2f}× the floor's largest burst")
    return failures


async def closed_loop(op, users, states, rounds: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def one(user, state):
        for _ in range(rounds):
            latencies.append(await op(user, state))
    start = time.perf_counter()
    await asyncio.gather(*[one(u, s) for u, s in zip(users, states, strict=True)])
    return latencies, len(latencies) / (time.perf_counter() - start)


async def open_loop(op, users, states, rate: float, seconds: float) -> list[float]:
    """Poisson arrivals at `rate`/s spread over `users`; each user has at most one interaction in flight
    (a person cannot press twice at once), queued arrivals wait for their user and count that wait."""
    latencies: list[float] = []
    locks = [asyncio.Lock() for _ in users]
    tasks = []
    rng = random.Random(7)

    async def arrive(i: int):
        arrived = time.perf_counter()
        async with locks[i]:
            waited = time.perf_counter() - arrived
            latencies.append(waited + await op(users[i], states[i]))
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        tasks.append(asyncio.create_task(arrive(rng.randrange(len(users)))))
        await asyncio.sleep(rng.expovariate(rate))
    await asyncio.gather(*tasks)
    return latencies


def open_database(database: str | None) -> tuple[str, Any]:
    """`--db` as the bot takes it, and the private server to stop at the end (or None): no
    value is a fresh SQLite file, `postgresql` a PostgreSQL server of this run's own in its temp
    folder (pgserver, as `bench_core.py --db postgresql` starts it), anything else a file or URL."""
    if database and database != "postgresql":
        return database, None
    folder = Path(tempfile.mkdtemp(prefix="bench-discord-"))
    if database is None:
        return str(folder / "bench.db"), None
    from bench_core import private_postgres  # bench/ is the script's folder, first on the path

    server, url, _floor_url = private_postgres(folder)
    return url, server


async def main(quick: bool, strict: bool, arrivals: float, parts: set[str], database: str | None, repeats: int,
               profile: str | None = None, show_trials: bool = False) -> int:
    from discord_standin import DiscordStandIn

    standin = await DiscordStandIn().start()
    database, server = open_database(database)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", standin.api_base, database,
                                                 *(["--profile", profile] if profile else []), env=env)
    failures: list[str] = []
    try:
        await asyncio.wait_for(standin.identified.wait(), 30)
        await asyncio.sleep(0.3)
        load = Load(standin)
        ones = 150 if quick else 600
        rounds = 3 if quick else 10
        seconds = 3.0 if quick else 10.0
        scenarios = [
            ("floor: bare /ping send_message", lambda u, s: load.floor_slash(u), None),
            ("floor: bare button send_message", load.floor_button, None),
            ("quiz answer (component)", load.quiz_answer, "floor: bare button send_message"),
            ("lesson page (component)", load.lesson_page, "floor: bare button send_message"),
        ]
        print(f"Discord benchmark ({'quick' if quick else 'full'}): two processes, stand-in + load here, bot in pid {child.pid};"
              f" database {database if '://' not in database else database.split('@')[-1]}")
        print(f"{'':36}{'p50 ms':>9}{'p99 ms':>9}{'int/s':>9}   ×floor p50  ×floor p99")
        results: dict[tuple[str, str], tuple[float, float, float]] = {}

        def show(section: str, name: str, lat: list[float], rate: float, floor: str | None, judged: bool = True) -> None:
            p50, p99 = pct(lat, 50) * 1000, pct(lat, 99) * 1000
            results[(section, name)] = (p50, p99, rate)
            verdict = ""
            ratios = ""
            if floor is not None:
                f50, f99, _ = results[(section, floor)]
                r50, r99 = p50 / f50, p99 / f99
                ratios = f"{r50:9.2f}  {r99:9.2f}"
                if judged:
                    ok = r50 <= 2 and r99 <= 2
                    verdict = "PASS" if ok else "FAIL"
                    if not ok:
                        failures.append(f"{section}: {name} {r50:.2f}×/{r99:.2f}×")
            print(f"  {name:34}{p50:9.2f}{p99:9.2f}{rate:9.0f}   {ratios}  {verdict}")

        # warm-up: one of each, so first-use costs (imports, caches, the first quiz) are not measured
        warm_user = load.User.make("warm")
        warm_state: dict = {}
        for _, op, _ in scenarios:
            for _ in range(5):
                await op(warm_user, warm_state)

        if "latency" in parts:
            print("(a) one user, closed loop")
            user = load.User.make("solo")
            for name, op, floor in scenarios:
                state: dict = {}
                lat, rate = await closed_loop(op, [user], [state], ones)
                show("a", name, lat, rate, floor)

            print("(b) 100 users, closed loop, no pause (latency = 100 ÷ throughput, shown not judged)")
            users = [load.User.make(f"u{i}") for i in range(100)]
            for name, op, floor in scenarios:
                states: list[dict] = [{} for _ in users]
                if "quiz" in name or "lesson" in name:  # open each user's quiz or lesson first, untimed
                    await asyncio.gather(*[op(u, s) for u, s in zip(users, states, strict=True)])
                lat, rate = await closed_loop(op, users, states, rounds)
                show("b", name, lat, rate, floor, judged=False)

            print(f"(c) 100 users, open loop: Poisson arrivals at {arrivals:.0f}/s in all (2 presses per user per second), {seconds:g} s each")
            for name, op, floor in scenarios:
                states = [{} for _ in users]
                if "quiz" in name or "lesson" in name:
                    await asyncio.gather(*[op(u, s) for u, s in zip(users, states, strict=True)])
                lat = await open_loop(op, users, states, arrivals, seconds)
                show("c", name, lat, len(lat) / seconds, floor)

            worst = max((e.latency or 0) for e in standin.exchanges.values())
            late = len(standin.late)
            print(f"\n{len(standin.exchanges)} interactions; slowest dispatch→callback {worst * 1000:.1f} ms; later than 3 s: {late}")
            if late:
                failures.append(f"{late} callbacks later than 3 s")
            print("targets: quiz answer and lesson page ≤ 2× their floor at p50 and p99, at 1 user (a) and under load at 100 users (c); none later than 3 s")
        if "bursts" in parts:
            failures += await run_bursts(load, database, repeats, quick, show_trials)
        print("all targets met" if not failures else "missed: " + "; ".join(failures))
    finally:
        child.terminate()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()
        await standin.close()
        if server is not None:
            server.cleanup()
    return 1 if failures and strict else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop arrivals per second in (c), all users together")
    parser.add_argument("--part", choices=("latency", "bursts"), action="append",
                        help="latency: (a)-(c); bursts: (d); both when not given")
    parser.add_argument("--db", help="the bot's database: a file, a postgresql:// URL, or `postgresql` for a private"
                                     " PostgreSQL server (pgserver) in a temporary folder; a fresh SQLite file there when not given")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of (d), each measuring the floor and the live answers")
    parser.add_argument("--trials", action="store_true", help="(d): show every burst tried, not only the largest")
    parser.add_argument("--profile", metavar="FILE", help="profile the bot process (cProfile) and write its stats to FILE")
    parser.add_argument("--serve", nargs=2, metavar=("API_BASE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.part = args.part or ["latency", "bursts"]
    if args.serve:
        import contextlib
        import signal

        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(*args.serve))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        sys.exit(0)
    sys.exit(asyncio.run(main(args.quick, args.strict, args.rate, set(args.part), args.db, args.repeats, args.profile, args.trials)))

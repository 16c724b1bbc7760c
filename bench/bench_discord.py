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

Both processes share a 2-core machine, so the targets are ratios from one run: quiz answer and
lesson page at most 2× their floor at p50 and p99, at 1 and at 100 users; no callback later
than 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CHAPTER = 7


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- the bot process ------------------------------------------------------------------------------

async def serve(api_base: str, database: str) -> None:
    import discord
    from discord_standin import TOKEN

    from bot.adapters.discord.runner import login, make_client
    from bot.core.companion import Companion
    from bot.core.config import DEFAULT_CONTENT_DIR, Settings

    settings = Settings(database=Path(database), content_dir=DEFAULT_CONTENT_DIR, discord_token=TOKEN, discord_api_base=api_base,
                        start_rate=None, chat_rate=None)  # a load generator is not a person: no rate limits
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
        from discord_standin import custom_ids
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
        from discord_standin import custom_ids
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
        if state["dir"] > 0 and not forward or state["dir"] < 0 and not back:
            state["dir"] = -state["dir"]
        target = (forward if state["dir"] > 0 else back)[0]
        ex = await self.standin.click(user, message, target)
        state["lesson"] = await self.standin.answer(ex, 10)
        return ex.latency


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


async def main(quick: bool, strict: bool, arrivals: float) -> int:
    from discord_standin import DiscordStandIn

    standin = await DiscordStandIn().start()
    folder = tempfile.mkdtemp(prefix="bench-discord-")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", standin.api_base,
                                                 os.path.join(folder, "bench.db"), env=env)
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
        print(f"Discord benchmark ({'quick' if quick else 'full'}): two processes, stand-in + load here, bot in pid {child.pid}")
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

        print("(a) one user, closed loop")
        user = load.User.make("solo")
        for name, op, floor in scenarios:
            state: dict = {}
            lat, rate = await closed_loop(op, [user], [state], ones)
            show("a", name, lat, rate, floor)

        print("(b) 100 users, closed loop, no pause (latency = 100 ÷ throughput, shown not judged)")
        users = [load.User.make(f"u{i}") for i in range(100)]
        saturated = {}
        for name, op, floor in scenarios:
            states: list[dict] = [{} for _ in users]
            if "quiz" in name or "lesson" in name:  # open each user's quiz or lesson first, untimed
                await asyncio.gather(*[op(u, s) for u, s in zip(users, states, strict=True)])
            lat, rate = await closed_loop(op, users, states, rounds)
            saturated[name] = rate
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
        print("all targets met" if not failures else "missed: " + "; ".join(failures))
    finally:
        child.terminate()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()
        await standin.close()
    return 1 if failures and strict else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop arrivals per second in (c), all users together")
    parser.add_argument("--serve", nargs=2, metavar=("API_BASE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import contextlib
        import signal

        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(*args.serve))
        sys.exit(0)
    sys.exit(asyncio.run(main(args.quick, args.strict, args.rate)))

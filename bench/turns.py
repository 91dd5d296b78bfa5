"""bench/turns: what one turn costs in KI-vett, side by side with a bare botbuilder echo bot.

Both bots run as their own processes in dev mode (no auth), behind real HTTP, and reply to a local
connector stub (a third process). The load generator is this process. For each bot and each
concurrency level (1, 10, 50 conversations, each sending its turns one after another) it records:

- CPU ms per turn, from the bot process's own accounting (/proc/PID/stat utime + stime, all threads)
- p50 / p99 latency (HTTP request until the bot answered, which is after its reply reached the stub)
- turns per second
and once per bot: cold start (process start until the first answered activity) and resident memory
(idle after warm-up, and peak under load).

Ratios compare each KI-vett scenario with the echo bot measured in the same run.

    .venv/bin/python -m bench.turns              # full run, prints the table
    .venv/bin/python -m bench.turns --write-docs # and writes it into docs/performance.md
    .venv/bin/python -m bench.turns --quick      # fewer turns, for a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:turns:start -->", "<!-- bench:turns:end -->"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE_KB / 1024


@contextmanager
def process(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    proc = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def message(stub: str, conversation: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": stub,
        "timestamp": datetime.now(UTC).isoformat(),
        "locale": "nb-NO",
        "text": text,
        "from": {"id": f"29:{conversation}", "name": "Bench", "aadObjectId": conversation},
        "recipient": {"id": "28:bot", "name": "KI-vett"},
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "t"},
    }


def execute(stub: str, conversation: str, verb: str, **data: str) -> dict[str, Any]:
    activity = message(stub, conversation, "")
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        text=None,
        value={"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}},
    )
    return activity


KI_VERDICT = {
    "step": "more",
    "task": "summarise",
    "tool": "chatgpt",
    "category": "restricted",
    "people": "no",
    "publish": "no",
}


@dataclass
class Scenario:
    name: str
    build: Callable[[str, str], dict[str, Any]]


@dataclass
class Result:
    bot: str
    scenario: str
    concurrency: int
    turns: int
    cpu_ms: float
    p50_ms: float
    p99_ms: float
    tps: float
    peak_rss_mb: float
    errors: int


@dataclass
class BotRun:
    name: str
    cold_start_ms: float
    idle_rss_mb: float
    results: list[Result] = field(default_factory=list)


async def _first_answer(url: str, body: dict[str, Any], deadline_s: float = 60.0) -> None:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < deadline_s:
            try:
                async with session.post(url, json=body) as r:
                    if r.status < 300:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise TimeoutError(f"{url} never answered")


async def drive(
    url: str, stub: str, scenario: Scenario, concurrency: int, turns: int, pid: int
) -> Result:
    per_conversation = max(1, turns // concurrency)
    latencies: list[float] = []
    errors = 0
    peak = rss_mb(pid)
    connector = aiohttp.TCPConnector(limit=concurrency + 5)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def conversation(index: int) -> None:
            nonlocal errors
            cid = f"a:bench-{scenario.name}-{concurrency}-{index}-{uuid.uuid4().hex[:6]}"
            for _ in range(per_conversation):
                body = scenario.build(stub, cid)
                t0 = time.perf_counter()
                async with session.post(url, json=body) as r:
                    await r.read()
                    if r.status >= 300:
                        errors += 1
                latencies.append((time.perf_counter() - t0) * 1000)

        async def sampler() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mb(pid))
                await asyncio.sleep(0.05)

        sampling = asyncio.create_task(sampler())
        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(concurrency)))
        wall, cpu = time.perf_counter() - wall0, cpu_seconds(pid) - cpu0
        sampling.cancel()
    done = len(latencies)
    ordered = sorted(latencies)
    return Result(
        bot="",
        scenario=scenario.name,
        concurrency=concurrency,
        turns=done,
        cpu_ms=cpu * 1000 / done,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(done - 1, int(done * 0.99))],
        tps=done / wall,
        peak_rss_mb=peak,
        errors=errors,
    )


def run_bot(
    name: str,
    args: list[str],
    port: int,
    stub: str,
    scenarios: list[Scenario],
    levels: list[tuple[int, int]],
    env: dict[str, str],
    cwd: Path,
) -> BotRun:
    url = f"http://127.0.0.1:{port}/api/messages"
    spawn = time.perf_counter()
    with process(args, env=env, cwd=cwd) as proc:
        warm_body = scenarios[0].build(stub, "a:bench-cold")
        asyncio.run(_first_answer(url, warm_body))
        cold_ms = (time.perf_counter() - spawn) * 1000
        # warm-up: let caches fill and the first-call costs pass
        for scenario in scenarios:
            asyncio.run(drive(url, stub, scenario, 5, 50, proc.pid))
        time.sleep(0.5)
        run = BotRun(name=name, cold_start_ms=cold_ms, idle_rss_mb=rss_mb(proc.pid))
        for concurrency, turns in levels:
            for scenario in scenarios:
                result = asyncio.run(drive(url, stub, scenario, concurrency, turns, proc.pid))
                result.bot = name
                run.results.append(result)
                print(
                    f"  {name:7} {scenario.name:14} c={concurrency:<3} {result.cpu_ms:6.2f} ms cpu"
                    f"  p50 {result.p50_ms:7.1f}  p99 {result.p99_ms:7.1f}  {result.tps:6.1f}/s"
                    f"  errors {result.errors}",
                    file=sys.stderr,
                )
    return run


def table(echo: BotRun, kivett: BotRun) -> str:
    base = {(r.concurrency): r for r in echo.results}
    lines = [
        "| bot | scenario | conversations | turns | CPU ms/turn | ×echo CPU | p50 ms | p99 ms "
        "| ×echo p99 | turns/s | peak RSS MB | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in (echo, kivett):
        for r in run.results:
            b = base[r.concurrency]
            lines.append(
                f"| {r.bot} | {r.scenario} | {r.concurrency} | {r.turns} | {r.cpu_ms:.2f} "
                f"| {r.cpu_ms / b.cpu_ms:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
                f"| {r.p99_ms / b.p99_ms:.2f} | {r.tps:.0f} | {r.peak_rss_mb:.0f} | {r.errors} |"
            )
    lines += [
        "",
        "| bot | cold start ms (spawn → first answered activity) | idle RSS MB (after warm-up) |",
        "| --- | ---: | ---: |",
        f"| echo | {echo.cold_start_ms:.0f} | {echo.idle_rss_mb:.0f} |",
        f"| kivett | {kivett.cold_start_ms:.0f} | {kivett.idle_rss_mb:.0f} |",
    ]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC} lacks the {START} … {END} markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns (smoke check)")
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    args = parser.parse_args()
    levels = [(1, 60), (10, 200), (50, 400)] if args.quick else [(1, 300), (10, 1000), (50, 2000)]

    stub_port, echo_port, kivett_port = _free_port(), _free_port(), _free_port()
    stub = f"http://127.0.0.1:{stub_port}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        process([PYTHON, "-m", "bench.connector_stub", str(stub_port)], cwd=ROOT),
    ):
        asyncio.run(_wait(stub + "/healthz"))
        clean_env = {"KIVETT_DATA_DIR": tmp, "KIVETT_LOG_LEVEL": "WARNING"}
        print("echo bot (botbuilder 4.17, CloudAdapter)", file=sys.stderr)
        echo = run_bot(
            "echo",
            [PYTHON, "-m", "bench.echo_bot", str(echo_port)],
            echo_port,
            stub,
            [Scenario("echo message", lambda s, c: message(s, c, "hei"))],
            levels,
            {},
            ROOT,
        )
        print("KI-vett", file=sys.stderr)
        kivett = run_bot(
            "kivett",
            [PYTHON, "-m", "bot", "serve", "--dev", "--port", str(kivett_port)],
            kivett_port,
            stub,
            [
                Scenario("hjelp", lambda s, c: message(s, c, "hjelp")),
                Scenario("button (about)", lambda s, c: execute(s, c, "kivett.about")),
                Scenario("ki-sjekk start", lambda s, c: message(s, c, "ki-sjekk")),
                Scenario(
                    "ki-sjekk step",
                    lambda s, c: execute(s, c, "kisjekk.next", step="task", choice="summarise"),
                ),
                Scenario(
                    "ki-sjekk verdict", lambda s, c: execute(s, c, "kisjekk.next", **KI_VERDICT)
                ),
                Scenario(
                    "question",
                    lambda s, c: message(
                        s, c, "kan jeg bruke ChatGPT til å oppsummere et referat?"
                    ),
                ),
            ],
            levels,
            clean_env,
            Path(tmp),
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"Measured {when} on {machine}{' (quick run)' if args.quick else ''}.\n\n" + table(
        echo, kivett
    )
    print(text)
    if args.write_docs:
        write_docs(text)


async def _wait(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError(url)


if __name__ == "__main__":
    main()

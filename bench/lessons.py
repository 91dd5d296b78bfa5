"""bench/lessons: the weekly lesson to everyone due at the same moment, at Teams' ceiling.

Like bench/broadcast, three kinds of process: the rate-limiting fake Teams connector
(`python -m bench.broadcast --serve-fake PORT`: 50 messages per second per tenant and the
per-conversation windows, 429 with Retry-After past them); KI-vett itself (`python -m bot serve
--dev`) on a data directory seeded with N personal conversation references and N weekly
subscriptions, all due a minute ago (the default Monday 09:00 for everyone); and this process,
which only watches.

Two runs, each on a fresh data directory and a fresh fake:

- plain: N subscribers due at once (default 100,000); the rate is measured over the first
  `--measure` lessons the fake accepts (default 10,000: about three and a half minutes at the
  ceiling), with every one of the N due and waiting in the store, so that the cost of finding due
  subscriptions among many is in the figure. Then the bot is stopped.
- crash: 10,000 due; the bot is killed with SIGKILL when ~40 % are accepted and started again on
  the same data directory. The lessons that were claimed but never settled (in flight at the kill)
  wait for their lease (10 minutes) before they are sent again; the benchmark does not wait that
  long: it moves those leases to "run out now" in SQLite, the same thing ten minutes would do, and
  says how many it moved. Then it counts duplicates and lost lessons.

Measured from the fake's own record (its clock, time of arrival): sustained throughput (lessons
accepted per second from the first to the last), as a fraction of Teams' 50/s ceiling (the
baseline: the best any sender can do), 429s the bot received, duplicates, lost.

    .venv/bin/python -m bench.lessons                 # about 8 minutes
    .venv/bin/python -m bench.lessons --quick         # 5,000 due, 2,000 measured, smoke check
    .venv/bin/python -m bench.lessons --write-docs    # and write the table into the docs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.broadcast import CEILING, PYTHON, ROOT, seed, start_bot
from bench.common import cpu_seconds, free_port, get_stats, replace_section, say, spawn, wait_http

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:lessons:start -->", "<!-- bench:lessons:end -->"
RATE_GOAL = 0.96 * CEILING  # issue 16
KILL_AT = 0.4
SECTION = f"""## bench/lessons: weekly lessons at the ceiling

`.venv/bin/python -m bench.lessons [--write-docs]` (see its docstring). Every subscriber due at the
same minute, the bot's lesson worker sending through the same limiter as the tips.

{START}
{END}
"""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sql(data_dir: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(data_dir / "kivett.sqlite3", timeout=30)) as conn, conn:
        return conn.execute(sql, args).fetchall()


def make_due(data_dir: Path) -> None:
    """Every subscription due a minute ago."""
    _sql(
        data_dir,
        "UPDATE subscriptions SET next_due = ?",
        _iso(datetime.now(UTC) - timedelta(minutes=1)),
    )


def settled(data_dir: Path) -> set[str]:
    """Conversations whose lesson is recorded as delivered (moved on to next week)."""
    later = _iso(datetime.now(UTC) + timedelta(days=1))
    rows = _sql(data_dir, "SELECT conversation_id FROM subscriptions WHERE next_due > ?", later)
    return {str(row[0]) for row in rows}


def run_out_leases(data_dir: Path) -> int:
    """What ten minutes would do: leases still held (due later today) become due now."""
    now = datetime.now(UTC)
    with closing(sqlite3.connect(data_dir / "kivett.sqlite3", timeout=30)) as conn, conn:
        cursor = conn.execute(
            "UPDATE subscriptions SET next_due = ? WHERE next_due > ? AND next_due < ?",
            (_iso(now - timedelta(seconds=1)), _iso(now), _iso(now + timedelta(hours=1))),
        )
        return cursor.rowcount


@dataclass
class Run:
    scenario: str
    due: int
    measured: int
    accepted: int
    throughput: float
    throttled: int
    duplicates: int
    lost: int | None
    in_flight_at_kill: int | None
    accepted_at_kill: int | None
    leases_at_kill: int | None
    bot_cpu_seconds: float
    seconds: float


async def _wait_for(fake_url: str, wanted: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await get_stats(fake_url))["tips"] >= wanted:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {wanted} lessons within {within:.0f} s")


def run(due: int, measure: int, *, kill: bool, workdir: Path) -> Run:
    name = f"crash at {KILL_AT:.0%}" if kill else "plain"
    scenario_dir = workdir / ("crash" if kill else "plain")
    data_dir = scenario_dir / "data"
    data_dir.mkdir(parents=True)
    fake_port, bot_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    timeout = measure / CEILING * 4 + 120
    say(f"[{name}] {due:,} due, measuring {measure:,}")
    in_flight = accepted_at_kill = leases = None
    bot_cpu = 0.0
    with spawn(
        [PYTHON, "-m", "bench.broadcast", "--serve-fake", str(fake_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        log=scenario_dir / "fake.log",
    ):
        asyncio.run(wait_http(f"{fake_url}/_stats"))
        recipients = seed(data_dir, fake_url, due)
        make_due(data_dir)
        started = time.monotonic()
        with start_bot(data_dir, bot_port, scenario_dir / "bot-1.log") as bot:
            if kill:
                asyncio.run(_wait_for(fake_url, int(due * KILL_AT), timeout))
                bot_cpu += cpu_seconds(bot.pid)
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait()
            else:
                asyncio.run(_wait_for(fake_url, measure, timeout))
                bot_cpu += cpu_seconds(bot.pid)
        if kill:
            time.sleep(1.0)  # whatever was on the wire has arrived (or not) by now
            at_kill = asyncio.run(get_stats(fake_url, full=True))
            accepted_at_kill = int(at_kill["tips"])
            in_flight = len(set(at_kill["counts"]) - settled(data_dir))
            leases = run_out_leases(data_dir)
            say(
                f"[{name}] killed at {accepted_at_kill:,} accepted, {in_flight} of them not "
                f"recorded as delivered; {leases} leases run out"
            )
            with start_bot(data_dir, bot_port, scenario_dir / "bot-2.log") as bot:
                asyncio.run(_wait_for(fake_url, due, timeout))
                time.sleep(2.0)  # anything more (a duplicate) would come now
                bot_cpu += cpu_seconds(bot.pid)
        seconds = time.monotonic() - started
        stats = asyncio.run(get_stats(fake_url, full=True))
    counts: dict[str, int] = stats["counts"]
    span = (stats["last_at"] or 0.0) - (stats["first_at"] or 0.0)
    result = Run(
        scenario=name,
        due=due,
        measured=measure,
        accepted=stats["tips"],
        throughput=(stats["tips"] - 1) / span if span > 0 else 0.0,
        throttled=stats["throttled"],
        duplicates=stats["duplicates"],
        lost=sum(1 for cid in recipients if counts.get(cid, 0) == 0) if kill else None,
        in_flight_at_kill=in_flight,
        accepted_at_kill=accepted_at_kill,
        leases_at_kill=leases,
        bot_cpu_seconds=bot_cpu,
        seconds=seconds,
    )
    say(f"[{name}] {result}")
    return result


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(runs: list[Run], quick: bool) -> str:
    from bot.workers.lessons import CONCURRENCY, LEASE

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {machine}{' (quick run)' if quick else ''}, storage SQLite; the "
        f"lesson worker keeps at most {CONCURRENCY} sends in flight and leases a claimed lesson "
        f"for {LEASE.total_seconds() / 60:.0f} minutes.",
        "",
        "| run | due at once | lessons accepted | sustained msg/s | goal ≥ 48 (0.96 × 50) | 429s "
        "| goal 0 | duplicates | in flight at kill | lost | bot CPU s |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        steady = r.in_flight_at_kill is None
        rate_goal = _mark(r.throughput >= RATE_GOAL) if steady else "– (includes the restart)"
        lines.append(
            f"| {r.scenario} | {r.due:,} | {r.accepted:,} | {r.throughput:.1f} "
            f"({r.throughput / CEILING:.0%}) | {rate_goal} | {r.throttled} "
            f"| {_mark(r.throttled == 0) if steady else '–'} | {r.duplicates} "
            f"| {'–' if r.in_flight_at_kill is None else r.in_flight_at_kill} "
            f"| {'– (stopped after the measured part)' if r.lost is None else r.lost} "
            f"| {r.bot_cpu_seconds:.1f} |"
        )
    for r in runs:
        if r.accepted_at_kill is not None:
            lines += [
                "",
                f"The kill came when {r.accepted_at_kill:,} lessons had been accepted, "
                f"{r.in_flight_at_kill} of them not yet recorded as delivered (in flight); "
                f"{r.leases_at_kill} lessons were claimed and not settled (their lease was moved "
                "to run out at once rather than waiting ten minutes), and "
                f"{r.duplicates} {'copy' if r.duplicates == 1 else 'copies'} went out a second "
                "time after the restart: only lessons in flight at the kill can come twice.",
            ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--due", type=int, default=None, help="due at once (default 100,000)")
    parser.add_argument("--measure", type=int, default=None, help="lessons measured (10,000)")
    parser.add_argument("--crash", type=int, default=None, help="due in the crash run (10,000)")
    parser.add_argument("--quick", action="store_true", help="5,000 due, 2,000 measured")
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    args = parser.parse_args(argv)
    due = args.due or (5_000 if args.quick else 100_000)
    measure = min(due, args.measure or (2_000 if args.quick else 10_000))
    crash = args.crash or (2_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory(prefix="kivett-bench-lessons-") as tmp:
        runs = [
            run(due, measure, kill=False, workdir=Path(tmp)),
            run(crash, crash, kill=True, workdir=Path(tmp)),
        ]
    text = table(runs, args.quick)
    print(text)
    if args.write_docs:
        replace_section(DOC, START, END, text, new_section=SECTION)
        say(f"written to {DOC.relative_to(ROOT)} ({START} … {END})")
    crashed = runs[1]
    if crashed.lost or crashed.duplicates > (crashed.in_flight_at_kill or 0):
        say("lost or duplicated lessons in the crash run")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

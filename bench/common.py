"""What every benchmark needs: free loopback ports, a process's CPU from /proc, child processes that
always stop, waiting for a server, reading a fake's statistics and the bot's SQLite, and writing a
table between its markers in docs/performance.md."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp

from tests.azurite import free_port

__all__ = [
    "cpu_seconds",
    "free_port",
    "get_stats",
    "query",
    "replace_section",
    "say",
    "spawn",
    "wait_http",
]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def spawn(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    lifetime_seconds: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped when the block ends; with `lifetime_seconds` it also runs under
    `timeout`, so it stops by itself even if the benchmark dies."""
    if lifetime_seconds is not None:
        args = ["timeout", "-k", "10", str(lifetime_seconds), *args]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def wait_http(url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {within} s")


async def get_stats(fake_url: str, *, full: bool = False) -> dict[str, Any]:
    """What a fake (Teams connector, Graph) recorded: its GET /_stats."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake_url}/_stats", params={"full": "1"} if full else {}) as response,
    ):
        result = await response.json()
        assert isinstance(result, dict)
        return result


def query(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(data_dir / "kivett.sqlite3", timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def load_average() -> str:
    """The machine's load average (1, 5 and 15 minutes) now, for a results table: the machines
    are shared, and a figure means little without how busy the machine was."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} when the table was written"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def replace_section(
    doc_path: Path, start: str, end: str, text: str, *, new_section: str | None = None
) -> None:
    """Put `text` between the markers `start` and `end` in `doc_path`. The file is read right
    before it is written (other benchmarks write their own sections). Without the markers:
    `new_section` (which holds them) is appended first, or it is an error."""
    doc = doc_path.read_text(encoding="utf-8")
    if start not in doc or end not in doc:
        if new_section is None:
            raise SystemExit(f"{doc_path} lacks the {start} … {end} markers")
        doc = doc.rstrip("\n") + "\n\n" + new_section
    head, rest = doc.split(start, 1)
    _, tail = rest.split(end, 1)
    doc_path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")

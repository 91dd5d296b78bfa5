"""Azurite, Microsoft's Azure Storage emulator (pinned in package.json), on loopback ports: one
starter for the tests (tests/azure_storage/) and the benchmarks (bench/turns, bench/soak), and
the two loopback helpers every local server needs (a free port, "does it answer yet?")."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "node_modules" / "azurite" / "dist" / "src" / "azurite.js"
START_SECONDS = 30.0
# Azurite's documented development account (public, well known; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class Azurite:
    connection_string: str
    blob_port: int
    log: Path
    pid: int


def connection_string(blob_port: int, queue_port: int, table_port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/{ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{queue_port}/{ACCOUNT};"
        f"TableEndpoint=http://127.0.0.1:{table_port}/{ACCOUNT};"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback http only
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer (Azurite says 403 to an unsigned request) means it is up
    except OSError:
        return False


@contextmanager
def start_azurite(log: Path) -> Iterator[Azurite]:
    """Run an in-memory Azurite on free loopback ports until the block ends."""
    if not AZURITE.exists():
        raise RuntimeError("Azurite is not installed: run `npm ci` in the project root")
    blob, queue, table = free_port(), free_port(), free_port()
    command = [
        "node",
        str(AZURITE),
        "--silent",
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--loose",
        "--blobHost",
        "127.0.0.1",
        "--queueHost",
        "127.0.0.1",
        "--tableHost",
        "127.0.0.1",
        "--blobPort",
        str(blob),
        "--queuePort",
        str(queue),
        "--tablePort",
        str(table),
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not answers(f"http://127.0.0.1:{blob}/{ACCOUNT}?comp=list"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Azurite did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Azurite(connection_string(blob, queue, table), blob, log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

"""Start Azurite (Microsoft's Azure Storage emulator, pinned in package.json) on loopback.

One in-memory Azurite serves the whole test session; every test gets its own container, so tests
never see each other's blobs. `start_azurite` is also used directly by tests that need an Azurite
of their own to stop.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.adapters.azure_blob import AzureBlobStore

ROOT = Path(__file__).resolve().parents[2]
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


def _answers(url: str) -> bool:
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
        pytest.fail("Azurite is not installed: run `npm ci` in the project root")
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
        while not _answers(f"http://127.0.0.1:{blob}/{ACCOUNT}?comp=list"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Azurite did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Azurite(connection_string(blob, queue, table), blob, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The connection string of the session's Azurite."""
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


@pytest.fixture
def container_name() -> str:
    """A container of this test's own (3-63 lowercase letters, digits and hyphens)."""
    return f"kivett-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def blob_store(azurite: str, container_name: str) -> AsyncIterator[AzureBlobStore]:
    store = AzureBlobStore(container_name, connection_string=azurite)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def other_instance(azurite: str, container_name: str) -> AsyncIterator[AzureBlobStore]:
    """A second bot instance: its own clients and connections, the same container."""
    store = AzureBlobStore(container_name, connection_string=azurite)
    await store.open()
    yield store
    await store.close()

"""Start Prism (Stoplight's OpenAPI mock, pinned in package.json) on loopback once per module.

Prism serves Microsoft's Graph description for SharePoint lists (`tests/data/graph/…`) and answers
a request that breaks it with 400/422 and an `sl-violations` header.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.azurite import answers, free_port, start_azurite
from tests.fakes.graph import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
START_SECONDS = 60.0


@dataclass(frozen=True)
class Prism:
    base_url: str  # http://127.0.0.1:PORT/v1.0
    log: Path


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    if not PRISM.exists():
        pytest.fail("Prism is not installed: run `npm ci` in the project root")
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["node", str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC_PATH)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/v1.0"
        deadline = time.monotonic() + START_SECONDS
        while not answers(f"{base}/sites/prism-ready"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prism did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Prism(base, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- the two store backends ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Azurite (in memory) for every contract test; each test gets a container of its own."""
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


def backend_settings(request: pytest.FixtureRequest, tmp_path: Path, **extra: str) -> Settings:
    """Settings for the backend named by `request.param` ("sqlite" or "azure"; Azurite is started
    only when a test asks for Azure), with `extra` settings on top."""
    values = {"KIVETT_DATA_DIR": str(tmp_path), **extra}
    if request.param == "azure":
        values |= {
            "KIVETT_STORAGE": "azure",
            "KIVETT_AZURE_STORAGE_CONNECTION_STRING": request.getfixturevalue("azurite"),
            "KIVETT_AZURE_CONTAINER": f"contract-{uuid.uuid4().hex[:12]}",
        }
    return Settings.model_validate(values)

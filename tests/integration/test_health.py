"""Health and readiness endpoints of the real app (dev mode, SQLite in a temp dir)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.settings import Settings
from bot.teams.app import SERVICES, create_app

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


async def test_healthz_and_readyz_answer_when_the_store_is_reachable(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    client = await aiohttp_client(create_app(settings, dev=True))
    health = await client.get("/healthz")
    assert health.status == 200
    assert (await health.json()) == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["storage"] == "ok"
    assert (tmp_path / "kivett.sqlite3").exists()


async def test_readyz_says_unavailable_when_the_store_is_gone(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    app = create_app(settings, dev=True)
    client = await aiohttp_client(app)
    await app[SERVICES].db.close()
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json()) == {"status": "unavailable", "storage": "unreachable"}
    health = await client.get("/healthz")
    assert health.status == 200, "liveness does not depend on the store"

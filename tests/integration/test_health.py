"""Health and readiness endpoints of the real app (dev mode, SQLite in a temp dir): /readyz says
whether the store can be read and written, and why not, without a path; a store that cannot be
opened stops the start with one line naming the file."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.adapters.sqlite.db import REASONS, SqliteDatabase, StoreOpenError
from bot.bootstrap import DATABASE_FILE
from bot.settings import Settings
from bot.teams.app import SERVICES, STORAGE_REASONS, create_app
from tests.storage_faults import garbage_over, no_room_left, refuse_writes, room_again

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


async def _running(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> tuple[TestClient[Any, Any], SqliteDatabase]:
    """The app, answering ready, and its database."""
    app = create_app(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}), dev=True)
    client = await aiohttp_client(app)
    assert (await client.get("/readyz")).status == 200
    db = app[SERVICES].db
    assert isinstance(db, SqliteDatabase)
    return client, db


async def _readiness(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    ready = await client.get("/readyz")
    body: dict[str, Any] = await ready.json()
    return ready.status, body


async def test_readyz_says_corrupt_when_garbage_is_written_over_the_running_database(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client, db = await _running(aiohttp_client, tmp_path)
    await db.checkpoint()  # everything in the file itself, none of it only in the -wal
    garbage_over(tmp_path / DATABASE_FILE)

    assert await _readiness(client) == (503, {"status": "unavailable", "storage": "corrupt"})
    assert (await client.get("/healthz")).status == 200


async def test_readyz_says_full_when_the_database_cannot_grow(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client, db = await _running(aiohttp_client, tmp_path)
    await no_room_left(db)
    assert await _readiness(client) == (503, {"status": "unavailable", "storage": "full"})

    await room_again(db)
    assert await _readiness(client) == (200, {"status": "ready", "storage": "ok"})


async def test_readyz_says_read_only_when_the_store_refuses_writes(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client, db = await _running(aiohttp_client, tmp_path)
    await refuse_writes(db)  # as a read-only file would (see tests/storage_faults.py)
    assert await _readiness(client) == (503, {"status": "unavailable", "storage": "read-only"})

    await refuse_writes(db, False)
    assert await _readiness(client) == (200, {"status": "ready", "storage": "ok"})


async def test_readyz_says_unreachable_when_the_database_file_is_gone(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client, _ = await _running(aiohttp_client, tmp_path)
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in os.listdir(tmp_path):
        if name.startswith(DATABASE_FILE):
            os.replace(tmp_path / name, moved / name)

    assert await _readiness(client) == (503, {"status": "unavailable", "storage": "unreachable"})
    assert not (tmp_path / DATABASE_FILE).exists(), "the probe does not create an empty store"


async def test_a_garbage_database_at_start_stops_with_one_line_naming_the_file(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / DATABASE_FILE
    path.write_bytes(b"not a database " * 1000)
    app = create_app(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}), dev=True)

    with pytest.raises(StoreOpenError) as raised:
        await aiohttp_client(app)

    message = str(raised.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"cannot open the database {path}: ")
    assert "restore it from a backup, or move it aside" in message
    assert path.read_bytes() == b"not a database " * 1000, "the file is left as it was"


async def test_a_data_directory_that_cannot_be_made_stops_with_one_line(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    app = create_app(Settings.model_validate({"KIVETT_DATA_DIR": str(blocker)}), dev=True)

    with pytest.raises(StoreOpenError) as raised:
        await aiohttp_client(app)

    message = str(raised.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"cannot open the database {blocker / DATABASE_FILE}: ")
    assert "KIVETT_DATA_DIR" in message


def test_every_reason_the_embedded_store_gives_reaches_the_probe() -> None:
    assert REASONS <= STORAGE_REASONS, "a reason /readyz does not know is shown as 'unreachable'"

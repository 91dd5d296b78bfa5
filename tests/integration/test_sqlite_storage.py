"""The embedded store against a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.sqlite.db import PROBE_KEY, SqliteDatabase, StoreOpenError
from bot.adapters.sqlite.state import SqliteConversationReferences, SqliteStorage
from bot.core.records import StoredReference
from bot.ports import ETagConflictError, StorageUnavailableError
from tests.storage_faults import damage_table, no_room_left, refuse_writes, room_again


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state" / "kivett.sqlite3")
    await database.open()
    yield database
    await database.close()


async def test_state_round_trips_with_an_etag(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    await storage.write({"conv/1": {"welcomed": True, "name": "Åse"}})
    item = (await storage.read(["conv/1", "missing"]))["conv/1"]
    assert item["welcomed"] is True
    assert item["name"] == "Åse"
    assert item["e_tag"]
    assert "missing" not in await storage.read(["missing"])


async def test_a_write_with_a_stale_etag_is_refused_and_changes_nothing(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    await storage.write({"k": {"n": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["n"] = 2
    await storage.write({"k": first})
    second["n"] = 3
    with pytest.raises(ETagConflictError):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_a_refused_write_rolls_back_the_whole_batch(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    await storage.write({"a": {"n": 1}, "b": {"n": 1}})
    a, b = (await storage.read(["a"]))["a"], (await storage.read(["b"]))["b"]
    await storage.write({"b": dict(b, n=5)})
    with pytest.raises(ETagConflictError):
        await storage.write({"a": dict(a, n=2), "b": dict(b, n=2)})
    current = await storage.read(["a", "b"])
    assert (current["a"]["n"], current["b"]["n"]) == (1, 5)


async def test_star_etag_and_no_etag_overwrite(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    await storage.write({"k": {"n": 1}})
    await storage.write({"k": {"n": 2, "e_tag": "*"}})
    await storage.write({"k": {"n": 3}})
    assert (await storage.read(["k"]))["k"]["n"] == 3


async def test_a_second_save_in_the_same_turn_is_not_a_conflict(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    state = {"n": 1}
    await storage.write({"k": state})
    state["n"] = 2
    await storage.write({"k": state})
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_delete_removes_state(db: SqliteDatabase) -> None:
    storage = SqliteStorage(db)
    await storage.write({"k": {"n": 1}})
    await storage.delete(["k"])
    assert await storage.read(["k"]) == {}


async def test_non_json_state_is_refused_with_a_clear_error(db: SqliteDatabase) -> None:
    with pytest.raises(TypeError, match="JSON values only"):
        await SqliteStorage(db).write({"k": {"when": object()}})


async def test_database_uses_wal_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "kivett.sqlite3"
    first = SqliteDatabase(path)
    await first.open()
    assert await first.journal_mode() == "wal"
    await SqliteStorage(first).write({"k": {"kept": True}})
    await first.close()
    second = SqliteDatabase(path)
    await second.open()
    assert (await SqliteStorage(second).read(["k"]))["k"]["kept"] is True
    await second.close()


async def test_many_concurrent_read_modify_writes_either_win_or_are_refused(
    db: SqliteDatabase,
) -> None:
    """Optimistic concurrency: every successful write is counted, none is silently lost."""
    storage = SqliteStorage(db)
    await storage.write({"counter": {"n": 0}})

    async def increment() -> bool:
        item = (await storage.read(["counter"]))["counter"]
        item["n"] += 1
        try:
            await storage.write({"counter": item})
        except ETagConflictError:
            return False
        return True

    results = await asyncio.gather(*(increment() for _ in range(40)))
    assert (await storage.read(["counter"]))["counter"]["n"] == sum(results)
    assert any(results)


async def test_storage_work_does_not_block_the_event_loop(db: SqliteDatabase) -> None:
    """While the database thread is stuck on a lock held elsewhere, the loop keeps running."""
    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.6, lambda: other.execute("COMMIT"))
    release.start()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await SqliteStorage(db).write({"k": {"n": 1}})
    waited = time.monotonic() - started
    task.cancel()
    release.join()
    other.close()
    assert waited >= 0.5, "the write really waited for the other connection's lock"
    assert ticks >= 10, "the event loop kept running while the write waited"


async def test_conversation_references_are_saved_updated_and_removed(db: SqliteDatabase) -> None:
    refs = SqliteConversationReferences(db)
    ref = StoredReference("a:1", "personal", "tenant", {"serviceUrl": "https://smba", "x": 1})
    assert await refs.save(ref) is True
    assert await refs.save(ref) is False, "an unchanged reference is not written again"
    assert await refs.save(StoredReference("a:1", "personal", "tenant", {"x": 2})) is True
    stored = await refs.get("a:1")
    assert stored is not None
    assert stored.reference == {"x": 2}
    assert await refs.count() == 1
    assert await refs.remove("a:1") is True
    assert await refs.remove("a:1") is False
    assert await refs.get("a:1") is None


# -- storage faults: told as the short reason, never a generic failure ---------------------------


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _probe_stamp(db: SqliteDatabase) -> str | None:
    row = await db.run(
        lambda conn: conn.execute("SELECT e_tag FROM state WHERE key = ?", (PROBE_KEY,)).fetchone()
    )
    return None if row is None else str(row[0])


async def test_the_write_probe_runs_at_most_once_per_interval_while_writes_succeed(
    tmp_path: Path,
) -> None:
    ticks = Ticks()
    db = SqliteDatabase(tmp_path / "kivett.sqlite3", monotonic=ticks, write_probe_seconds=5.0)
    await db.open()
    try:
        await db.ping()
        assert await _probe_stamp(db) == "0.0"
        ticks.now = 4.0
        await db.ping()
        assert await _probe_stamp(db) == "0.0", "no second write within the interval"
        ticks.now = 5.0
        await db.ping()
        assert await _probe_stamp(db) == "5.0"

        await refuse_writes(db)
        ticks.now = 6.0
        with pytest.raises(StorageUnavailableError, match=r"^read-only$"):
            await SqliteStorage(db).write({"k": {"n": 1}})
        await refuse_writes(db, False)
        await db.ping()
        assert await _probe_stamp(db) == "6.0", "a failed write makes the next probe write"
    finally:
        await db.close()


async def test_a_full_database_fails_the_write_and_the_next_one_works_once_there_is_room(
    db: SqliteDatabase,
) -> None:
    storage = SqliteStorage(db)
    await no_room_left(db)
    with pytest.raises(StorageUnavailableError, match=r"^full$"):
        await storage.write({"big": {"text": "x" * 20_000}})
    with pytest.raises(StorageUnavailableError, match=r"^full$"):
        await db.ping()

    await room_again(db)
    await storage.write({"big": {"text": "x" * 20_000}})  # no transaction was left open
    assert (await storage.read(["big"]))["big"]["text"] == "x" * 20_000
    await db.ping()


async def test_a_damaged_table_is_corrupt_for_its_readers_and_for_the_probe(
    db: SqliteDatabase,
) -> None:
    storage = SqliteStorage(db)
    await storage.write({"k": {"n": 1}})
    await damage_table(db, "conversation_refs")
    await db.ping()  # the schema and the state table are sound: nothing has met the damage yet

    with pytest.raises(StorageUnavailableError, match=r"^corrupt$"):
        await SqliteConversationReferences(db).get("a:1")
    with pytest.raises(StorageUnavailableError, match=r"^corrupt$"):
        await db.ping()  # now the probe checks the whole file, and finds it damaged
    assert (await storage.read(["k"]))["k"]["n"] == 1, "the sound tables still answer"


async def test_a_constraint_failure_is_a_bug_not_an_unavailable_store(db: SqliteDatabase) -> None:
    def twice(conn: sqlite3.Connection) -> None:
        for _ in range(2):
            conn.execute("INSERT INTO state(key, e_tag, data) VALUES ('k', 'e', '{}')")

    with pytest.raises(sqlite3.IntegrityError):
        await db.run(twice)


@pytest.mark.parametrize(
    "content",
    [b"SQLite format 3\x00" + b"\xff" * 4080, b"just some text, not a database\n" * 200],
    ids=["damaged header", "not a database"],
)
async def test_opening_a_file_that_is_not_a_database_names_it_in_one_line(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "kivett.sqlite3"
    path.write_bytes(content)
    db = SqliteDatabase(path)
    with pytest.raises(StoreOpenError) as raised:
        await db.open()
    assert raised.value.reason == "corrupt"
    message = str(raised.value)
    assert message.splitlines() == [message]
    assert message == (
        f"cannot open the database {path}: the file is damaged or is not a KI-vett database; "
        "restore it from a backup, or move it aside to start with an empty store"
    )
    assert path.read_bytes() == content, "the file is left as it was"
    with pytest.raises(StorageUnavailableError, match=r"^unreachable$"):
        await db.ping()  # never opened


async def test_every_subscriber_is_read_when_they_come_in_pages(
    db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from bot.adapters.sqlite import lessons
    from bot.core.records import Subscription

    monkeypatch.setattr(lessons, "SUBSCRIBER_PAGE", 3)  # 7 people: pages of 3, 3 and 1
    store = lessons.SqliteLessonStore(db)
    due = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    for n in range(7):
        await store.subscribe(
            Subscription(f"user-{n}", f"a:chat-{n}", 0, "09:00", "Europe/Oslo", "nb", due)
        )
    assert await store.subscribers() == [(f"a:chat-{n}", "nb") for n in range(7)]
    monkeypatch.setattr(lessons, "SUBSCRIBER_PAGE", 7)  # a full last page ends with an empty one
    assert len(await store.subscribers()) == 7

"""The Azure Blob Storage stores against Azurite: what only they have to get right (several
instances at once, their stored format, a storage account that fails). The contract every store
shares with SQLite is tested on both in tests/contract/test_stores.py."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapters.azure_storage.blob import AzureBlobStore, encode_meta, key_segment
from bot.adapters.azure_storage.lessons import AzureBlobLessonStore
from bot.adapters.azure_storage.state import AzureBlobConversationReferences, AzureBlobStateStorage
from bot.adapters.azure_storage.usage import AzureBlobUsageStats
from bot.core.records import StoredReference, Subscription
from bot.ports import ETagConflictError, StorageUnavailableError
from tests.azurite import connection_string, free_port, start_azurite

MONDAY_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _subscription(user: str, due: datetime, language: str = "nb") -> Subscription:
    return Subscription(
        user_key=user,
        conversation_id=f"a:{user}",
        weekday=0,
        at="09:00",
        zone="Europe/Oslo",
        language=language,
        next_due=due,
    )


# --- state -------------------------------------------------------------------------------------


async def test_two_instances_writing_with_the_same_etag_exactly_one_wins(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    one, two = AzureBlobStateStorage(blob_store), AzureBlobStateStorage(other_instance)
    await one.write({"k": {"n": 0}})
    seen = (await one.read(["k"]))["k"]

    async def write(storage: AzureBlobStateStorage, n: int) -> int | None:
        try:
            await storage.write({"k": dict(seen, n=n)})
        except ETagConflictError:
            return None
        return n

    results = await asyncio.gather(write(one, 1), write(two, 2))
    winners = [n for n in results if n is not None]
    assert len(winners) == 1
    assert (await two.read(["k"]))["k"]["n"] == winners[0]


async def test_a_new_item_with_an_etag_is_created_once_like_the_sqlite_store(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    one, two = AzureBlobStateStorage(blob_store), AzureBlobStateStorage(other_instance)
    await one.write({"fresh": {"n": 1, "e_tag": "from-elsewhere"}})
    assert (await one.read(["fresh"]))["fresh"]["n"] == 1

    async def create(storage: AzureBlobStateStorage, n: int) -> bool:
        try:
            await storage.write({"new": {"n": n, "e_tag": "guess"}})
        except ETagConflictError:
            return False
        return True

    assert sorted(await asyncio.gather(create(one, 1), create(two, 2))) == [False, True]


async def test_many_concurrent_read_modify_writes_either_win_or_are_refused(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    stores = [AzureBlobStateStorage(blob_store), AzureBlobStateStorage(other_instance)]
    await stores[0].write({"counter": {"n": 0}})

    async def increment(storage: AzureBlobStateStorage) -> bool:
        item = (await storage.read(["counter"]))["counter"]
        item["n"] += 1
        try:
            await storage.write({"counter": item})
        except ETagConflictError:
            return False
        return True

    results = await asyncio.gather(*(increment(stores[i % 2]) for i in range(20)))
    assert (await stores[0].read(["counter"]))["counter"]["n"] == sum(results)
    assert any(results)


def _turn(adapter: TestAdapter) -> TurnContext:
    activity = Activity(
        type=ActivityTypes.message,
        id="1",
        text="hei",
        channel_id="msteams",
        service_url="https://smba.example/",
        from_property=ChannelAccount(id="29:kari"),
        recipient=ChannelAccount(id="28:bot"),
        conversation=ConversationAccount(id="a:1/kari"),
    )
    return TurnContext(adapter, activity)


async def test_conversation_state_round_trips_through_botbuilder(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    adapter = TestAdapter()
    first = ConversationState(AzureBlobStateStorage(blob_store))
    turn = _turn(adapter)
    await first.load(turn)
    await first.create_property("dialog").set(turn, {"step": 2, "answers": ["Åpen"]})
    await first.save_changes(turn)

    second = ConversationState(AzureBlobStateStorage(other_instance))
    later = _turn(adapter)
    await second.load(later)
    assert await second.create_property("dialog").get(later) == {"step": 2, "answers": ["Åpen"]}


async def test_two_turns_saving_the_same_conversation_state_one_is_refused(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    adapter = TestAdapter()
    states = [
        ConversationState(AzureBlobStateStorage(blob_store)),
        ConversationState(AzureBlobStateStorage(other_instance)),
    ]
    turn = _turn(adapter)
    await states[0].load(turn)
    await states[0].create_property("n").set(turn, 0)
    await states[0].save_changes(turn)
    turns = [_turn(adapter), _turn(adapter)]
    for state, context in zip(states, turns, strict=True):
        await state.load(context)
        await state.create_property("n").set(context, 1)
    await states[0].save_changes(turns[0])
    with pytest.raises(ETagConflictError):
        await states[1].save_changes(turns[1])


# --- stored format -----------------------------------------------------------------------------


async def test_records_written_in_the_earlier_encodings_are_still_read(
    blob_store: AzureBlobStore,
) -> None:
    """Before the Azure stores shared one encoding, references and subscriptions were sorted,
    and a subscription's metadata copy escaped non-ASCII characters."""
    container = blob_store.container
    reference = {"conversation_id": "a:Åse", "conversation_type": "personal", "tenant_id": "t"}
    await container.upload_blob(
        "refs/" + key_segment("a:Åse"),
        json.dumps({**reference, "reference": {"b": 1, "a": "ø"}}, sort_keys=True).encode(),
        metadata={"ctype": encode_meta("personal")},
    )
    record = {
        "user_key": "Åse",
        "conversation_id": "a:Åse",
        "weekday": 0,
        "at": "09:00",
        "zone": "Europe/Oslo",
        "language": "nn",
        "next_due": "2026-11-23T08:00:00.000005Z",
    }
    await container.upload_blob(
        "lessons/sub/" + key_segment("Åse"),
        json.dumps(record, sort_keys=True, separators=(",", ":")).encode(),
        metadata={"record": encode_meta(json.dumps(record, separators=(",", ":")))},
    )
    refs = AzureBlobConversationReferences(blob_store)
    expected = StoredReference("a:Åse", "personal", "t", {"a": "ø", "b": 1})
    assert await refs.get("a:Åse") == expected
    assert await refs.of_type("personal") == [expected]
    assert await refs.save(expected) is False, "the same reference, only encoded differently"
    lessons = AzureBlobLessonStore(blob_store)
    subscription = _subscription("Åse", MONDAY_9 + timedelta(microseconds=5), "nn")
    assert await lessons.subscription("Åse") == subscription
    assert await lessons.due(MONDAY_9 + timedelta(seconds=1), 10) == [subscription]
    assert await lessons.claim("Åse", subscription.next_due, MONDAY_9 + timedelta(days=7))


async def test_a_blob_that_holds_no_json_object_is_a_storage_error(
    blob_store: AzureBlobStore,
) -> None:
    await blob_store.container.upload_blob("refs/" + key_segment("a:1"), b"[1, 2]")
    with pytest.raises(StorageUnavailableError, match="JSON object"):
        await AzureBlobConversationReferences(blob_store).get("a:1")
    await blob_store.container.upload_blob("refs/" + key_segment("a:2"), b"{half")
    with pytest.raises(StorageUnavailableError, match="JSON"):
        await AzureBlobConversationReferences(blob_store).get("a:2")


# --- usage -------------------------------------------------------------------------------------


async def test_usage_counts_under_50_concurrent_increments_from_two_instances_are_exact(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    instances = [AzureBlobUsageStats(blob_store), AzureBlobUsageStats(other_instance)]
    verdict = ("yellow", "skrive_saksframlegg", "copilot", "begrenset")
    await asyncio.gather(*(instances[i % 2].record_verdict(*verdict) for i in range(50)))
    await asyncio.gather(
        *(instances[i % 2].record_feedback(i % 3 != 0) for i in range(9)),
        instances[1].record_verdict("red", "task|with", "tøøl", "unntatt"),
    )
    snapshot = await instances[0].snapshot()
    assert snapshot.verdicts[verdict] == 50
    assert dict(snapshot.feedback) == {True: 6, False: 3}
    assert ("red", "task", "with", "tøøl") not in snapshot.verdicts, "a key with the separator"


async def test_200_conversations_counting_at_once_share_a_few_writes_and_count_exactly(
    blob_store: AzureBlobStore,
) -> None:
    stats = AzureBlobUsageStats(blob_store)
    writes = 0
    original = stats._add

    async def counting(name: str, metric: str, key: str, by: int) -> None:
        nonlocal writes
        writes += 1
        await original(name, metric, key, by)

    stats._add = counting  # type: ignore[method-assign]
    await asyncio.gather(*(stats.record_feedback(True) for _ in range(200)))
    snapshot = await stats.snapshot()
    assert snapshot.feedback[True] == 200
    assert writes <= 5, "increments that arrive together are committed together"


# --- lessons -----------------------------------------------------------------------------------


async def test_two_instances_claiming_the_same_week_exactly_one_gets_it(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore
) -> None:
    one, two = AzureBlobLessonStore(blob_store), AzureBlobLessonStore(other_instance)
    users = [f"u{i}" for i in range(10)]
    for user in users:
        await one.subscribe(_subscription(user, MONDAY_9))
    next_week = MONDAY_9 + timedelta(days=7)
    for user in users:
        results = await asyncio.gather(
            one.claim(user, MONDAY_9, next_week), two.claim(user, MONDAY_9, next_week)
        )
        assert sorted(results) == [False, True], user
    assert await two.due(MONDAY_9 + timedelta(days=1), 100) == []


# --- health and failures -----------------------------------------------------------------------


async def test_ping_answers_when_the_container_is_there(blob_store: AzureBlobStore) -> None:
    await blob_store.ping()


async def test_open_creates_the_container_once_and_reopening_keeps_the_data(
    azurite: str, container_name: str
) -> None:
    for n in (1, 2):
        store = AzureBlobStore(container_name, connection_string=azurite)
        await store.open()
        storage = AzureBlobStateStorage(store)
        if n == 1:
            await storage.write({"k": {"kept": True}})
        else:
            assert (await storage.read(["k"]))["k"]["kept"] is True
        await store.close()


async def test_a_stopped_azurite_gives_storage_unavailable_not_a_hang(tmp_path: Path) -> None:
    with start_azurite(tmp_path / "azurite.log") as running:
        store = AzureBlobStore("kivett-stopped", connection_string=running.connection_string)
        await store.open()
        storage = AzureBlobStateStorage(store)
        await storage.write({"k": {"n": 1}})
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            await store.ping()
        assert time.monotonic() - started < 2, "the readiness ping does not retry"
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            await storage.read(["k"])
        with pytest.raises(StorageUnavailableError):
            await AzureBlobUsageStats(store).record_feedback(True)
        with pytest.raises(StorageUnavailableError):
            await AzureBlobLessonStore(store).claim("u", MONDAY_9, MONDAY_9)
    finally:
        await store.close()
    assert time.monotonic() - started < 20, "three failed calls with the default retries"


async def test_opening_against_nothing_fails_fast_with_storage_unavailable() -> None:
    port = free_port()
    store = AzureBlobStore(
        "kivett-none", connection_string=connection_string(port, port, port), retry_total=0
    )
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError):
        await store.open()
    assert time.monotonic() - started < 5
    with pytest.raises(RuntimeError, match="not open"):
        await store.ping()


async def test_server_errors_become_storage_unavailable_after_the_retries() -> None:
    calls = 0

    async def broken(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=503, text="busy")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    async with TestServer(app, host="127.0.0.1") as server:
        port = server.port
        assert port is not None
        store = AzureBlobStore(
            "kivett-busy",
            connection_string=connection_string(port, port, port),
            retry_total=2,
            retry_backoff_seconds=0,
        )
        with pytest.raises(StorageUnavailableError):
            await store.open()
        assert calls == 3, "the first try and two retries"


async def test_a_malformed_connection_string_is_a_storage_error_not_a_crash() -> None:
    store = AzureBlobStore("kivett-malformed", connection_string="not a connection string")
    with pytest.raises(StorageUnavailableError, match="malformed"):
        await store.open()


def test_the_store_needs_exactly_one_way_to_connect() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AzureBlobStore("c")
    with pytest.raises(ValueError, match="exactly one"):
        AzureBlobStore("c", connection_string="x", account_url="https://a.blob.core.windows.net")

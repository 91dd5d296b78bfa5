"""Shared work on Azurite: the learning-card outbox and broadcasts, as two instances see them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.storage.queue.aio import QueueClient

from bot.adapters.azure_storage.blob import AzureBlobStore, decode_meta, read_json
from bot.adapters.azure_storage.broadcast import AzureBroadcastStore, LeaseLostError
from bot.adapters.azure_storage.lessons import AzureBlobLessonStore
from bot.adapters.azure_storage.outbox import AzureLearningCardStore
from bot.adapters.azure_storage.state import AzureBlobConversationReferences, AzureBlobStateStorage
from bot.core.broadcast import RecipientState
from bot.core.learning_cards import DeliveryState, StoredCard
from bot.core.records import StoredReference, Subscription
from bot.workers.outbox import OutboxWorker
from tests.fakes.learning_sink import FakeSink
from tests.integration.test_outbox import LABELS, card

Queues = dict[str, QueueClient]


@pytest.fixture
async def queues(azurite: str) -> AsyncIterator[Queues]:
    prefix = f"q{uuid.uuid4().hex[:12]}"
    made = {
        name: QueueClient.from_connection_string(azurite, f"{prefix}-{name}")
        for name in ("outbox", "outbox-poison", "broadcasts", "broadcasts-poison")
    }
    for client in made.values():
        await client.create_queue()
    yield made
    for client in made.values():
        await client.delete_queue()
        await client.close()


def cards_store(
    blob: AzureBlobStore, q: Queues, *, visibility_seconds: int = 120, poison_after: int = 25
) -> AzureLearningCardStore:
    return AzureLearningCardStore(
        blob.container,
        q["outbox"],
        q["outbox-poison"],
        visibility_seconds=visibility_seconds,
        poison_after=poison_after,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_card_stored_by_one_instance_is_delivered_once_by_whichever_takes_it(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore, queues: Queues
) -> None:
    first, second = cards_store(blob_store, queues), cards_store(other_instance, queues)
    sink = FakeSink()
    assert await first.add(card("c1"))
    assert not await second.add(card("c1"))  # the same card id again: stored once
    workers = [
        OutboxWorker(store=store, sink=sink, labels=LABELS, clock=Clock())
        for store in (first, second)
    ]
    delivered = await asyncio.gather(*(worker.drain_once() for worker in workers))
    assert sorted(delivered) == [0, 1]  # the queue gave the card to exactly one instance
    stored = await second.get("c1")
    assert stored is not None
    assert stored.state is DeliveryState.DELIVERED
    assert sink.creates == 1


async def test_a_retry_hides_the_card_until_its_time_then_any_instance_delivers_it(
    blob_store: AzureBlobStore, queues: Queues
) -> None:
    store = cards_store(blob_store, queues)
    sink = FakeSink(["503"])
    await store.add(card("c1"))
    # real time: the queue hides the message for real seconds
    worker = OutboxWorker(store=store, sink=sink, labels=LABELS, clock=time.time)
    assert await worker.drain_once() == 0
    assert await store.due(time.time(), 10) == []  # hidden for the backoff (about 1–2 s)
    for _ in range(40):
        await asyncio.sleep(0.1)
        if await worker.drain_once() == 1:
            break
    stored = await store.get("c1")
    assert stored is not None
    assert stored.state is DeliveryState.DELIVERED
    assert stored.attempts == 2
    assert stored.reason == ""


async def test_a_card_whose_instance_died_comes_back_after_the_visibility_timeout(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore, queues: Queues
) -> None:
    dying = cards_store(blob_store, queues, visibility_seconds=1)
    await dying.add(card("c1"))
    assert [s.card.card_id for s in await dying.due(0, 10)] == ["c1"]  # taken, then it "dies"
    survivor = cards_store(other_instance, queues)
    assert await survivor.due(0, 10) == []
    await asyncio.sleep(1.5)
    [again] = await survivor.due(0, 10)
    await survivor.delivered(again.card.card_id, "item-1")
    stored = await survivor.get("c1")
    assert stored is not None
    assert stored.state is DeliveryState.DELIVERED


async def test_a_message_that_keeps_coming_back_is_parked_as_poison(
    blob_store: AzureBlobStore, queues: Queues
) -> None:
    store = cards_store(blob_store, queues, visibility_seconds=1, poison_after=2)
    await store.add(card("c1"))
    for _ in range(2):  # taken twice and never finished (two crashes)
        assert len(await store.due(0, 10)) == 1
        await asyncio.sleep(1.2)
    assert await store.due(0, 10) == []
    stored = await store.get("c1")
    assert stored is not None
    assert stored.state is DeliveryState.PARKED
    assert stored.reason == "poison"
    poisoned = [m.content async for m in queues["outbox-poison"].receive_messages()]
    assert poisoned == ["c1"]


async def test_every_store_writes_json_documents_in_one_encoding(
    blob_store: AzureBlobStore, queues: Queues
) -> None:
    """Compact UTF-8 JSON (characters as they are) with a JSON content type, in every blob; a
    subscription's metadata copy is the same text."""
    await AzureBlobStateStorage(blob_store).write({"k": {"name": "Åse"}})
    reference = StoredReference("a:Åse", "personal", "t", {"user": {"name": "Åse"}})
    await AzureBlobConversationReferences(blob_store).save(reference)
    subscription = Subscription("Åse", "a:Åse", 0, "09:00", "Europe/Oslo", "nn", datetime.now(UTC))
    await AzureBlobLessonStore(blob_store).subscribe(subscription)
    await cards_store(blob_store, queues).add(replace(card("c1"), author="Åse"))
    job = await jobs_store(blob_store, queues).create_job(
        created_by="Åse",
        due=datetime.now(UTC),
        cards={"nb": {"text": "Hei, Åse"}},
        recipients=[("a:Åse", "nb")],
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    assert job.total == 1
    container = blob_store.container
    names = [blob.name async for blob in container.list_blobs()]
    assert len(names) == 6  # state, reference, subscription, card, job, one recipient shard
    for name in names:
        blob = container.get_blob_client(name)
        body = await (await blob.download_blob()).readall()
        compact = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
        assert body == compact.encode("utf-8"), name
        properties = await blob.get_blob_properties()
        assert properties.content_settings.content_type == "application/json; charset=utf-8"
        assert "Åse".encode() in body, name
        if name.startswith("lessons/"):
            assert decode_meta(properties.metadata["record"]).encode("utf-8") == body


async def _references(store: AzureBlobStore, count: int) -> list[tuple[str, str]]:
    refs = AzureBlobConversationReferences(store)
    recipients = []
    for index in range(count):
        cid = f"a:person-{index}"
        await refs.save(StoredReference(cid, "personal", "tenant", {"conversation": {"id": cid}}))
        recipients.append((cid, "nb"))
    return recipients


def jobs_store(blob: AzureBlobStore, q: Queues, lease: int = 30) -> AzureBroadcastStore:
    return AzureBroadcastStore(
        blob.container,
        q["broadcasts"],
        q["broadcasts-poison"],
        AzureBlobConversationReferences(blob),
        lease_seconds=lease,
        shard_size=7,
    )


async def test_a_broadcast_left_by_a_dead_instance_is_resumed_by_another(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore, queues: Queues
) -> None:
    recipients = await _references(blob_store, 20)
    first = jobs_store(blob_store, queues, lease=5)
    progress = await first.create_job(
        created_by="aad-champion",
        due=datetime.now(UTC),
        cards={"nb": {"type": "AdaptiveCard"}},
        recipients=recipients,
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    assert progress.total == 20
    [job] = await first.runnable(9e9)
    await first.start(job.id, 1.0)
    batch = await first.pending(job.id, 9e9, 8)
    assert batch[0].reference == {"conversation": {"id": "a:person-0"}}
    await first.record(
        job.id, [(r.conversation_id, RecipientState.SENT, 1, 0.0, 201) for r in batch]
    )
    # the first instance dies here: its lease renewal stops with it
    await first.close()

    second = jobs_store(other_instance, queues, lease=5)
    assert await second.runnable(9e9) == []  # still hidden: the lease has not run out yet
    for _ in range(60):
        await asyncio.sleep(0.25)
        taken = await second.runnable(9e9)
        if taken:
            break
    [resumed] = taken
    assert resumed.id == job.id
    await second.start(job.id, 2.0)
    rest = await second.pending(job.id, 9e9, 100)
    assert len(rest) == 12  # nobody who already has it is sent to again
    await second.record(
        job.id, [(r.conversation_id, RecipientState.SENT, 1, 0.0, 201) for r in rest]
    )
    await second.finish(job.id, 3.0)
    final = await second.progress(job.id, 3.0)
    assert (final.total, final.sent) == (20, 20)
    assert await second.runnable(9e9) == []  # done: the message is gone
    with pytest.raises(LeaseLostError):
        await first.pending(job.id, 9e9, 1)
    await second.close()


async def test_a_scheduled_broadcast_stays_hidden_until_it_is_due(
    blob_store: AzureBlobStore, queues: Queues
) -> None:
    recipients = await _references(blob_store, 2)
    store = jobs_store(blob_store, queues)
    await store.create_job(
        created_by="aad-champion",
        due=datetime.fromtimestamp(datetime.now(UTC).timestamp() + 3600, UTC),
        cards={"nb": {}},
        recipients=recipients,
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    assert await store.runnable(datetime.now(UTC).timestamp()) == []
    await store.close()


async def test_an_erase_between_deliverys_read_and_write_ends_with_the_sender_removed(
    blob_store: AzureBlobStore,
    other_instance: AzureBlobStore,
    queues: Queues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outbox reads the pending card (sender still there), the person erases their data on
    another instance, then the outbox writes DELIVERED: the card must go on to REDACT so the
    sender leaves the SharePoint item too."""
    worker = cards_store(blob_store, queues)
    eraser = cards_store(other_instance, queues)
    await worker.add(card("c1"))
    [taken] = await worker.due(0, 10)
    real_read = read_json
    armed = [True]

    async def read_then_erase(container: Any, name: str) -> Any:
        found = await real_read(container, name)
        if armed[0] and container is blob_store.container:
            armed[0] = False
            assert await eraser.remove_author("aad-1") == 1
        return found

    monkeypatch.setattr("bot.adapters.azure_storage.outbox.read_json", read_then_erase)
    await worker.delivered(taken.card.card_id, "item-1")
    monkeypatch.setattr("bot.adapters.azure_storage.outbox.read_json", real_read)
    assert not armed[0]  # the erase did run between the read and the write
    stored = await worker.get("c1")
    assert stored is not None
    assert stored.card.author == ""
    assert stored.state is DeliveryState.REDACT
    assert stored.item_id == "item-1"
    [again] = await worker.due(0, 10)  # the outbox gets the card again to empty the sender
    assert again.state is DeliveryState.REDACT


async def test_a_delivery_between_the_erases_look_and_its_write_ends_with_the_sender_removed(
    blob_store: AzureBlobStore,
    other_instance: AzureBlobStore,
    queues: Queues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The erase finds the card pending, the outbox delivers it, then the erase writes: the
    card must still go to REDACT with a new message."""
    worker = cards_store(blob_store, queues)
    eraser = cards_store(other_instance, queues)
    await worker.add(card("c1"))
    [taken] = await worker.due(0, 10)
    real_by_author = eraser.by_author

    async def look_then_deliver(user_key: str) -> list[StoredCard]:
        found = await real_by_author(user_key)
        assert [s.state for s in found] == [DeliveryState.PENDING]
        await worker.delivered(taken.card.card_id, "item-1")
        return found

    monkeypatch.setattr(eraser, "by_author", look_then_deliver)
    assert await eraser.remove_author("aad-1") == 1
    stored = await worker.get("c1")
    assert stored is not None
    assert stored.card.author == ""
    assert stored.state is DeliveryState.REDACT
    [again] = await worker.due(0, 10)
    assert again.state is DeliveryState.REDACT

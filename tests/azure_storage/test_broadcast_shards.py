"""A broadcast's recipient shards on Azurite: the running instance writes a shard once for all the
results that came in together (writes grow with the shards, not with the messages), and merges an
erasure written by another instance instead of writing over it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.blob.aio import BlobClient

from bot.adapters.azure_storage.blob import AzureBlobStore, blob_names, read_json
from bot.adapters.azure_storage.broadcast import AzureBroadcastStore
from bot.adapters.azure_storage.state import AzureBlobConversationReferences
from bot.core.broadcast import RecipientState
from bot.core.rate_limit import RateLimiter
from bot.core.records import Job
from bot.ports import StorageUnavailableError
from bot.workers.broadcast import BroadcastWorker
from bot.workers.pacing import Pacer
from tests.azure_storage.test_queue_work import Queues, _references, jobs_store, queues
from tests.fakes.teams_connector import FakeSender, FakeTeamsConnector

__all__ = ["queues"]  # the fixture, shared with test_queue_work

SENT = RecipientState.SENT


class ShardWrites:
    """Counts the writes of recipient shards that reach Azurite; `hold` keeps the next one
    waiting until `release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.held = asyncio.Event()
        self.gate: asyncio.Event | None = None
        real = BlobClient.upload_blob

        async def upload(client: BlobClient, *args: Any, **kwargs: Any) -> Any:
            if "/shard-" in client.blob_name:
                self.count += 1
                gate, self.gate = self.gate, None
                if gate is not None:
                    self.held.set()
                    await gate.wait()
            return await real(client, *args, **kwargs)

        monkeypatch.setattr(BlobClient, "upload_blob", upload)

    def hold(self) -> asyncio.Event:
        self.gate = asyncio.Event()
        return self.gate


class Watched:
    """A `ProactiveSender` that calls `after_send` after each tip its inner sender sent."""

    def __init__(self, inner: FakeSender) -> None:
        self.inner = inner
        self.after_send: Callable[[Mapping[str, Any], Mapping[str, Any]], None] = lambda r, c: None

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        await self.inner.send(reference, card)
        self.after_send(reference, card)

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        await self.inner.update(
            service_url=service_url,
            conversation_id=conversation_id,
            activity_id=activity_id,
            card=card,
        )


async def _queued(store: AzureBroadcastStore, recipients: list[tuple[str, str]]) -> Job:
    """A job for `recipients`, due now and runnable."""
    await store.create_job(
        created_by="aad-champion",
        due=datetime.now(UTC),
        cards={"nb": {"type": "AdaptiveCard", "body": []}},
        recipients=recipients,
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    [job] = await store.runnable(9e9)
    return job


async def _running(store: AzureBroadcastStore, recipients: list[tuple[str, str]]) -> Job:
    job = await _queued(store, recipients)
    await store.start(job.id, time.time())
    return job


async def _stored_states(blob: AzureBlobStore, job_id: str) -> dict[str, str]:
    states: dict[str, str] = {}
    for name in await blob_names(blob.container, f"broadcasts/{job_id}/shard-"):
        found = await read_json(blob.container, name)
        assert found is not None
        states.update({cid: str(entry[1]) for cid, entry in found[0].items()})
    return states


async def test_results_recorded_together_are_one_write_per_shard(
    blob_store: AzureBlobStore, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = jobs_store(blob_store, queues)  # 7 recipients a shard
    recipients = await _references(blob_store, 20)  # 3 shards
    job = await _running(store, recipients)
    writes = ShardWrites(monkeypatch)

    await store.record(job.id, [(cid, SENT, 1, 0.0, 201) for cid, _ in recipients[:14]])
    assert writes.count == 2, "14 results in the first two shards: two writes, not 14"
    await store.record(job.id, [(cid, SENT, 1, 0.0, 201) for cid, _ in recipients[14:]])
    assert writes.count == 3
    assert Counter((await _stored_states(blob_store, job.id)).values()) == {"sent": 20}
    await store.close()


async def test_results_that_come_back_while_a_shard_is_written_go_out_in_one_write(
    blob_store: AzureBlobStore, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AzureBroadcastStore(
        blob_store.container,
        queues["broadcasts"],
        queues["broadcasts-poison"],
        AzureBlobConversationReferences(blob_store),
        shard_size=500,
    )
    recipients = await _references(blob_store, 16)
    job = await _queued(store, recipients)
    fake = FakeTeamsConnector(enforce_limits=False)
    sender = Watched(fake.sender())
    worker = BroadcastWorker(
        store=store,
        references=AzureBlobConversationReferences(blob_store),
        sender=sender,
        pacer=Pacer(RateLimiter(), clock=time.monotonic),
        progress_card=lambda job, progress, now: {},
        clock=time.time,
        concurrency=16,
    )
    writes = ShardWrites(monkeypatch)
    gate = writes.hold()  # the first write of the shard waits until every tip has gone out
    all_sent = asyncio.Event()

    def count(reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        if len(fake.deliveries) == 16:
            all_sent.set()

    sender.after_send = count

    async def release_when_all_sent() -> None:
        await writes.held.wait()
        await all_sent.wait()
        gate.set()

    releaser = asyncio.create_task(release_when_all_sent())
    progress = await worker.run_job(job)
    await releaser
    assert progress.sent == 16
    assert writes.count <= 2, "the results that came back during the first write: one write"
    assert Counter((await _stored_states(blob_store, job.id)).values()) == {"sent": 16}
    await store.close()


async def test_an_erasure_during_a_running_job_is_kept_and_its_results_still_counted(
    blob_store: AzureBlobStore, other_instance: AzureBlobStore, queues: Queues
) -> None:
    runner = jobs_store(blob_store, queues)
    eraser = jobs_store(other_instance, queues)
    recipients = await _references(blob_store, 7)  # one shard
    job = await _running(runner, recipients)
    pending = await runner.pending(job.id, 9e9, 100)
    assert len(pending) == 7
    await runner.record(job.id, [("a:person-0", SENT, 1, 0.0, 201)])

    # person 1's tip is on its way when persons 1 and 2 erase their data on the other instance
    assert await eraser.forget_recipients({"a:person-1", "a:person-2"}) == 2
    await runner.record(
        job.id, [("a:person-1", SENT, 1, 0.0, 201), ("a:person-3", SENT, 1, 0.0, 201)]
    )

    stored = await _stored_states(blob_store, job.id)
    assert not {"a:person-1", "a:person-2"} & set(stored), "the erasure was not written over"
    assert Counter(stored.values()) == {"sent": 3, "pending": 4}, "every result is stored"
    left = [p.conversation_id for p in await runner.pending(job.id, 9e9, 100)]
    assert sorted(left) == ["a:person-4", "a:person-5", "a:person-6"], "no tip to person 2"
    progress = await runner.progress(job.id, 9e9)
    assert (progress.total, progress.sent) == (7, 3)
    await runner.close()
    await eraser.close()


async def test_results_a_failed_write_left_unwritten_go_out_with_the_next_write(
    blob_store: AzureBlobStore, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = jobs_store(blob_store, queues)
    recipients = await _references(blob_store, 14)  # two shards: persons 0-6 and 7-13
    job = await _running(store, recipients)
    real = BlobClient.upload_blob
    failures = [ServiceRequestError("Azure Storage is unreachable")]

    async def once_unreachable(client: BlobClient, *args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real(client, *args, **kwargs)

    monkeypatch.setattr(BlobClient, "upload_blob", once_unreachable)
    with pytest.raises(StorageUnavailableError):
        await store.record(job.id, [("a:person-0", SENT, 1, 0.0, 201)])
    assert Counter((await _stored_states(blob_store, job.id)).values()) == {"pending": 14}

    await store.record(job.id, [("a:person-7", SENT, 1, 0.0, 201)])  # the other shard
    stored = await _stored_states(blob_store, job.id)
    assert (stored["a:person-0"], stored["a:person-7"]) == ("sent", "sent")
    assert Counter(stored.values()) == {"sent": 2, "pending": 12}
    await store.close()

"""Champions' broadcasts on Azure Storage (implements bot.ports.BroadcastJobStore), for several
instances.

A job blob, its recipients in shard blobs (a state per recipient), and one queue message per job.
The instance that receives the job message keeps it hidden (renewing the visibility in the
background) while it works and deletes it when the job is done; if it dies, the message reappears
after the visibility timeout and another instance resumes with everyone still pending. A scheduled
job's message is hidden until it is due. A job message received more often than `poison_after`
times (each crash while holding it counts once) goes to the `-poison` queue and the job stops.

The instance running a job keeps its shards in memory and writes a shard back only with the ETag
it last read or wrote (`_write_shard`), all results recorded since its last write in one write:
the writes per second are bounded by the shards being worked on, not by the messages sent (about
one write per shard per write's round trip). Somebody else's write in between (an erasure) is
merged, never overwritten: their entries stay, ours are applied on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, ContainerClient
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from bot.adapters.azure_storage.blob import (
    JSON_CONTENT,
    blob_names,
    create_json,
    dump_json,
    gather_bounded,
    read_json,
    replace_json,
)
from bot.adapters.azure_storage.queues import delete_message, hide, receive, send
from bot.core.broadcast import Progress, RecipientState
from bot.core.records import JOB_LISTING, Job, PendingRecipient, StoredReference
from bot.logs import get_logger
from bot.ports import ConversationReferenceStore, StorageUnavailableError

_log = get_logger("azure_broadcast")
BROADCASTS = "broadcasts/"
SHARD_SIZE = 500
AHEAD_READS = 4
"""References read at once while the current recipients are sent: few, so the reads spread over
the batch instead of holding up the sends in one burst."""


class LeaseLostError(Exception):
    """Another instance took over this job (this one stalled past the visibility timeout)."""


@dataclass
class _Running:
    job_id: str
    message: QueueMessage
    shards: dict[str, tuple[dict[str, list[Any]], str]]  # shard name → (recipients, etag)
    # shard name → the conversations whose entries changed since that shard was last written
    dirty: dict[str, set[str]] = field(default_factory=dict)
    clients: dict[str, BlobClient] = field(default_factory=dict)  # one per shard, made once
    # the references handed out by the last `pending` (those still in flight come back next time)
    known: dict[str, StoredReference | None] = field(default_factory=dict)
    # built once when the job starts, kept up to date per result (O(1) each):
    where: dict[str, str] = field(default_factory=dict)  # conversation → shard name
    waiting: dict[str, None] = field(default_factory=dict)  # conversations still pending
    counts: dict[str, int] = field(default_factory=dict)  # state → recipients
    # references of the next recipients, read while the current ones are being sent
    ahead: asyncio.Task[dict[str, StoredReference | None]] | None = None
    renewer: asyncio.Task[None] | None = None
    lost: bool = False
    # while a JOB_LISTING job is being listed: the conversations in its shards, and how many
    # shards there are (read from the blobs the first time, so a take-over adds nobody twice)
    listing: tuple[set[str], int] | None = None


def _job_document(job: Job, shard_count: int) -> dict[str, Any]:
    return {**asdict(job), "cards": dict(job.cards), "shards": shard_count}


def _job(data: Mapping[str, Any]) -> Job:
    return Job(
        id=str(data["id"]),
        created_by=str(data["created_by"]),
        due=float(data["due"]),
        state=str(data["state"]),
        cards=dict(data["cards"]),
        progress_service_url=str(data.get("progress_service_url", "")),
        progress_conversation=str(data.get("progress_conversation", "")),
        progress_activity=str(data.get("progress_activity", "")),
        progress_language=str(data.get("progress_language", "nb")),
        started_at=None if data.get("started_at") is None else float(data["started_at"]),
        finished_at=None if data.get("finished_at") is None else float(data["finished_at"]),
    )


class AzureBroadcastStore:
    """Implements bot.ports.BroadcastJobStore on blobs (job, recipient shards) and a job queue.

    A recipient's entry in its shard: [language, state, attempts, next attempt, last status]."""

    def __init__(
        self,
        container: ContainerClient,
        queue: QueueClient,
        poison: QueueClient,
        references: ConversationReferenceStore,
        *,
        lease_seconds: int = 60,
        poison_after: int = 10,
        clock: Callable[[], float] = time.time,
        shard_size: int = SHARD_SIZE,
    ) -> None:
        self._container = container
        self._queue = queue
        self._poison = poison
        self._references = references
        self._lease = lease_seconds
        self._poison_after = poison_after
        self._clock = clock
        self._shard_size = shard_size
        self._running: _Running | None = None
        self._flushing = asyncio.Lock()
        self.shard_writes = 0
        """Shard writes sent to Azure Storage by this instance (for the benchmark's figures)."""

    @staticmethod
    def _job_name(job_id: str) -> str:
        return f"{BROADCASTS}{job_id}/job.json"

    @staticmethod
    def _shard_name(job_id: str, index: int) -> str:
        return f"{BROADCASTS}{job_id}/shard-{index:05d}.json"

    async def create_job(
        self,
        *,
        created_by: str,
        due: datetime,
        cards: Mapping[str, Any],
        recipients: Sequence[tuple[str, str]] = (),
        subscribers: bool = False,
        progress_service_url: str,
        progress_conversation: str,
        progress_activity: str,
        progress_language: str,
    ) -> Progress:
        """A job for the subscribers is its job blob and queue message now, no shards: the
        worker lists them when it is due."""
        job = Job(
            id=uuid.uuid4().hex,
            created_by=created_by,
            due=due.timestamp(),
            state=JOB_LISTING if subscribers else "scheduled",
            cards=cards,
            progress_service_url=progress_service_url,
            progress_conversation=progress_conversation,
            progress_activity=progress_activity,
            progress_language=progress_language,
            started_at=None,
            finished_at=None,
        )
        first: dict[str, str] = {}
        for cid, language in () if subscribers else recipients:  # the first language counts
            first.setdefault(cid, language)
        unique = list(first.items())
        shards = [unique[i : i + self._shard_size] for i in range(0, len(unique), self._shard_size)]
        writes = [
            create_json(
                self._container,
                self._shard_name(job.id, index),
                {
                    cid: [language, RecipientState.PENDING.value, 0, 0.0, 0]
                    for cid, language in part
                },
            )
            for index, part in enumerate(shards)
        ]
        await gather_bounded(writes)
        await create_json(self._container, self._job_name(job.id), _job_document(job, len(shards)))
        await send(self._queue, job.id, hidden_for=job.due - self._clock())
        return Progress(
            total=len(unique), sent=0, failed=0, blocked=0, not_found=0, elapsed_seconds=0.0
        )

    async def runnable(self, now: float) -> list[Job]:
        running = self._running
        if running is not None and not running.lost:
            # the worker stopped mid-job (the store failed for a moment): resume it
            found = await read_json(self._container, self._job_name(running.job_id))
            if found is not None:
                return [_job(found[0])]
        self._running = None
        for message in await receive(self._queue, 1, self._lease):
            job_id = str(message.content)
            found = await read_json(self._container, self._job_name(job_id))
            if found is None or found[0].get("state") == "done":
                if found is not None or (message.dequeue_count or 0) >= 3:
                    await self._delete(message)
                continue
            job = _job(found[0])
            if job.due > now + 1:  # scheduled further out than a queue can hide a message
                await hide(self._queue, message, job.due - now)
                continue
            if (message.dequeue_count or 0) > self._poison_after:
                await send(self._poison, job_id)
                await self._delete(message)
                await self._set_job(job_id, state="done", finished_at=now, poisoned=True)
                _log.warning("broadcast_poison", extra={"fields": {"job": job_id}})
                continue
            self._running = _Running(job_id=job_id, message=message, shards={})
            return [job]
        return []

    async def start(self, job_id: str, now: float) -> None:
        running = self._current(job_id)
        found = await read_json(self._container, self._job_name(job_id))
        count = int(found[0].get("shards", 0)) if found is not None else 0
        names = [self._shard_name(job_id, index) for index in range(count)]
        loaded = await gather_bounded(read_json(self._container, name) for name in names)
        running.shards = {
            name: (item[0], item[1]) for name, item in zip(names, loaded, strict=True) if item
        }
        running.where, running.waiting, running.counts = {}, {}, {}
        for name, (recipients, _) in running.shards.items():
            for cid, entry in recipients.items():
                running.where[cid] = name
                state = str(entry[1])
                running.counts[state] = running.counts.get(state, 0) + 1
                if state == RecipientState.PENDING.value:
                    running.waiting[cid] = None
        if found is not None and found[0].get("started_at") is None:
            await self._set_job(job_id, state="running", started_at=now)
        self._hold(running)

    def _hold(self, running: _Running) -> None:
        """Keep the job's message hidden from other instances while this one works on it."""
        if running.renewer is None:
            running.renewer = asyncio.create_task(self._renew(running), name="kivett-job-lease")

    async def add_recipients(self, job_id: str, recipients: Sequence[tuple[str, str]]) -> int:
        """New shards with the conversations the job does not list yet (O(chunk) per call: the
        set of those listed is read from the shards once, when this instance starts listing)."""
        running = self._current(job_id)
        self._hold(running)
        if running.listing is None:
            found = await read_json(self._container, self._job_name(job_id))
            if found is None or found[0].get("state") != JOB_LISTING:
                return 0  # listed already (or gone): its recipients are fixed
            names = await blob_names(self._container, f"{BROADCASTS}{job_id}/shard-")
            loaded = await gather_bounded(read_json(self._container, name) for name in names)
            seen: set[str] = set()
            for item in loaded:
                if item is not None:
                    seen.update(item[0])
            running.listing = (seen, len(names))
        seen, count = running.listing
        new: dict[str, list[Any]] = {}
        for cid, language in recipients:
            if cid not in seen and cid not in new:
                new[cid] = [language, RecipientState.PENDING.value, 0, 0.0, 0]
        entries = list(new.items())
        for start in range(0, len(entries), self._shard_size):
            part = dict(entries[start : start + self._shard_size])
            while not await create_json(self._container, self._shard_name(job_id, count), part):
                count += 1  # never overwrite a shard: a name taken is skipped
            count += 1
            seen.update(part)
            running.listing = (seen, count)
        return len(new)

    async def listed(self, job_id: str) -> None:
        running = self._current(job_id)
        found = await read_json(self._container, self._job_name(job_id))
        if found is None or found[0].get("state") != JOB_LISTING:
            return
        if running.listing is None:
            names = await blob_names(self._container, f"{BROADCASTS}{job_id}/shard-")
            count = len(names)
        else:
            count = running.listing[1]
        await self._set_job(job_id, state="scheduled", shards=count)
        running.listing = None

    async def _renew(self, running: _Running) -> None:
        while True:
            await asyncio.sleep(max(1.0, self._lease / 3))
            try:
                renewed = await hide(self._queue, running.message, self._lease)
            except StorageUnavailableError:
                _log.warning("broadcast_lease_renewal_failed", extra={"fields": {}})
                continue
            if renewed is None:  # the message is gone: another instance has the job now
                running.lost = True
                _log.warning("broadcast_lease_lost", extra={"fields": {"job": running.job_id}})
                return
            running.message = renewed

    def _current(self, job_id: str) -> _Running:
        running = self._running
        if running is None or running.job_id != job_id:
            raise LeaseLostError(job_id)
        if running.lost:
            self._running = None
            raise LeaseLostError(job_id)
        return running

    async def pending(self, job_id: str, now: float, limit: int) -> list[PendingRecipient]:
        running = self._current(job_id)
        chosen: list[tuple[str, str, int]] = []
        for cid in running.waiting:
            entry = running.shards[running.where[cid]][0][cid]
            if float(entry[3]) <= now:
                chosen.append((cid, str(entry[0]), int(entry[2])))
                if len(chosen) >= limit:
                    break
        ahead = await self._take_ahead(running)
        known = running.known
        for cid, _, _ in chosen:
            if cid not in ahead and cid in known:
                ahead[cid] = known[cid]  # handed out last time, still unanswered then
        missing = [cid for cid, _, _ in chosen if cid not in ahead]
        found = await gather_bounded(self._references.get(cid) for cid in missing)
        ahead.update(zip(missing, found, strict=True))
        running.known = {cid: ahead[cid] for cid, _, _ in chosen}
        picked = {cid for cid, _, _ in chosen}
        following = [
            cid for cid in itertools.islice(running.waiting, 2 * limit) if cid not in picked
        ]
        running.ahead = asyncio.create_task(self._read_references(following[:limit]))
        return [
            PendingRecipient(
                conversation_id=cid,
                language=language,
                attempts=attempts,
                reference=None if ahead[cid] is None else ahead[cid].reference,  # type: ignore[union-attr]
            )
            for cid, language, attempts in chosen
        ]

    async def _read_references(self, cids: list[str]) -> dict[str, StoredReference | None]:
        """`AHEAD_READS` readers take the next conversation in turn (a read is only begun when
        a reader is free, so cancelling this leaves no read unstarted behind)."""
        found: dict[str, StoredReference | None] = {}
        todo = iter(cids)

        async def reader() -> None:
            for cid in todo:
                found[cid] = await self._references.get(cid)

        await asyncio.gather(*(reader() for _ in range(AHEAD_READS)))
        return {cid: found[cid] for cid in cids}

    @staticmethod
    async def _take_ahead(running: _Running) -> dict[str, StoredReference | None]:
        """The references read ahead by the previous call (empty if none or if that failed)."""
        task, running.ahead = running.ahead, None
        if task is None:
            return {}
        try:
            return dict(await task)
        except StorageUnavailableError:
            return {}

    async def next_retry(self, job_id: str) -> float | None:
        running = self._current(job_id)
        times = [float(running.shards[running.where[cid]][0][cid][3]) for cid in running.waiting]
        return min(times) if times else None

    async def record(
        self, job_id: str, results: Sequence[tuple[str, RecipientState, int, float, int]]
    ) -> None:
        running = self._current(job_id)
        counts = running.counts
        for cid, state, attempts, at, status in results:
            name = running.where.get(cid)
            if name is None:
                continue
            entry = running.shards[name][0][cid]
            before = str(entry[1])
            entry[1:] = [state.value, attempts, at, status]
            counts[before] = counts.get(before, 0) - 1
            counts[state.value] = counts.get(state.value, 0) + 1
            if state is RecipientState.PENDING:
                running.waiting.pop(cid, None)
                running.waiting[cid] = None  # tried again after the others
            else:
                running.waiting.pop(cid, None)
            running.dirty.setdefault(name, set()).add(cid)
        await self._flush(running)

    async def _flush(self, running: _Running) -> None:
        """Write every shard with unwritten results, each once, at the same time; returns when
        they are all written (a result counts as recorded only then). A failed write keeps its
        results unwritten for the next flush."""
        async with self._flushing:
            dirty, running.dirty = running.dirty, {}
            try:
                await asyncio.gather(
                    *(self._write_shard(running, name, changed) for name, changed in dirty.items())
                )
            except BaseException:
                for name, changed in dirty.items():
                    if name in running.shards:
                        running.dirty.setdefault(name, set()).update(changed)
                raise

    async def _write_shard(self, running: _Running, name: str, changed: set[str]) -> None:
        """Write the shard as this instance has it, if nobody else wrote it since this instance
        last read or wrote it; else read theirs, apply our changed entries to it and try again."""
        for _ in range(10):
            recipients, etag = running.shards[name]
            written = await self._upload(running, name, recipients, etag)
            if written is not None:
                running.shards[name] = (recipients, written)
                return
            found = await read_json(self._container, name)
            if found is None:
                return  # the job's blobs are gone: nothing left to record
            self._merge(running, name, found, changed)
        raise StorageUnavailableError("recipient shard: too many concurrent writers")

    async def _upload(
        self, running: _Running, name: str, recipients: dict[str, list[Any]], etag: str
    ) -> str | None:
        """Overwrite the shard if it is still the version `etag`: its new ETag, or None if it
        changed (or is gone)."""
        client = running.clients.get(name)
        if client is None:
            client = running.clients[name] = self._container.get_blob_client(name)
        self.shard_writes += 1
        try:
            answer = await client.upload_blob(
                dump_json(recipients),
                overwrite=True,
                content_settings=JSON_CONTENT,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except AzureError as exc:
            if isinstance(
                exc, ResourceModifiedError | ResourceNotFoundError | ResourceExistsError
            ) or getattr(exc, "status_code", None) in (404, 409, 412):
                return None
            raise StorageUnavailableError(
                f"Azure Storage could not write a '{BROADCASTS.rstrip('/')}' blob"
            ) from exc
        return str(answer["etag"])

    @staticmethod
    def _merge(
        running: _Running,
        name: str,
        found: tuple[dict[str, list[Any]], str],
        changed: set[str],
    ) -> None:
        """Somebody else wrote the shard: theirs becomes ours, with our unwritten entries on top.
        An entry they renamed (an erased conversation) leaves this job; an unwritten result of
        one goes to one of the renamed pending entries (which one does not matter: they name
        nobody), so the job's counts stay right."""
        theirs, etag = found
        mine = running.shards[name][0]
        pending = RecipientState.PENDING.value
        # a result is only ever recorded for a recipient stored as pending: pair with one of those
        renamed = iter(
            [cid for cid, entry in theirs.items() if cid not in mine and entry[1] == pending]
        )
        for cid, entry in mine.items():
            if cid in theirs and cid in changed:
                theirs[cid] = entry
                continue
            stored = theirs.get(cid)
            if stored is None:  # erased meanwhile
                running.where.pop(cid, None)
                running.waiting.pop(cid, None)
                if cid in changed:
                    other = next(renamed, None)
                    if other is not None:
                        theirs[other] = entry
                continue
            before, after = str(entry[1]), str(stored[1])
            if before != after:  # written by another instance (this one lost the job)
                running.counts[before] = running.counts.get(before, 0) - 1
                running.counts[after] = running.counts.get(after, 0) + 1
                if after == pending:
                    running.waiting[cid] = None
                else:
                    running.waiting.pop(cid, None)
        changed.intersection_update(theirs)
        running.shards[name] = (theirs, etag)

    async def finish(self, job_id: str, now: float) -> None:
        running = self._current(job_id)
        if running.ahead is not None:
            running.ahead.cancel()
        await self._flush(running)
        await self._set_job(job_id, state="done", finished_at=now)
        if running.renewer is not None:
            running.renewer.cancel()
        await self._delete(running.message)
        self._running = None

    async def progress(self, job_id: str, now: float) -> Progress:
        running = self._running
        if running is not None and running.job_id == job_id and running.shards:
            counts = dict(running.counts)  # kept per result: no pass over every recipient
        else:
            names = await blob_names(self._container, f"{BROADCASTS}{job_id}/shard-")
            loaded = await gather_bounded(read_json(self._container, name) for name in names)
            counts = {}
            for item in loaded:
                for entry in item[0].values() if item is not None else ():
                    counts[str(entry[1])] = counts.get(str(entry[1]), 0) + 1
        found = await read_json(self._container, self._job_name(job_id))
        started = found[0].get("started_at") if found is not None else None
        return Progress(
            total=sum(counts.values()),
            sent=counts.get(RecipientState.SENT.value, 0),
            failed=counts.get(RecipientState.FAILED.value, 0),
            blocked=counts.get(RecipientState.BLOCKED.value, 0),
            not_found=counts.get(RecipientState.NOT_FOUND.value, 0),
            elapsed_seconds=0.0 if started is None else max(0.0, now - float(started)),
        )

    async def created_by(self, user_key: str) -> list[Job]:
        """The jobs this person created (that still carry their id), oldest due first."""
        names = [
            name
            for name in await blob_names(self._container, BROADCASTS)
            if name.endswith("/job.json")
        ]
        found = await gather_bounded(read_json(self._container, name) for name in names)
        jobs = [_job(item[0]) for item in found if item is not None]
        mine = [job for job in jobs if job.created_by == user_key]
        return sorted(mine, key=lambda job: (job.due, job.id))

    async def remove_creator(self, user_key: str) -> int:
        """Remove this person from every job they created, and the progress card in their chat
        (it stops being updated); returns how many."""
        jobs = await self.created_by(user_key)
        for job in jobs:
            await self._set_job(
                job.id,
                created_by="",
                progress_conversation="",
                progress_activity="",
                progress_service_url="",
            )
        return len(jobs)

    async def forget_recipients(self, conversation_ids: set[str]) -> int:
        """Give these conversations, wherever a job lists them, an id that names no one; the
        jobs' counts stay (one still waiting is then "not found"). Returns how many entries.
        A job running on another instance at this moment finds the shard changed when it next
        writes it, and takes the erasure over (`_merge`): the person is not sent to again."""
        if not conversation_ids:
            return 0
        names = [n for n in await blob_names(self._container, BROADCASTS) if "/shard-" in n]
        changed = 0
        for name in names:
            for _ in range(10):
                found = await read_json(self._container, name)
                if found is None:
                    break
                recipients, etag = found
                hits = [cid for cid in recipients if cid in conversation_ids]
                if not hits:
                    break
                for cid in hits:
                    recipients[f"erased:{uuid.uuid4().hex}"] = recipients.pop(cid)
                if await replace_json(self._container, name, recipients, etag=etag):
                    changed += len(hits)
                    break
            else:
                raise StorageUnavailableError("recipient shard: too many concurrent writers")
        return changed

    async def _set_job(self, job_id: str, **changes: Any) -> None:
        for _ in range(10):
            found = await read_json(self._container, self._job_name(job_id))
            if found is None:
                return
            data, etag = found
            data.update(changes)
            if await replace_json(self._container, self._job_name(job_id), data, etag=etag):
                return
        raise StorageUnavailableError("job document: too many concurrent writers")

    async def _delete(self, message: QueueMessage) -> None:
        await delete_message(self._queue, message)

    async def close(self) -> None:
        running, self._running = self._running, None
        if running is not None and running.ahead is not None:
            running.ahead.cancel()
        if running is not None and running.renewer is not None:
            running.renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.renewer

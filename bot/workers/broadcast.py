"""The broadcast engine: sends a stored job to every recipient within Teams' limits.

Each recipient has a stored state (pending, sent, failed, blocked, not found). The worker takes
pending recipients in batches, waits for the rate limiter (50 per second per tenant, and the
per-conversation windows), keeps a bounded number of sends in flight, and records each result as it
comes back. 429 pauses the whole tenant for Retry-After; 412/502/503/504 and network failures are
retried with exponential backoff and jitter up to a bound; 403 MessageWritesBlocked marks the
recipient blocked and drops their conversation reference; 404 marks them not found.

The limiter counts each message from the moment it starts until its answer is back and then for the
windows' length (`Pacer.begin` / `Pacer.end`), so the champion's progress card, updated on a time
interval and counted in the same budget, and any delay on the way cannot push Teams past a limit.
Progress is counted here as results are recorded (one count from the store when the job starts and
one when it ends), not by counting all recipients again for every update.

A job for the lesson subscribers is stored by the champion's turn without recipients (state
`JOB_LISTING`): the worker lists them here when the job is due, `LIST_CHUNK` per store call, and
only then starts sending. Listing again after a crash adds nobody twice (the store keys recipients
by job and conversation), and nothing was sent before the list was complete.

Crash safety: state is written per result, so after a kill a restart resumes with everyone still
pending. The only possible duplicate is a message that was in flight at the moment of the kill
(sent, but its result not yet written): at most `concurrency` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.core.broadcast import Decision, Progress, RecipientState, after_attempt
from bot.core.records import JOB_LISTING, Job, PendingRecipient
from bot.logs import get_logger
from bot.ports import BroadcastJobStore, ConversationReferenceStore, DeliveryError, ProactiveSender
from bot.workers.pacing import DEFAULT_TENANT, Pacer, tenant_of

_log = get_logger("broadcast")

BATCH = 200
LIST_CHUNK = 500
"""Recipients a `JOB_LISTING` job is given per store call (one SQLite transaction, one shard)."""

ProgressCard = Callable[[Job, Progress, float], Mapping[str, Any]]
Result = tuple[str, RecipientState, int, float, int]
Subscribers = Callable[[], Awaitable[Sequence[tuple[str, str]]]]


class BroadcastWorker:
    def __init__(
        self,
        *,
        store: BroadcastJobStore,
        references: ConversationReferenceStore,
        sender: ProactiveSender,
        pacer: Pacer,
        progress_card: ProgressCard,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        concurrency: int = 16,
        progress_every_seconds: float = 2.0,
        rng: random.Random | None = None,
        subscribers: Subscribers | None = None,
        list_chunk: int = LIST_CHUNK,
    ) -> None:
        """`subscribers`: (conversation id, language) of every lesson subscriber (the lesson
        store's `subscribers`), for jobs addressed to them."""
        self._store = store
        self._subscribers = subscribers
        self._list_chunk = list_chunk
        self._references = references
        self._sender = sender
        self._pacer = pacer
        self._progress_card = progress_card
        self._clock = clock
        self._sleep = sleep
        self._concurrency = concurrency
        self._progress_every = progress_every_seconds
        self._counts: dict[RecipientState, int] = {}
        self._total = 0
        self._started = 0.0
        self._rng = rng or random.SystemRandom()
        self._sending: set[str] = set()
        self._done: list[asyncio.Task[Result]] = []
        self._have_results = asyncio.Event()
        self._recorded = asyncio.Event()
        self._last_tenant = DEFAULT_TENANT

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                for job in await self._store.runnable(self._clock()):
                    await self.run_job(job)
            except Exception:
                _log.exception("broadcast_round_failed")
            await self._sleep(interval_seconds)

    async def run_job(self, job: Job) -> Progress:
        if job.state == JOB_LISTING:
            await self._list_subscribers(job)
        await self._store.start(job.id, self._clock())
        first = await self._store.progress(job.id, self._clock())
        self._start_counting(first)
        last_report = 0.0
        self._sending.clear()
        self._done.clear()
        self._have_results.clear()
        recorder = asyncio.create_task(self._record_results(job), name="kivett-broadcast-record")
        try:
            while True:
                # a recipient stays in `_sending` until its result is written: never picked twice.
                # Results are written while `pending` reads, so what it returns can predate a
                # write: anyone in `_sending` when the read began is left out too.
                before = set(self._sending)
                batch = [
                    r
                    for r in await self._store.pending(
                        job.id, self._clock(), BATCH + self._concurrency
                    )
                    if r.conversation_id not in self._sending and r.conversation_id not in before
                ][:BATCH]
                if not batch and not self._sending:
                    retry_at = await self._store.next_retry(job.id)
                    if retry_at is None:
                        break
                    await self._sleep(max(0.05, retry_at - self._clock()))
                    continue
                for recipient in batch:
                    while len(self._sending) >= self._concurrency:
                        await self._room(recorder)
                    if recipient.reference is not None:
                        tenant = tenant_of(recipient.reference)
                        self._last_tenant = tenant
                        await self._pacer.begin(tenant, recipient.conversation_id)
                    self._sending.add(recipient.conversation_id)
                    task = asyncio.create_task(self._send(job, recipient))
                    task.add_done_callback(self._finished)
                if not batch:
                    await self._room(recorder)
                if self._clock() - last_report >= self._progress_every:
                    last_report = self._clock()
                    await self._report(job)
        finally:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder
        await self._store.finish(job.id, self._clock())
        self._start_counting(await self._store.progress(job.id, self._clock()))
        progress = await self._report(job)
        _log.info(
            "broadcast_finished",
            extra={
                "fields": {
                    "job": job.id,
                    "sent": progress.sent,
                    "failed": progress.failed,
                    "blocked": progress.blocked,
                    "not_found": progress.not_found,
                }
            },
        )
        return progress

    async def _list_subscribers(self, job: Job) -> None:
        """Give the job its recipients: every subscriber now, in chunks, so the store's other
        work (people's turns) goes on between them."""
        if self._subscribers is None:
            raise RuntimeError("a job for the subscribers, but this worker has no list of them")
        everyone = await self._subscribers()
        added = 0
        for start in range(0, len(everyone), self._list_chunk):
            added += await self._store.add_recipients(
                job.id, everyone[start : start + self._list_chunk]
            )
            await asyncio.sleep(0)
        await self._store.listed(job.id)
        _log.info("broadcast_listed", extra={"fields": {"job": job.id, "added": added}})

    def _finished(self, task: asyncio.Task[Result]) -> None:
        self._done.append(task)
        self._have_results.set()

    async def _room(self, recorder: asyncio.Task[None]) -> None:
        """Wait until a result has been written (or the recorder failed: raise its error)."""
        self._recorded.clear()
        waiter = asyncio.ensure_future(self._recorded.wait())
        await asyncio.wait({waiter, recorder}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if recorder.done():
            recorder.result()
            raise RuntimeError("the broadcast recorder stopped")

    async def _record_results(self, job: Job) -> None:
        """Writes results as they come back, many at a time, while the sending goes on: a slow
        write (a blob on Azure) does not hold up the next send. A recipient counts against the
        concurrency until its result is written, so a crash still repeats at most `concurrency`
        messages."""
        while True:
            await self._have_results.wait()
            self._have_results.clear()
            done, self._done = self._done, []
            if not done:
                continue
            results = [task.result() for task in done]
            await self._store.record(job.id, results)
            self._sending.difference_update(result[0] for result in results)
            for result in results:
                if result[1] is not RecipientState.PENDING:
                    self._counts[result[1]] = self._counts.get(result[1], 0) + 1
            self._recorded.set()

    def _start_counting(self, progress: Progress) -> None:
        self._total = progress.total
        self._started = self._clock() - progress.elapsed_seconds
        self._counts = {
            RecipientState.SENT: progress.sent,
            RecipientState.FAILED: progress.failed,
            RecipientState.BLOCKED: progress.blocked,
            RecipientState.NOT_FOUND: progress.not_found,
        }

    def _progress(self) -> Progress:
        return Progress(
            total=self._total,
            sent=self._counts.get(RecipientState.SENT, 0),
            failed=self._counts.get(RecipientState.FAILED, 0),
            blocked=self._counts.get(RecipientState.BLOCKED, 0),
            not_found=self._counts.get(RecipientState.NOT_FOUND, 0),
            elapsed_seconds=max(0.0, self._clock() - self._started),
        )

    async def _send(self, job: Job, recipient: PendingRecipient) -> Result:
        attempts = recipient.attempts + 1
        reference = recipient.reference
        if reference is None:
            return recipient.conversation_id, RecipientState.NOT_FOUND, attempts, 0.0, 404
        card = job.cards.get(recipient.language) or next(iter(job.cards.values()))
        status, code, retry_after = 201, "", None
        try:
            await self._sender.send(reference, card)
        except DeliveryError as error:
            status, code, retry_after = error.status, error.code, error.retry_after
        finally:
            self._pacer.end(tenant_of(reference), recipient.conversation_id)
        decision = after_attempt(
            status=status,
            code=code,
            retry_after=retry_after,
            attempts=attempts,
            now=self._clock(),
            jitter=self._rng.random(),
        )
        await self._apply(decision, recipient)
        if decision.state is RecipientState.PENDING and status == 429:
            attempts -= 1  # throttling does not count against the recipient
        return (
            recipient.conversation_id,
            decision.state,
            attempts,
            decision.retry_at or 0.0,
            status,
        )

    async def _apply(self, decision: Decision, recipient: PendingRecipient) -> None:
        if decision.pause_tenant_until is not None:
            self._pacer.pause(tenant_of(recipient.reference), decision.pause_tenant_until)
        if decision.state in (RecipientState.BLOCKED, RecipientState.NOT_FOUND):
            await self._references.remove(recipient.conversation_id)

    async def _report(self, job: Job) -> Progress:
        progress = self._progress()
        if not (job.progress_conversation and job.progress_activity):
            return progress
        card = self._progress_card(job, progress, self._clock())
        # updating the champion's card is a message too: it counts against the same limits
        async with self._pacer.sending(self._last_tenant, job.progress_conversation):
            try:
                await self._sender.update(
                    service_url=job.progress_service_url,
                    conversation_id=job.progress_conversation,
                    activity_id=job.progress_activity,
                    card=card,
                )
            except DeliveryError as error:
                _log.warning("progress_update_failed", extra={"fields": {"status": error.status}})
        return progress

"""Weekly lessons, delivered proactively from stored due times, through the same engine rules as
broadcasts: one tenant budget, a bounded number of sends in flight, Retry-After, blocked users
dropped, and a durable state per recipient that survives a crash.

The per-recipient state is the subscription's stored due time (UTC, so it survives restarts):

1. A due subscription is *claimed* with a compare-and-set that moves its due time to a short lease
   (`LEASE` from now). Two workers, or two processes, never both get the same week.
2. The lesson is sent through the `Pacer` (counted from its start until its answer, like the tips).
3. The answer settles the lease, again by compare-and-set: delivered moves the due time on to the
   next weekly slot; 429 pauses the tenant and brings the lease back after Retry-After; other
   failures worth retrying come back a few minutes later; a user who blocked or removed the bot is
   unsubscribed and their conversation reference dropped.

If the process dies between 1 and 3, the lease simply runs out and the subscription is due again:
the next run (here or in another process) sends it. The only possible duplicate is a lesson that
was in flight at the moment of the kill (sent, its answer not yet recorded), at most `concurrency`.
A subscription that someone changed meanwhile (unsubscribed, a new weekday) fails the final
compare-and-set and keeps what they chose.

A delivery missed while the bot was down is sent once when it is back (the due time is in the
past), then the subscription goes on to its next slot.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.core.language import language_for_locale
from bot.core.records import Subscription
from bot.core.schedule import ScheduleError, WeeklySlot, next_due
from bot.logs import get_logger
from bot.ports import ConversationReferenceStore, DeliveryError, LessonStore, ProactiveSender
from bot.workers.pacing import Pacer, tenant_of
from content import Language

_log = get_logger("lessons")

RETRY_AFTER_FAILURE = timedelta(minutes=5)
MIN_RETRY_AFTER = timedelta(seconds=1)
LEASE = timedelta(minutes=10)
"""How long a claimed lesson stays with the worker that claimed it before another may take it.
Far longer than a claimed lesson waits for its send (a second or two at the ceiling, Retry-After
when Teams asks for a pause)."""
BATCH = 1000
"""Due subscriptions read at a time: on Azure Storage finding them lists every subscription, so
fewer, larger reads keep 100,000 due at once from costing a listing per hundred."""
CONCURRENCY = 16

Outcome = Literal["sent", "kept", "passed"]
"""What became of one due subscription: its lesson sent; not sent but the subscription settled
(put back for later, or dropped); or passed over (not claimed)."""

WeeklyCard = Callable[[Language, frozenset[int]], Mapping[str, Any]]
"""The card a subscriber gets this week, from their language and the lessons they finished."""


class LessonWorker:
    def __init__(
        self,
        *,
        store: LessonStore,
        references: ConversationReferenceStore,
        sender: ProactiveSender,
        pacer: Pacer,
        weekly_card: WeeklyCard,
        clock: Callable[[], datetime],
        concurrency: int = CONCURRENCY,
    ) -> None:
        self._store = store
        self._references = references
        self._sender = sender
        self._pacer = pacer
        self._weekly_card = weekly_card
        self._clock = clock
        self._concurrency = max(1, concurrency)

    async def run_once(self) -> int:
        """Deliver everything due now; return how many lessons were sent.

        Subscriptions are read in batches and handed to at most `concurrency` sends at a time. One
        that the store failed on before its claim is not tried again in this run, so a store that
        keeps failing ends the run instead of spinning (it is due again on the next run); one put
        back by a refusal (Retry-After, a few minutes) is sent in this run once it is due."""
        working: dict[str, asyncio.Task[Outcome]] = {}
        # not claimed (a store error, or the claim lost): may still look due; read past them
        passed: set[str] = set()
        sent = 0

        def done(task: asyncio.Task[Outcome], user_key: str) -> None:
            nonlocal sent
            working.pop(user_key, None)
            if task.cancelled():
                return
            error = task.exception()
            if error is not None:
                # a store failure: the lease (if taken) runs out and the lesson is due again
                passed.add(user_key)
                _log.error("lesson_delivery_failed", exc_info=error)
            elif task.result() == "sent":
                sent += 1
            elif task.result() == "passed":
                passed.add(user_key)

        try:
            while True:
                fetched = await self._store.due(
                    self._clock(), BATCH + len(passed) + self._concurrency
                )
                batch = [s for s in fetched if s.user_key not in working.keys() | passed][:BATCH]
                if not batch:
                    if not working:
                        return sent
                    await asyncio.wait(set(working.values()), return_when=asyncio.FIRST_COMPLETED)
                    continue
                for subscription in batch:
                    while len(working) >= self._concurrency:
                        await asyncio.wait(
                            set(working.values()), return_when=asyncio.FIRST_COMPLETED
                        )
                    task = asyncio.create_task(self._claimed_and_sent(subscription))
                    working[subscription.user_key] = task
                    task.add_done_callback(functools.partial(done, user_key=subscription.user_key))
        finally:
            # stopped from outside (shutdown): what is in flight stops too; its lease runs out
            for task in list(working.values()):
                task.cancel()

    async def _claimed_and_sent(self, subscription: Subscription) -> Outcome:
        now = self._clock()
        try:
            slot = WeeklySlot.parse(str(subscription.weekday), subscription.at, subscription.zone)
        except ScheduleError:
            await self._store.unsubscribe(subscription.user_key)
            return "kept"
        lease = now + LEASE
        if not await self._store.claim(subscription.user_key, subscription.next_due, lease):
            return "passed"  # another worker took this week, or the person changed it
        stored = await self._references.get(subscription.conversation_id)
        if stored is None:
            _log.warning("lesson_undeliverable", extra={"fields": {"reason": "no_reference"}})
            await self._store.unsubscribe(subscription.user_key)
            return "kept"
        completed = await self._store.completed(subscription.user_key)
        card = self._weekly_card(language_for_locale(subscription.language), completed)
        tenant = tenant_of(stored.reference)
        try:
            # counted from the send's start until its answer, like the tips (bot.core.rate_limit)
            async with self._pacer.sending(tenant, subscription.conversation_id):
                await self._sender.send(stored.reference, card)
        except DeliveryError as refusal:
            await self._refused(subscription, lease, tenant, refusal)
            return "kept"
        following = next_due(slot, max(now, subscription.next_due))
        await self._store.claim(subscription.user_key, lease, following)
        _log.info("lesson_delivered", extra={"fields": {"lessons_done": len(completed)}})
        return "sent"

    async def _refused(
        self, subscription: Subscription, lease: datetime, tenant: str, refusal: DeliveryError
    ) -> None:
        if refusal.gone:
            await self._store.unsubscribe(subscription.user_key)
            await self._references.remove(subscription.conversation_id)
            _log.info("lesson_recipient_gone", extra={"fields": {"status": refusal.status}})
            return
        now = self._clock()
        if refusal.status == 429:
            wait = max(timedelta(seconds=refusal.retry_after or 0), MIN_RETRY_AFTER)
            self._pacer.pause(tenant, (now + wait).timestamp())
        else:
            wait = RETRY_AFTER_FAILURE
        await self._store.claim(subscription.user_key, lease, now + wait)
        _log.warning("lesson_delivery_retry", extra={"fields": {"status": refusal.status}})

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                _log.exception("lesson_round_failed")
            await asyncio.sleep(interval_seconds)

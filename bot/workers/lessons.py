"""Weekly lessons, delivered proactively from stored due times.

Every few seconds the worker asks the store which subscriptions are due (due times are stored in
UTC, so this survives restarts). For each it first *claims* the week, moving the due time on to the
next slot with a compare-and-set, and only then sends. A delivery missed while the bot was down is
therefore sent once when it is back, and two workers (or a restart mid-run) never send the same
week twice.

Sends go through the same `Pacer` as broadcasts, so lessons and tips together stay inside Teams'
limits. A 429 pauses the tenant for Retry-After and puts the subscription back until then; other
failures worth retrying put it back a few minutes later (nothing was delivered, so a retry cannot
duplicate). If the user blocked or removed the bot, the subscription and the conversation
reference are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

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
BATCH = 100

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
    ) -> None:
        self._store = store
        self._references = references
        self._sender = sender
        self._pacer = pacer
        self._weekly_card = weekly_card
        self._clock = clock

    async def run_once(self) -> int:
        """Deliver everything due now; return how many lessons were sent."""
        sent = 0
        while True:
            now = self._clock()
            due = await self._store.due(now, BATCH)
            claimed = 0
            for subscription in due:
                try:
                    slot = WeeklySlot.parse(
                        str(subscription.weekday), subscription.at, subscription.zone
                    )
                except ScheduleError:
                    await self._store.unsubscribe(subscription.user_key)
                    continue
                following = next_due(slot, max(now, subscription.next_due))
                if not await self._store.claim(
                    subscription.user_key, subscription.next_due, following
                ):
                    continue  # another worker took this week
                claimed += 1
                if await self._deliver(subscription):
                    sent += 1
            if len(due) < BATCH or claimed == 0:
                return sent

    async def _deliver(self, subscription: Subscription) -> bool:
        stored = await self._references.get(subscription.conversation_id)
        if stored is None:
            _log.warning("lesson_undeliverable", extra={"fields": {"reason": "no_reference"}})
            await self._store.unsubscribe(subscription.user_key)
            return False
        completed = await self._store.completed(subscription.user_key)
        card = self._weekly_card(language_for_locale(subscription.language), completed)
        tenant = tenant_of(stored.reference)
        try:
            # counted from the send's start until its answer, like the tips (bot.core.rate_limit)
            async with self._pacer.sending(tenant, subscription.conversation_id):
                await self._sender.send(stored.reference, card)
        except DeliveryError as refusal:
            await self._refused(subscription, tenant, refusal)
            return False
        _log.info("lesson_delivered", extra={"fields": {"lessons_done": len(completed)}})
        return True

    async def _refused(
        self, subscription: Subscription, tenant: str, refusal: DeliveryError
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
        await self._store.reschedule(subscription.user_key, now + wait)
        _log.warning("lesson_delivery_retry", extra={"fields": {"status": refusal.status}})

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                _log.exception("lesson_round_failed")
            await asyncio.sleep(interval_seconds)

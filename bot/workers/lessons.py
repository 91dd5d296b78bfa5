"""Weekly lessons, delivered proactively from stored due times.

Every few seconds the scheduler asks the store which subscriptions are due (due times are stored in
UTC, so this survives restarts). For each it first *claims* the week — moving the due time on to the
next slot with a compare-and-set — and only then sends. A delivery missed while the bot was down is
therefore sent once when it is back, and two schedulers (or a restart mid-run) never send the same
week twice. If sending fails for a reason worth retrying, the subscription is put back a few minutes
later; nothing was delivered, so the retry cannot duplicate. If the user blocked or removed the bot,
the subscription and the conversation reference are dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ConversationReference

from bot.core.language import language_for_locale
from bot.core.records import Subscription
from bot.core.schedule import ScheduleError, WeeklySlot, next_due
from bot.logs import get_logger
from bot.ports import ConversationReferenceStore, LessonStore
from bot.teams.connector import ConnectorError, KiVettCloudAdapter
from bot.teams.router import KiVettBot

_log = get_logger("scheduler")

RETRY_AFTER_FAILURE = timedelta(minutes=5)
BATCH = 100


class LessonScheduler:
    def __init__(
        self,
        *,
        store: LessonStore,
        references: ConversationReferenceStore,
        adapter: KiVettCloudAdapter,
        bot: KiVettBot,
        bot_app_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._references = references
        self._adapter = adapter
        self._bot = bot
        self._bot_app_id = bot_app_id
        self._clock = clock

    async def run_once(self) -> int:
        """Deliver everything due now; return how many lessons were sent."""
        sent = 0
        now = self._clock()
        for subscription in await self._store.due(now, BATCH):
            try:
                slot = WeeklySlot.parse(
                    str(subscription.weekday), subscription.at, subscription.zone
                )
            except ScheduleError:
                await self._store.unsubscribe(subscription.user_key)
                continue
            following = next_due(slot, max(now, subscription.next_due))
            if not await self._store.claim(subscription.user_key, subscription.next_due, following):
                continue  # another scheduler took this week
            if await self._deliver(subscription):
                sent += 1
        return sent

    async def _deliver(self, subscription: Subscription) -> bool:
        stored = await self._references.get(subscription.conversation_id)
        if stored is None:
            _log.warning("lesson_undeliverable", extra={"fields": {"reason": "no_reference"}})
            await self._store.unsubscribe(subscription.user_key)
            return False
        reference = ConversationReference().deserialize(dict(stored.reference))
        completed = await self._store.completed(subscription.user_key)
        language = language_for_locale(subscription.language)
        card = self._bot.weekly_card(language, completed)

        failures: list[ConnectorError] = []

        async def send(turn_context: TurnContext) -> None:
            # errors inside a turn go to the adapter's on_turn_error; keep the connector's answer
            try:
                await turn_context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(card))
                )
            except ConnectorError as error:
                failures.append(error)

        try:
            await self._adapter.continue_conversation(reference, send, self._bot_app_id)
        except ConnectorError as error:
            failures.append(error)
        if failures:
            refusal = failures[0]
            if refusal.blocked or refusal.status == 404:
                await self._store.unsubscribe(subscription.user_key)
                await self._references.remove(subscription.conversation_id)
                _log.info("lesson_recipient_gone", extra={"fields": {"status": refusal.status}})
                return False
            await self._store.reschedule(subscription.user_key, self._clock() + RETRY_AFTER_FAILURE)
            _log.warning("lesson_delivery_retry", extra={"fields": {"status": refusal.status}})
            return False
        _log.info("lesson_delivered", extra={"fields": {"lessons_done": len(completed)}})
        return True

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                _log.exception("scheduler_round_failed")
            await asyncio.sleep(interval_seconds)

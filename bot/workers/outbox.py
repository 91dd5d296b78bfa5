"""The learning-card outbox: writes stored cards to SharePoint, in the background, without loss.

Each card was stored (state `pending`) before the employee was told it is saved. The worker takes
due cards oldest first and asks the sink to create the list item, a few at once (`concurrency`).
The sink looks the card id up before creating again after an ambiguous failure, and the list's
card-id column is unique, so a retry never makes a second item.

A card already in the list whose sender was erased ("Slett mine data", `kivett privacy erase`)
comes back in state `redact`: the worker patches the item's sender column with the card's
now-empty sender (the rest of the item, and any lead's changes to it, stay as they are) and marks
the card delivered again. An item a lead has deleted counts as done.

Creates and patches follow the same rules. Throttling (429) and unavailability (503, timeouts) are
retried with backoff, honouring Retry-After, without end; a Retry-After also pauses the whole
outbox for that long, since Graph throttles the app, not the card. Refusals a retry cannot fix
(400/401/403, and 404 on a create) park the card with a reason that the leads' summary shows. A
restart simply finds the due cards again.

Pacing: when a throttled answer says what SharePoint allows (the sink's `allowed_rate`, from the
RateLimit-Limit quota policy next to Retry-After), the outbox spaces its writes (creates and
patches) evenly at `PACE_SHARE` of that rate from then on, so that after the first 429 it stays
under the limit instead of running into it again. Nothing is paced before a 429 has said so.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.core.learning_cards import (
    DeliveryState,
    Labels,
    LearningCard,
    StoredCard,
    list_fields,
    retry_delay,
)
from bot.logs import get_logger
from bot.ports import LearningCardSink, LearningCardStore, SinkPermanentError, SinkTransientError

_log = get_logger("outbox")

BATCH = 50
PACE_SHARE = 0.95  # of the rate SharePoint said it allows
DELAYED_AFTER_SECONDS = 60.0
STATUS_REFRESH_SECONDS = 300.0


def sender_fields(card: LearningCard, labels: Labels) -> dict[str, object]:
    """The list columns that say who sent the card, with the card's values (after an erasure: an
    empty sender). Taken from `list_fields` itself, as the columns whose value follows the card's
    author, so that a sender column added there is emptied too."""
    fields = list_fields(card, labels)
    probe = list_fields(replace(card, author=card.author + "?"), labels)
    return {name: value for name, value in fields.items() if probe[name] != value}


class OutboxWorker:
    def __init__(
        self,
        *,
        store: LearningCardStore,
        sink: LearningCardSink,
        labels: Labels,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        status_refresh_seconds: float = STATUS_REFRESH_SECONDS,
        concurrency: int = 4,
    ) -> None:
        self._store = store
        self._sink = sink
        self._labels = labels
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        self._paused_until = 0.0
        self._status_refresh = status_refresh_seconds
        self._statuses_read_at: float | None = None
        self._wake = asyncio.Event()
        self._concurrency = concurrency
        self._troubled_since: float | None = None  # first transient failure since the last success
        self._pace: float | None = None  # writes per second, once SharePoint said what it allows
        self._next_slot = 0.0

    @property
    def pace(self) -> float | None:
        """Writes per second the outbox keeps to (None: not paced)."""
        return self._pace

    async def _paced(self) -> None:
        """Wait for this write's slot: evenly spaced at the learned pace."""
        if self._pace is None:
            return
        now = self._clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self._pace
        if slot > now:
            await self._sleep(slot - now)

    def delayed(self) -> bool:
        """SharePoint has not taken a card for a while (throttled or down): new cards will wait."""
        since = self._troubled_since
        return since is not None and self._clock() - since >= DELAYED_AFTER_SECONDS

    def wake(self) -> None:
        """A card was just stored: look at once instead of at the next interval."""
        self._wake.set()

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.drain_once()
                await self.refresh_statuses()
            except Exception:  # the store itself failed: log, wait, try again
                _log.exception("outbox_round_failed")
            wait = interval_seconds
            upcoming = await self._next_wait()
            if upcoming is not None:
                wait = min(wait, upcoming)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.01))

    async def _next_wait(self) -> float | None:
        try:
            at = await self._store.next_attempt()
        except Exception:
            return None
        if at is None:
            return None
        return max(at, self._paused_until) - self._clock()

    async def drain_once(self) -> int:
        """Try every card that is due now; returns how many were written to the list (created, or
        patched after an erasure)."""
        delivered = 0
        while True:
            now = self._clock()
            if now < self._paused_until:
                return delivered
            batch = await self._store.due(now, BATCH)
            if not batch:
                return delivered
            gate = asyncio.Semaphore(self._concurrency)
            results = await asyncio.gather(*(self._deliver_within(gate, s) for s in batch))
            delivered += sum(results)
            if self._clock() < self._paused_until:
                return delivered

    async def _deliver_within(self, gate: asyncio.Semaphore, stored: StoredCard) -> bool:
        async with gate:
            if self._clock() >= self._paused_until:
                await self._paced()
            if self._clock() < self._paused_until:
                # throttled meanwhile: leave it for the next round (SQLite: still due; Azure: its
                # message comes back after the visibility timeout)
                return False
            return await self._deliver(stored)

    async def _deliver(self, stored: StoredCard) -> bool:
        card_id = stored.card.card_id
        attempts = stored.attempts + 1
        redact = stored.state is DeliveryState.REDACT
        if redact and not stored.item_id:  # the store's mistake: nothing to find the item by
            await self._store.park(card_id, "redact: no SharePoint item id")
            _log.warning("outbox_parked", extra={"fields": {"card": card_id, "reason": "no item"}})
            return False
        try:
            if redact:
                item_id = stored.item_id
                await self._sink.update(item_id, sender_fields(stored.card, self._labels))
            else:
                item_id = await self._sink.deliver(card_id, list_fields(stored.card, self._labels))
        except SinkTransientError as error:
            if self._troubled_since is None:
                self._troubled_since = self._clock()
            delay = retry_delay(attempts, error.retry_after, self._rng.random())
            if error.retry_after is not None:
                self._paused_until = max(self._paused_until, self._clock() + delay)
            allowed = error.allowed_rate
            if allowed is not None and allowed > 0:
                self._pace = allowed * PACE_SHARE
                self._next_slot = max(self._next_slot, self._paused_until)
            await self._store.retry(card_id, self._clock() + delay, error.reason)
            _log.info(
                "outbox_retry",
                extra={"fields": {"card": card_id, "reason": error.reason, "in_s": round(delay)}},
            )
            return False
        except SinkPermanentError as error:
            await self._store.park(card_id, error.reason)
            _log.warning(
                "outbox_parked", extra={"fields": {"card": card_id, "reason": error.reason}}
            )
            return False
        self._troubled_since = None
        await self._store.delivered(card_id, item_id)
        _log.info(
            "outbox_redacted" if redact else "outbox_delivered", extra={"fields": {"card": card_id}}
        )
        return True

    async def refresh_statuses(self, *, force: bool = False) -> int:
        """Read the status column leads set in SharePoint back into the store (now and then)."""
        now = self._clock()
        last = self._statuses_read_at
        if not force and last is not None and now - last < self._status_refresh:
            return 0
        if now < self._paused_until:
            return 0
        self._statuses_read_at = now
        try:
            statuses = await self._sink.statuses()
        except (SinkTransientError, SinkPermanentError) as error:
            _log.warning("status_read_failed", extra={"fields": {"reason": error.reason}})
            return 0
        return await self._store.set_lead_statuses(statuses)

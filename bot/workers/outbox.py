"""The outbox: writes stored learning cards and trials to their SharePoint lists, in the
background, without loss. The same rules hold for both kinds (below: "card"); each kind is a lane
(`Lane`: its store, its list's sink, and how an entry becomes item fields), and the trials lane is
drained before the cards lane in every round.

A learning card that belongs to a trial is written with the trial's item id in its lookup column
(`UtprovingLookupId`); while the trial has no item yet the card waits (retried soon, reason
`waiting_for_trial`), so it never reaches the list without its link.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from bot.core.learning_cards import (
    DeliveryState,
    Labels,
    LearningCard,
    StoredCard,
    list_fields,
    retry_delay,
)
from bot.core.sharepoint_schema import TRIAL_LOOKUP_FIELD, trial_fields
from bot.core.trials import StoredTrial, Trial
from bot.logs import get_logger
from bot.ports import LearningCardSink, LearningCardStore, SinkPermanentError, SinkTransientError

_log = get_logger("outbox")

BATCH = 50
PACE_SHARE = 0.95  # of the rate SharePoint said it allows
DELAYED_AFTER_SECONDS = 60.0
STATUS_REFRESH_SECONDS = 300.0
WAITING_FOR_TRIAL = "waiting_for_trial"
WAIT_FOR_TRIAL_MAX_SECONDS = 60.0
"""A card whose trial has no item yet is tried again within this long (sooner at first)."""


class OutboxEntry(Protocol):
    """A stored card or trial, as the outbox reads it."""

    @property
    def state(self) -> DeliveryState: ...

    @property
    def attempts(self) -> int: ...

    @property
    def item_id(self) -> str: ...


E = TypeVar("E", bound=OutboxEntry)
E_co = TypeVar("E_co", bound=OutboxEntry, covariant=True)
E_contra = TypeVar("E_contra", bound=OutboxEntry, contravariant=True)


class OutboxStore(Protocol[E_co]):
    """The outbox part of a store (`LearningCardStore`, `TrialStore`), by the entry's key."""

    async def due(self, now: float, limit: int, /) -> Sequence[E_co]: ...

    async def next_attempt(self) -> float | None: ...

    async def delivered(self, key: str, item_id: str, /) -> None: ...

    async def retry(self, key: str, at: float, reason: str, /) -> None: ...

    async def park(self, key: str, reason: str, /) -> None: ...


class ItemSink(Protocol):
    """Where a lane's items go (`LearningCardSink` for the cards' list or the trials')."""

    async def deliver(self, key: str, fields: Mapping[str, object], /) -> str: ...

    async def update(self, item_id: str, fields: Mapping[str, object], /) -> None: ...


@dataclass(frozen=True)
class Hold:
    """An entry that cannot be written yet: tried again in `seconds`, or parked when None."""

    reason: str
    seconds: float | None


class ItemFields(Protocol[E_contra]):
    """How an entry of one kind becomes its list item."""

    @property
    def kind(self) -> str:
        """The entry's name in log lines ("card", "trial")."""
        ...

    def key(self, entry: E_contra, /) -> str: ...

    async def fields(self, entry: E_contra, attempts: int, /) -> Mapping[str, object] | Hold:
        """The new item's fields, or why it must wait (`attempts`: this try's number)."""
        ...

    def erased(self, entry: E_contra, /) -> Mapping[str, object]:
        """The columns that name the person, with the entry's (erased) values."""
        ...


@dataclass(frozen=True)
class Lane(Generic[E]):
    store: OutboxStore[E]
    sink: ItemSink
    items: ItemFields[E]


class TrialLookup(Protocol):
    async def get(self, trial_id: str, /) -> StoredTrial | None: ...


class TrialOutboxStore(OutboxStore[StoredTrial], TrialLookup, Protocol):
    """What the outbox needs of `TrialStore`."""


@dataclass(frozen=True)
class TrialOutbox:
    """The trials lane: the store and the trials list's sink."""

    store: TrialOutboxStore
    sink: ItemSink


def _following(fields: Mapping[str, object], probe: Mapping[str, object]) -> dict[str, object]:
    """The columns of `fields` whose value changed in `probe` (the same entry, another person)."""
    return {name: value for name, value in fields.items() if probe[name] != value}


def sender_fields(card: LearningCard, labels: Labels) -> dict[str, object]:
    """The list columns that say who sent the card, with the card's values (after an erasure: an
    empty sender). Taken from `list_fields` itself, as the columns whose value follows the card's
    author, so that a sender column added there is emptied too."""
    probe = list_fields(replace(card, author=card.author + "?"), labels)
    return _following(list_fields(card, labels), probe)


def owner_fields(trial: Trial, labels: Labels) -> dict[str, object]:
    """The trials list columns that name the trial's champion, as `sender_fields` does."""
    probe = trial_fields(replace(trial, owner=trial.owner + "?"), labels)
    return _following(trial_fields(trial, labels), probe)


@dataclass(frozen=True)
class CardItems:
    """Learning cards as items; one that belongs to a trial carries the trial's item id."""

    labels: Labels
    trials: TrialLookup | None
    rng: random.Random
    kind: str = "card"

    def key(self, entry: StoredCard, /) -> str:
        return entry.card.card_id

    async def fields(self, entry: StoredCard, attempts: int, /) -> Mapping[str, object] | Hold:
        fields = list_fields(entry.card, self.labels)
        trial_id = entry.card.draft.trial
        if not trial_id:
            return fields
        if self.trials is None:  # trials are not written to SharePoint: no item to link to
            return Hold("no trials list", None)
        trial = await self.trials.get(trial_id)
        if trial is None:
            return Hold("trial not found", None)
        if not trial.item_id:
            delay = retry_delay(attempts, None, self.rng.random())
            return Hold(WAITING_FOR_TRIAL, min(delay, WAIT_FOR_TRIAL_MAX_SECONDS))
        return {**fields, TRIAL_LOOKUP_FIELD: trial.item_id}

    def erased(self, entry: StoredCard, /) -> Mapping[str, object]:
        return sender_fields(entry.card, self.labels)


@dataclass(frozen=True)
class TrialItems:
    labels: Labels
    kind: str = "trial"

    def key(self, entry: StoredTrial, /) -> str:
        return entry.trial.trial_id

    async def fields(self, entry: StoredTrial, attempts: int, /) -> Mapping[str, object] | Hold:
        return trial_fields(entry.trial, self.labels)

    def erased(self, entry: StoredTrial, /) -> Mapping[str, object]:
        return owner_fields(entry.trial, self.labels)


class OutboxWorker:
    """The outbox for learning cards (`store`, `sink`) and, with `trials`, for trials. Pauses
    and pacing are shared: Graph throttles the app, not the list."""

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
        trials: TrialOutbox | None = None,
    ) -> None:
        self._store = store
        self._sink = sink
        self._labels = labels
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        cards = CardItems(labels, trials.store if trials is not None else None, self._rng)
        self._lanes: list[Lane[Any]] = [
            *([Lane(trials.store, trials.sink, TrialItems(labels))] if trials is not None else []),
            Lane(store, sink, cards),
        ]
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
            found = [await lane.store.next_attempt() for lane in self._lanes]
            upcoming = [at for at in found if at is not None]
        except Exception:
            return None
        if not upcoming:
            return None
        return max(min(upcoming), self._paused_until) - self._clock()

    async def drain_once(self) -> int:
        """Try every trial, then every card, that is due now; returns how many were written to
        their lists (created, or patched after an erasure)."""
        delivered = 0
        for lane in self._lanes:
            delivered += await self._drain(lane)
            if self._clock() < self._paused_until:
                break
        return delivered

    async def _drain(self, lane: Lane[E]) -> int:
        delivered = 0
        while True:
            now = self._clock()
            if now < self._paused_until:
                return delivered
            batch = await lane.store.due(now, BATCH)
            if not batch:
                return delivered
            gate = asyncio.Semaphore(self._concurrency)
            results = await asyncio.gather(*(self._deliver_within(gate, lane, e) for e in batch))
            delivered += sum(results)
            if self._clock() < self._paused_until:
                return delivered

    async def _deliver_within(self, gate: asyncio.Semaphore, lane: Lane[E], entry: E) -> bool:
        async with gate:
            if self._clock() >= self._paused_until:
                await self._paced()
            if self._clock() < self._paused_until:
                # throttled meanwhile: leave it for the next round (SQLite: still due; Azure: its
                # message comes back after the visibility timeout)
                return False
            return await self._deliver(lane, entry)

    async def _deliver(self, lane: Lane[E], entry: E) -> bool:
        kind, key = lane.items.kind, lane.items.key(entry)
        attempts = entry.attempts + 1
        redact = entry.state is DeliveryState.REDACT
        if redact and not entry.item_id:  # the store's mistake: nothing to find the item by
            await lane.store.park(key, "redact: no SharePoint item id")
            _log.warning("outbox_parked", extra={"fields": {kind: key, "reason": "no item"}})
            return False
        try:
            if redact:
                item_id = entry.item_id
                await lane.sink.update(item_id, lane.items.erased(entry))
            else:
                fields = await lane.items.fields(entry, attempts)
                if isinstance(fields, Hold):
                    await self._hold(lane, key, fields)
                    return False
                item_id = await lane.sink.deliver(key, fields)
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
            await lane.store.retry(key, self._clock() + delay, error.reason)
            _log.info(
                "outbox_retry",
                extra={"fields": {kind: key, "reason": error.reason, "in_s": round(delay)}},
            )
            return False
        except SinkPermanentError as error:
            await lane.store.park(key, error.reason)
            _log.warning("outbox_parked", extra={"fields": {kind: key, "reason": error.reason}})
            return False
        self._troubled_since = None
        await lane.store.delivered(key, item_id)
        _log.info(
            "outbox_redacted" if redact else "outbox_delivered", extra={"fields": {kind: key}}
        )
        return True

    async def _hold(self, lane: Lane[E], key: str, hold: Hold) -> None:
        """An entry that may not be written yet (a card whose trial has no item): try it again
        soon, or park it when it never can be."""
        kind = lane.items.kind
        if hold.seconds is None:
            await lane.store.park(key, hold.reason)
            _log.warning("outbox_parked", extra={"fields": {kind: key, "reason": hold.reason}})
            return
        await lane.store.retry(key, self._clock() + hold.seconds, hold.reason)
        _log.info(
            "outbox_waiting",
            extra={"fields": {kind: key, "reason": hold.reason, "in_s": round(hold.seconds)}},
        )

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

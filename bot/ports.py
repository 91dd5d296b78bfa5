"""Ports: the small Protocols that flows and workers depend on. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.broadcast import Progress, RecipientState
from bot.core.learning_cards import LearningCard, StoredCard
from bot.core.records import (
    Erasure,
    Job,
    LanguageChoice,
    PendingRecipient,
    PersonRecord,
    StoredReference,
    Subscription,
    UsageSnapshot,
)
from bot.core.trials import StoredTrial, Trial


class ETagConflictError(Exception):
    """A write carried an e_tag that no longer matches the stored item (someone wrote first)."""


class StorageUnavailableError(Exception):
    """The store cannot be reached or used right now."""


class StateStore(Protocol):
    """Key/value state with e_tag optimistic concurrency (the Bot Framework `Storage` contract).

    `read` returns a dict per found key with its current `e_tag`; `write` refuses (raises
    ETagConflictError) a value whose `e_tag` is set, is not `*`, and differs from the stored one.
    """

    async def read(self, keys: Sequence[str]) -> dict[str, Any]: ...

    async def write(self, changes: Mapping[str, Any]) -> None: ...

    async def delete(self, keys: Sequence[str]) -> None: ...


class ConversationReferenceStore(Protocol):
    """Where conversation references live, for the proactive messages that come later."""

    async def save(self, reference: StoredReference) -> bool:
        """Insert or update; True if something changed."""
        ...

    async def remove(self, conversation_id: str) -> bool:
        """Forget a conversation; True if it was known."""
        ...

    async def get(self, conversation_id: str) -> StoredReference | None: ...

    async def of_type(self, conversation_type: str) -> list[StoredReference]: ...

    async def count(self) -> int: ...


class UsageStats(Protocol):
    """Anonymous usage figures for the project leads' summary. Never a user id or any text."""

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None: ...

    async def record_feedback(self, useful: bool) -> None: ...

    async def snapshot(self) -> UsageSnapshot: ...

    async def prune(self, before: datetime) -> int:
        """Drop the counts of calendar months (UTC) that ended before `before`; return how many
        counters were removed. Counts are kept per month so that a retention limit can apply."""
        ...


class LessonStore(Protocol):
    """Lesson progress and weekly subscriptions, per user (Entra object id or Teams user id)."""

    async def completed(self, user_key: str) -> frozenset[int]: ...

    async def complete(self, user_key: str, lesson_id: int) -> None: ...

    async def subscription(self, user_key: str) -> Subscription | None: ...

    async def subscribe(self, subscription: Subscription) -> None: ...

    async def unsubscribe(self, user_key: str) -> bool: ...

    async def due(self, now: datetime, limit: int) -> list[Subscription]: ...

    async def subscribers(self) -> list[tuple[str, str]]:
        """(conversation id, language) of every subscriber."""
        ...

    async def subscriber_count(self) -> int:
        """How many subscribe, without reading them (a champion's preview shows it)."""
        ...

    async def claim(self, user_key: str, due: datetime, next_due: datetime) -> bool:
        """Move a due subscription on to its next time if it is still due at `due`; True if this
        caller got it (so two schedulers never deliver the same week twice)."""
        ...

    async def reschedule(self, user_key: str, due: datetime) -> None: ...


class LanguageChoices(Protocol):
    """The language each person chose with `språk`, per user key (Entra object id, else Teams
    id). Read on every turn, so it must be cheap; erased with the rest of the person's data."""

    async def get(self, user_key: str) -> LanguageChoice | None:
        """None when nothing is stored for the person."""
        ...

    async def choose(self, user_key: str, language: str) -> None:
        """Store the person's choice ("nb", "nn" or "en"); it also counts as offered."""
        ...

    async def mark_offered(self, user_key: str) -> None:
        """Remember that the choice was offered (keeps a choice already stored)."""
        ...


class ActionLedger(Protocol):
    """Card actions that change something (a tip send, a subscription, a feedback vote) carry an
    action id made when the card was rendered; the ledger makes each apply once, whatever the
    replays or double clicks."""

    async def claim(self, action_id: str, kind: str) -> str | None:
        """Record that `action_id` (of `kind`: "tip_send", "subscribe", "feedback") is being
        applied. Returns None the first time; for every later claim of the same id, the outcome
        recorded with `settle` (or "" while the first one is still under way)."""
        ...

    async def settle(self, action_id: str, outcome: str) -> None:
        """Store what the first application led to (a job id, "done"): replays show it."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget claims made before `before` (the retention limit); return how many."""
        ...


class BroadcastStore(Protocol):
    """Where champions' broadcasts are queued (the worker sends them)."""

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
        """Queue a broadcast and return its first progress.

        `recipients`: (conversation id, language) pairs, stored now (a conversation listed twice
        counts once, with its first language). `subscribers=True` instead sends to the lesson
        subscribers: the job is stored in state `JOB_LISTING` with no recipients (the returned
        progress has total 0, which means "not known yet"), and the broadcast worker lists them
        with `add_recipients` when the job is due, so the champion's turn does no work per
        recipient."""
        ...


class HealthCheck(Protocol):
    async def ping(self) -> None:
        """Raise StorageUnavailableError (its message a short reason for /readyz, never a path or
        a secret) if the store cannot serve requests: it must be readable and writable (a cheap
        write probe; an implementation may skip the write when one succeeded moments ago)."""
        ...


class SinkTransientError(Exception):
    """The sink could not take the item now (throttled, unavailable, timed out): try again later.

    `retry_after` is the server's Retry-After in seconds, when it sent one; `allowed_rate` the
    requests per second the server said it allows (SharePoint's RateLimit headers), when it did."""

    def __init__(
        self, reason: str, retry_after: float | None = None, allowed_rate: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.allowed_rate = allowed_rate


class SinkPermanentError(Exception):
    """The sink refused the item for a reason a retry will not fix (400, 401, 403, 404)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LearningCardSink(Protocol):
    """Where learning cards go for the project leads (a SharePoint list through Graph)."""

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        """Create the list item for this card, unless one with this card id is already there
        (after an ambiguous failure); return the item's id. `fields` holds `Title` and the
        columns of `bot.core.sharepoint_schema.columns`, card id included.

        Raises SinkTransientError or SinkPermanentError."""
        ...

    async def statuses(self) -> dict[str, str]:
        """Card id → the status a lead set in the list (every page of the list)."""
        ...

    def list_url(self) -> str:
        """The list's address for people, once known ("" before)."""
        ...

    async def update(self, item_id: str, fields: Mapping[str, object]) -> None:
        """Change some columns of an existing item (the sender column, after an erasure). An item
        that no longer exists counts as done.

        Raises SinkTransientError or SinkPermanentError."""
        ...

    async def close(self) -> None: ...


class LearningCardStore(Protocol):
    """Learning cards, stored durably; each pending card is also an outbox entry for SharePoint."""

    async def add(self, card: LearningCard) -> bool:
        """Store a new card; False if one with this card id is already stored."""
        ...

    async def get(self, card_id: str) -> StoredCard | None: ...

    async def all(self) -> list[StoredCard]: ...

    async def due(self, now: float, limit: int) -> list[StoredCard]: ...

    async def next_attempt(self) -> float | None: ...

    async def delivered(self, card_id: str, item_id: str) -> None: ...

    async def retry(self, card_id: str, at: float, reason: str) -> None: ...

    async def park(self, card_id: str, reason: str) -> None: ...

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int: ...

    async def requeue_parked(self) -> int:
        """Put every parked card back in the outbox (after an operator fixed the cause); return
        how many."""
        ...


class TrialStore(Protocol):
    """Trials (utprøvinger), stored durably; each pending trial is also an outbox entry for its
    SharePoint list, with the same guarantees as learning cards (bot.workers.outbox)."""

    async def add(self, trial: Trial) -> bool:
        """Store a new trial (pending delivery); False if one with this id is already stored."""
        ...

    async def get(self, trial_id: str) -> StoredTrial | None: ...

    async def all(self) -> list[StoredTrial]:
        """Every trial, oldest first."""
        ...

    async def of_person(self, user_key: str) -> list[StoredTrial]:
        """The trials the person registered or is named in, oldest first."""
        ...

    async def due(self, now: float, limit: int) -> list[StoredTrial]:
        """Pending trials whose next delivery attempt is due, oldest first."""
        ...

    async def next_attempt(self) -> float | None: ...

    async def delivered(self, trial_id: str, item_id: str) -> None: ...

    async def retry(self, trial_id: str, at: float, reason: str) -> None: ...

    async def park(self, trial_id: str, reason: str) -> None: ...

    async def requeue_parked(self) -> int: ...

    async def mark_reminded(self, trial_id: str, *, unreached: int = 0) -> bool:
        """Record that the participants were asked for a learning card, and how many of them the
        bot could not reach (`StoredTrial.unreached`); True only for the first caller (two
        workers never remind twice)."""
        ...

    async def forget_person(self, user_key: str) -> int:
        """Erasure: remove the person as owner and participant of every trial (the trial stays,
        it belongs to the unit); return how many trials changed. Their reminder choice is
        removed with `unmute_reminders`."""
        ...

    async def mute_reminders(self, user_key: str) -> None:
        """The person asked for no more reminders about trials ("Ikke send meg flere
        påminnelser"): stored per person, for every trial, until they turn them on again."""
        ...

    async def unmute_reminders(self, user_key: str) -> bool:
        """Reminders are sent to the person again (and their choice is gone: also part of an
        erasure); True if they had turned them off."""
        ...

    async def reminders_muted(self, user_key: str) -> bool: ...


class BroadcastJobStore(BroadcastStore, Protocol):
    """What the broadcast worker needs: jobs to run, their pending recipients, and a place to
    record each answer. One instance runs a job at a time (SQLite: one process; Azure: the job's
    queue message is hidden from other instances while one works on it)."""

    async def runnable(self, now: float) -> list[Job]:
        """Jobs due by `now` that are not done (including those still `JOB_LISTING`)."""
        ...

    async def add_recipients(self, job_id: str, recipients: Sequence[tuple[str, str]]) -> int:
        """Add recipients (conversation id, language) to a job in state `JOB_LISTING`, leaving out
        any conversation the job already lists (after a crash the worker lists again from the
        start). Returns how many were new."""
        ...

    async def listed(self, job_id: str) -> None:
        """Every recipient of a `JOB_LISTING` job is in: it becomes scheduled (and runs as any
        other). Nothing happens for a job in another state."""
        ...

    async def start(self, job_id: str, now: float) -> None: ...

    async def finish(self, job_id: str, now: float) -> None: ...

    async def pending(self, job_id: str, now: float, limit: int) -> list[PendingRecipient]: ...

    async def next_retry(self, job_id: str) -> float | None: ...

    async def record(
        self, job_id: str, results: Sequence[tuple[str, RecipientState, int, float, int]]
    ) -> None:
        """(conversation, state, attempts, next attempt, last status) for many recipients."""
        ...

    async def progress(self, job_id: str, now: float) -> Progress: ...


class PersonalData(Protocol):
    """Everything stored about one person, across the stores of one backend: shown by `mine
    data` and `kivett privacy export` (GDPR art. 15), removed by "Slett mine data" and `kivett
    privacy erase` (art. 17), and the retention limit.

    `user_key` is the Entra object id (the Teams user id where Teams sends none)."""

    async def person(self, user_key: str) -> PersonRecord: ...

    async def conversations(self, user_key: str) -> list[StoredReference]:
        """The stored references that name the person (by Entra object id, or Teams id), as
        `person` finds them: among them the person's own chat with the bot, if they have one."""
        ...

    async def erase(self, user_key: str) -> Erasure:
        """Remove the person's language choice, lesson progress, subscription and conversation
        references (and the state of those conversations); strip the person from references of
        shared conversations; remove the sender from their learning cards (content kept; cards
        already in SharePoint go back to the outbox in state REDACT) and the creator from their
        tips; remove them from every trial (owner and participant, `TrialStore.forget_person`) and
        forget their choice about trial reminders. Deleted bytes must not stay readable in the
        store's files (SQLite: secure_delete and a WAL checkpoint)."""
        ...

    async def prune(self, last_seen_before: datetime) -> int:
        """Forget conversations nobody has written in since `last_seen_before` and that no one
        subscribes to lessons in: their reference and state. Return how many were forgotten."""
        ...


class StoreBackend(Protocol):
    """The store as a whole: reachable? (for /readyz) and closed at shutdown."""

    async def ping(self) -> None:
        """Raise StorageUnavailableError (its message a short reason for /readyz, never a path or
        a secret) if the store cannot serve requests: it must be readable and writable (a cheap
        write probe; an implementation may skip the write when one succeeded moments ago)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Stores:
    """Every store the bot uses, from one backend (SQLite embedded, or Azure Storage)."""

    backend: StoreBackend
    state: StateStore
    references: ConversationReferenceStore
    usage: UsageStats
    lessons: LessonStore
    broadcasts: BroadcastJobStore
    learning_cards: LearningCardStore
    personal: PersonalData
    languages: LanguageChoices
    actions: ActionLedger
    trials: TrialStore


class DeliveryError(Exception):
    """Teams refused a proactive message or could not be reached. `status` 0 = no HTTP answer."""

    def __init__(self, status: int, code: str, retry_after: float | None = None) -> None:
        super().__init__(f"delivery answered {status} {code}".strip())
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def blocked(self) -> bool:
        """The user blocked or removed the bot: stop writing to this conversation."""
        return self.status == 403 and self.code in {
            "MessageWritesBlocked",
            "ConversationBlockedByUser",
        }

    @property
    def gone(self) -> bool:
        """Blocked, or the conversation no longer exists: drop the reference."""
        return self.blocked or self.status == 404


class ProactiveSender(Protocol):
    """Writes to a conversation the bot was not asked in (weekly lessons, tips, progress).

    One attempt per call: the workers own retries, Retry-After and the rate limits."""

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        """Post `card` as a new message to the conversation of a stored reference.

        Raises DeliveryError."""
        ...

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        """Replace the card of an earlier message (a champion's progress card).

        Raises DeliveryError."""
        ...

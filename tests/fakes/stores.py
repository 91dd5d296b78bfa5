"""In-memory stores implementing the Protocols of bot/ports.py, for flow unit tests.

Each counts what it was asked and can be switched to fail with `StorageUnavailableError`
(`down = True`), the way an unreachable database or storage account fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.core.broadcast import Progress
from bot.core.caller import PERSONAL
from bot.core.learning_cards import DeliveryState, LearningCard, StoredCard
from bot.core.records import (
    Erasure,
    Job,
    LanguageChoice,
    PersonRecord,
    StoredReference,
    Subscription,
    UsageSnapshot,
)
from bot.core.state_keys import conversation_state_keys, require_user_key
from bot.ports import StateStore, StorageUnavailableError
from content import LANGUAGES
from tests.fakes.trials import FakeTrials


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Switch:
    down = False

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailableError("the fake store is down")


class FakeReferences(_Switch):
    def __init__(
        self, *references: StoredReference, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._clock = clock
        self.items = {ref.conversation_id: self._seen(ref) for ref in references}

    def _seen(self, reference: StoredReference) -> StoredReference:
        return replace(reference, last_seen=reference.last_seen or self._clock())

    async def save(self, reference: StoredReference) -> bool:
        self._check()
        changed = self.items.get(reference.conversation_id) != reference
        self.items[reference.conversation_id] = self._seen(reference)
        return changed

    async def remove(self, conversation_id: str) -> bool:
        self._check()
        return self.items.pop(conversation_id, None) is not None

    async def get(self, conversation_id: str) -> StoredReference | None:
        self._check()
        return self.items.get(conversation_id)

    async def of_type(self, conversation_type: str) -> list[StoredReference]:
        self._check()
        return [r for r in self.items.values() if r.conversation_type == conversation_type]

    async def count(self) -> int:
        return len(self.items)


class FakeUsage(_Switch):
    """Totals in `verdicts` and `feedback`; the same counts per UTC month in `months`."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self.verdicts: Counter[tuple[str, str, str, str]] = Counter()
        self.feedback: Counter[bool] = Counter()
        self.months: Counter[tuple[str, object]] = Counter()  # (YYYY-MM, verdict or bool)

    def _month(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m")

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None:
        self._check()
        self.verdicts[verdict, task, tool, category] += 1
        self.months[self._month(), (verdict, task, tool, category)] += 1

    async def record_feedback(self, useful: bool) -> None:
        self._check()
        self.feedback[useful] += 1
        self.months[self._month(), useful] += 1

    async def snapshot(self) -> UsageSnapshot:
        self._check()
        return UsageSnapshot(dict(self.verdicts), dict(self.feedback))

    async def prune(self, before: datetime) -> int:
        self._check()
        current = before.astimezone(UTC).strftime("%Y-%m")
        old = [entry for entry in self.months if entry[0] < current]
        for entry in old:
            count, what = self.months.pop(entry), entry[1]
            if isinstance(what, bool):
                self.feedback[what] -= count
            elif isinstance(what, tuple):
                self.verdicts[what] -= count
        self.verdicts, self.feedback = +self.verdicts, +self.feedback
        return len(old)


class FakeLessons(_Switch):
    def __init__(self) -> None:
        self.done: dict[str, set[int]] = {}
        self.subscriptions: dict[str, Subscription] = {}

    async def completed(self, user_key: str) -> frozenset[int]:
        self._check()
        return frozenset(self.done.get(user_key, set()))

    async def complete(self, user_key: str, lesson_id: int) -> None:
        self._check()
        self.done.setdefault(user_key, set()).add(lesson_id)

    async def subscription(self, user_key: str) -> Subscription | None:
        self._check()
        return self.subscriptions.get(user_key)

    async def subscribe(self, subscription: Subscription) -> None:
        self._check()
        self.subscriptions[subscription.user_key] = subscription

    async def unsubscribe(self, user_key: str) -> bool:
        self._check()
        return self.subscriptions.pop(user_key, None) is not None

    async def due(self, now: datetime, limit: int) -> list[Subscription]:
        self._check()
        due = sorted(
            (s for s in self.subscriptions.values() if s.next_due <= now), key=lambda s: s.next_due
        )
        return due[:limit]

    async def subscribers(self) -> list[tuple[str, str]]:
        self._check()
        return [(s.conversation_id, s.language) for s in self.subscriptions.values()]

    async def subscriber_count(self) -> int:
        self._check()
        return len(self.subscriptions)

    async def claim(self, user_key: str, due: datetime, next_due: datetime) -> bool:
        self._check()
        current = self.subscriptions.get(user_key)
        if current is None or current.next_due != due:
            return False
        self.subscriptions[user_key] = _with_due(current, next_due)
        return True

    async def reschedule(self, user_key: str, due: datetime) -> None:
        self._check()
        current = self.subscriptions.get(user_key)
        if current is not None:
            self.subscriptions[user_key] = _with_due(current, due)


class FakeLanguageChoices(_Switch):
    """Each person's `språk` choice by user key, with the real stores' rules (a key must not be
    empty; only "nb", "nn" and "en" are stored)."""

    def __init__(self, **choices: LanguageChoice) -> None:
        self.items: dict[str, LanguageChoice] = dict(choices)

    async def get(self, user_key: str) -> LanguageChoice | None:
        self._check()
        require_user_key(user_key)
        return self.items.get(user_key)

    async def choose(self, user_key: str, language: str) -> None:
        self._check()
        require_user_key(user_key)
        if language not in LANGUAGES:
            raise ValueError(f"not a language the bot speaks: {language!r}")
        self.items[user_key] = LanguageChoice(language=language, offered=True)

    async def mark_offered(self, user_key: str) -> None:
        self._check()
        require_user_key(user_key)
        self.items[user_key] = replace(self.items.get(user_key, LanguageChoice()), offered=True)


def _with_due(subscription: Subscription, due: datetime) -> Subscription:
    return replace(subscription, next_due=due)


class FakeActionLedger(_Switch):
    """Claims in `claims` (action id → (kind, outcome, claimed at)); `seen` counts every claim."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self.claims: dict[str, tuple[str, str, datetime]] = {}
        self.seen: Counter[str] = Counter()

    async def claim(self, action_id: str, kind: str) -> str | None:
        self._check()
        self.seen[action_id] += 1
        if action_id in self.claims:
            return self.claims[action_id][1]
        self.claims[action_id] = (kind, "", self._clock())
        return None

    async def settle(self, action_id: str, outcome: str) -> None:
        self._check()
        kind, _, at = self.claims.get(action_id, ("", "", self._clock()))
        self.claims[action_id] = (kind, outcome, at)

    async def prune(self, before: datetime) -> int:
        self._check()
        old = [key for key, (_, _, at) in self.claims.items() if at < before]
        for key in old:
            del self.claims[key]
        return len(old)


@dataclass
class CreatedJob:
    created_by: str
    due: datetime
    cards: Mapping[str, Any]
    recipients: Sequence[tuple[str, str]]
    progress_conversation: str
    progress_activity: str
    progress_language: str
    subscribers: bool = False  # for the lesson subscribers, listed later by the worker


@dataclass
class FakeBroadcasts(_Switch):
    jobs: list[CreatedJob] = field(default_factory=list)
    recipients_stored: int = 0  # recipients stored when jobs were created (work done in the turn)

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
        self._check()
        self.jobs.append(
            CreatedJob(
                created_by,
                due,
                cards,
                list(recipients),
                progress_conversation,
                progress_activity,
                progress_language,
                subscribers,
            )
        )
        self.recipients_stored += len(recipients)
        return Progress(len(recipients), 0, 0, 0, 0, 0.0)


class FakeLearningCards(_Switch):
    def __init__(self) -> None:
        self.cards: dict[str, StoredCard] = {}

    async def add(self, card: LearningCard) -> bool:
        self._check()
        if card.card_id in self.cards:
            return False
        self.cards[card.card_id] = StoredCard(card, DeliveryState.PENDING)
        return True

    async def get(self, card_id: str) -> StoredCard | None:
        self._check()
        return self.cards.get(card_id)

    async def all(self) -> list[StoredCard]:
        self._check()
        return list(self.cards.values())

    async def due(self, now: float, limit: int) -> list[StoredCard]:
        """Pending cards, and delivered cards whose sender must be removed from their item."""
        waiting = (DeliveryState.PENDING, DeliveryState.REDACT)
        return [c for c in self.cards.values() if c.state in waiting][:limit]

    async def next_attempt(self) -> float | None:
        return None

    async def delivered(self, card_id: str, item_id: str) -> None:
        """As the real stores: a pending card whose sender was erased meanwhile goes on to
        REDACT; everything else (a REDACT card too) is DELIVERED."""
        stored = self.cards[card_id]
        erased = stored.state is DeliveryState.PENDING and stored.card.author == ""
        state = DeliveryState.REDACT if erased else DeliveryState.DELIVERED
        self.cards[card_id] = replace(stored, state=state, item_id=item_id)

    async def retry(self, card_id: str, at: float, reason: str) -> None:
        return None

    async def park(self, card_id: str, reason: str) -> None:
        self.cards[card_id] = replace(self.cards[card_id], state=DeliveryState.PARKED)

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int:
        return 0

    async def requeue_parked(self) -> int:
        return 0


@dataclass
class FakeState(_Switch):
    """Conversation state by key (no e_tags: the flows under test do not race)."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        self._check()
        return {key: dict(self.items[key]) for key in keys if key in self.items}

    async def write(self, changes: Mapping[str, Any]) -> None:
        self._check()
        self.items.update({key: dict(value) for key, value in changes.items()})

    async def delete(self, keys: Sequence[str]) -> None:
        self._check()
        for key in keys:
            self.items.pop(key, None)


def _job(index: int, created: CreatedJob) -> Job:
    return Job(
        id=f"job-{index}",
        created_by=created.created_by,
        due=created.due.timestamp(),
        state="scheduled",
        cards=created.cards,
        progress_service_url="",
        progress_conversation=created.progress_conversation,
        progress_activity=created.progress_activity,
        progress_language=created.progress_language,
        started_at=None,
        finished_at=None,
    )


def _names(reference: StoredReference, user_key: str) -> bool:
    user = reference.reference.get("user")
    return isinstance(user, Mapping) and user_key in (user.get("aadObjectId"), user.get("id"))


class FakePersonalData(_Switch):
    """`PersonalData` over the other fakes, with the same rules as the real stores."""

    def __init__(
        self,
        *,
        references: FakeReferences,
        lessons: FakeLessons,
        broadcasts: FakeBroadcasts,
        learning_cards: FakeLearningCards,
        state: StateStore | None = None,
        languages: FakeLanguageChoices | None = None,
        clock: Callable[[], datetime] = _utc_now,
        trials: FakeTrials | None = None,
    ) -> None:
        self.references = references
        self.trials = trials
        self.lessons = lessons
        self.broadcasts = broadcasts
        self.learning_cards = learning_cards
        self.state = state
        self.languages = languages
        self._clock = clock
        self.erased: list[str] = []  # user keys, in the order they were erased

    async def person(self, user_key: str) -> PersonRecord:
        self._check()
        require_user_key(user_key)
        return PersonRecord(
            user_key=user_key,
            conversations=tuple(
                sorted(
                    (r for r in self.references.items.values() if _names(r, user_key)),
                    key=lambda r: r.conversation_id,
                )
            ),
            lessons_completed=frozenset(self.lessons.done.get(user_key, set())),
            subscription=self.lessons.subscriptions.get(user_key),
            learning_cards=tuple(
                c for c in self.learning_cards.cards.values() if c.card.author == user_key
            ),
            broadcasts=tuple(
                _job(i, job)
                for i, job in enumerate(self.broadcasts.jobs)
                if job.created_by == user_key
            ),
            language=None if self.languages is None else self.languages.items.get(user_key),
            trials=() if self.trials is None else tuple(await self.trials.of_person(user_key)),
            trial_reminders_muted=self.trials is not None and user_key in self.trials.muted,
        )

    async def conversations(self, user_key: str) -> list[StoredReference]:
        self._check()
        require_user_key(user_key)
        return sorted(
            (r for r in self.references.items.values() if _names(r, user_key)),
            key=lambda r: r.conversation_id,
        )

    async def erase(self, user_key: str) -> Erasure:
        self._check()
        require_user_key(user_key)
        self.erased.append(user_key)
        if self.languages is not None:
            self.languages.items.pop(user_key, None)
        subscription = self.lessons.subscriptions.pop(user_key, None)
        own_chats = {
            ref.conversation_id
            for ref in self.references.items.values()
            if ref.conversation_type == PERSONAL and _names(ref, user_key)
        }
        if subscription is not None:
            own_chats.add(subscription.conversation_id)
        conversations = 0
        for ref in list(self.references.items.values()):
            own_chat = ref.conversation_type == PERSONAL and (
                _names(ref, user_key)
                or (
                    subscription is not None and subscription.conversation_id == ref.conversation_id
                )
            )
            if own_chat:
                del self.references.items[ref.conversation_id]
                if self.state is not None:
                    await self.state.delete(
                        conversation_state_keys(ref.conversation_id, ref.reference)
                    )
                conversations += 1
            elif _names(ref, user_key):
                without = {k: v for k, v in ref.reference.items() if k != "user"}
                self.references.items[ref.conversation_id] = replace(ref, reference=without)
                conversations += 1
        lessons = len(self.lessons.done.pop(user_key, set()))
        cards = 0
        for card_id, stored in list(self.learning_cards.cards.items()):
            if stored.card.author != user_key:
                continue
            redact = stored.state is DeliveryState.DELIVERED and bool(stored.item_id)
            self.learning_cards.cards[card_id] = replace(
                stored,
                card=replace(stored.card, author=""),
                state=DeliveryState.REDACT if redact else stored.state,
            )
            cards += 1
        jobs = 0
        for index, job in enumerate(self.broadcasts.jobs):
            job.recipients = [
                (f"erased:{index}-{n}" if cid in own_chats else cid, language)
                for n, (cid, language) in enumerate(job.recipients)
            ]
            if job.created_by == user_key:
                job.created_by = ""
                job.progress_conversation = job.progress_activity = ""
                jobs += 1
        trials, unmuted = 0, False
        if self.trials is not None:
            trials = await self.trials.forget_person(user_key)
            unmuted = await self.trials.unmute_reminders(user_key)
        return Erasure(
            conversations, lessons, subscription is not None, cards, jobs, trials, unmuted
        )

    async def prune(self, last_seen_before: datetime) -> int:
        self._check()
        subscribed = {s.conversation_id for s in self.lessons.subscriptions.values()}
        old = [
            ref
            for ref in self.references.items.values()
            if ref.last_seen is not None
            and ref.last_seen < last_seen_before
            and ref.conversation_id not in subscribed  # a subscriber is not gone
        ]
        for ref in old:
            del self.references.items[ref.conversation_id]
            if self.state is not None:
                await self.state.delete(conversation_state_keys(ref.conversation_id, ref.reference))
        return len(old)

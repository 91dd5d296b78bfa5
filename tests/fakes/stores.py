"""In-memory stores implementing the Protocols of bot/ports.py, for flow unit tests.

Each counts what it was asked and can be switched to fail with `StorageUnavailableError`
(`down = True`), the way an unreachable database or storage account fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core.broadcast import Progress
from bot.core.learning_cards import DeliveryState, LearningCard, StoredCard
from bot.core.records import StoredReference, Subscription, UsageSnapshot
from bot.ports import StorageUnavailableError


class _Switch:
    down = False

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailableError("the fake store is down")


class FakeReferences(_Switch):
    def __init__(self, *references: StoredReference) -> None:
        self.items = {ref.conversation_id: ref for ref in references}

    async def save(self, reference: StoredReference) -> bool:
        self._check()
        changed = self.items.get(reference.conversation_id) != reference
        self.items[reference.conversation_id] = reference
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
    def __init__(self) -> None:
        self.verdicts: Counter[tuple[str, str, str, str]] = Counter()
        self.feedback: Counter[bool] = Counter()

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None:
        self._check()
        self.verdicts[verdict, task, tool, category] += 1

    async def record_feedback(self, useful: bool) -> None:
        self._check()
        self.feedback[useful] += 1

    async def snapshot(self) -> UsageSnapshot:
        self._check()
        return UsageSnapshot(dict(self.verdicts), dict(self.feedback))


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


def _with_due(subscription: Subscription, due: datetime) -> Subscription:
    return replace(subscription, next_due=due)


@dataclass
class CreatedJob:
    created_by: str
    due: datetime
    cards: Mapping[str, Any]
    recipients: Sequence[tuple[str, str]]
    progress_conversation: str
    progress_activity: str
    progress_language: str


@dataclass
class FakeBroadcasts(_Switch):
    jobs: list[CreatedJob] = field(default_factory=list)

    async def create_job(
        self,
        *,
        created_by: str,
        due: datetime,
        cards: Mapping[str, Any],
        recipients: Sequence[tuple[str, str]],
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
            )
        )
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
        return [c for c in self.cards.values() if c.state is DeliveryState.PENDING][:limit]

    async def next_attempt(self) -> float | None:
        return None

    async def delivered(self, card_id: str, item_id: str) -> None:
        self.cards[card_id] = replace(
            self.cards[card_id], state=DeliveryState.DELIVERED, item_id=item_id
        )

    async def retry(self, card_id: str, at: float, reason: str) -> None:
        return None

    async def park(self, card_id: str, reason: str) -> None:
        self.cards[card_id] = replace(self.cards[card_id], state=DeliveryState.PARKED)

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int:
        return 0

    async def requeue_parked(self) -> int:
        return 0

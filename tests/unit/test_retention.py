"""The retention worker: once a day it forgets conversations gone quiet for longer than the limit
and monthly usage counts older than it, on a virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.records import StoredReference
from bot.workers.retention import RetentionWorker
from tests.fakes.stores import (
    FakeBroadcasts,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
    FakeUsage,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Stop(Exception):
    """Raised by the test's sleep to end the worker's endless loop."""


def _reference(conversation_id: str, last_seen: datetime) -> StoredReference:
    return StoredReference(conversation_id, "personal", "t", {}, last_seen=last_seen)


async def test_a_daily_round_forgets_only_what_outlived_the_limit() -> None:
    now = [NOW - timedelta(days=400)]
    usage = FakeUsage(clock=lambda: now[0])
    await usage.record_verdict("green", "write", "copilot_chat", "open")  # 400 days ago
    now[0] = NOW
    await usage.record_verdict("red", "write", "chatgpt", "confidential")
    references = FakeReferences(
        _reference("a:gone", NOW - timedelta(days=366)),
        _reference("a:quiet", NOW - timedelta(days=300)),
    )
    personal = FakePersonalData(
        references=references,
        lessons=FakeLessons(),
        broadcasts=FakeBroadcasts(),
        learning_cards=FakeLearningCards(),
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop  # end the endless loop after two rounds

    worker = RetentionWorker(
        personal=personal, usage=usage, days=365, clock=lambda: now[0], sleep=sleep
    )
    with pytest.raises(Stop):
        await worker.run_forever()
    assert sorted(references.items) == ["a:quiet"]
    snapshot = await usage.snapshot()
    assert list(snapshot.verdicts) == [("red", "write", "chatgpt", "confidential")]
    assert sleeps == [24 * 3600.0, 24 * 3600.0], "once a day"


async def test_a_store_outage_is_survived_and_tried_again_next_round() -> None:
    references = FakeReferences(_reference("a:gone", NOW - timedelta(days=800)))
    personal = FakePersonalData(
        references=references,
        lessons=FakeLessons(),
        broadcasts=FakeBroadcasts(),
        learning_cards=FakeLearningCards(),
    )
    personal.down = True
    rounds: list[float] = []

    async def sleep(seconds: float) -> None:
        rounds.append(seconds)
        personal.down = False
        if len(rounds) == 2:
            raise Stop

    worker = RetentionWorker(
        personal=personal, usage=FakeUsage(), days=365, clock=lambda: NOW, sleep=sleep
    )
    with pytest.raises(Stop):
        await worker.run_forever()
    assert references.items == {}, "the second round did it"

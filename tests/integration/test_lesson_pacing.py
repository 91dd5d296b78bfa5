"""Weekly lessons go out within Teams' limits, and share one budget with broadcasts.

The lesson worker sends through the `ProactiveSender` port straight onto the limit-enforcing fake
connector, on virtual time (see tests/integration/test_broadcast_worker.py): a window is decided
by what was sent when, never by how busy the machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import sqlite_stores
from bot.core.rate_limit import RateLimiter
from bot.core.records import StoredReference, Subscription
from bot.ports import DeliveryError, Stores
from bot.settings import Settings
from bot.workers.broadcast import BroadcastWorker
from bot.workers.lessons import CONCURRENCY, LEASE, LessonWorker
from bot.workers.pacing import Pacer
from tests.fakes.teams_connector import FakeSender, FakeTeamsConnector

MONDAY_9_OSLO = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class VirtualTime:
    """Moves only when a worker sleeps; work that is ready runs before it moves."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    opened = await sqlite_stores(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}))
    yield opened
    await opened.backend.close()


def _reference(conversation_id: str) -> dict[str, Any]:
    return {
        "serviceUrl": "https://smba.example.test/emea/",
        "channelId": "msteams",
        "conversation": {"id": conversation_id, "conversationType": "personal", "tenantId": "t1"},
        "bot": {"id": "28:bot"},
        "user": {"id": f"29:{conversation_id}"},
    }


async def _subscribe(stores: Stores, users: int, conversations: int | None = None) -> list[str]:
    """`users` subscribers due now, spread over `conversations` chats (default: one each)."""
    ids = []
    for index in range(users):
        conversation_id = f"a:c{index % (conversations or users)}"
        await stores.references.save(
            StoredReference(conversation_id, "personal", "t1", _reference(conversation_id))
        )
        await stores.lessons.subscribe(
            Subscription(
                f"user-{index}", conversation_id, 0, "09:00", "Europe/Oslo", "nb", MONDAY_9_OSLO
            )
        )
        ids.append(conversation_id)
    return ids


def _lesson_worker(
    stores: Stores, fake: FakeTeamsConnector, pacer: Pacer, time: VirtualTime
) -> LessonWorker:
    return LessonWorker(
        store=stores.lessons,
        references=stores.references,
        sender=fake.sender(),
        pacer=pacer,
        weekly_card=lambda language, done: {"type": "AdaptiveCard", "lesson": len(done) + 1},
        clock=time.utc,
    )


async def test_lessons_to_many_subscribers_keep_the_tenant_limit(stores: Stores) -> None:
    time = VirtualTime(MONDAY_9_OSLO + timedelta(minutes=1))
    fake = FakeTeamsConnector(clock=time)
    pacer = Pacer(RateLimiter(), clock=time, sleep=time.sleep)
    await _subscribe(stores, 320)
    started = time.now

    sent = await _lesson_worker(stores, fake, pacer, time).run_once()

    assert sent == 320, "every subscriber got this week's lesson in one round"
    assert fake.throttled == 0, "Teams never had to refuse a lesson"
    assert fake.duplicates() == {}
    assert time.now - started >= (320 - 50) / 50, "at most 50 a second to the tenant"


async def test_many_lessons_to_one_conversation_keep_its_own_limits(stores: Stores) -> None:
    time = VirtualTime(MONDAY_9_OSLO + timedelta(minutes=1))
    fake = FakeTeamsConnector(clock=time)
    pacer = Pacer(RateLimiter(), clock=time, sleep=time.sleep)
    await _subscribe(stores, 24, conversations=2)

    sent = await _lesson_worker(stores, fake, pacer, time).run_once()

    assert sent == 24
    assert fake.throttled == 0
    first = sorted(d.at for d in fake.deliveries if d.conversation_id == "a:c0")
    assert len(first) == 12
    assert first[-1] - first[0] >= 2.0, "12 to one chat take two seconds: 8 per 2 s at most"


async def test_lessons_and_a_broadcast_share_one_budget(stores: Stores) -> None:
    time = VirtualTime(MONDAY_9_OSLO + timedelta(minutes=1))
    fake = FakeTeamsConnector(clock=time)
    pacer = Pacer(RateLimiter(), clock=time, sleep=time.sleep)
    subscribers = await _subscribe(stores, 150)
    others = []
    for index in range(150):
        conversation_id = f"a:other{index}"
        await stores.references.save(
            StoredReference(conversation_id, "personal", "t1", _reference(conversation_id))
        )
        others.append((conversation_id, "nb"))
    await stores.broadcasts.create_job(
        created_by="aad-champion",
        due=time.utc(),
        cards={"nb": {"type": "AdaptiveCard", "tip": 1}},
        recipients=[*others, *((cid, "nb") for cid in subscribers[:50])],
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    broadcaster = BroadcastWorker(
        store=stores.broadcasts,
        references=stores.references,
        sender=fake.sender(),
        pacer=pacer,
        progress_card=lambda job, progress, now: {},
        clock=time,
        sleep=time.sleep,
        rng=random.Random(3),
    )
    [job] = await stores.broadcasts.runnable(time.now)
    started = time.now

    lessons, progress = await asyncio.gather(
        _lesson_worker(stores, fake, pacer, time).run_once(), broadcaster.run_job(job)
    )

    assert lessons == 150
    assert progress.sent == 200
    assert fake.throttled == 0, "together they stay inside the tenant's 50 a second"
    assert len(fake.deliveries) == 350
    assert time.now - started >= (350 - 50) / 50


class _KilledMidRun:
    """Teams takes every lesson; after the first `answered` sends the answers stop coming back
    (the messages reach the chats, the worker never hears so): the moment a kill hurts most."""

    def __init__(self, inner: FakeSender, answered: int, in_flight: int) -> None:
        self.inner, self.answered, self.in_flight = inner, answered, in_flight
        self.hung: list[str] = []
        self.full = asyncio.Event()

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        await self.inner.send(reference, card)
        if self.answered > 0:
            self.answered -= 1
            return
        self.hung.append(str(reference["conversation"]["id"]))
        if len(self.hung) >= self.in_flight:
            self.full.set()
        await asyncio.Event().wait()  # the answer never comes: killed before it does

    async def update(self, **fields: Any) -> None:
        await self.inner.update(**fields)


async def test_a_kill_mid_lesson_run_resumes_without_duplicates_beyond_those_in_flight(
    stores: Stores,
) -> None:
    time = VirtualTime(MONDAY_9_OSLO + timedelta(minutes=1))
    fake = FakeTeamsConnector(clock=time)
    subscribers = await _subscribe(stores, 200)
    dying = _KilledMidRun(fake.sender(), answered=60, in_flight=CONCURRENCY)
    first = LessonWorker(
        store=stores.lessons,
        references=stores.references,
        sender=dying,
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        weekly_card=lambda language, done: {"type": "AdaptiveCard", "lesson": len(done) + 1},
        clock=time.utc,
    )
    run = asyncio.create_task(first.run_once())
    await dying.full.wait()
    run.cancel()  # the kill
    with contextlib.suppress(asyncio.CancelledError):
        await run
    assert len(fake.deliveries) == 60 + CONCURRENCY

    # restarted (a new process knows nothing of the last second's sends; a restart takes longer):
    # the lessons in flight at the kill are still leased, the rest go out
    time.now += 5
    restarted = _lesson_worker(
        stores, fake, Pacer(RateLimiter(), clock=time, sleep=time.sleep), time
    )
    assert await restarted.run_once() == 200 - 60 - CONCURRENCY
    assert fake.duplicates() == {}

    # once the lease has run out, those in flight at the kill are sent again
    time.now += LEASE.total_seconds() + 1
    assert await restarted.run_once() == CONCURRENCY
    received = Counter(d.conversation_id for d in fake.deliveries)
    assert set(received) == set(subscribers), "nobody missed this week's lesson"
    twice = {conversation for conversation, count in received.items() if count > 1}
    assert twice == set(dying.hung), "only the lessons in flight at the kill came twice"
    assert len(twice) <= CONCURRENCY
    assert fake.throttled == 0

    # and everyone has moved on to next Monday: nothing more this week
    time.now += 3600
    assert await restarted.run_once() == 0
    [subscription] = [
        s
        for s in await stores.lessons.due(MONDAY_9_OSLO + timedelta(days=7), 1000)
        if s.user_key == "user-0"
    ]
    assert subscription.next_due == MONDAY_9_OSLO + timedelta(days=7)


class _Refusals:
    """Notes when Teams refused a lesson."""

    def __init__(self, inner: FakeSender, time: VirtualTime) -> None:
        self.inner, self.time = inner, time
        self.refused_at: list[float] = []

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        try:
            await self.inner.send(reference, card)
        except DeliveryError:
            self.refused_at.append(self.time.now)
            raise

    async def update(self, **fields: Any) -> None:
        await self.inner.update(**fields)


async def test_a_429_pauses_the_lessons_for_retry_after_and_then_sends_the_refused_one_once(
    stores: Stores,
) -> None:
    time = VirtualTime(MONDAY_9_OSLO + timedelta(minutes=1))
    fake = FakeTeamsConnector(clock=time, retry_after_seconds=20)
    await _subscribe(stores, 30)
    fake.script("a:c5", (429, None))
    refusals = _Refusals(fake.sender(), time)
    worker = LessonWorker(
        store=stores.lessons,
        references=stores.references,
        sender=refusals,
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        weekly_card=lambda language, done: {"type": "AdaptiveCard", "lesson": len(done) + 1},
        clock=time.utc,
    )

    sent = await worker.run_once()

    assert sent == 30, "the refused lesson went out in the same run, after Retry-After"
    assert fake.duplicates() == {}
    [refused_at] = refusals.refused_at
    assert not [d for d in fake.deliveries if refused_at < d.at < refused_at + 20], (
        "nothing went to the tenant while Teams had asked for a pause"
    )
    [again] = [d for d in fake.deliveries if d.conversation_id == "a:c5"]
    assert again.at >= refused_at + 20

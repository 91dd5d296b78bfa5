"""Weekly lessons go out within Teams' limits, and share one budget with broadcasts.

The lesson worker sends through the `ProactiveSender` port straight onto the limit-enforcing fake
connector, on virtual time (see tests/integration/test_broadcast_worker.py): a window is decided
by what was sent when, never by how busy the machine is.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import sqlite_stores
from bot.core.rate_limit import RateLimiter
from bot.core.records import StoredReference, Subscription
from bot.ports import Stores
from bot.settings import Settings
from bot.workers.broadcast import BroadcastWorker
from bot.workers.lessons import LessonWorker
from bot.workers.pacing import Pacer
from tests.fakes.teams_connector import FakeTeamsConnector

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

"""A tip to every lesson subscriber, listed by the broadcast worker (not the champion's turn), on
SQLite, sent onto the fake Teams connector on virtual time. The worker dies in the middle of the
listing; the next one lists again and everyone gets the tip exactly once."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.sqlite.broadcast import SqliteBroadcastStore
from bot.adapters.sqlite.db import SqliteDatabase
from bot.bootstrap import open_stores
from bot.core.broadcast import Progress
from bot.core.rate_limit import RateLimiter
from bot.core.records import JOB_LISTING, Job, StoredReference, Subscription
from bot.ports import BroadcastJobStore, Stores
from bot.settings import Settings
from bot.workers.broadcast import LIST_CHUNK, BroadcastWorker
from bot.workers.pacing import Pacer
from tests.fakes.stores import FakeReferences
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.integration.test_broadcast_worker import VirtualTime

SUBSCRIBERS = 1_050
CHUNK = 200  # the worker's listing chunk here: six chunks, the last one short


class KilledError(Exception):
    """The worker's process died here."""


class DyingStore(SqliteBroadcastStore):
    """The SQLite store, in a process that dies right after its `dies_after`-th chunk of listed
    recipients was committed."""

    def __init__(self, db: SqliteDatabase, dies_after: int) -> None:
        super().__init__(db)
        self.dies_after = dies_after
        self.chunks = 0

    async def add_recipients(self, job_id: str, recipients: Sequence[tuple[str, str]]) -> int:
        added = await super().add_recipients(job_id, recipients)
        self.chunks += 1
        if self.chunks == self.dies_after:
            raise KilledError
        return added


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    opened = await open_stores(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}))
    for index in range(SUBSCRIBERS):
        cid = f"a:person-{index}"
        await opened.lessons.subscribe(
            Subscription(
                f"user-{index}",
                cid,
                0,
                "09:00",
                "Europe/Oslo",
                "nb",
                datetime(2026, 11, 23, 8, tzinfo=UTC),
            )
        )
        conversation = {"id": cid, "conversationType": "personal", "tenantId": "tenant"}
        reference = {"conversation": conversation, "user": {"id": f"29:{index}"}}
        await opened.references.save(StoredReference(cid, "personal", "tenant", reference))
    yield opened
    await opened.backend.close()


def _worker(
    store: BroadcastJobStore,
    stores: Stores,
    fake: FakeTeamsConnector,
    time: VirtualTime,
    shown: list[Progress],
) -> BroadcastWorker:
    def progress_card(job: Job, progress: Progress, now: float) -> dict[str, int]:
        shown.append(progress)
        return {"sent": progress.sent}

    return BroadcastWorker(
        store=store,
        references=stores.references,
        sender=fake.sender(),
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        progress_card=progress_card,
        clock=time,
        sleep=time.sleep,
        rng=random.Random(3),
        subscribers=stores.lessons.subscribers,
        list_chunk=CHUNK,
    )


async def _recipient_rows(db: SqliteDatabase) -> int:
    def count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM broadcast_recipients").fetchone()[0])

    return await db.run(count)


async def test_a_worker_killed_while_listing_the_subscribers_is_resumed_without_duplicates(
    stores: Stores,
) -> None:
    db = stores.backend
    assert isinstance(db, SqliteDatabase)
    time = VirtualTime()
    fake = FakeTeamsConnector(clock=time)
    first = await stores.broadcasts.create_job(
        created_by="aad-champion",
        due=datetime.fromtimestamp(time.now, UTC),
        cards={"nb": {"type": "AdaptiveCard", "version": "1.5", "body": []}},
        subscribers=True,
        progress_service_url="https://smba.example/",
        progress_conversation="a:champion",
        progress_activity="card-1",
        progress_language="nb",
    )
    assert first.total == 0
    assert await _recipient_rows(db) == 0, "creating the job stored no recipient"

    shown: list[Progress] = []
    [job] = await stores.broadcasts.runnable(time.now)
    dying = DyingStore(db, dies_after=3)
    with pytest.raises(KilledError):
        await _worker(dying, stores, fake, time, shown).run_job(job)
    assert await _recipient_rows(db) == 3 * CHUNK, "killed after three chunks were stored"
    assert fake.deliveries == [], "nothing is sent before everyone is listed"
    assert shown == []

    [again] = await stores.broadcasts.runnable(time.now)
    assert (again.id, again.state) == (job.id, JOB_LISTING), "the next worker lists again"
    final = await _worker(stores.broadcasts, stores, fake, time, shown).run_job(again)

    assert (final.total, final.sent) == (SUBSCRIBERS, SUBSCRIBERS)
    assert fake.duplicates() == {}, "nobody gets the tip twice"
    assert sorted(d.conversation_id for d in fake.deliveries) == sorted(
        f"a:person-{index}" for index in range(SUBSCRIBERS)
    )
    assert shown, "the champion's card was updated"
    assert {p.total for p in shown} == {SUBSCRIBERS}, "every update shows the real total"
    assert await stores.broadcasts.runnable(time.now) == []


class StopsAfterListingError(Exception):
    """The worker's process stops right after the listing (this test does not send)."""


class StopsAfterListing(SqliteBroadcastStore):
    async def listed(self, job_id: str) -> None:
        await super().listed(job_id)
        raise StopsAfterListingError


async def test_listing_100k_subscribers_lets_a_concurrent_turn_through(tmp_path: Path) -> None:
    """Counted, not timed: a person's turn that touches the database while the worker lists
    100,000 subscribers waits for at most the chunk in progress, never for the whole list."""
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    try:
        store = StopsAfterListing(db)
        everyone = [(f"a:person-{index:06d}", "nb") for index in range(100_000)]

        async def subscribers() -> list[tuple[str, str]]:
            return everyone

        time = VirtualTime()
        await store.create_job(
            created_by="aad-champion",
            due=datetime.fromtimestamp(time.now, UTC),
            cards={"nb": {"type": "AdaptiveCard"}},
            subscribers=True,
            progress_service_url="",
            progress_conversation="",
            progress_activity="",
            progress_language="nb",
        )
        fake = FakeTeamsConnector(clock=time)
        worker = BroadcastWorker(
            store=store,
            references=FakeReferences(),
            sender=fake.sender(),
            pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
            progress_card=lambda job, progress, now: {},
            clock=time,
            sleep=time.sleep,
            subscribers=subscribers,
        )
        [job] = await store.runnable(time.now)
        listing = asyncio.create_task(worker.run_job(job))
        await asyncio.sleep(0)  # the listing has started

        def turn(conn: sqlite3.Connection) -> tuple[int, list[Any]]:
            stored = conn.execute("SELECT COUNT(*) FROM broadcast_recipients").fetchone()[0]
            return int(stored), conn.execute("SELECT state FROM broadcast_jobs").fetchall()

        stored_then, jobs_then = await db.run(turn)
        assert not listing.done()
        assert stored_then <= 2 * LIST_CHUNK, "at most the chunk in progress when it asked"
        assert jobs_then == [(JOB_LISTING,)]
        with pytest.raises(StopsAfterListingError):
            await listing
        assert (await db.run(turn))[0] == 100_000
        assert [j.state for j in await store.runnable(time.now)] == ["scheduled"]
        assert fake.deliveries == []
    finally:
        await db.close()

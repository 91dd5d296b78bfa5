"""A tip to the lesson subscribers, on both backends (SQLite, and Azure Storage on Azurite): the
champion's turn stores the job without listing anyone; the broadcast worker lists the subscribers
in chunks when it is due, and listing again after a crash (on another instance, for Azure) adds
nobody twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import open_stores
from bot.core.broadcast import Progress
from bot.core.records import JOB_LISTING, Job
from bot.ports import Stores
from bot.settings import Settings
from tests.contract.conftest import backend_settings

CARDS = {"nb": {"type": "AdaptiveCard", "body": []}}
LEASE_SECONDS = 5  # the shortest an Azure job's lease may be: a dead instance's job comes back


@pytest.fixture(params=["sqlite", "azure"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path, KIVETT_AZURE_LEASE_SECONDS=str(LEASE_SECONDS))


@pytest.fixture
async def stores(store_settings: Settings) -> AsyncIterator[Stores]:
    opened = await open_stores(store_settings)
    yield opened
    await opened.backend.close()


async def _to_subscribers(stores: Stores, due: datetime) -> Progress:
    return await stores.broadcasts.create_job(
        created_by="aad-champion",
        due=due,
        cards=CARDS,
        subscribers=True,
        progress_service_url="https://smba.example/",
        progress_conversation="a:champion",
        progress_activity="activity-1",
        progress_language="nb",
    )


async def _taken(stores: Stores, now: float) -> Job:
    """The job, once this instance may take it (on Azure: when the dead one's lease ran out).
    Tried for up to 24 times the lease (30 s of real time), generous for a loaded machine: the
    job normally comes back after about one lease."""
    for _ in range(LEASE_SECONDS * 24):
        found = await stores.broadcasts.runnable(now)
        if found:
            [job] = found
            return job
        await asyncio.sleep(0.25)
    raise AssertionError("the job was not given to the other instance")


async def test_a_tip_to_the_subscribers_is_stored_now_and_listed_when_it_is_due(
    stores: Stores,
) -> None:
    jobs, now = stores.broadcasts, time.time()
    later = await _to_subscribers(stores, datetime.fromtimestamp(now + 3600, UTC))
    assert later.total == 0, "nobody is listed yet"
    assert await jobs.runnable(now) == [], "not before it is due"

    await _to_subscribers(stores, datetime.fromtimestamp(now, UTC))
    [job] = await jobs.runnable(now + 1)
    assert (job.state, job.progress_conversation) == (JOB_LISTING, "a:champion")
    assert await jobs.add_recipients(job.id, [("a:1", "nb"), ("a:2", "nn"), ("a:1", "en")]) == 2
    assert await jobs.add_recipients(job.id, [("a:2", "en"), ("a:3", "en")]) == 1, (
        "a conversation already listed is left as it is"
    )
    await jobs.listed(job.id)
    [job] = await jobs.runnable(now + 1)
    assert job.state == "scheduled"
    assert await jobs.add_recipients(job.id, [("a:4", "nb")]) == 0, "a listed job takes nobody"
    await jobs.start(job.id, now + 1)
    pending = await jobs.pending(job.id, now + 1, 100)
    assert sorted((p.conversation_id, p.language) for p in pending) == [
        ("a:1", "nb"),
        ("a:2", "nn"),
        ("a:3", "en"),
    ]
    progress = await jobs.progress(job.id, now + 1)
    assert (progress.total, progress.sent) == (3, 0)


async def test_listing_again_after_a_crash_adds_nobody_twice(store_settings: Settings) -> None:
    now = time.time()
    everyone = [(f"a:{index}", "nb") for index in range(12)]
    first = await open_stores(store_settings)
    try:
        # due a second ago: a due of exactly `now` can round up to the next microsecond
        await _to_subscribers(first, datetime.fromtimestamp(now - 1, UTC))
        job = await _taken(first, now)
        assert await first.broadcasts.add_recipients(job.id, everyone[:5]) == 5
    finally:
        await first.backend.close()  # this instance dies in the middle of the listing

    second = await open_stores(store_settings)
    try:
        resumed = await _taken(second, now)
        assert (resumed.id, resumed.state) == (job.id, JOB_LISTING)
        jobs = second.broadcasts
        assert await jobs.add_recipients(job.id, everyone[:8]) == 3, "the first 5 are there"
        assert await jobs.add_recipients(job.id, everyone[8:]) == 4
        await jobs.listed(job.id)
        await jobs.start(job.id, now)
        pending = await jobs.pending(job.id, now, 100)
        assert sorted(p.conversation_id for p in pending) == sorted(cid for cid, _ in everyone)
        assert (await jobs.progress(job.id, now)).total == len(everyone)
    finally:
        await second.backend.close()

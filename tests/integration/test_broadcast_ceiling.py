"""Issue 16: a broadcast at Teams' ceiling without 429s, and 100,000 recipients without hurting
turns.

The ceiling tests run on a virtual clock with a scheduler (time jumps to the next sleeper when
nothing else can run), a network that delays every send by a random time on the way to the fake
Teams connector and on the way back, and the fake enforcing Teams' windows at the moment a message
arrives. The job store there is an in-memory implementation of `BroadcastJobStore`, so that no real
I/O lets virtual time pass; the 100,000-recipient tests use the real SQLite store.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import sqlite3
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.adapters.sqlite.broadcast import CHUNK, SqliteBroadcastStore
from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.broadcast import Progress, RecipientState
from bot.core.rate_limit import RateLimiter
from bot.core.records import Job, PendingRecipient
from bot.workers.broadcast import BroadcastWorker
from bot.workers.pacing import Pacer
from tests.fakes.stores import FakeReferences
from tests.fakes.teams_connector import FakeSender, FakeTeamsConnector

T = TypeVar("T")
TENANT = "tenant"
START = 1_800_000_000.0


class Scheduler:
    """Virtual time: `sleep` parks the caller until the clock reaches its wake time; the clock
    jumps to the earliest sleeper whenever everything else is waiting."""

    def __init__(self) -> None:
        self.now = START
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), future))
        await future

    async def run(self, main: Awaitable[T]) -> T:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(20):  # let everything that is ready run first
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            at, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            if not future.done():
                future.set_result(None)
        return task.result()


class JitteryNetwork:
    """The fake connector behind a network that delays each send 0-`most` s on the way there and
    again on the way back (seeded), so arrivals never keep the order or spacing of the sends."""

    def __init__(self, inner: FakeSender, clock: Scheduler, most: float, seed: int) -> None:
        self._inner = inner
        self._clock = clock
        self._most = most
        self._rng = random.Random(seed)

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        await self._clock.sleep(self._rng.random() * self._most)
        try:
            await self._inner.send(reference, card)
        finally:
            await self._clock.sleep(self._rng.random() * self._most)

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        await self._clock.sleep(self._rng.random() * self._most)
        try:
            await self._inner.update(
                service_url=service_url,
                conversation_id=conversation_id,
                activity_id=activity_id,
                card=card,
            )
        finally:
            await self._clock.sleep(self._rng.random() * self._most)


class MemoryJobs:
    """`BroadcastJobStore` in memory (one job), counting how often progress is asked for."""

    def __init__(self, job: Job, recipients: Sequence[str]) -> None:
        self.job = job
        self.state: dict[str, list[Any]] = {cid: ["pending", 0, 0.0] for cid in recipients}
        self.progress_calls = 0

    async def create_job(self, **_: Any) -> Progress:
        raise NotImplementedError

    async def runnable(self, now: float) -> list[Job]:
        return [self.job]

    async def add_recipients(self, job_id: str, recipients: Sequence[tuple[str, str]]) -> int:
        raise NotImplementedError  # the job's recipients are given

    async def listed(self, job_id: str) -> None:
        raise NotImplementedError

    async def start(self, job_id: str, now: float) -> None:
        return None

    async def finish(self, job_id: str, now: float) -> None:
        return None

    async def pending(self, job_id: str, now: float, limit: int) -> list[PendingRecipient]:
        chosen = [
            PendingRecipient(cid, "nb", int(entry[1]), _reference(cid))
            for cid, entry in self.state.items()
            if entry[0] == "pending" and entry[2] <= now
        ][:limit]
        for _ in range(50):  # a read takes a while: results keep being written meanwhile
            await asyncio.sleep(0)
        return chosen

    async def next_retry(self, job_id: str) -> float | None:
        times = [float(e[2]) for e in self.state.values() if e[0] == "pending"]
        return min(times) if times else None

    async def record(
        self, job_id: str, results: Sequence[tuple[str, RecipientState, int, float, int]]
    ) -> None:
        for cid, state, attempts, at, _status in results:
            self.state[cid] = [state.value, attempts, at]

    async def progress(self, job_id: str, now: float) -> Progress:
        self.progress_calls += 1
        states = [entry[0] for entry in self.state.values()]
        return Progress(
            total=len(states),
            sent=states.count("sent"),
            failed=states.count("failed"),
            blocked=states.count("blocked"),
            not_found=states.count("not_found"),
            elapsed_seconds=0.0,
        )


def _reference(cid: str) -> dict[str, Any]:
    return {
        "serviceUrl": "https://smba.example/",
        "channelId": "msteams",
        "conversation": {"id": cid, "conversationType": "personal", "tenantId": TENANT},
        "user": {"id": f"29:{cid}"},
    }


def _job() -> Job:
    return Job(
        id="job-1",
        created_by="aad-champion",
        due=START,
        state="scheduled",
        cards={"nb": {"type": "AdaptiveCard", "version": "1.5", "body": []}},
        progress_service_url="https://smba.example/",
        progress_conversation="a:champion",
        progress_activity="card-1",
        progress_language="nb",
        started_at=None,
        finished_at=None,
    )


async def _broadcast(count: int, most_delay: float) -> tuple[FakeTeamsConnector, MemoryJobs]:
    clock = Scheduler()
    fake = FakeTeamsConnector(clock=clock)  # Teams' windows, counted at arrival
    store = MemoryJobs(_job(), [f"a:person-{i:05d}" for i in range(count)])
    worker = BroadcastWorker(
        store=store,
        references=FakeReferences(),
        sender=JitteryNetwork(fake.sender(), clock, most_delay, seed=16),
        pacer=Pacer(RateLimiter(), clock=clock, sleep=clock.sleep),
        progress_card=lambda job, progress, now: {"sent": progress.sent},
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(16),
    )
    await clock.run(worker.run_job(store.job))
    return fake, store


async def test_a_jittery_network_gets_no_429_and_the_tips_go_out_at_the_ceiling() -> None:
    fake, store = await _broadcast(3_000, most_delay=0.01)
    tips = [d for d in fake.deliveries if d.conversation_id != "a:champion"]
    assert fake.throttled == 0
    assert len(tips) == 3_000
    assert not fake.duplicates()
    rate = (len(tips) - 1) / (tips[-1].at - tips[0].at)
    assert rate >= 0.96 * 50  # virtual seconds, as the fake counted arrivals
    # the champion's card is updated on an interval (every 2 s), counted in the same budget
    assert 0 < len(fake.updates) <= (tips[-1].at - tips[0].at) / 2 + 2
    # progress is counted as results come in: the store is asked once at the start and the end
    assert store.progress_calls == 2


async def test_long_and_uneven_delays_still_get_no_429() -> None:
    fake, _ = await _broadcast(1_000, most_delay=0.3)
    assert fake.throttled == 0
    assert len(fake.deliveries) == 1_000


# -- 100,000 recipients on SQLite ------------------------------------------------------------


async def test_creating_a_job_for_100k_recipients_lets_a_concurrent_turn_through(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    try:
        store = SqliteBroadcastStore(db)
        recipients = [(f"a:person-{i:06d}", "nb") for i in range(100_000)]
        creating = asyncio.create_task(
            store.create_job(
                created_by="aad-champion",
                due=datetime.fromtimestamp(START, UTC),
                cards={"nb": {"type": "AdaptiveCard"}},
                recipients=recipients,
                progress_service_url="",
                progress_conversation="",
                progress_activity="",
                progress_language="nb",
            )
        )
        await asyncio.sleep(0)  # creation has started

        def turn(conn: sqlite3.Connection) -> tuple[int, list[Any]]:
            stored = conn.execute("SELECT COUNT(*) FROM broadcast_recipients").fetchone()[0]
            jobs = conn.execute("SELECT state FROM broadcast_jobs").fetchall()
            return int(stored), jobs

        # a person's turn that touches the database while the job is being created
        stored_then, jobs_then = await db.run(turn)
        assert not creating.done()
        assert stored_then < 100_000  # it did not wait for all 100,000 inserts
        assert stored_then <= 2 * CHUNK  # at most the chunk in progress when it asked
        assert jobs_then == [("preparing",)]
        assert await store.runnable(START + 10) == []  # no worker starts a half-stored job
        progress = await creating
        assert progress.total == 100_000
        assert [job.state for job in await store.runnable(START + 10)] == ["scheduled"]
    finally:
        await db.close()


def test_limiter_memory_follows_the_conversations_of_the_last_half_minute() -> None:
    limiter = RateLimiter()
    table = limiter.table_bytes
    now, most = START, 0
    for i in range(100_000):  # each send answered 5 ms after it started, as fast as allowed
        conversation = f"a:person-{i:06d}"
        while (wait := limiter.begin(TENANT, conversation, now)) > 0:
            now += wait
        limiter.end(TENANT, conversation, now + 0.005)
        now += 0.005
        if i % 1_000 == 0:
            most = max(most, limiter.tracked_conversations)
    # 100,000 recipients at up to 50 a second: only those of the last 30 s are held, not an hour's
    assert most <= 50 * 31
    assert limiter.tracked_conversations <= 50 * 31
    # the hour window lives in a fixed-size table: at most one table per minute of the hour
    assert limiter.table_bytes <= table * 63

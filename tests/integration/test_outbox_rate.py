"""The outbox against a SharePoint that limits writes by rate (a token bucket on a virtual clock):
it drains at the allowed rate and runs into the limit once, not again and again.

The fake Graph answers a write without a token 429 with Retry-After and SharePoint's RateLimit
headers; the real sink (msgraph-sdk over HTTP, on its own thread and event loop, as the bot runs
it) reads them, and the outbox paces itself from then on. Time is virtual: the bucket refills only
as the outbox's clock moves, and the outbox's waits move it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from bot.adapters.sharepoint.factory import LoopThreadSink
from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.sink import SharePointSink, allowed_rate
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.core.learning_cards import DeliveryState
from bot.workers.outbox import PACE_SHARE, OutboxWorker
from tests.fakes.graph import FakeGraph, StaticTokenCredential, TokenBucket
from tests.fakes.learning_sink import FakeSink
from tests.fakes.sharepoint_list import LIST_NAME, SITE_URL, provision
from tests.integration.test_outbox import LABELS, card

RATE = 5.0  # writes a second SharePoint allows
BURST = 10  # writes it lets through at once
CARDS = 150
CONCURRENCY = 4


class VirtualClock:
    """Seconds that pass only when someone waits. Waits that overlap end at the latest one."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        until = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, until)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteLearningCardStore]:
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    yield SqliteLearningCardStore(db)
    await db.close()


async def drain(outbox: OutboxWorker, store: SqliteLearningCardStore, clock: VirtualClock) -> None:
    """What `run_forever` does, on the virtual clock: a round, then wait for the next due card
    (or the end of a Retry-After pause)."""
    for _ in range(1000):
        await outbox.drain_once()
        upcoming = await store.next_attempt()
        if upcoming is None:
            return
        clock.now = max(clock.now, upcoming, outbox._paused_until)
    raise AssertionError("the outbox never emptied")


async def test_the_outbox_drains_at_the_allowed_rate_with_no_429_after_the_first(
    store: SqliteLearningCardStore,
) -> None:
    clock = VirtualClock()
    async with FakeGraph(rate_limit=TokenBucket(RATE, BURST, clock)) as graph:
        site_id = await provision(graph)
        connection = connect_with_credential(StaticTokenCredential(graph.token), graph.base_url)
        sink = LoopThreadSink(SharePointSink.from_connection(connection, SITE_URL, LIST_NAME))
        try:
            for number in range(CARDS):
                await store.add(card(f"rate-{number:04d}"))
            outbox = OutboxWorker(
                store=store,
                sink=sink,
                labels=LABELS,
                clock=clock,
                sleep=clock.sleep,
                concurrency=CONCURRENCY,
            )
            began = clock()
            await drain(outbox, store, clock)
            elapsed = clock() - began
        finally:
            await sink.close()
        items = graph.items(site_id, LIST_NAME)

    # every card is in the list, once
    assert graph.items_created == CARDS
    assert len({item["KortId"] for item in items}) == CARDS
    assert all(s.state is DeliveryState.DELIVERED for s in await store.all())
    # one run of 429s: the first, and the writes already under way when it came; none after
    assert graph.throttle_episodes == 1
    assert 1 <= graph.throttled_writes <= CONCURRENCY
    assert outbox.pace == pytest.approx(RATE * PACE_SHARE)
    # drained at >= 0.9 of what the bucket allowed over the same (virtual) time
    allowed = BURST + RATE * elapsed
    assert CARDS / allowed >= 0.9


async def test_without_a_rate_in_the_answer_the_outbox_only_pauses_and_does_not_pace(
    store: SqliteLearningCardStore,
) -> None:
    clock = VirtualClock()
    sink = FakeSink(["ok", "429"], retry_after=2.0)
    await store.add(card("plain-1"))
    await store.add(card("plain-2"))
    outbox = OutboxWorker(
        store=store, sink=sink, labels=LABELS, clock=clock, sleep=clock.sleep, concurrency=1
    )
    await drain(outbox, store, clock)
    assert sink.creates == 2
    assert sink.calls == ["ok", "429", "ok"]
    assert outbox.pace is None


def test_the_allowed_rate_is_read_from_the_ratelimit_quota_policy() -> None:
    assert allowed_rate({"RateLimit-Limit": "10, 10;w=2"}) == 5.0
    assert allowed_rate({"ratelimit-limit": "1200, 1200;w=60;comment=x"}) == 20.0
    assert allowed_rate({"RateLimit-Limit": "1200"}) is None  # no window: nothing to pace by
    assert allowed_rate({"RateLimit-Limit": "10, x;w=0"}) is None
    assert allowed_rate({"Retry-After": "1"}) is None
    assert allowed_rate(None) is None


class ThreadRecordingSink(FakeSink):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        self.threads.add(threading.get_ident())
        return await super().deliver(card_id, fields)


async def test_the_sinks_graph_work_runs_off_the_bots_event_loop_thread() -> None:
    inner = ThreadRecordingSink()
    sink = LoopThreadSink(inner, warm_up=False)
    try:
        item = await sink.deliver("thread-1", {"Title": "x"})
    finally:
        await sink.close()
    assert item == "item-1"
    assert inner.items == {"thread-1": {"Title": "x"}}
    assert inner.closed
    assert inner.threads
    assert threading.get_ident() not in inner.threads

"""The learning-card outbox on real SQLite against a scripted sink: nothing lost, nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.content_loader import load_content
from bot.core.learning_cards import DeliveryState, LearningCard
from bot.workers.outbox import OutboxWorker
from dialogs.learning_card import LearningCardDialog
from tests.fakes import outbox_items
from tests.fakes.learning_sink import FakeSink
from tests.fakes.outbox_items import Clock

CONTENT = load_content()
DIALOG = LearningCardDialog(CONTENT.policy, CONTENT.service_areas)
LABELS = DIALOG.labels(CONTENT.catalog.texts("nb"))


def card(card_id: str) -> LearningCard:
    return outbox_items.card(card_id, author="aad-1")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteLearningCardStore]:
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    yield SqliteLearningCardStore(db)
    await db.close()


def worker(store: SqliteLearningCardStore, sink: FakeSink, clock: Clock) -> OutboxWorker:
    return OutboxWorker(store=store, sink=sink, labels=LABELS, clock=clock, sleep=clock.sleep)


async def drain_until_empty(
    outbox: OutboxWorker, store: SqliteLearningCardStore, clock: Clock
) -> None:
    for _ in range(200):
        await outbox.drain_once()
        upcoming = await store.next_attempt()
        if upcoming is None:
            return
        clock.now = max(clock.now, upcoming) + 0.001
    raise AssertionError("the outbox never emptied")


async def test_a_card_is_written_with_its_fields_and_marked_delivered(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink()
    await store.add(card("c1"))
    assert await worker(store, sink, clock).drain_once() == 1
    stored = await store.get("c1")
    assert stored is not None
    assert stored.state is DeliveryState.DELIVERED
    assert stored.item_id == "item-1"
    assert sink.items["c1"]["KortId"] == "c1"
    assert sink.items["c1"]["Verktoy"] == "Microsoft 365 Copilot Chat (jobbkonto)"
    assert sink.items["c1"]["Status"] == "Ny"


async def test_429_waits_for_retry_after_then_succeeds(store: SqliteLearningCardStore) -> None:
    clock, sink = Clock(), FakeSink(["429"], retry_after=7)
    await store.add(card("c1"))
    outbox = worker(store, sink, clock)
    start = clock.now
    assert await outbox.drain_once() == 0
    assert await store.next_attempt() == start + 7
    clock.now = start + 6.9
    assert await outbox.drain_once() == 0  # paused: Retry-After holds for the whole outbox
    assert sink.calls == ["429"]
    clock.now = start + 7
    assert await outbox.drain_once() == 1


async def test_a_503_storm_and_timeouts_are_retried_until_graph_is_back(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink(["503"] * 6 + ["timeout"] * 3)
    for index in range(3):
        await store.add(card(f"c{index}"))
    await drain_until_empty(worker(store, sink, clock), store, clock)
    assert {s.state for s in await store.all()} == {DeliveryState.DELIVERED}
    assert sink.creates == 3


async def test_an_ambiguous_failure_never_creates_a_second_item(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink(["ambiguous", "ambiguous"])
    await store.add(card("c1"))
    await drain_until_empty(worker(store, sink, clock), store, clock)
    assert sink.creates == 1
    assert len(sink.calls) == 3


async def test_permanent_refusals_are_parked_with_a_reason_and_others_go_on(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink(["403"])
    await store.add(card("c1"))
    await store.add(card("c2"))
    await drain_until_empty(worker(store, sink, clock), store, clock)
    first, second = await store.get("c1"), await store.get("c2")
    assert first is not None
    assert first.state is DeliveryState.PARKED
    assert first.reason == "403 accessDenied"
    assert second is not None
    assert second.state is DeliveryState.DELIVERED
    assert await store.requeue_parked() == 1
    await drain_until_empty(worker(store, sink, clock), store, clock)
    again = await store.get("c1")
    assert again is not None
    assert again.state is DeliveryState.DELIVERED


async def test_a_restart_with_a_full_outbox_delivers_each_card_exactly_once(
    tmp_path: Path,
) -> None:
    clock, sink = Clock(), FakeSink(["ok"] * 40 + ["503"] * 60)
    path = tmp_path / "kivett.sqlite3"
    db = SqliteDatabase(path)
    await db.open()
    store = SqliteLearningCardStore(db)
    for index in range(100):
        assert await store.add(card(f"c{index:03}"))
    await worker(store, sink, clock).drain_once()  # 40 delivered, then Graph goes down
    await db.close()  # the process stops with 60 cards in the outbox

    db = SqliteDatabase(path)
    await db.open()
    store = SqliteLearningCardStore(db)
    pending = [s for s in await store.all() if s.state is DeliveryState.PENDING]
    assert len(pending) == 60
    await drain_until_empty(worker(store, sink, clock), store, clock)
    assert sink.creates == 100
    assert sorted(sink.items) == [f"c{index:03}" for index in range(100)]
    assert {s.state for s in await store.all()} == {DeliveryState.DELIVERED}
    await db.close()


async def test_statuses_set_by_leads_are_read_back(store: SqliteLearningCardStore) -> None:
    clock, sink = Clock(), FakeSink()
    await store.add(card("c1"))
    sink.statuses_answer = {"c1": "Til gevinstverksted", "unknown": "Vurdert"}
    outbox = worker(store, sink, clock)
    assert await outbox.refresh_statuses() == 1
    stored = await store.get("c1")
    assert stored is not None
    assert stored.lead_status == "Til gevinstverksted"
    assert await outbox.refresh_statuses() == 0  # not again until the refresh interval passes


async def test_the_outbox_says_it_is_delayed_after_a_minute_of_failures_and_not_after(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink(["503"] * 3)
    await store.add(card("c1"))
    outbox = worker(store, sink, clock)
    await outbox.drain_once()
    assert not outbox.delayed()  # one failure is not yet a delay worth telling anyone
    clock.now += 61
    assert outbox.delayed()
    await drain_until_empty(outbox, store, clock)
    assert not outbox.delayed()


async def test_a_card_filed_under_a_trial_is_parked_when_trials_have_no_list(
    store: SqliteLearningCardStore,
) -> None:
    clock, sink = Clock(), FakeSink()
    await store.add(outbox_items.card("c1", "t1"))
    assert await worker(store, sink, clock).drain_once() == 0
    stored = await store.get("c1")
    assert stored is not None
    assert (stored.state, stored.reason) == (DeliveryState.PARKED, "no trials list")
    assert sink.creates == 0  # never written without its link

"""After an erasure the outbox removes the sender from learning cards already in SharePoint.

The worker's rules are tested with `RedactingStore`, a small in-memory LearningCardStore that
plays the store side of an erasure (sender emptied, delivered cards put in state REDACT, due now)
with the delivery rules of the real stores. The journeys at the end use the real parts: SQLite
with its own erasure (`SqlitePersonalData.erase`), and the SharePointSink through msgraph-sdk
against the stateful fake Graph, which checks every request and answer against Microsoft's
description.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.sink import SharePointSink
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.personal import SqlitePersonalData
from bot.content_loader import load_content
from bot.core.learning_cards import (
    DeliveryState,
    LearningCard,
    StoredCard,
)
from bot.core.sharepoint_schema import CARD_ID_COLUMN
from bot.ports import SinkPermanentError, SinkTransientError
from bot.workers.outbox import OutboxWorker, sender_fields
from dialogs.learning_card import LearningCardDialog
from tests.fakes import outbox_items
from tests.fakes.graph import FakeGraph, Scripted, StaticTokenCredential
from tests.fakes.learning_sink import FakeSink
from tests.fakes.outbox_items import Clock
from tests.fakes.sharepoint_list import LIST_NAME, SITE_URL, provision

CONTENT = load_content()
LABELS = LearningCardDialog(CONTENT.policy, CONTENT.service_areas).labels(
    CONTENT.catalog.texts("nb")
)
ERASED = "aad-erased-person"
KEPT = "aad-someone-else"


@dataclass
class Entry:
    card: LearningCard
    state: DeliveryState = DeliveryState.PENDING
    next_attempt: float = 0.0
    attempts: int = 0
    reason: str = ""
    item_id: str = ""


class RedactingStore:
    """In memory, with the outbox rules of the real stores and the erasure's effect on cards."""

    DUE = (DeliveryState.PENDING, DeliveryState.REDACT)

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def erase(self, author: str, now: float) -> int:
        """What PersonalData.erase does to the person's cards; returns how many await the outbox."""
        waiting = 0
        for entry in self.entries.values():
            if entry.card.author != author:
                continue
            entry.card = replace(entry.card, author="")
            if entry.item_id:
                entry.state, entry.next_attempt, entry.attempts = DeliveryState.REDACT, now, 0
                waiting += 1
        return waiting

    def _stored(self, entry: Entry) -> StoredCard:
        return StoredCard(entry.card, entry.state, entry.attempts, entry.reason, entry.item_id, "")

    async def add(self, card: LearningCard) -> bool:
        if card.card_id in self.entries:
            return False
        self.entries[card.card_id] = Entry(card)
        return True

    async def get(self, card_id: str) -> StoredCard | None:
        entry = self.entries.get(card_id)
        return None if entry is None else self._stored(entry)

    async def all(self) -> list[StoredCard]:
        return [self._stored(e) for e in self.entries.values()]

    async def due(self, now: float, limit: int) -> list[StoredCard]:
        due = [e for e in self.entries.values() if e.state in self.DUE and e.next_attempt <= now]
        due.sort(key=lambda e: (e.next_attempt, e.card.submitted_at))
        return [self._stored(e) for e in due[:limit]]

    async def next_attempt(self) -> float | None:
        times = [e.next_attempt for e in self.entries.values() if e.state in self.DUE]
        return min(times) if times else None

    async def delivered(self, card_id: str, item_id: str) -> None:
        entry = self.entries[card_id]
        entry.state, entry.item_id, entry.reason = DeliveryState.DELIVERED, item_id, ""
        entry.attempts += 1

    async def retry(self, card_id: str, at: float, reason: str) -> None:
        entry = self.entries[card_id]
        if entry.state in self.DUE:
            entry.next_attempt, entry.reason = at, reason
            entry.attempts += 1

    async def park(self, card_id: str, reason: str) -> None:
        entry = self.entries[card_id]
        entry.state, entry.reason = DeliveryState.PARKED, reason
        entry.attempts += 1

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int:
        return 0

    async def requeue_parked(self) -> int:
        parked = [e for e in self.entries.values() if e.state is DeliveryState.PARKED]
        for entry in parked:
            entry.next_attempt = 0.0
            entry.state = DeliveryState.REDACT if entry.item_id else DeliveryState.PENDING
        return len(parked)


def card(card_id: str, author: str = ERASED) -> LearningCard:
    return outbox_items.card(card_id, author=author)


def worker(
    store: RedactingStore | SqliteLearningCardStore, sink: FakeSink | SharePointSink, clock: Clock
) -> OutboxWorker:
    return OutboxWorker(store=store, sink=sink, labels=LABELS, clock=clock, sleep=clock.sleep)


async def delivered_then_erased(
    store: RedactingStore, sink: FakeSink, clock: Clock, *card_ids: str
) -> OutboxWorker:
    """Cards of the erased person (and one of someone else) in the list, then the erasure."""
    outbox = worker(store, sink, clock)
    for card_id in card_ids:
        await store.add(card(card_id))
    await store.add(card("other", author=KEPT))
    assert await outbox.drain_once() == len(card_ids) + 1
    assert store.erase(ERASED, clock.now) == len(card_ids)
    return outbox


async def state(store: RedactingStore | SqliteLearningCardStore, card_id: str) -> StoredCard:
    stored = await store.get(card_id)
    assert stored is not None
    return stored


def test_the_sender_columns_come_from_the_list_mapping() -> None:
    erased = replace(card("c1"), author="")
    assert sender_fields(erased, LABELS) == {"Innsender": ""}
    assert sender_fields(card("c1"), LABELS) == {"Innsender": ERASED}


async def test_an_erased_senders_item_is_patched_once_and_the_card_is_delivered_again() -> None:
    clock, sink, store = Clock(), FakeSink(), RedactingStore()
    outbox = await delivered_then_erased(store, sink, clock, "c1")
    before = dict(sink.items["c1"])
    assert before["Innsender"] == ERASED

    assert await outbox.drain_once() == 1
    assert sink.updates == [("item-1", {"Innsender": ""})]
    assert sink.items["c1"] == {**before, "Innsender": ""}  # the content stays for the leads
    assert sink.items["other"]["Innsender"] == KEPT
    assert sink.creates == 2  # patched, never created again
    redacted = await state(store, "c1")
    assert (redacted.state, redacted.item_id) == (DeliveryState.DELIVERED, "item-1")

    assert await outbox.drain_once() == 0  # nothing left to do: one patch, not two
    assert len(sink.updates) == 1


async def test_an_item_a_lead_deleted_counts_as_done() -> None:
    clock, sink, store = Clock(), FakeSink(), RedactingStore()
    outbox = await delivered_then_erased(store, sink, clock, "c1")
    sink.delete("item-1")
    assert await outbox.drain_once() == 1
    assert (await state(store, "c1")).state is DeliveryState.DELIVERED
    assert sink.updates == []
    assert await store.next_attempt() is None


async def test_429_on_a_patch_waits_for_retry_after_then_patches() -> None:
    clock, sink, store = Clock(), FakeSink(retry_after=7), RedactingStore()
    outbox = await delivered_then_erased(store, sink, clock, "c1")
    sink.script.append("429")
    start = clock.now
    assert await outbox.drain_once() == 0
    waiting = await state(store, "c1")
    assert (waiting.state, waiting.reason) == (DeliveryState.REDACT, "429 throttled")
    assert await store.next_attempt() == start + 7
    clock.now = start + 6.9
    assert await outbox.drain_once() == 0  # the whole outbox waits for Retry-After
    assert sink.calls[-1] == "429"
    clock.now = start + 7
    assert await outbox.drain_once() == 1
    assert sink.items["c1"]["Innsender"] == ""
    assert (await state(store, "c1")).state is DeliveryState.DELIVERED


async def test_unavailability_and_timeouts_are_retried_until_the_patch_goes_through() -> None:
    clock, sink, store = Clock(), FakeSink(), RedactingStore()
    outbox = await delivered_then_erased(store, sink, clock, "c1", "c2")
    sink.script.extend(["503", "timeout", "ambiguous", "503"])
    for _ in range(50):
        await outbox.drain_once()
        upcoming = await store.next_attempt()
        if upcoming is None:
            break
        clock.now = max(clock.now, upcoming) + 0.001
    assert {sink.items[c]["Innsender"] for c in ("c1", "c2")} == {""}
    assert {(await state(store, c)).state for c in ("c1", "c2")} == {DeliveryState.DELIVERED}
    assert sink.creates == 3


async def test_a_refused_patch_parks_the_card_with_a_reason_and_the_others_go_on() -> None:
    clock, sink, store = Clock(), FakeSink(), RedactingStore()
    outbox = await delivered_then_erased(store, sink, clock, "c1", "c2")
    sink.script.append("403")
    assert await outbox.drain_once() == 1
    parked = [s for s in await store.all() if s.state is DeliveryState.PARKED]
    assert [(s.reason, s.card.author) for s in parked] == [("403 accessDenied", "")]
    assert sum(1 for c in ("c1", "c2") if sink.items[c]["Innsender"] == "") == 1

    assert await store.requeue_parked() == 1  # the admin fixed the permission
    assert await outbox.drain_once() == 1
    assert {sink.items[c]["Innsender"] for c in ("c1", "c2")} == {""}
    assert sink.creates == 3


async def test_a_redaction_without_an_item_id_is_parked_not_sent() -> None:
    clock, sink, store = Clock(), FakeSink(), RedactingStore()
    await store.add(card("c1"))
    store.entries["c1"].state = DeliveryState.REDACT  # a store that lost the item id
    assert await worker(store, sink, clock).drain_once() == 0
    parked = await state(store, "c1")
    assert (parked.state, parked.reason) == (DeliveryState.PARKED, "redact: no SharePoint item id")
    assert sink.calls == []


# --- the real sink against the fake Graph ---------------------------------------------------


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakeGraph, str]]:
    async with FakeGraph() as fake:
        yield fake, await provision(fake)


@pytest.fixture
async def sharepoint(graph: tuple[FakeGraph, str]) -> AsyncIterator[SharePointSink]:
    fake, _ = graph
    connection = connect_with_credential(StaticTokenCredential(fake.token), fake.base_url)
    sink = SharePointSink.from_connection(connection, SITE_URL, LIST_NAME)
    yield sink
    await sink.close()


def list_items(graph: tuple[FakeGraph, str]) -> dict[str, dict[str, object]]:
    fake, site_id = graph
    return {str(item[CARD_ID_COLUMN]): item for item in fake.items(site_id, LIST_NAME)}


async def test_after_an_erasure_the_items_sender_is_empty_and_the_rest_unchanged(
    graph: tuple[FakeGraph, str], sharepoint: SharePointSink
) -> None:
    fake, _ = graph
    clock, store = Clock(), RedactingStore()
    outbox = worker(store, sharepoint, clock)
    await store.add(card("c1"))
    await store.add(card("c2", author=KEPT))
    assert await outbox.drain_once() == 2
    before = list_items(graph)
    assert before["c1"]["Innsender"] == ERASED

    assert store.erase(ERASED, clock.now) == 1
    assert await outbox.drain_once() == 1
    after = list_items(graph)
    assert after["c1"] == {**before["c1"], "Innsender": ""}
    assert after["c2"] == before["c2"]
    assert fake.items_created == 2
    assert fake.items_updated == 1
    patches = [path for method, path in fake.requests if method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].endswith(f"/items/{before['c1']['id']}/fields")
    assert (await state(store, "c1")).state is DeliveryState.DELIVERED
    assert fake.violations == []


async def test_patching_an_item_a_lead_deleted_is_done(
    graph: tuple[FakeGraph, str], sharepoint: SharePointSink
) -> None:
    fake, site_id = graph
    item_id = await sharepoint.deliver("c1", {"Title": "Kort", CARD_ID_COLUMN: "c1"})
    for found in fake.lists[site_id].values():
        found.items.pop(item_id, None)
    await sharepoint.update(item_id, {"Innsender": ""})
    assert fake.by_status[404] == 1
    assert fake.violations == []


async def test_patch_errors_are_transient_or_permanent_as_for_a_create(
    graph: tuple[FakeGraph, str], sharepoint: SharePointSink
) -> None:
    fake, _ = graph
    item_id = await sharepoint.deliver("c1", {"Title": "Kort", CARD_ID_COLUMN: "c1"})
    fake.script(
        Scripted(429, "activityLimitReached", retry_after=11, method="PATCH"),
        Scripted(503, method="PATCH"),
        Scripted(403, "accessDenied", method="PATCH"),
        Scripted(401, "InvalidAuthenticationToken", method="PATCH"),
    )
    with pytest.raises(SinkTransientError) as throttled:
        await sharepoint.update(item_id, {"Innsender": ""})
    assert throttled.value.retry_after == 11
    with pytest.raises(SinkTransientError, match="HTTP 503"):
        await sharepoint.update(item_id, {"Innsender": ""})
    with pytest.raises(SinkPermanentError) as refused:
        await sharepoint.update(item_id, {"Innsender": ""})
    assert refused.value.reason == "update item: HTTP 403 accessDenied"
    with pytest.raises(SinkPermanentError, match="HTTP 401"):
        await sharepoint.update(item_id, {"Innsender": ""})
    with pytest.raises(SinkPermanentError, match="HTTP 400"):  # a column the list lacks
        await sharepoint.update(item_id, {"Avsender": ""})
    assert list_items(graph)["c1"].get("Innsender") is None  # nothing was changed
    assert fake.violations == []


async def test_the_card_id_of_an_item_is_never_patched(sharepoint: SharePointSink) -> None:
    with pytest.raises(ValueError, match=CARD_ID_COLUMN):
        await sharepoint.update("1", {CARD_ID_COLUMN: "other"})


# --- on SQLite, erased by the store's own code ----------------------------------------------


@pytest.fixture
async def sqlite(
    tmp_path: Path,
) -> AsyncIterator[tuple[SqliteLearningCardStore, Clock, SqlitePersonalData]]:
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    clock = Clock()
    personal = SqlitePersonalData(db, clock=lambda: datetime.fromtimestamp(clock.now, UTC))
    yield SqliteLearningCardStore(db), clock, personal
    await db.close()


async def test_on_sqlite_an_erasure_reaches_the_list_item_through_the_outbox(
    graph: tuple[FakeGraph, str],
    sharepoint: SharePointSink,
    sqlite: tuple[SqliteLearningCardStore, Clock, SqlitePersonalData],
) -> None:
    fake, _ = graph
    store, clock, personal = sqlite
    outbox = worker(store, sharepoint, clock)
    await store.add(card("c1"))
    await store.add(card("c2", author=KEPT))
    assert await outbox.drain_once() == 2
    before = list_items(graph)

    erasure = await personal.erase(ERASED)
    assert erasure.learning_cards == 1
    fake.script(Scripted(503, method="PATCH"))  # Graph is briefly away: the patch waits
    assert await outbox.drain_once() == 0
    assert (await state(store, "c1")).state is DeliveryState.REDACT
    upcoming = await store.next_attempt()
    assert upcoming is not None
    clock.now = upcoming
    assert await outbox.drain_once() == 1

    after = list_items(graph)
    assert after["c1"] == {**before["c1"], "Innsender": ""}
    assert after["c2"] == before["c2"]
    assert (await state(store, "c1")).state is DeliveryState.DELIVERED
    assert fake.items_created == 2
    assert fake.violations == []


async def test_on_sqlite_a_parked_redaction_is_patched_after_requeue_not_created_again(
    sqlite: tuple[SqliteLearningCardStore, Clock, SqlitePersonalData],
) -> None:
    store, clock, personal = sqlite
    sink = FakeSink()
    outbox = worker(store, sink, clock)
    await store.add(card("c1"))
    assert await outbox.drain_once() == 1
    await personal.erase(ERASED)
    sink.script.append("403")
    assert await outbox.drain_once() == 0
    assert (await state(store, "c1")).reason == "403 accessDenied"
    assert await store.requeue_parked() == 1
    assert await outbox.drain_once() == 1
    assert sink.updates == [("item-1", {"Innsender": ""})]
    assert sink.creates == 1


class ErasingDuringCreate(FakeSink):
    """ "Slett mine data" is pressed while the outbox is creating the person's item."""

    def __init__(self, personal: SqlitePersonalData) -> None:
        super().__init__()
        self.personal = personal

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        item_id = await super().deliver(card_id, fields)
        await self.personal.erase(ERASED)
        return item_id


async def test_an_erasure_during_the_create_still_empties_the_sender_in_the_list(
    sqlite: tuple[SqliteLearningCardStore, Clock, SqlitePersonalData],
) -> None:
    store, clock, personal = sqlite
    sink = ErasingDuringCreate(personal)
    outbox = worker(store, sink, clock)
    await store.add(card("c1"))
    for _ in range(3):
        await outbox.drain_once()
        clock.now += 60
    assert sink.items["c1"]["Innsender"] == ""

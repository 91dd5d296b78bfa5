"""Trials go to their own SharePoint list with the learning cards' guarantees, and a learning card
that belongs to a trial reaches its list only with the link to the trial's item.

Real parts: SQLite stores, the real sinks (one Graph client, two lists) and the stateful fake
Graph, provisioned by `kivett sharepoint setup`'s code. The clock is virtual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.sink import SharePointSink
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.trials import SqliteTrialStore
from bot.core.learning_cards import DeliveryState
from bot.core.sharepoint_schema import TRIAL_ID_COLUMN, TRIAL_LOOKUP_FIELD
from bot.core.trials import StoredTrial
from bot.workers.outbox import WAITING_FOR_TRIAL, OutboxWorker, TrialOutbox
from tests.fakes.graph import FakeGraph, Scripted, StaticTokenCredential
from tests.fakes.outbox_items import (
    CARDS_LIST,
    LABELS,
    SITE_URL,
    TRIALS_LIST,
    Clock,
    card,
    provision_both,
    trial,
)


@dataclass
class World:
    graph: FakeGraph
    site_id: str
    cards: SqliteLearningCardStore
    trials: SqliteTrialStore
    outbox: OutboxWorker
    clock: Clock
    card_sink: SharePointSink
    trial_sink: SharePointSink

    def items(self, list_name: str) -> list[dict[str, object]]:
        return self.graph.items(self.site_id, list_name)

    async def drain_until_empty(self) -> None:
        for _ in range(200):
            await self.outbox.drain_once()
            upcoming = [
                at
                for at in (await self.cards.next_attempt(), await self.trials.next_attempt())
                if at is not None
            ]
            if not upcoming:
                return
            self.clock.now = max(self.clock.now, min(upcoming)) + 0.001
        raise AssertionError("the outbox never emptied")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeGraph() as graph:
        site_id = await provision_both(graph)
        db = SqliteDatabase(tmp_path / "kivett.sqlite3")
        await db.open()
        connection = connect_with_credential(StaticTokenCredential(graph.token), graph.base_url)
        card_sink = SharePointSink.from_connection(connection, SITE_URL, CARDS_LIST)
        trial_sink = card_sink.sibling(TRIALS_LIST, TRIAL_ID_COLUMN)
        cards, trials, clock = SqliteLearningCardStore(db), SqliteTrialStore(db), Clock()
        outbox = OutboxWorker(
            store=cards,
            sink=card_sink,
            labels=LABELS,
            clock=clock,
            sleep=clock.sleep,
            trials=TrialOutbox(trials, trial_sink),
        )
        yield World(graph, site_id, cards, trials, outbox, clock, card_sink, trial_sink)
        await trial_sink.close()
        await card_sink.close()
        await db.close()
        assert graph.violations == []


async def test_a_card_stored_before_its_trial_reaches_the_list_linked_to_the_trials_item(
    world: World,
) -> None:
    await world.cards.add(card("c1", "t1"))
    await world.cards.add(card("c2"))  # a card of no trial
    await world.trials.add(trial("t1"))
    assert await world.outbox.drain_once() == 3
    (trial_item,) = world.items(TRIALS_LIST)
    assert trial_item["UtprovingId"] == "t1"
    assert trial_item["Title"] == "Utprøving t1"
    assert trial_item["KiSjekk"] == "Grønn"
    assert trial_item["AntallDeltakere"] == 2
    assert "aad-kari" not in map(str, trial_item.values())  # participants stay in the bot
    by_card = {item["KortId"]: item for item in world.items(CARDS_LIST)}
    assert by_card["c1"][TRIAL_LOOKUP_FIELD] == trial_item["id"]
    assert TRIAL_LOOKUP_FIELD not in by_card["c2"]
    stored = await world.trials.get("t1")
    assert stored is not None
    assert (stored.state, stored.item_id) == (DeliveryState.DELIVERED, trial_item["id"])


async def test_while_the_trial_cannot_be_written_its_card_waits_and_is_never_sent_unlinked(
    world: World,
) -> None:
    await world.trials.add(trial("t1"))
    await world.cards.add(card("c1", "t1"))
    world.graph.script(Scripted(503, method="POST", path_suffix="/items"))
    assert await world.outbox.drain_once() == 0
    assert world.items(CARDS_LIST) == []
    waiting = await world.cards.get("c1")
    assert waiting is not None
    assert (waiting.state, waiting.reason) == (DeliveryState.PENDING, WAITING_FOR_TRIAL)
    await world.drain_until_empty()
    (trial_item,) = world.items(TRIALS_LIST)
    (card_item,) = world.items(CARDS_LIST)
    assert card_item[TRIAL_LOOKUP_FIELD] == trial_item["id"]


async def test_an_ambiguous_failure_on_a_trial_never_makes_a_second_item(world: World) -> None:
    await world.trials.add(trial("t1"))
    await world.cards.add(card("c1", "t1"))
    # the trial's item is made, but the bot hears 504; the retry looks it up by its unique id
    world.graph.script(Scripted(504, "gatewayTimeout", apply=True, method="POST"))
    await world.drain_until_empty()
    assert [item["UtprovingId"] for item in world.items(TRIALS_LIST)] == ["t1"]
    (card_item,) = world.items(CARDS_LIST)
    assert card_item[TRIAL_LOOKUP_FIELD] == world.items(TRIALS_LIST)[0]["id"]
    assert world.graph.items_created == 2


async def test_a_throttled_trial_pauses_the_whole_outbox_for_retry_after(world: World) -> None:
    await world.trials.add(trial("t1"))
    await world.cards.add(card("c2"))
    world.graph.script(Scripted(429, "TooManyRequests", retry_after=7, method="POST"))
    start, before = world.clock.now, len(world.graph.requests)
    assert await world.outbox.drain_once() == 0
    posts = [r for r in world.graph.requests[before:] if r[0] == "POST"]
    assert len(posts) == 1  # the card, though not of the trial, was not tried meanwhile
    world.clock.now = start + 6.9
    assert await world.outbox.drain_once() == 0
    world.clock.now = start + 7
    assert await world.outbox.drain_once() == 2


async def test_a_refused_trial_is_parked_its_card_waits_and_both_go_once_requeued(
    world: World,
) -> None:
    await world.trials.add(trial("t1"))
    await world.cards.add(card("c1", "t1"))
    world.graph.script(Scripted(403, "accessDenied", method="POST"))
    await world.outbox.drain_once()
    parked = await world.trials.get("t1")
    assert parked is not None
    assert parked.state is DeliveryState.PARKED
    assert "HTTP 403" in parked.reason
    for _ in range(5):  # the card keeps waiting for the trial's item; it is never sent without it
        world.clock.now += 120
        await world.outbox.drain_once()
    assert world.items(CARDS_LIST) == []
    assert await world.trials.requeue_parked() == 1
    await world.drain_until_empty()
    (trial_item,) = world.items(TRIALS_LIST)
    (card_item,) = world.items(CARDS_LIST)
    assert card_item[TRIAL_LOOKUP_FIELD] == trial_item["id"]


async def test_a_card_naming_a_trial_the_bot_does_not_have_is_parked_not_sent(
    world: World,
) -> None:
    await world.cards.add(card("c1", "t-unknown"))
    await world.outbox.drain_once()
    stored = await world.cards.get("c1")
    assert stored is not None
    assert (stored.state, stored.reason) == (DeliveryState.PARKED, "trial not found")
    assert world.items(CARDS_LIST) == []


class ErasingTrials:
    """The outbox side of a trial store that, like the learning-card store, sends a delivered
    trial whose champion was erased back as REDACT (the SQLite and Azure trial stores do not yet:
    see the lead's note), so the outbox's part can be checked on its own."""

    def __init__(self) -> None:
        self.trials: dict[str, StoredTrial] = {}

    async def get(self, trial_id: str, /) -> StoredTrial | None:
        return self.trials.get(trial_id)

    async def due(self, now: float, limit: int, /) -> list[StoredTrial]:
        states = (DeliveryState.PENDING, DeliveryState.REDACT)
        return [s for s in self.trials.values() if s.state in states][:limit]

    async def next_attempt(self) -> float | None:
        return None

    async def delivered(self, trial_id: str, item_id: str, /) -> None:
        stored = self.trials[trial_id]
        self.trials[trial_id] = replace(stored, state=DeliveryState.DELIVERED, item_id=item_id)

    async def retry(self, trial_id: str, at: float, reason: str, /) -> None:
        self.trials[trial_id] = replace(self.trials[trial_id], reason=reason)

    async def park(self, trial_id: str, reason: str, /) -> None:
        stored = self.trials[trial_id]
        self.trials[trial_id] = replace(stored, state=DeliveryState.PARKED, reason=reason)

    def erase(self, trial_id: str) -> None:
        stored = self.trials[trial_id]
        erased = replace(stored.trial, owner="")
        self.trials[trial_id] = replace(stored, trial=erased, state=DeliveryState.REDACT)


async def test_an_erased_champion_is_removed_from_the_trials_item_and_nothing_else(
    world: World,
) -> None:
    store = ErasingTrials()
    store.trials["t1"] = StoredTrial(trial("t1"), DeliveryState.PENDING)
    outbox = OutboxWorker(
        store=world.cards,
        sink=world.card_sink,
        labels=LABELS,
        clock=world.clock,
        sleep=world.clock.sleep,
        trials=TrialOutbox(store, world.trial_sink),
    )
    assert await outbox.drain_once() == 1
    (before,) = world.items(TRIALS_LIST)
    assert before["Padriver"] == "aad-champion"
    store.erase("t1")
    assert await outbox.drain_once() == 1
    (after,) = world.items(TRIALS_LIST)
    assert after == {**before, "Padriver": ""}
    assert world.graph.items_created == 1
    assert store.trials["t1"].state is DeliveryState.DELIVERED

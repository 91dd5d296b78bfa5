"""Champions' weekly tip: only champions, everything re-checked, nothing sent by mistake.

A tip to the subscribers is queued by the turn without listing them; the broadcast worker (run
here on virtual time onto the fake Teams connector) lists them and sends."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity, ActivityTypes

from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.lessons import SqliteLessonStore
from bot.core.broadcast import Progress
from bot.core.rate_limit import RateLimiter
from bot.core.records import JOB_LISTING, StoredReference
from bot.ports import Stores
from bot.workers.broadcast import BroadcastWorker
from bot.workers.pacing import Pacer
from cards.verbs import Verb
from content import load_catalog
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.flows.conftest import (
    BOT,
    CHAMPION,
    Harness,
    cards_sent,
    invoke,
    make_harness,
    say,
    title_of,
)
from tests.integration.test_broadcast_worker import VirtualTime
from tests.node import adaptive_card_findings

NB = load_catalog().texts("nb")


async def _press(adapter: Any, verb: str, **data: str) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}}
    response = await invoke(adapter, value)
    assert response.status == 200
    card = response.body["value"]
    assert isinstance(card, dict)
    return card


async def _subscribers(harness: Harness, count: int) -> None:
    from bot.core.records import Subscription
    from tests.flows.conftest import NOW

    store = SqliteLessonStore(harness.db)
    for index in range(count):
        cid = f"a:sub-{index}"
        await store.subscribe(
            Subscription(f"user-{index}", cid, 0, "09:00", "Europe/Oslo", "nb", NOW)
        )
        conversation = {"id": cid, "conversationType": "personal", "tenantId": "tenant-1"}
        reference = {"conversation": conversation, "user": {"id": f"29:{index}"}}
        await harness.references.save(StoredReference(cid, "personal", "tenant-1", reference))


class CountingLessons(SqliteLessonStore):
    """The real lesson store, counting how often every subscriber is read."""

    listed = 0

    async def subscribers(self) -> list[tuple[str, str]]:
        self.listed += 1
        return await super().subscribers()


async def run_broadcasts(harness: Harness) -> tuple[FakeTeamsConnector, list[Progress]]:
    """Every job there is, run by the broadcast worker as the bot builds it, onto the fake Teams
    connector on virtual time; the connector and each job's final progress."""
    time = VirtualTime()
    fake = FakeTeamsConnector(clock=time)
    worker = BroadcastWorker(
        store=harness.broadcasts,
        references=harness.references,
        sender=fake.sender(),
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        progress_card=lambda job, progress, now: {"sent": progress.sent},
        clock=time,
        sleep=time.sleep,
        rng=random.Random(7),
        subscribers=harness.lessons.subscribers,
    )
    finals = [await worker.run_job(job) for job in await harness.broadcasts.runnable(9e12)]
    return fake, finals


async def recipient_rows(harness: Harness) -> int:
    def count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM broadcast_recipients").fetchone()[0])

    return await harness.db.run(count)


async def test_anyone_else_gets_a_polite_refusal_and_nothing_is_queued(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "ukens tips")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("tips.refused_title")
    sent = await _press(adapter, Verb.TIP_SEND, tip="tip01", audience="subscribers")
    assert title_of(sent) == NB("tips.refused_title")
    assert await harness.broadcasts.runnable(9e12) == []


async def test_a_champion_picks_previews_and_sends_a_tip_to_all_subscribers(
    tmp_path: Path,
) -> None:
    counting: list[CountingLessons] = []

    def swap(stores: Stores) -> Stores:
        assert isinstance(stores.backend, SqliteDatabase)
        counting.append(CountingLessons(stores.backend))
        return replace(stores, lessons=counting[0])

    harness = await make_harness(tmp_path, swap)
    try:
        await _send_to_subscribers(harness, counting[0])
    finally:
        await harness.db.close()


async def _send_to_subscribers(harness: Harness, lessons: CountingLessons) -> None:
    subscribers = 1_100  # more than one chunk of the worker's listing
    await _subscribers(harness, subscribers)
    adapter = harness.adapter("a:champion-chat", user=CHAMPION)
    await say(adapter, "ukens tips")
    [compose] = cards_sent(adapter)
    assert title_of(compose) == NB("tips.title")
    book = harness.book("nb")
    lessons.listed = 0
    preview = await _press(adapter, Verb.TIP_PREVIEW, tip="tip02", audience="subscribers")
    assert lessons.listed == 0, "the preview counts the subscribers without reading them"
    assert title_of(preview) == NB("tips.preview_title")
    assert f"💡 {book.tip('tip02').text}" in str(preview)
    assert f"'value': '{subscribers}'" in str(preview)
    send = next(a for a in preview["actions"] if a["verb"] == Verb.TIP_SEND)
    lessons.listed = 0
    progress = await _press(
        adapter, Verb.TIP_SEND, **{k: v for k, v in send["data"].items() if k != "v"}
    )
    assert title_of(progress) == NB("tips.progress_title")
    assert NB("tips.preparing") in str(progress), "it says it is preparing"
    assert " / " not in str(progress), "no counts before the subscribers are listed"
    assert adaptive_card_findings([progress]) == [[]]
    # the turn did nothing per subscriber: nobody read, no recipient stored
    assert (lessons.listed, await recipient_rows(harness)) == (0, 0)
    [job] = await harness.broadcasts.runnable(9e12)
    assert job.state == JOB_LISTING
    assert job.progress_conversation == "a:champion-chat"
    assert book.tip("tip02").text in str(job.cards["nb"])
    assert "subscribe.cancel" in str(job.cards["nn"]), "every pushed tip has an opt-out"

    fake, [final] = await run_broadcasts(harness)
    assert (final.total, final.sent) == (subscribers, subscribers)
    assert len(fake.deliveries) == subscribers
    assert fake.duplicates() == {}, "each subscriber gets it once"
    assert {d.conversation_id for d in fake.deliveries} == {
        f"a:sub-{index}" for index in range(subscribers)
    }


async def test_bad_tips_audiences_and_times_get_the_form_back_with_the_problem(
    harness: Harness,
) -> None:
    await _subscribers(harness, 1)
    adapter = harness.adapter(user=CHAMPION)
    cases = [
        ({"tip": "", "own": ""}, NB("tips.error_empty")),
        ({"own": "x" * 501}, NB("tips.error_too_long", limit=500)),
        ({"tip": "tip999"}, NB("tips.error_empty")),
        ({"tip": "tip01", "audience": "channels", "channels": ""}, NB("tips.error_no_channels")),
        (
            {"tip": "tip01", "audience": "channels", "channels": "19:forged@thread"},
            NB("tips.error_unknown_channel"),
        ),
        ({"tip": "tip01", "date": "2020-01-01", "time": "09:00"}, NB("tips.error_past")),
        ({"tip": "tip01", "audience": "everyone-in-norway"}, NB("tips.error_empty")),
    ]
    for data, message in cases:
        card = await _press(adapter, Verb.TIP_SEND, **data)
        assert title_of(card) == NB("tips.title"), data
        assert message in str(card), data
    assert await harness.broadcasts.runnable(9e12) == []


async def test_a_tip_can_go_to_a_channel_where_the_app_is_installed(harness: Harness) -> None:
    channel = harness.adapter("19:general@thread", "channel")
    added = Activity(type=ActivityTypes.conversation_update, members_added=[BOT])
    await channel.process_activity(added, channel.logic)
    adapter = harness.adapter(user=CHAMPION)
    card = await _press(adapter, Verb.TIP_COMPOSE)
    assert "19:general@thread" in str(card)
    progress = await _press(
        adapter,
        Verb.TIP_SEND,
        own="Husk klarspråk!",
        audience="channels",
        channels="19:general@thread",
    )
    assert title_of(progress) == NB("tips.progress_title")
    [job] = await harness.broadcasts.runnable(9e12)
    pending = await harness.broadcasts.pending(job.id, 9e12, 10)
    assert [p.conversation_id for p in pending] == ["19:general@thread"]


async def test_a_scheduled_tip_waits_for_its_time(harness: Harness) -> None:
    await _subscribers(harness, 2)
    adapter = harness.adapter(user=CHAMPION)
    card = await _press(adapter, Verb.TIP_SEND, tip="tip03", date="2026-12-01", time="10:00")
    assert title_of(card) == NB("tips.scheduled_title")
    assert NB("tips.scheduled_subscribers_body", when="01.12.2026 10:00") in str(card)
    from tests.flows.conftest import NOW

    assert await harness.broadcasts.runnable(NOW.timestamp()) == []
    assert len(await harness.broadcasts.runnable(9e12)) == 1

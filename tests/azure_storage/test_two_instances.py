"""Two bot processes, one Azurite: what one instance writes the other reads, a champion's broadcast
started on the first goes on on the second after the first is killed, and learning cards sent to
either reach the SharePoint list once.

Teams is the rate-limiting fake connector and SharePoint the stateful fake Graph, each on its own
event loop in a thread of this test process; both bots run as `python -m bot serve --dev` with
`KIVETT_STORAGE=azure`, a short lease (5 s) so the takeover is quick.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.azure_storage.blob import AzureBlobStore
from bot.adapters.azure_storage.lessons import AzureBlobLessonStore
from bot.adapters.azure_storage.state import AzureBlobConversationReferences
from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
from bot.core.records import StoredReference, Subscription
from content import load_catalog
from tests.e2e.playground import BotProcess, run_bot
from tests.fakes.graph import FakeGraph
from tests.fakes.sharepoint_list import LIST_NAME, SITE_URL, provision
from tests.integration.test_broadcast_crash import (
    CHAMPION_AAD,
    CONCURRENCY,
    ThreadedFake,
    _reference,
    send_tip_as_champion,
    wait_until,
)
from tests.loop_thread import LoopThread

RECIPIENTS = 400
LEASE_SECONDS = 5
VERB = "laeringskort.submit"
NB = load_catalog().texts("nb")


class ThreadedGraph:
    """The fake Graph on an event loop of its own, so the test's blocking waits never stall it."""

    def __init__(self) -> None:
        self.graph = FakeGraph(token=LOCAL_DEV_TOKEN)
        self._thread = LoopThread()
        self.site_id = ""

    def start(self) -> None:
        self._thread.start()
        self._thread.run(self.graph.__aenter__())
        self.site_id = self._thread.run(provision(self.graph))

    def items(self) -> list[dict[str, Any]]:
        return self._thread.run(_items(self.graph, self.site_id))

    def stop(self) -> None:
        self._thread.run(self.graph.__aexit__(None, None, None))
        self._thread.stop()


async def _items(graph: FakeGraph, site_id: str) -> list[dict[str, Any]]:
    return graph.items(site_id, LIST_NAME)


@pytest.fixture
def teams() -> Iterator[ThreadedFake]:
    server = ThreadedFake()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sharepoint() -> Iterator[ThreadedGraph]:
    server = ThreadedGraph()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def seed(connection_string: str, container: str, service_url: str, count: int) -> list[str]:
    """`count` personal conversations with weekly subscriptions (none due soon), in Azure."""

    async def run() -> list[str]:
        store = AzureBlobStore(container, connection_string=connection_string)
        await store.open()
        references = AzureBlobConversationReferences(store)
        lessons = AzureBlobLessonStore(store)
        later = datetime.now(UTC) + timedelta(days=6)
        ids = [f"a:person-{index:05d}" for index in range(count)]
        gate = asyncio.Semaphore(32)

        async def one(index: int, cid: str) -> None:
            async with gate:
                await references.save(
                    StoredReference(cid, "personal", "tenant", _reference(service_url, index, cid))
                )
                await lessons.subscribe(
                    Subscription(f"aad-user-{index}", cid, 0, "09:00", "Europe/Oslo", "nb", later)
                )

        await asyncio.gather(*(one(index, cid) for index, cid in enumerate(ids)))
        await store.close()
        return ids

    return asyncio.run(run())


def post(bot: BotProcess, activity: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        bot.endpoint,
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}


def activity(service_url: str, user: str, conversation: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "nb-NO",
        "from": {"id": f"29:{user}", "aadObjectId": user},
        "recipient": {"id": "28:kivett", "name": "KI-vett"},
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "tenant"},
        **fields,
    }


def submit_card(bot: BotProcess, service_url: str, index: int) -> str:
    card_id = uuid.uuid4().hex
    data = {
        "v": "1",
        "card": card_id,
        "title": f"Kort fra instans {index}",
        "area": "school",
        "task": "write",
        "tool": "copilot_chat",
        "what": "Utkast.",
        "result": "Bra.",
        "benefit": "5",
        "minutes": "15",
        "per_month": "4",
        "category": "open",
        "recommend": "yes",
        "share": "true",
    }
    status, body = post(
        bot,
        activity(
            service_url,
            f"aad-writer-{index}",
            f"a:writer-{index}",
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": "laeringskort.submit", "data": data}
            },
        ),
    )
    assert status == 200
    assert NB("learning.saved_title") in str(body["value"]["body"][0]["text"])
    return card_id


def test_two_instances_share_state_take_over_a_broadcast_and_deliver_cards_once(
    azurite: str, teams: ThreadedFake, sharepoint: ThreadedGraph, tmp_path: Path
) -> None:
    container = f"two{uuid.uuid4().hex[:12]}"
    recipients = seed(azurite, container, teams.url, RECIPIENTS)
    env = {
        "KIVETT_STORAGE": "azure",
        "KIVETT_AZURE_STORAGE_CONNECTION_STRING": azurite,
        "KIVETT_AZURE_CONTAINER": container,
        "KIVETT_AZURE_LEASE_SECONDS": str(LEASE_SECONDS),
        "KIVETT_CHAMPIONS": CHAMPION_AAD,
        "KIVETT_SHAREPOINT_SITE": SITE_URL,
        "KIVETT_GRAPH_BASE_URL": sharepoint.graph.base_url,
        "KIVETT_OUTBOX_INTERVAL_SECONDS": "0.2",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        run_bot(tmp_path / "a", tmp_path / "a.log", extra_env=env) as first,
        run_bot(tmp_path / "b", tmp_path / "b.log", extra_env=env) as second,
    ):
        # conversation state written by one instance is read by the other: one welcome only
        install = {"type": "installationUpdate", "action": "add"}
        assert post(first, activity(teams.url, "aad-new", "a:new", **install))[0] < 300
        assert post(second, activity(teams.url, "aad-new", "a:new", **install))[0] < 300
        wait_until(lambda: teams.fake.count_for("a:new") >= 1, 10, "a welcome", first.log_path)
        time.sleep(0.5)
        assert teams.fake.count_for("a:new") == 1

        # learning cards sent to either instance
        cards = [submit_card(first, teams.url, 1), submit_card(second, teams.url, 2)]

        # a champion's tip, started on the first instance, which is then killed
        send_tip_as_champion(first, teams.url)
        wait_until(lambda: len(teams.tips()) >= RECIPIENTS // 4, 60, "a quarter", first.log_path)
        first.process.kill()  # SIGKILL
        first.process.wait(timeout=10)
        at_kill = len(teams.tips())
        assert at_kill < RECIPIENTS

        def everyone_has_it() -> bool:
            return set(recipients) <= {d.conversation_id for d in teams.tips()}

        wait_until(everyone_has_it, 120, "the second instance to finish", second.log_path)
        wait_until(lambda: len(sharepoint.items()) >= 2, 30, "both cards", second.log_path)

    copies = Counter(d.conversation_id for d in teams.tips() if d.conversation_id in recipients)
    duplicates = sum(n - 1 for n in copies.values())
    assert set(copies) == set(recipients)
    assert max(copies.values()) <= 2
    assert duplicates <= CONCURRENCY  # only what was in flight at the kill
    items = sharepoint.items()
    assert sorted(item["KortId"] for item in items) == sorted(cards)
    assert sharepoint.graph.items_created == 2
    assert sharepoint.graph.violations == []

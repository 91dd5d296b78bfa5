"""Kill the bot (SIGKILL) with learning cards in its outbox, start it again: each card reaches the
SharePoint list exactly once.

The real bot process (`kivett serve --dev`) writes to the stateful fake Graph. While the bot runs,
Graph first accepts some creates but answers 504 (the item exists; the bot cannot know), then
answers 503 to everything. The bot is killed, Graph recovers, the bot is started on the same data
directory. The unique card-id column and the look-up before re-creating are what keep the
ambiguous ones single.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
from bot.bootstrap import DATABASE_FILE
from bot.content_loader import load_content
from content import load_catalog
from dialogs.learning_card import LearningCardDialog
from tests.e2e.playground import run_bot
from tests.fakes.graph import FakeGraph
from tests.fakes.outbox_items import crash_then_outage
from tests.fakes.sharepoint_list import provision

NB = load_catalog().texts("nb")
CONTENT = load_content()
CHOICES = (
    LearningCardDialog(CONTENT.policy, CONTENT.service_areas)
    .labels(CONTENT.catalog.texts("nb"))
    .list_choices()
)
CARDS = 12
AMBIGUOUS = 4
LIST = "Læringskort"


def _submit(card_id: str, index: int) -> dict[str, Any]:
    data = {
        "v": "1",
        "card": card_id,
        "title": f"Kort {index}",
        "area": "technical",
        "task": "write",
        "tool": "copilot_chat",
        "what": "Utkast til standardsvar.",
        "result": "Godt utkast.",
        "benefit": "4",
        "minutes": "10",
        "per_month": "3",
        "category": "open",
        "recommend": "yes",
        "share": "false",
    }
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": str(uuid.uuid4()),
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/connector/",
        "locale": "nb-NO",
        "from": {"id": f"29:user-{index}", "aadObjectId": f"aad-user-{index}"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": f"a:crash-{index}", "conversationType": "personal"},
        "value": {
            "action": {"type": "Action.Execute", "verb": "laeringskort.submit", "data": data}
        },
    }


def _states(data_dir: Path) -> dict[str, str]:
    with closing(sqlite3.connect(data_dir / DATABASE_FILE, timeout=10)) as conn:
        return dict(conn.execute("SELECT card_id, state FROM learning_cards").fetchall())


async def test_a_kill_with_a_full_outbox_then_a_restart_delivers_each_card_exactly_once(
    tmp_path: Path,
) -> None:
    async with FakeGraph(token=LOCAL_DEV_TOKEN) as graph:
        site_id = await provision(graph)
        env = crash_then_outage(graph, AMBIGUOUS)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        card_ids = [uuid.uuid4().hex for _ in range(CARDS)]
        with run_bot(data_dir, tmp_path / "bot-1.log", extra_env=env) as bot:
            async with aiohttp.ClientSession() as http:
                for index, card_id in enumerate(card_ids):
                    async with http.post(bot.endpoint, json=_submit(card_id, index)) as response:
                        assert response.status == 200
                        body = await response.json()
                    assert NB("learning.saved_title") in str(body["value"]["body"][0]["text"])
            deadline = time.monotonic() + 20
            while graph.by_status[503] < CARDS - AMBIGUOUS and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            bot.process.kill()  # SIGKILL: no clean shutdown
            bot.process.wait(timeout=10)
        assert graph.items_created == AMBIGUOUS  # created, but the bot saw a 504
        assert set(_states(data_dir).values()) == {"pending"}  # nothing was lost at the kill

        graph.clear_script()  # Graph is back
        with run_bot(data_dir, tmp_path / "bot-2.log", extra_env=env):
            deadline = time.monotonic() + 60
            while (  # noqa: ASYNC110 - the other process's outbox is what we wait for
                set(_states(data_dir).values()) != {"delivered"} and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.2)
        items = graph.items(site_id, LIST)
        assert sorted(item["KortId"] for item in items) == sorted(card_ids)
        assert graph.items_created == CARDS  # exactly once each
        assert set(_states(data_dir).values()) == {"delivered"}
        assert graph.violations == []

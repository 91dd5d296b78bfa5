"""Læringskort end to end: filled in and saved through the Agents Playground, then written by the
bot's outbox into a SharePoint list (the stateful fake Graph, which checks every request against
Microsoft's Graph description), and counted in the project lead's summary.

The bot runs in dev mode with `KIVETT_GRAPH_BASE_URL` on loopback: it then signs in to the local
Graph with a fixed local token, which is the only way dev mode talks to a Graph at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
from bot.content_loader import load_content
from cards.verbs import Verb
from content import load_catalog
from dialogs.learning_card import LearningCardDialog
from tests.e2e.playground import card_texts, connect, run_bot, run_playground
from tests.e2e.test_lessons_playground import PLAYGROUND_USER_AAD
from tests.fakes.graph import FakeGraph
from tests.fakes.sharepoint_list import provision

pytestmark = pytest.mark.e2e

# The Playground's user has locale en-US and writes English commands
# (`learning card`, `summary`): the bot answers in English, and every button on an
# English card answers in English.
EN = load_catalog().texts("en")
CONTENT = load_content()
CHOICES = (
    LearningCardDialog(CONTENT.policy, CONTENT.service_areas)
    .labels(CONTENT.catalog.texts("nb"))
    .list_choices()
)


async def test_a_card_filled_in_the_playground_is_saved_and_reaches_the_sharepoint_list(
    tmp_path: Path,
) -> None:
    async with FakeGraph(token=LOCAL_DEV_TOKEN) as graph:
        site_id = await provision(graph)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = {
            "KIVETT_SHAREPOINT_SITE": "https://contoso.sharepoint.com/sites/ki",
            "KIVETT_GRAPH_BASE_URL": graph.base_url,
            "KIVETT_OUTBOX_INTERVAL_SECONDS": "0.2",
            "KIVETT_LEADS": PLAYGROUND_USER_AAD,
        }
        with (
            run_bot(data_dir, tmp_path / "bot.log", extra_env=env) as bot,
            run_playground(bot.endpoint, tmp_path) as pg_process,
        ):
            async with connect(pg_process.base) as pg:
                await pg.say("learning card")
                message = await pg.next_message()
                form = message.card
                assert card_texts(form)[0] == EN("learning.title")
                [submit] = [a for a in form["actions"] if a.get("verb") == Verb.CARD_SUBMIT]
                status, body = await pg.press(
                    message,
                    submit,
                    inputs={
                        "title": "Draft reply to a building application",
                        "area": "technical",
                        "task": "write",
                        "tool": "copilot_chat",
                        "what": "Asked for a first draft of a standard reply and edited it.",
                        "result": "A good draft; saved a lot of typing.",
                        "benefit": "4",
                        "minutes": "20",
                        "per_month": "6",
                        "category": "open",
                        "recommend": "yes",
                        "share": "true",
                    },
                )
                assert status == 200, body
                value = body["value"]
                saved = json.loads(value) if isinstance(value, str) else value
                shown = " ".join(card_texts(saved))
                assert EN("learning.saved_title") in shown
                assert EN("learning.saved_sharepoint") in shown

                deadline = time.monotonic() + 30
                # the bot's outbox, in another process, writes the item: poll the fake's record
                while not graph.items(site_id, "Læringskort") and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
                [item] = graph.items(site_id, "Læringskort")
                assert item["Title"] == "Draft reply to a building application"
                assert item["Verktoy"] == "Microsoft 365 Copilot Chat (jobbkonto)"
                assert item["Nytte"] == 4
                assert item["Status"] == "Ny"
                assert graph.items_created == 1
                assert graph.violations == []

                await pg.say("summary")
                summary = await pg.next_message()
                assert card_texts(summary.card)[0] == EN("learning.summary.title")
                facts = {
                    fact["title"]: fact["value"]
                    for element in summary.card["body"]
                    if element.get("type") == "FactSet"
                    for fact in element["facts"]
                }
                assert facts[EN("learning.summary.cards")] == "1"
                assert facts[EN("learning.summary.hours")] == EN(
                    "learning.summary.hours_value", hours="2.0"
                )
                assert facts[EN("learning.summary.pending")] == "0"
            lines = bot.log_lines()
            assert any('"outbox_delivered"' in line or "outbox_delivered" in line for line in lines)
            assert not any("building application" in line for line in lines)

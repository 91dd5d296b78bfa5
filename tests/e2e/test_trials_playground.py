"""Utprøvinger end to end through the Agents Playground: the Playground's user, a champion
(`KIVETT_CHAMPIONS`), registers a trial through the form, opens a learning card for it from the
confirmation card, and files the card; both are in the bot's store, the card naming the trial, the
trial is listed under `trials` with its learning-card button, and the gevinstverksted's summary
(`benefits`) for the trial counts the card.

The Playground's user has locale en-US and writes English commands: the bot answers in English.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
from bot.bootstrap import DATABASE_FILE
from bot.core.sharepoint_schema import TRIAL_LOOKUP_FIELD
from cards.verbs import Verb
from content import load_catalog
from tests.e2e.playground import card_texts, connect, every_action, run_bot, run_playground
from tests.e2e.test_lessons_playground import PLAYGROUND_USER_AAD
from tests.fakes.graph import FakeGraph
from tests.fakes.outbox_items import CARDS_LIST, SITE_URL, TRIALS_LIST, provision_both

pytestmark = pytest.mark.e2e

EN = load_catalog().texts("en")


def _button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for a in every_action(card) if a.get("verb") == verb]
    return action


def _card(body: dict[str, Any]) -> dict[str, Any]:
    value = body["value"]
    card = json.loads(value) if isinstance(value, str) else value
    assert isinstance(card, dict)
    return card


def _rows(data_dir: Path, statement: str) -> list[Any]:
    with closing(sqlite3.connect(data_dir / DATABASE_FILE, timeout=10)) as conn:
        return conn.execute(statement).fetchall()


async def test_a_champion_registers_a_trial_and_a_learning_card_is_filed_for_it(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # the bot's own day (Oslo): the trial runs from today for four weeks
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    async with FakeGraph(token=LOCAL_DEV_TOKEN) as graph:
        site_id = await provision_both(graph)  # `kivett sharepoint setup`: both lists, the lookup
        env = {
            "KIVETT_CHAMPIONS": PLAYGROUND_USER_AAD,
            "KIVETT_SHAREPOINT_SITE": SITE_URL,
            "KIVETT_GRAPH_BASE_URL": graph.base_url,
            "KIVETT_OUTBOX_INTERVAL_SECONDS": "0.2",
        }
        await _run(data_dir, tmp_path, env, today, graph, site_id)


async def _run(
    data_dir: Path,
    tmp_path: Path,
    env: dict[str, str],
    today: date,
    graph: FakeGraph,
    site_id: str,
) -> None:
    with (
        run_bot(data_dir, tmp_path / "bot.log", extra_env=env) as bot,
        run_playground(bot.endpoint, tmp_path) as pg_process,
    ):
        async with connect(pg_process.base) as pg:
            assert pg.config["currentUser"]["aadObjectId"] == PLAYGROUND_USER_AAD
            await pg.say("new trial")
            message = await pg.next_message()
            form = message.card
            assert card_texts(form)[0] == EN("trials.form_title")
            status, body = await pg.press(
                message,
                _button(form, Verb.TRIAL_SUBMIT),
                inputs={
                    "title": "Drafts of replies to building applications",
                    "task": "write",
                    "area": "technical",
                    "unit": "Building cases",
                    "tool": "copilot_chat",
                    "category": "open",
                    "starts": today.isoformat(),
                    "ends": (today + timedelta(days=28)).isoformat(),
                    "success": "Half of the replies start from a draft.",
                },
            )
            assert status == 200, body
            saved = _card(body)
            shown = " ".join(card_texts(saved))
            assert EN("trials.saved_title") in shown
            assert EN("trials.verdict.green") in shown
            [(trial_id, owner, verdict)] = _rows(
                data_dir, "SELECT trial_id, owner, verdict FROM trials"
            )
            assert (owner, verdict) == (PLAYGROUND_USER_AAD, "green")

            # the confirmation's button opens a learning card set to this trial
            status, body = await pg.press(message, _button(saved, Verb.CARD_OPEN))
            assert status == 200, body
            learning_form = _card(body)
            assert card_texts(learning_form)[0] == EN("learning.title")
            [trial_input] = [
                node
                for node in _inputs(learning_form)
                if node.get("id") == "trial" and node["type"] == "Input.ChoiceSet"
            ]
            assert trial_input["value"] == trial_id
            status, body = await pg.press(
                message,
                _button(learning_form, Verb.CARD_SUBMIT),
                inputs={
                    "trial": trial_id,
                    "title": "First drafts",
                    "area": "technical",
                    "task": "write",
                    "tool": "copilot_chat",
                    "what": "Asked for a first draft of a standard reply and edited it.",
                    "result": "A good draft.",
                    "benefit": "4",
                    "minutes": "20",
                    "per_month": "6",
                    "category": "open",
                    "recommend": "yes",
                    "share": "true",
                },
            )
            assert status == 200, body
            card_saved = _card(body)
            shown = " ".join(card_texts(card_saved))
            assert EN("learning.saved_title") in shown
            assert "Drafts of replies to building applications" in json.dumps(card_saved)
            [(draft,)] = _rows(data_dir, "SELECT draft FROM learning_cards")
            assert json.loads(draft)["trial"] == trial_id

            await pg.say("trials")
            listing = (await pg.next_message()).card
            assert card_texts(listing)[0] == EN("trials.list_title")
            assert _button(listing, Verb.CARD_OPEN)["data"]["trial"] == trial_id

            # the gevinstverksted's summary for the trial counts the card, as experienced figures
            await pg.say("benefits")
            message = await pg.next_message()
            pick = message.card
            assert card_texts(pick)[0] == EN("gevinst.title")
            status, body = await pg.press(
                message, _button(pick, Verb.GEVINST), inputs={"scope": f"trial:{trial_id}"}
            )
            assert status == 200, body
            summary = _card(body)
            facts = _facts(summary)
            assert facts[EN("gevinst.cards")] == "1"
            assert facts[EN("gevinst.hours")] == EN("gevinst.hours_value", hours="2.0")
            assert "A good draft." in json.dumps(summary), "the shareable result is quoted"

            # the bot's outbox (in its own process) writes the trial, then the card linked to it
            deadline = time.monotonic() + 30
            while not graph.items(site_id, CARDS_LIST) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            [trial_item] = graph.items(site_id, TRIALS_LIST)
            assert trial_item["Title"] == "Drafts of replies to building applications"
            assert trial_item["UtprovingId"] == trial_id
            [card_item] = graph.items(site_id, CARDS_LIST)
            [trial_item_id] = [
                item_id
                for listed in graph.lists[site_id].values()
                if listed.display_name == TRIALS_LIST
                for item_id in listed.items
            ]
            assert str(card_item[TRIAL_LOOKUP_FIELD]) == str(trial_item_id)
            assert graph.violations == []
        lines = bot.log_lines()
        assert not any("building applications" in line for line in lines)


def _facts(card: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(card, dict):
        if card.get("type") == "FactSet":
            found |= {fact["title"]: fact["value"] for fact in card["facts"]}
        for value in card.values():
            found |= _facts(value)
    elif isinstance(card, list):
        for item in card:
            found |= _facts(item)
    return found


def _inputs(card: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if str(card.get("type", "")).startswith("Input."):
            found.append(card)
        for value in card.values():
            found += _inputs(value)
    elif isinstance(card, list):
        for item in card:
            found += _inputs(item)
    return found

"""End to end through the Microsoft 365 Agents Playground, driven by its REST + WebSocket API."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing

import pytest

from cards.verbs import Verb
from content import load_catalog
from tests.e2e.conftest import Stack
from tests.e2e.playground import all_actions, card_actions, card_texts, connect, language_offer

pytestmark = pytest.mark.e2e

# The Playground's user has locale en-US and has chosen no language: a Norwegian command word or
# question is answered in the målform (bokmål by default), an English one or a message without
# words in English, and a button in the language of the card it sits on.
NB = load_catalog().texts("nb")
EN = load_catalog().texts("en")


def _references(stack: Stack) -> dict[str, str]:
    with closing(sqlite3.connect(stack.bot.data_dir / "kivett.sqlite3")) as conn:
        rows = conn.execute("SELECT conversation_id, conversation_type FROM conversation_refs")
        return dict(rows.fetchall())


async def test_install_welcomes_and_hjelp_gets_help_and_a_button_updates_the_card(
    stack: Stack,
) -> None:
    async with connect(stack.playground.base) as pg:
        await pg.install()
        welcome = await pg.next_message()  # no words to go by: the client's locale
        assert card_texts(welcome.card)[0] == EN("welcome.title")
        offer = language_offer(welcome.card)
        assert offer is not None, "the first answer to an English client offers the choice"
        assert offer.choices == ["nb", "nn", "en"]
        assert pg.personal_chat_id in _references(stack)

        await pg.say("hjelp")
        help_message = await pg.next_message()
        assert card_texts(help_message.card)[0] == NB("help.title")
        assert language_offer(help_message.card) is None, "offered once"

        about_button, language_button = card_actions(help_message.card)
        assert about_button["verb"] == Verb.ABOUT
        assert language_button["verb"] == Verb.LANGUAGE
        status, body = await pg.press(help_message, about_button)
        assert status == 200
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        assert card_texts(body["value"])[0] == NB("about.title")

        mydata_button, back_button = card_actions(body["value"])
        assert mydata_button["verb"] == Verb.MY_DATA
        assert back_button["verb"] == Verb.HELP
        status, body = await pg.press(help_message, back_button)
        assert card_texts(body["value"])[0] == NB("help.title")


async def test_each_start_button_on_the_help_card_opens_its_flow(stack: Stack) -> None:
    opened = {
        Verb.KI_START: "kisjekk.title",
        Verb.TEXT_OPEN: "tekstsjekk.title",
        Verb.LESSONS_OVERVIEW: "lessons.title",
        Verb.CARD_OPEN: "learning.title",
    }
    async with connect(stack.playground.base) as pg:
        await pg.say("help")
        help_message = await pg.next_message()
        starts = [a for a in all_actions(help_message.card) if a["verb"] in opened]
        assert [a["verb"] for a in starts] == list(opened)
        for button in starts:
            status, body = await pg.press(help_message, button)
            assert status == 200
            assert card_texts(body["value"])[0] == EN(opened[Verb(button["verb"])]), button["title"]


async def test_unknown_text_and_a_forged_button_get_helpful_cards(stack: Stack) -> None:
    async with connect(stack.playground.base) as pg:
        await pg.say("kan du bestille pizza til kontoret?")
        fallback = await pg.next_message()  # a Norwegian question: the målform
        assert card_texts(fallback.card)[0] == NB("fallback.title")
        status, body = await pg.invoke_raw(
            fallback,
            {"action": {"type": "Action.Execute", "verb": "kivett.drop_tables", "data": {}}},
        )
        assert status == 200
        # a forged button carries no card language: the answer follows the client's locale
        assert card_texts(body["value"])[0] == EN("stale.title")


async def test_uninstall_forgets_the_conversation_reference(stack: Stack) -> None:
    async with connect(stack.playground.base) as pg:
        await pg.say("hjelp")
        await pg.next_message()
        assert pg.personal_chat_id in _references(stack)
        await pg.custom_activity("uninstall")
        for _ in range(50):
            if pg.personal_chat_id not in _references(stack):
                break
            await asyncio.sleep(0.1)
        assert pg.personal_chat_id not in _references(stack)


async def test_logs_have_one_structured_line_per_turn_and_never_the_users_text(
    stack: Stack,
) -> None:
    canary = "KANARI-7f3a hemmelig tekst fra Kari"
    async with connect(stack.playground.base) as pg:
        await pg.say(canary)
        await pg.next_message()
    lines = stack.bot.log_lines()
    assert not any("KANARI-7f3a" in line for line in lines)
    turns = [
        json.loads(line) for line in lines if line.startswith("{") and '"event": "turn"' in line
    ]
    assert turns, "every turn is logged"
    for entry in turns:
        assert entry["request_id"]
        assert entry["activity_type"]
        assert entry["status"] < 500
    assert any(entry["route"] == "command:unknown" for entry in turns)

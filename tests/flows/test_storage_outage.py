"""When the store cannot be reached, or is there but damaged, full or read-only: the employee is
told plainly, nothing they wrote is lost."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter

from bot.ports import StorageUnavailableError
from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import Harness, cards_sent, say, title_of
from tests.flows.test_ki_check_flow import press, texts_in
from tests.flows.test_learning_flow import GOOD, inputs_of, open_form
from tests.storage_faults import damage_table, no_room_left, refuse_writes, room_again

NB = load_catalog().texts("nb")


async def test_a_card_sent_while_the_store_is_down_comes_back_with_everything_written(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    await harness.db.close()  # the store goes away
    back = await press(harness, adapter, form, Verb.CARD_SUBMIT, **GOOD)
    assert NB("learning.storage_down") in texts_in(back)
    fields = inputs_of(back)
    assert fields["what"]["value"] == GOOD["what"]
    assert fields["title"]["value"] == GOOD["title"]
    await harness.db.open()  # back again: the same card is saved on the next press
    saved = await press(harness, adapter, back, Verb.CARD_SUBMIT, **GOOD)
    assert title_of(saved).endswith(NB("learning.saved_title"))
    assert len(await harness.learning_store.all()) == 1


async def test_a_message_while_the_store_is_down_gets_a_plain_explanation(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "hjelp")  # the conversation is known (its reference is saved)
    cards_sent(adapter)
    await harness.db.close()
    await say(adapter, "hjelp")  # needs no store: answered as usual
    await say(adapter, "vettregler")  # needs the lesson progress from the store
    help_card, lessons = cards_sent(adapter)
    assert title_of(help_card) == NB("help.title")
    assert title_of(lessons) == NB("error.storage_title")
    await harness.db.open()


async def test_a_verdict_is_still_given_when_the_usage_figures_cannot_be_written(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "ki-sjekk")
    [card] = cards_sent(adapter)
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice="write")
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice="copilot_chat")
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice="open")
    card = await press(harness, adapter, card, Verb.KI_NEXT, decision="none", publish="no")
    await harness.db.close()
    verdict = await press(harness, adapter, card, Verb.KI_NEXT, flags="none")
    assert any(NB("kisjekk.verdict_green") in text for text in texts_in(verdict))
    await harness.db.open()


# -- a store that is there but broken: the same plain explanation, nothing typed is lost ---------

LONG = {  # a card long enough to need a new page of the database file
    **GOOD,
    "what": "Jeg ba om et utkast og rettet språket etterpå. " * 40,
    "result": "Utkastet var godt og sparte mye skriving hver uke. " * 38,
    "challenges": "Vi måtte sjekke fakta og tone nøye hver gang. " * 40,
}


async def _submit_keeps_the_card(
    harness: Harness, adapter: TestAdapter, form: dict[str, Any], typed: dict[str, str]
) -> dict[str, Any]:
    """Send the form; the answer is the same form saying the store is down, with every field as
    typed. Returns it."""
    back = await press(harness, adapter, form, Verb.CARD_SUBMIT, **typed)
    assert NB("learning.storage_down") in texts_in(back)
    assert NB("error.title") not in texts_in(back)
    fields = inputs_of(back)
    for name in ("title", "what", "result", "challenges"):
        assert fields[name]["value"] == typed[name], name
    return back


async def test_a_card_sent_to_a_damaged_database_comes_back_with_everything_written(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    await damage_table(harness.db, "learning_cards")  # a bad sector under the cards

    await _submit_keeps_the_card(harness, adapter, form, GOOD)
    with pytest.raises(StorageUnavailableError, match=r"^corrupt$"):
        await harness.db.ping()  # and /readyz says so (tests/integration/test_health.py)


async def test_a_card_sent_when_the_disk_is_full_comes_back_and_is_saved_once_there_is_room(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    await no_room_left(harness.db)

    back = await _submit_keeps_the_card(harness, adapter, form, LONG)
    assert await harness.learning_store.all() == []

    await room_again(harness.db)
    saved = await press(harness, adapter, back, Verb.CARD_SUBMIT, **LONG)
    assert title_of(saved).endswith(NB("learning.saved_title"))
    [stored] = await harness.learning_store.all()
    assert stored.card.draft.what == LONG["what"].strip()


async def test_a_card_sent_to_a_read_only_store_comes_back_and_is_saved_once_writable(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    await refuse_writes(harness.db)

    back = await _submit_keeps_the_card(harness, adapter, form, GOOD)

    await refuse_writes(harness.db, False)
    saved = await press(harness, adapter, back, Verb.CARD_SUBMIT, **GOOD)
    assert title_of(saved).endswith(NB("learning.saved_title"))
    assert len(await harness.learning_store.all()) == 1


async def test_a_message_needing_a_damaged_table_gets_the_storage_explanation(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "hjelp")
    cards_sent(adapter)
    await damage_table(harness.db, "lesson_progress")

    await say(adapter, "vettregler")  # needs the lesson progress
    [lessons] = cards_sent(adapter)
    assert title_of(lessons) == NB("error.storage_title")

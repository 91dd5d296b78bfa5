"""When the store cannot be reached: the employee is told plainly, nothing they wrote is lost."""

from __future__ import annotations

from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import Harness, cards_sent, say, title_of
from tests.flows.test_ki_check_flow import press, texts_in
from tests.flows.test_learning_flow import GOOD, inputs_of, open_form

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

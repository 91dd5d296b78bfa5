"""Læringskort and person names, called directly: a possible name is asked about, never saved
silently and never lost; the employee removes it or confirms it is not a person. A confirmation
covers only the names shown, and never an identity number."""

from __future__ import annotations

import json
from typing import Any

from bot.core.privacy.names import NameLexicon
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import LearningFormView, LearningSavedView
from dialogs.flow import Reply
from dialogs.learning_card import LearningCardDialog
from dialogs.learning_flow import LearningFlow
from tests.fakes.stores import FakeLearningCards, FakeUsage
from tests.flows.test_learning_flow import GOOD, inputs_of
from tests.node import adaptive_card_findings
from tests.unit.flows.conftest import CONTENT, NOW, request

CARD_ID = "0123456789abcdef0123456789abcdef"
FNR = "150385-10018"  # a valid fødselsnummer in the form people write it
NB = CONTENT.catalog.texts("nb")
RENDERER = CardRenderer()


def _flow(
    store: FakeLearningCards, stored: list[int], names: NameLexicon | None = CONTENT.names
) -> LearningFlow:
    return LearningFlow(
        dialog=LearningCardDialog(CONTENT.policy, CONTENT.service_areas),
        policy=CONTENT.policy,
        store=store,
        usage=FakeUsage(),
        clock=lambda: NOW,
        to_sharepoint=True,
        on_stored=lambda: stored.append(1),
        names=names,
    )


async def _submit(flow: LearningFlow, data: dict[str, Any]) -> Reply:
    return await flow.routes().verbs[Verb.CARD_SUBMIT](request(verb=Verb.CARD_SUBMIT, data=data))


def _render(view: object) -> dict[str, Any]:
    assert isinstance(view, LearningFormView)
    return RENDERER.render(view, NB)


def _press_submit(card: dict[str, Any], **inputs: str) -> dict[str, Any]:
    """What Teams sends when the employee presses "Lagre kortet": the button's data plus every
    input as it stands (the values the card came back with), changed by `inputs`."""
    [submit] = [a for a in card["actions"] if a.get("verb") == Verb.CARD_SUBMIT]
    values = {
        name: str(field.get("value", ""))
        for name, field in inputs_of(card).items()
        if field.get("value", "") != ""
    }
    return {**submit["data"], **values, **inputs}


def _shown(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def test_a_possible_name_is_asked_about_and_nothing_typed_is_lost() -> None:
    store, stored = FakeLearningCards(), list[int]()
    typed = {**GOOD, "card": CARD_ID, "what": "Skrev et svar til Kari Nordmann om søknaden."}
    reply = await _submit(_flow(store, stored), typed)

    assert isinstance(reply.view, LearningFormView)
    assert store.cards == {}, "nothing is saved while a name is unanswered"
    assert stored == []
    card = _render(reply.view)
    fields = inputs_of(card)
    for name, value in typed.items():
        if name != "card":
            assert str(fields[name]["value"]) == value, name
    assert NB("learning.names_title") in _shown(card)
    line = NB("learning.names_line", field=NB("learning.label.what"), names="K••• N•••")
    assert f"• {line}" in _shown(card)
    assert fields["not_person"]["title"] == NB("learning.names_confirm")
    assert fields["not_person"]["value"] == "false"
    submit = _press_submit(card)
    assert "Kari" not in json.dumps(submit["names"]), "the button carries keys, never the name"
    assert adaptive_card_findings([card]) == [[]]


async def test_confirming_saves_the_card_as_typed_and_once() -> None:
    store, stored = FakeLearningCards(), list[int]()
    flow = _flow(store, stored)
    typed = {**GOOD, "card": CARD_ID, "title": "Svarbrev med Kari Nordmann som mal"}
    asked = _render((await _submit(flow, typed)).view)

    confirm = _press_submit(asked, not_person="true")
    saved = await _submit(flow, confirm)
    assert isinstance(saved.view, LearningSavedView)
    assert store.cards[CARD_ID].card.draft.title == typed["title"]
    again = await _submit(flow, confirm)  # the same submit replayed
    assert isinstance(again.view, LearningSavedView)
    assert NB("learning.already_saved") in again.view.body
    assert list(store.cards) == [CARD_ID]
    assert stored == [1]


async def test_the_box_ticked_without_the_names_being_shown_does_not_save() -> None:
    store = FakeLearningCards()
    typed = {**GOOD, "card": CARD_ID, "what": "Hjalp Kari med brevet.", "not_person": "true"}
    reply = await _submit(_flow(store, []), typed)
    assert isinstance(reply.view, LearningFormView)
    assert reply.view.names
    assert store.cards == {}


async def test_a_name_added_after_confirming_is_asked_about_again() -> None:
    store, stored = FakeLearningCards(), list[int]()
    flow = _flow(store, stored)
    asked = _render((await _submit(flow, {**GOOD, "card": CARD_ID, "what": "Brev til Kari."})).view)

    added = "Brev til Kari. Ola Hansen leste korrektur."
    reply = await _submit(flow, _press_submit(asked, not_person="true", what=added))
    assert isinstance(reply.view, LearningFormView)
    assert reply.view.names_again
    assert store.cards == {}
    card = _render(reply.view)
    assert NB("learning.names_again") in _shown(card)
    assert "O••• H•••" in _shown(card)
    assert inputs_of(card)["what"]["value"] == added
    assert inputs_of(card)["not_person"]["value"] == "false", "the new name needs a new tick"

    saved = await _submit(flow, _press_submit(card, not_person="true"))
    assert isinstance(saved.view, LearningSavedView)
    assert store.cards[CARD_ID].card.draft.what == added


async def test_an_identity_number_blocks_even_with_the_box_ticked() -> None:
    store, stored = FakeLearningCards(), list[int]()
    flow = _flow(store, stored)
    typed = {**GOOD, "card": CARD_ID, "what": f"Svarte Kari om saken, fnr {FNR}."}
    first = (await _submit(flow, typed)).view
    assert isinstance(first, LearningFormView)
    assert first.findings
    assert all("10018" not in line for line in first.findings), "only the last two digits shown"
    asked = _render(first)
    assert NB("learning.findings_title") in _shown(asked)

    reply = await _submit(flow, _press_submit(asked, not_person="true"))
    assert isinstance(reply.view, LearningFormView)
    assert reply.view.findings
    assert store.cards == {}
    card = _render(reply.view)
    assert NB("learning.names_not_for_the_rest") in _shown(card)
    assert inputs_of(card)["what"]["value"] == typed["what"]
    assert inputs_of(card)["not_person"]["value"] == "true", "the names stay confirmed"

    cleaned = _press_submit(card, what="Svarte Kari om saken.")
    saved = await _submit(flow, cleaned)
    assert isinstance(saved.view, LearningSavedView)
    assert store.cards[CARD_ID].card.draft.what == "Svarte Kari om saken."


async def test_tool_and_product_names_are_not_asked_about() -> None:
    store, stored = FakeLearningCards(), list[int]()
    typed = {
        **GOOD,
        "card": CARD_ID,
        "title": "Copilot i Microsoft Teams",
        "what": "Ba Copilot om et sammendrag av møtet i Microsoft Teams.",
    }
    reply = await _submit(_flow(store, stored), typed)
    assert isinstance(reply.view, LearningSavedView)
    assert store.cards[CARD_ID].card.draft.title == typed["title"]


async def test_a_confirmed_card_kept_back_by_a_storage_outage_saves_on_the_next_press() -> None:
    store, stored = FakeLearningCards(), list[int]()
    flow = _flow(store, stored)
    typed = {**GOOD, "card": CARD_ID, "what": "Brev til Kari Nordmann."}
    asked = _render((await _submit(flow, typed)).view)

    store.down = True
    reply = await _submit(flow, _press_submit(asked, not_person="true"))
    assert isinstance(reply.view, LearningFormView)
    card = _render(reply.view)
    assert NB("learning.storage_down") in _shown(card)
    assert inputs_of(card)["what"]["value"] == typed["what"]
    assert inputs_of(card)["not_person"]["value"] == "true"

    store.down = False
    saved = await _submit(flow, _press_submit(card))
    assert isinstance(saved.view, LearningSavedView)
    assert store.cards[CARD_ID].card.draft.what == typed["what"]


async def test_without_the_name_lexicon_names_are_not_looked_for() -> None:
    store = FakeLearningCards()
    typed = {**GOOD, "card": CARD_ID, "what": "Brev til Kari Nordmann."}
    reply = await _submit(_flow(store, [], names=None), typed)
    assert isinstance(reply.view, LearningSavedView)

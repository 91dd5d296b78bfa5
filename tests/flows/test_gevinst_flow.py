"""`gevinst` / `benefits`: champions and project leads pick a trial or a unit and see what its
learning cards say (real SQLite stores, real cards); an employee is refused politely."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.core.caller import Role
from bot.core.learning_cards import LearningCard
from cards.renderer import CardRenderer
from cards.views import NoticeView, TrialSummaryView
from content import load_catalog
from dialogs.flow import Reply
from dialogs.gevinst import GEVINST_VERB, SCOPE, GevinstDialog, GevinstFlow
from dialogs.learning_card import LearningCardDialog
from tests.card_tree import actions, nodes
from tests.fakes.stores import FakeLearningCards
from tests.fakes.trials import FakeTrials
from tests.flows.conftest import CHAMPION, LEAD, Harness, cards_sent, invoke, say, title_of
from tests.node import adaptive_card_findings
from tests.unit.flows.conftest import CONTENT, caller, request
from tests.unit.test_gevinst import CARDS, TRIALS

NB = load_catalog().texts("nb")
EN = load_catalog().texts("en")


async def _fill(harness: Harness) -> None:
    """The trials and the learning cards of tests.unit.test_gevinst, in the real stores (the
    newest trial is listed first)."""
    for trial in TRIALS:
        assert await harness.stores.trials.add(trial.trial)
    for card in CARDS:
        assert await harness.learning_store.add(card.card)


def _card(reply: Reply, language: str = "nb") -> dict[str, Any]:
    texts = load_catalog().texts("nb" if language == "nb" else "en")
    return CardRenderer().render(reply.view, texts)


def _shown(card: dict[str, Any]) -> list[str]:
    return [
        node[key]
        for node in nodes(card)
        for key in ("text", "title", "value")
        if isinstance(node.get(key), str)
    ]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        f["title"]: f["value"]
        for element in card["body"]
        if element.get("type") == "FactSet"
        for f in element["facts"]
    }


@pytest.mark.parametrize("role", [Role.CHAMPION, Role.LEAD])
async def test_champions_and_leads_get_the_trials_and_units_to_pick_from(
    harness: Harness, role: Role
) -> None:
    await _fill(harness)
    reply = await harness.flows.gevinst.show(request(caller(role)))
    assert isinstance(reply.view, TrialSummaryView)
    card = _card(reply)
    assert title_of(card) == NB("gevinst.title")
    [choices] = [n for n in nodes(card) if n.get("type") == "Input.ChoiceSet"]
    assert [c["title"] for c in choices["choices"]] == [
        NB("gevinst.choice_trial", title="Vaktplan", unit="hjemmetjenesten Sone Nord"),
        NB("gevinst.choice_trial", title="Foreldrebrev", unit="Skolekontoret"),
        NB("gevinst.choice_trial", title="Referat", unit="Hjemmetjenesten sone nord"),
        NB("gevinst.choice_unit", unit="Hjemmetjenesten sone nord"),
        NB("gevinst.choice_unit", unit="Skolekontoret"),
    ]
    assert adaptive_card_findings([card]) == [[]]


async def test_a_lead_picks_a_trial_and_sees_its_cards_counted_as_reported(
    harness: Harness,
) -> None:
    await _fill(harness)
    # a card filed later for the trial is counted the next time the lead looks
    later = CARDS[0].card
    await harness.learning_store.add(
        LearningCard(
            "c7",
            later.submitted_at,
            "aad-ola",
            "nb",
            replace(later.draft, benefit=2, minutes_saved=20, times_per_month=3),
            (),
        )
    )
    reply = await harness.flows.gevinst.show(
        request(caller(Role.LEAD), data={SCOPE: "trial:t-nord"})
    )
    card = _card(reply)
    assert title_of(card) == NB("gevinst.title_trial", name="Referat")
    facts = _facts(card)
    assert facts[NB("gevinst.cards")] == "3"
    assert facts[NB("gevinst.hours")] == NB("gevinst.hours_value", hours="5,0")
    assert facts[NB("gevinst.average_benefit")] == NB("gevinst.average_value", value="3,3")
    shown = _shown(card)
    assert NB("gevinst.experienced") in shown
    assert "• «Referatet var klart samme dag.» (Møtereferat)" in shown
    assert not any("Ikke til deling." in line for line in shown)
    assert adaptive_card_findings([card]) == [[]]


async def test_a_unit_sums_up_all_its_trials_in_english(harness: Harness) -> None:
    await _fill(harness)
    reply = await harness.flows.gevinst.show(
        request(caller(Role.CHAMPION, language="en"), data={SCOPE: "unit:Skolekontoret"})
    )
    card = _card(reply, "en")
    assert title_of(card) == EN("gevinst.title_unit", name="Skolekontoret")
    facts = _facts(card)
    assert facts[EN("gevinst.cards")] == "1"
    assert facts[EN("gevinst.hours")] == EN("gevinst.hours_value", hours="1.0")
    assert facts[EN("gevinst.recommend")] == "0 / 0 / 1"


async def test_an_employee_is_refused_politely_whatever_the_card_asks(harness: Harness) -> None:
    await _fill(harness)
    for data in ({}, {SCOPE: "trial:t-nord"}):
        reply = await harness.flows.gevinst.show(request(caller(), data=data))
        assert isinstance(reply.view, NoticeView)
        card = _card(reply)
        shown = _shown(card)
        assert NB("gevinst.for_roles") in shown
        assert not any("Referat" in line for line in shown)
        assert [a["title"] for a in actions(card)] == [
            NB("learning.button_new"),
            NB("learning.button_help"),
        ]


async def test_an_unknown_trial_says_so_and_offers_the_list_again(harness: Harness) -> None:
    await _fill(harness)
    reply = await harness.flows.gevinst.show(
        request(caller(Role.LEAD), data={SCOPE: "trial:t-gone"})
    )
    assert isinstance(reply.view, TrialSummaryView)
    assert reply.view.notice == NB("gevinst.not_found")
    assert reply.view.facts == ()
    assert len(reply.view.choices) == 5


async def test_without_trials_the_card_says_how_they_come() -> None:
    flow = GevinstFlow(
        dialog=GevinstDialog(LearningCardDialog(CONTENT.policy, CONTENT.service_areas)),
        trials=FakeTrials(),
        cards=FakeLearningCards(),
    )
    reply = await flow.show(request(caller(Role.CHAMPION)))
    assert isinstance(reply.view, TrialSummaryView)
    assert reply.view.notice == NB("gevinst.no_trials")
    assert reply.view.choices == ()


async def test_a_store_that_does_not_answer_is_said_plainly() -> None:
    trials, cards = FakeTrials(), FakeLearningCards()
    for stored in TRIALS:
        await trials.add(stored.trial)
    cards.down = True
    flow = GevinstFlow(
        dialog=GevinstDialog(LearningCardDialog(CONTENT.policy, CONTENT.service_areas)),
        trials=trials,
        cards=cards,
    )
    reply = await flow.show(request(caller(Role.LEAD), data={SCOPE: "trial:t-nord"}))
    assert isinstance(reply.view, TrialSummaryView)
    assert reply.view.notice == NB("gevinst.storage_down")
    assert reply.route == "gevinst:storage_down"


async def test_the_command_reaches_champions_and_refuses_an_employee(harness: Harness) -> None:
    await _fill(harness)
    champion = harness.adapter("a:champion-chat", user=CHAMPION)
    await say(champion, "gevinst")
    [card] = cards_sent(champion)
    assert title_of(card) == NB("gevinst.title")
    employee = harness.adapter()
    await say(employee, "gevinst")
    [refused] = cards_sent(employee)
    assert NB("gevinst.for_roles") in _shown(refused)


async def test_the_cards_button_shows_the_chosen_trial(harness: Harness) -> None:
    await _fill(harness)
    lead = harness.adapter("a:lead-chat", user=LEAD)
    response = await invoke(
        lead,
        {
            "action": {
                "type": "Action.Execute",
                "verb": GEVINST_VERB.value,
                "data": {"v": "1", SCOPE: "trial:t-nord"},
            }
        },
    )
    card = response.body["value"]
    assert title_of(card) == NB("gevinst.title_trial", name="Referat")
    assert _facts(card)[NB("gevinst.cards")] == "2"

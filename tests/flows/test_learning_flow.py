"""Læringskort over TestAdapter: fill in, check, store first, say saved; leads see the summary."""

from __future__ import annotations

from typing import Any

from bot.core.learning_cards import DeliveryState, FollowUp
from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import LEAD, Harness, cards_sent, say, title_of
from tests.flows.test_ki_check_flow import button, press, texts_in, walk_to_verdict
from tests.node import adaptive_card_findings

NB = load_catalog().texts("nb")
EN = load_catalog().texts("en")

GOOD = {
    "title": "Utkast til svar på byggesøknad",
    "area": "technical",
    "task": "write",
    "tool": "copilot_chat",
    "what": "Jeg ba om et utkast til et standardsvar og rettet språket etterpå.",
    "result": "Godt utkast, sparte mye skriving.",
    "benefit": "4",
    "minutes": "20",
    "per_month": "6",
    "category": "open",
    "challenges": "",
    "recommend": "yes",
    "share": "true",
}


def inputs_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


async def open_form(harness: Harness, adapter: Any, word: str = "læringskort") -> dict[str, Any]:
    await say(adapter, word)
    [card] = cards_sent(adapter)
    return card


async def test_the_form_asks_every_field_with_labels_and_passes_the_parser(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    assert title_of(form) == NB("learning.title")
    fields = inputs_of(form)
    assert set(GOOD) <= set(fields)
    assert fields["title"]["isRequired"]
    assert fields["title"]["errorMessage"]
    assert {c["value"] for c in fields["tool"]["choices"]} >= {"chatgpt", "copilot_chat", "other"}
    assert [c["value"] for c in fields["recommend"]["choices"]] == ["yes", "maybe", "no"]
    assert adaptive_card_findings([form]) == [[]]


async def test_a_good_card_is_stored_before_the_bot_says_saved(harness: Harness) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    saved = await press(harness, adapter, form, Verb.CARD_SUBMIT, **GOOD)
    assert title_of(saved).endswith(NB("learning.saved_title"))
    [stored] = await harness.learning_store.all()
    assert stored.state is DeliveryState.PENDING
    assert stored.card.draft.title == GOOD["title"]
    assert stored.card.author == "aad-user"
    assert stored.card.follow_up == ()
    assert stored.card.card_id[:8].upper() in str(saved)
    assert harness.stored_signals == [1]  # the outbox was woken
    assert adaptive_card_findings([saved]) == [[]]


async def test_pressing_save_twice_stores_the_card_once(harness: Harness) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    await press(harness, adapter, form, Verb.CARD_SUBMIT, **GOOD)
    again = await press(harness, adapter, form, Verb.CARD_SUBMIT, **GOOD)
    assert NB("learning.already_saved") in str(again)
    assert len(await harness.learning_store.all()) == 1


async def test_missing_and_out_of_range_fields_come_back_named_and_nothing_is_stored(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    bad = {**GOOD, "result": "", "benefit": "9", "minutes": "lots"}
    back = await press(harness, adapter, form, Verb.CARD_SUBMIT, **bad)
    shown = texts_in(back)
    assert NB("learning.problems_title") in shown
    assert f"• {NB('learning.label.result')}: {NB('learning.problem.required')}" in shown
    assert f"• {NB('learning.label.benefit')}: {NB('learning.problem.out_of_range')}" in shown
    assert f"• {NB('learning.label.minutes')}: {NB('learning.problem.not_a_number')}" in shown
    # what the employee wrote is kept in the form, so nothing they typed is lost
    assert inputs_of(back)["what"]["value"] == GOOD["what"]
    assert await harness.learning_store.all() == []
    assert adaptive_card_findings([back]) == [[]]


async def test_forged_payloads_are_refused_field_by_field(harness: Harness) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    forged = {
        **GOOD,
        "tool": "hacker-tool",
        "area": "<script>",
        "title": "x" * 5000,
        "share": "maybe",
    }
    back = await press(harness, adapter, form, Verb.CARD_SUBMIT, **forged)
    shown = " ".join(texts_in(back))
    for field in ("tool", "area", "title", "share"):
        assert NB(f"learning.label.{field}") in shown
    assert await harness.learning_store.all() == []


async def test_personal_data_in_a_text_field_is_shown_masked_and_must_go_first(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    leaky = {**GOOD, "what": "Svarte Ola på 412 34 567 om søknaden."}
    back = await press(harness, adapter, form, Verb.CARD_SUBMIT, **leaky)
    shown = " ".join(texts_in(back))
    assert NB("learning.findings_title") in shown
    assert NB("tekstsjekk.kind.phone") in shown
    assert await harness.learning_store.all() == []
    cleaned = await press(harness, adapter, back, Verb.CARD_SUBMIT, **GOOD)
    assert title_of(cleaned).endswith(NB("learning.saved_title"))
    assert len(await harness.learning_store.all()) == 1


async def test_personal_data_in_an_open_tool_is_saved_flagged_with_guidance(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    risky = {**GOOD, "tool": "chatgpt", "category": "restricted"}
    saved = await press(harness, adapter, form, Verb.CARD_SUBMIT, **risky)
    assert "• " + NB("learning.follow_up.sensitive_in_open_tool") in texts_in(saved)
    assert "personvernombud@example.no" in str(saved)
    [stored] = await harness.learning_store.all()
    assert stored.card.follow_up == (FollowUp.SENSITIVE_IN_OPEN_TOOL,)


async def test_a_ki_check_verdict_opens_a_card_prefilled_with_its_answers(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    verdict = await walk_to_verdict(harness, adapter, "summarise", "chatgpt", "restricted")
    form = await press(harness, adapter, verdict, Verb.CARD_OPEN)
    fields = inputs_of(form)
    assert fields["task"]["value"] == "summarise"
    assert fields["tool"]["value"] == "chatgpt"
    assert fields["category"]["value"] == "restricted"
    assert NB("learning.prefilled") in texts_in(form)


async def test_the_summary_is_for_leads_only(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "oppsummering")
    [card] = cards_sent(adapter)
    assert NB("learning.summary.leads_only") in texts_in(card)
    button(card, Verb.CARD_OPEN)


async def test_a_lead_sees_counts_hours_chart_flags_and_usage(harness: Harness) -> None:
    employee = harness.adapter()
    form = await open_form(harness, employee)
    await press(harness, employee, form, Verb.CARD_SUBMIT, **GOOD)
    form = await open_form(harness, employee)
    risky = {**GOOD, "title": "Referat", "tool": "chatgpt", "category": "restricted"}
    await press(harness, employee, form, Verb.CARD_SUBMIT, **risky)
    await harness.learning_store.set_lead_statuses(
        {(await harness.learning_store.all())[0].card.card_id: "Vurdert"}
    )
    lead = harness.adapter("a:lead-chat", user=LEAD)
    await say(lead, "oppsummering")
    [summary] = cards_sent(lead)
    shown = texts_in(summary)
    assert title_of(summary) == NB("learning.summary.title")
    facts = {
        f["title"]: f["value"]
        for element in summary["body"]
        if element.get("type") == "FactSet"
        for f in element["facts"]
    }
    assert facts[NB("learning.summary.cards")] == "2"
    assert facts[NB("learning.summary.hours")] == NB("learning.summary.hours_value", hours="4,0")
    assert facts["Vurdert"] == "1"
    assert facts["Ny"] == "1"
    assert any(line.startswith("• Referat (ChatGPT") for line in shown)  # flagged
    assert NB("learning.area.technical") in shown  # the chart's label
    assert any(a.get("type") == "Action.OpenUrl" for a in summary["actions"])
    assert adaptive_card_findings([summary]) == [[]]


async def test_the_card_speaks_english_to_an_english_client(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "learning card", locale="en-US")
    [form] = cards_sent(adapter)
    assert title_of(form) == EN("learning.title")


async def test_when_sharepoint_is_slow_the_thank_you_says_the_card_is_safe_meanwhile(
    harness: Harness,
) -> None:
    harness.sharepoint_delayed.append(True)
    adapter = harness.adapter()
    form = await open_form(harness, adapter)
    saved = await press(harness, adapter, form, Verb.CARD_SUBMIT, **GOOD)
    assert NB("learning.saved_delayed") in texts_in(saved)
    assert len(await harness.learning_store.all()) == 1

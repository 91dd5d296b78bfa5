"""KI-sjekken over TestAdapter: the card moves step by step; verdicts explain themselves."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from bot.core.policy import UNSURE
from cards.verbs import Verb
from content import load_catalog
from tests.card_tree import actions, nodes
from tests.flows.conftest import Harness, cards_sent, invoke, say, title_of

NB = load_catalog().texts("nb")
NN = load_catalog().texts("nn")


def texts_in(card: dict[str, Any]) -> list[str]:
    return [
        node[key]
        for node in nodes(card)
        for key in ("text", "label", "title", "value")
        if isinstance(node.get(key), str)
    ]


def button(card: dict[str, Any], verb: str, title: str | None = None) -> dict[str, Any]:
    found = [b for b in actions(card, verb) if title is None or b.get("title") == title]
    assert found, f"no {verb} button on the card"
    return found[0]


async def press(
    harness: Harness,
    adapter: Any,
    card: dict[str, Any],
    verb: str,
    locale: str = "nb-NO",
    **inputs: str,
) -> dict[str, Any]:
    """Press a button like Teams does: the button's data plus the card's inputs."""
    action = button(card, verb)
    data = {**action["data"], **inputs}
    response = await invoke(
        adapter, {"action": {"type": "Action.Execute", "verb": verb, "data": data}}, locale=locale
    )
    assert response.status == 200
    card_out = response.body["value"]
    assert isinstance(card_out, dict)
    return card_out


def chosen(card: dict[str, Any]) -> str:
    """The answer already picked on a question card."""
    for element in card["body"]:
        if element.get("type") == "Input.ChoiceSet":
            return str(element.get("value", ""))
    return ""


def choices(card: dict[str, Any]) -> list[str]:
    for element in card["body"]:
        if element.get("type") == "Input.ChoiceSet":
            return [c["value"] for c in element["choices"]]
    return []


async def walk_to_verdict(
    harness: Harness,
    adapter: Any,
    task: str,
    tool: str,
    category: str,
    decision: str = "none",
    publish: str = "no",
    flags: str = "none",
) -> dict[str, Any]:
    await say(adapter, "ki-sjekk")
    [card] = cards_sent(adapter)
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice=task)
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice=tool)
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice=category)
    card = await press(harness, adapter, card, Verb.KI_NEXT, decision=decision, publish=publish)
    assert NB("kisjekk.q_flags") in texts_in(card), "the red flags are asked whatever the task"
    return await press(harness, adapter, card, Verb.KI_NEXT, flags=flags)


async def test_ki_sjekk_starts_with_the_task_question(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "ki-sjekk")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("kisjekk.title")
    assert NB("kisjekk.q_task") in texts_in(card)
    assert choices(card)[:2] == ["write", "summarise"]
    assert NB("kisjekk.step", number=1, total=5) in texts_in(card)


async def test_personal_data_in_chatgpt_ends_red_with_reasons_sources_and_next_steps(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    card = await walk_to_verdict(harness, adapter, "summarise", "chatgpt", "restricted")
    shown = " ".join(texts_in(card))
    assert NB("kisjekk.verdict_red") in shown
    assert f"• {NB('rule.personal_data_open_tool')}" in shown
    assert NB("source.gdpr_art6") in shown
    assert NB("source.gdpr_ch5") in shown
    assert NB("next.remove_personal_data") in shown
    assert "Microsoft 365 Copilot (lisens)" in shown  # an approved alternative is named
    assert NB("vettregel.2.title") in shown
    assert button(card, Verb.TEXT_OPEN)["title"] == NB("kisjekk.button_text_check")
    assert NB("kisjekk.useful_question") in shown


async def test_open_information_in_an_approved_tool_ends_green(harness: Harness) -> None:
    adapter = harness.adapter()
    card = await walk_to_verdict(harness, adapter, "write", "copilot_chat", "open")
    shown = " ".join(texts_in(card))
    assert NB("kisjekk.verdict_green") in shown
    assert f"• {NB('rule.open_info')}" in shown
    assert NB("next.go_ahead") in shown
    assert card["body"][1]["style"] == "good"


async def test_back_keeps_the_answers_and_start_over_clears_them(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "ki-sjekk")
    [card] = cards_sent(adapter)
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice="translate")
    card = await press(harness, adapter, card, Verb.KI_NEXT, choice="deepl")
    assert NB("kisjekk.q_category") in texts_in(card)
    back = await press(harness, adapter, card, Verb.KI_BACK)
    assert NB("kisjekk.q_tool") in texts_in(back)
    assert chosen(back) == "deepl"
    again = await press(harness, adapter, back, Verb.KI_NEXT, choice="m365_copilot")
    assert NB("kisjekk.q_category") in texts_in(again)
    verdict = await walk_to_verdict(
        harness, adapter, "translate", "deepl", "open", publish="yes", flags="secrets"
    )
    flags_again = await press(harness, adapter, verdict, Verb.KI_BACK)
    assert NB("kisjekk.q_flags") in texts_in(flags_again)
    assert [e.get("value") for e in flags_again["body"] if e.get("id") == "flags"] == ["secrets"]
    use_again = await press(harness, adapter, flags_again, Verb.KI_BACK)
    assert NB("kisjekk.publish_label") in texts_in(use_again)
    assert [e.get("value") for e in use_again["body"] if e.get("id") == "publish"] == ["yes"]
    fresh = await press(harness, adapter, again, Verb.KI_START)
    assert NB("kisjekk.q_task") in texts_in(fresh)
    assert not any(e.get("type") == "FactSet" for e in fresh["body"])


async def test_tampered_payloads_get_a_start_over_card(harness: Harness) -> None:
    adapter = harness.adapter()
    forged = [
        {"v": 1, "step": "task", "choice": "mine_bitcoin"},
        {"v": 1, "step": "category", "choice": "open"},  # skipped task and tool
        {"v": 1, "step": "tool", "task": "write", "choice": "hal9000"},
        {
            "v": 1,
            "step": "more",
            "task": "write",
            "tool": "chatgpt",
            "category": "open",
            "decision": "maybe",
            "publish": "no",
        },
        {
            "v": 1,
            "step": "flags",
            "task": "write",
            "tool": "chatgpt",
            "category": "open",
            "decision": "none",
            "publish": "no",
            "flags": "astrology",
        },
        {
            "v": 1,
            "step": "flags",
            "task": "write",
            "tool": "chatgpt",
            "category": "open",
            "decision": "none",
            "publish": "no",
            "flags": "",
        },
        {"v": 1, "step": "warp", "task": "write"},
        {"v": 1, "step": "task", "task": "write", "tool": "chatgpt", "category": "top_secret"},
    ]
    for data in forged:
        response = await invoke(
            adapter, {"action": {"type": "Action.Execute", "verb": Verb.KI_NEXT, "data": data}}
        )
        assert response.status == 200
        card = response.body["value"]
        assert title_of(card) == NB("stale.title"), data
        assert card["actions"][0]["verb"] == Verb.KI_START


async def test_a_question_in_plain_words_is_understood_and_confirmed_before_the_verdict(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "kan jeg bruke ChatGPT til å oppsummere et møtereferat med navn på brukere?")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("kisjekk.understood_title")
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {
        NB("kisjekk.fact_task"): NB("task.summarise"),
        NB("kisjekk.fact_tool"): "ChatGPT",
        NB("kisjekk.fact_category"): NB("category.restricted.name"),
    }
    more = await press(harness, adapter, card, Verb.KI_CONFIRM)
    assert NB("kisjekk.use_label") in texts_in(more)
    flags = await press(harness, adapter, more, Verb.KI_NEXT, decision="none", publish="no")
    verdict = await press(harness, adapter, flags, Verb.KI_NEXT, flags="none")
    assert NB("kisjekk.verdict_red") in " ".join(texts_in(verdict))


async def test_correcting_what_was_understood_starts_at_the_first_question_prefilled(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "kan eg bruke Gemini til å omsetje eit brev?", locale="nn-NO")
    [card] = cards_sent(adapter)
    corrected = await press(harness, adapter, card, Verb.KI_CORRECT, locale="nn-NO")
    assert NN("kisjekk.q_task") in texts_in(corrected)
    assert chosen(corrected) == "translate"


async def test_feedback_is_counted_anonymously_with_the_verdicts(harness: Harness) -> None:
    adapter = harness.adapter()
    card = await walk_to_verdict(harness, adapter, "write", "copilot_chat", "open")
    thanked = await press(harness, adapter, card, Verb.KI_FEEDBACK, useful="yes")
    assert NB("kisjekk.thanks") in texts_in(thanked)
    await walk_to_verdict(harness, adapter, "summarise", "chatgpt", UNSURE)
    snapshot = await harness.usage.snapshot()
    assert snapshot.verdicts[("green", "write", "copilot_chat", "open")] == 1
    assert snapshot.verdicts[("red", "summarise", "chatgpt", UNSURE)] == 1
    assert snapshot.feedback[True] == 1
    with closing(sqlite3.connect(harness.db.path)) as conn:
        stored = " ".join(str(row) for row in conn.execute("SELECT * FROM usage_counts"))
    assert "29:user-id" not in stored
    assert "aad-user" not in stored


async def test_text_check_finds_personal_data_and_offers_the_text_with_placeholders(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "sjekk tekst")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("tekstsjekk.title")
    result = await press(
        harness,
        adapter,
        card,
        Verb.TEXT_RUN,
        text="Ring Kari på 912 34 567 eller send til kari.nordmann@example.no.",
    )
    shown = texts_in(result)
    assert NB.count("tekstsjekk.found_title", 3) in shown, "the name, the phone and the e-mail"
    assert "912 34 567" not in " ".join(shown)
    assert "kari.nordmann@example.no" not in " ".join(shown)
    [container] = [e for e in result["body"] if e.get("style") == "emphasis"]
    redacted = container["items"][0]["text"]
    assert NB("tekstsjekk.result_stays") in shown, "the card says the result stays in the chat"
    assert redacted.startswith("Ring \\[NAVN\\] på \\[")


async def test_text_check_answers_empty_and_too_long_text_clearly(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "sjekk tekst")
    [card] = cards_sent(adapter)
    empty = await press(harness, adapter, card, Verb.TEXT_RUN, text="   ")
    assert NB("tekstsjekk.empty") in texts_in(empty)
    long = await press(harness, adapter, card, Verb.TEXT_RUN, text="a" * 20_001)
    assert NB("tekstsjekk.too_long", limit=20_000) in texts_in(long)

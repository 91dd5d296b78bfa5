"""KI-sjekken and the text check through the Microsoft 365 Agents Playground."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cards.verbs import Verb
from content import load_catalog
from tests.e2e.conftest import Stack
from tests.e2e.playground import Message, PlaygroundClient, card_texts, connect

pytestmark = pytest.mark.e2e

# The Playground's user has locale en-US, but `ki-sjekk` and `sjekk tekst` are Norwegian
# commands: the bot answers in the målform (bokmål), and every button on those cards too.
NB = load_catalog().texts("nb")


def _button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    for action in card.get("actions", []):
        if action.get("verb") == verb:
            return dict(action)
    raise AssertionError(f"no {verb} button")


async def _press(
    pg: PlaygroundClient, message: Message, card: dict[str, Any], verb: str, **inputs: str
) -> dict[str, Any]:
    status, body = await pg.press(message, _button(card, verb), inputs=inputs)
    assert status == 200, body
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    value = body["value"]
    return json.loads(value) if isinstance(value, str) else dict(value)


async def _dialog(
    pg: PlaygroundClient,
    task: str,
    tool: str,
    category: str,
    *,
    decision: str = "none",
    flags: str = "none",
) -> list[str]:
    await pg.say("ki-sjekk")
    message = await pg.next_message()
    card = message.card
    for choice in (task, tool, category):
        card = await _press(pg, message, card, Verb.KI_NEXT, choice=choice)
    card = await _press(pg, message, card, Verb.KI_NEXT, decision=decision, publish="no")
    assert NB("kisjekk.q_flags") in card_texts(card)
    card = await _press(pg, message, card, Verb.KI_NEXT, flags=flags)
    return card_texts(card)


async def test_a_full_dialog_ending_red_for_personal_data_in_an_open_tool(stack: Stack) -> None:
    async with connect(stack.playground.base) as pg:
        shown = await _dialog(pg, "summarise", "chatgpt", "restricted")
    assert any(NB("kisjekk.verdict_red") in text for text in shown)
    assert f"• {NB('rule.personal_data_open_tool')}" in shown
    assert NB("kisjekk.reasons_title") in shown


async def test_a_full_dialog_ending_green_for_open_information_in_an_approved_tool(
    stack: Stack,
) -> None:
    async with connect(stack.playground.base) as pg:
        shown = await _dialog(pg, "write", "copilot_chat", "open")
    assert any(NB("kisjekk.verdict_green") in text for text in shown)
    assert f"• {NB('rule.open_info')}" in shown
    assert f"• {NB('rule.minimal_risk')}" in shown


@pytest.mark.parametrize(
    ("flag", "task", "rule"),
    [
        ("biometrics", "analyse_data", "rule.biometrics"),
        ("realistic_people", "images", "rule.realistic_people"),
        ("secrets", "code", "rule.secrets"),
        ("graded", "summarise", "rule.security_graded"),
    ],
)
async def test_each_red_flag_is_red_in_an_approved_tool_whatever_the_task(
    stack: Stack, flag: str, task: str, rule: str
) -> None:
    async with connect(stack.playground.base) as pg:
        shown = await _dialog(pg, task, "m365_copilot", "open", flags=flag)
    assert any(NB("kisjekk.verdict_red") in text for text in shown)
    reasons = [text for text in shown if text.startswith("• ")]
    assert reasons[0] == f"• {NB(rule)}", "the red flag is the first reason"
    assert f"• {NB('rule.minimal_risk')}" not in shown, "no low-risk line on a red card"


async def test_a_high_risk_use_is_red_even_in_the_case_system(stack: Stack) -> None:
    async with connect(stack.playground.base) as pg:
        shown = await _dialog(
            pg, "summarise", "case_system_ai", "confidential", decision="services"
        )
    assert any(NB("kisjekk.verdict_red") in text for text in shown)
    assert f"• {NB('rule.high_risk_use')}" in shown
    assert f"• {NB('next.own_assessment')}" in shown
    assert f"• {NB('next.remove_personal_data')}" not in shown
    assert f"• {NB('law.ai_act_status')}" in shown


def _valid_fodselsnummer() -> str:
    base = "010190123"  # 1 January 1990, individual number 123
    weights1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    weights2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    for individual in range(100, 500):
        digits = f"010190{individual:03d}"
        k1 = 11 - sum(int(d) * w for d, w in zip(digits, weights1, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(int(d) * w for d, w in zip(digits + str(k1), weights2, strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return f"{digits}{k1}{k2}"
    raise AssertionError(base)


def _assert_absent_from_files(data_dir: Path, *secrets: str) -> None:
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("kivett.sqlite3") for p in files)
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, path


async def test_checked_text_is_stored_nowhere_and_logged_nowhere(stack: Stack) -> None:
    canary = "KANARI-93f1c0"
    fnr = _valid_fodselsnummer()
    async with connect(stack.playground.base) as pg:
        await pg.say("sjekk tekst")
        message = await pg.next_message()
        result = await _press(
            pg,
            message,
            message.card,
            Verb.TEXT_RUN,
            text=f"{canary}: Ola Nordmann, fnr {fnr}, ringer fra 912 34 567.",
        )
        await pg.say("hjelp")  # one more turn, so any state write after the check has happened
        await pg.next_message()
    shown = " ".join(card_texts(result))
    assert NB.count("tekstsjekk.found_title", 3) in shown, "the name, the number and the phone"
    assert "Nordmann" not in shown
    assert fnr not in shown
    _assert_absent_from_files(Path(stack.bot.data_dir), canary, fnr)
    lines = stack.bot.log_lines()
    assert lines
    assert not any(canary in line or fnr in line for line in lines)

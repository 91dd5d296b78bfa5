"""What employees and champions type reaches leads and subscribers as text, never as markdown."""

from __future__ import annotations

import json
import re

from cards.verbs import Verb
from tests.flows.conftest import CHAMPION, LEAD, Harness, cards_sent, say
from tests.flows.test_champion_flow import _press, _subscribers
from tests.flows.test_ki_check_flow import press, texts_in
from tests.flows.test_learning_flow import GOOD, open_form
from tests.node import adaptive_card_findings

LINK = "[Logg inn](https://evil.example)"
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(")


async def test_a_learning_card_titled_as_a_link_shows_as_text_to_the_employee_and_the_leads(
    harness: Harness,
) -> None:
    employee = harness.adapter()
    form = await open_form(harness, employee)
    risky = {**GOOD, "title": LINK, "tool": "chatgpt", "category": "restricted"}
    saved = await press(harness, employee, form, Verb.CARD_SUBMIT, **risky)
    saved_facts = [
        fact["value"]
        for element in saved["body"]
        if element.get("type") == "FactSet"
        for fact in element["facts"]
    ]
    assert r"\[Logg inn\](https://evil.example)" in saved_facts
    lead = harness.adapter("a:lead-chat", user=LEAD)
    await say(lead, "oppsummering")
    [summary] = cards_sent(lead)
    flagged = [line for line in texts_in(summary) if "Logg inn" in line]
    assert flagged
    assert all(line.startswith(r"• \[Logg inn\](https://evil.example)") for line in flagged)
    assert not UNESCAPED_LINK.search(json.dumps(summary))
    assert adaptive_card_findings([saved, summary]) == [[], []]


async def test_a_champions_own_tip_is_shown_and_sent_without_markdown(harness: Harness) -> None:
    await _subscribers(harness, 2)
    champion = harness.adapter("a:champion-chat", user=CHAMPION)
    own = f"**viktig**: {LINK}"
    preview = await _press(champion, Verb.TIP_PREVIEW, own=own, audience="subscribers")
    assert r"💡 \*\*viktig\*\*: \[Logg inn\](https://evil.example)" in texts_in(preview)
    send = next(a for a in preview["actions"] if a["verb"] == Verb.TIP_SEND)
    assert send["data"]["own"] == own, "the button carries the tip as typed, not escaped"
    await _press(champion, Verb.TIP_SEND, **{k: v for k, v in send["data"].items() if k != "v"})
    [job] = await harness.broadcasts.runnable(9e12)
    for card in job.cards.values():
        shown = json.dumps(card, ensure_ascii=False)
        assert r"\\*\\*viktig\\*\\*" in shown
        assert "**viktig**" not in shown
        assert not UNESCAPED_LINK.search(shown)
    assert adaptive_card_findings([preview, *job.cards.values()]) == [[], [], [], []]

"""KI-sjekken's flow, called directly: questions, steps and the anonymous figures."""

from __future__ import annotations

from bot.core.commands import CommandName
from cards.verbs import Verb
from cards.views import FallbackView, KiUnderstoodView, KiVerdictView, StaleActionView
from dialogs.home import HomeFlow
from dialogs.ki_check import KiCheckDialog, KiCheckFlow
from tests.fakes.stores import FakeUsage
from tests.unit.flows.conftest import CONTENT, request

FULL = {
    "step": "flags",
    "task": "write",
    "tool": "copilot_chat",
    "category": "open",
    "decision": "none",
    "publish": "no",
}
ANSWERED = {**FULL, "flags": "none"}


def _flow(usage: FakeUsage) -> KiCheckFlow:
    return KiCheckFlow(
        dialog=KiCheckDialog(CONTENT.policy),
        policy=CONTENT.policy,
        lexicon=CONTENT.lexicon,
        usage=usage,
        fallback=HomeFlow().fallback,
    )


async def test_a_question_in_plain_words_is_read_before_any_verdict() -> None:
    flow = _flow(FakeUsage())
    question = "Kan jeg bruke ChatGPT til å skrive et brev?"
    reply = await flow.routes().commands[CommandName.UNKNOWN](request(text=question))
    assert isinstance(reply.view, KiUnderstoodView)
    assert reply.route == "question:understood"


async def test_text_that_is_no_question_falls_back_to_what_the_bot_can_do() -> None:
    reply = await _flow(FakeUsage()).question(request(text="blåbærsyltetøy"))
    assert isinstance(reply.view, FallbackView)


async def test_a_verdict_is_counted_without_the_person() -> None:
    usage = FakeUsage()
    reply = await _flow(usage).action(request(verb=Verb.KI_NEXT, data=ANSWERED))
    assert isinstance(reply.view, KiVerdictView)
    assert reply.view.verdict == "green"
    assert usage.verdicts == {("green", "write", "copilot_chat", "open"): 1}


async def test_the_verdict_still_comes_when_the_figures_cannot_be_written() -> None:
    usage = FakeUsage()
    usage.down = True
    reply = await _flow(usage).action(request(verb=Verb.KI_NEXT, data=ANSWERED))
    assert isinstance(reply.view, KiVerdictView)


async def test_a_tampered_answer_gets_a_fresh_start_and_is_noted_as_rejected() -> None:
    usage = FakeUsage()
    tampered = {**ANSWERED, "tool": "not-a-tool"}
    reply = await _flow(usage).action(request(verb=Verb.KI_NEXT, data=tampered))
    assert isinstance(reply.view, StaleActionView)
    assert reply.route == "rejected"
    assert not usage.verdicts

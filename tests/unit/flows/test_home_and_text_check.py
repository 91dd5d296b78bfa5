"""The home flow and the text check, called directly."""

from __future__ import annotations

from bot.core.commands import CommandName
from cards.verbs import Verb
from cards.views import AboutView, FallbackView, HelpView, TextCheckResultView, TextCheckView
from dialogs.home import HomeFlow
from dialogs.text_check import TextCheckFlow
from tests.unit.flows.conftest import request


async def test_help_and_about_answer_by_command_and_by_button() -> None:
    routes = HomeFlow().routes()
    assert isinstance((await routes.commands[CommandName.HELP](request())).view, HelpView)
    assert isinstance((await routes.verbs[Verb.ABOUT](request(verb=Verb.ABOUT))).view, AboutView)


async def test_text_the_bot_does_not_understand_gets_the_fallback_card() -> None:
    reply = await HomeFlow().fallback(request(text="blåbærsyltetøy"))
    assert isinstance(reply.view, FallbackView)


async def test_the_text_check_masks_what_it_finds_and_keeps_nothing() -> None:
    flow = TextCheckFlow()
    text = "Send svaret til kari.nordmann@kommune.no i dag."
    reply = await flow.run(request(verb=Verb.TEXT_RUN, data={"text": text}))
    assert isinstance(reply.view, TextCheckResultView)
    assert reply.view.found
    assert reply.view.total == 1
    assert "kari.nordmann@kommune.no" not in reply.view.redacted.raw
    assert "kari.nordmann@kommune.no" not in repr(reply)


async def test_an_empty_text_check_asks_for_text() -> None:
    reply = await TextCheckFlow().run(request(verb=Verb.TEXT_RUN, data={"text": "   "}))
    assert isinstance(reply.view, TextCheckView)
    assert reply.view.error


async def test_the_about_card_names_the_privacy_officer() -> None:
    reply = await HomeFlow(privacy_officer="po@kommune.no").about(request(verb=Verb.ABOUT))
    assert isinstance(reply.view, AboutView)
    assert reply.view.privacy_officer == "po@kommune.no"

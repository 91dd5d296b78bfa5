"""The home flow and the text check, called directly."""

from __future__ import annotations

from bot.core.caller import Role
from bot.core.commands import CommandName
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import AboutView, FallbackView, HelpView, TextCheckResultView, TextCheckView
from content import load_catalog
from dialogs.home import HomeFlow
from dialogs.text_check import TextCheckFlow
from tests.unit.flows.conftest import caller, request


async def test_help_and_about_answer_by_command_and_by_button() -> None:
    routes = HomeFlow().routes()
    assert isinstance((await routes.commands[CommandName.HELP](request())).view, HelpView)
    assert isinstance((await routes.verbs[Verb.ABOUT](request(verb=Verb.ABOUT))).view, AboutView)


def _buttons(card: dict[str, object]) -> list[str]:
    body = card["body"]
    assert isinstance(body, list)
    return [a["verb"] for item in body if item["type"] == "ActionSet" for a in item["actions"]]


async def test_help_and_fallback_start_every_flow_and_the_roles_entries_only_for_the_role() -> None:
    home, render, texts = HomeFlow(), CardRenderer(), load_catalog().texts("nb")
    everyone = [Verb.KI_START, Verb.TEXT_OPEN, Verb.LESSONS_OVERVIEW, Verb.CARD_OPEN]
    for who, extra in (
        (caller(), []),
        (caller(Role.CHAMPION), [Verb.TIP_COMPOSE]),
        (caller(Role.LEAD), [Verb.SUMMARY]),
        (caller(Role.CHAMPION, Role.LEAD), [Verb.TIP_COMPOSE, Verb.SUMMARY]),
    ):
        for reply in (
            await home.routes().commands[CommandName.HELP](request(who)),
            await home.fallback(request(who, text="blåbærsyltetøy")),
        ):
            assert _buttons(render.render(reply.view, texts)) == everyone + extra


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

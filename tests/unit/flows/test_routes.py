"""The routing table: every command and every button has exactly one flow behind it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.language_cache import CachedLanguageChoices
from bot.bootstrap import build_flows
from bot.core.commands import CommandName
from bot.ports import Stores
from bot.settings import Settings
from cards.verbs import Verb
from cards.views import CardView
from content import Language
from dialogs.flow import DuplicateRouteError, Routes, table
from dialogs.home import HomeFlow
from tests.fakes.stores import (
    FakeActionLedger,
    FakeBroadcasts,
    FakeLanguageChoices,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
    FakeUsage,
)
from tests.fakes.trials import FakeTrials
from tests.unit.flows.conftest import CONTENT, NOW


class _NoState:
    async def read(self, keys: Any) -> dict[str, Any]:
        return {}

    async def write(self, changes: Any) -> None:
        return None

    async def delete(self, keys: Any) -> None:
        return None


class _NoBackend:
    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _routes() -> Routes:
    references, lessons = FakeReferences(), FakeLessons()
    broadcasts, learning_cards = FakeBroadcasts(), FakeLearningCards()
    languages = FakeLanguageChoices()
    stores = Stores(
        backend=_NoBackend(),
        state=_NoState(),
        references=references,
        usage=FakeUsage(),
        lessons=lessons,
        broadcasts=broadcasts,  # type: ignore[arg-type]  # only create_job is used
        learning_cards=learning_cards,
        personal=FakePersonalData(
            references=references,
            lessons=lessons,
            broadcasts=broadcasts,
            learning_cards=learning_cards,
            languages=languages,
        ),
        languages=languages,
        actions=FakeActionLedger(),
        trials=FakeTrials(),
    )

    def render(view: CardView, language: Language) -> dict[str, Any]:
        return {}

    return build_flows(
        CONTENT,
        stores,
        settings=Settings.model_validate({}),
        clock=lambda: NOW,
        render_card=render,
        sink=None,
        list_url=lambda: "",
        on_stored=lambda: None,
        sharepoint_delayed=lambda: False,
        languages=CachedLanguageChoices(languages, lambda: 0.0),
    ).routes()


def test_every_command_and_every_button_verb_has_a_flow() -> None:
    routes = _routes()
    assert set(routes.commands) == set(CommandName)
    assert set(routes.verbs) == set(Verb)


def test_two_flows_claiming_one_verb_is_a_start_up_error() -> None:
    home = HomeFlow().routes()
    with pytest.raises(DuplicateRouteError, match=r"kivett\.help"):
        table(home, Routes(verbs={Verb.HELP: home.verbs[Verb.HELP]}))

"""Start-up imports what the configuration needs, when it needs it (issue 16, cold start).

A fresh interpreter starts the real app (`create_app`, dev mode, SQLite) and answers `hjelp`; we
look at `sys.modules` rather than at a clock: the Graph SDK, Azure Storage, openpyxl, pydantic,
the other flows, the personal-data scanner, the flows' card views and (with the workers elsewhere)
the workers are not loaded for that first answer, and a flow's module is loaded when its first
command arrives. A flow that cannot be built still
gives the employee the error card, and the next turn tries again. The garbage collector, paused
while `kivett serve` starts, is switched back on once the app has started.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import FlowDeclarationError, LazyFlow
from bot.content_loader import load_content
from bot.core.commands import CommandName
from bot.teams.app import started
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import ErrorView, HelpView
from content import load_catalog
from dialogs.flow import Reply, Routes, table
from dialogs.home import HomeFlow
from dialogs.ki_check import KiCheckDialog
from dialogs.text_check import TextCheckFlow
from tests.flows.conftest import cards_sent, make_harness, say, title_of
from tests.unit.flows.conftest import caller, request

ROOT = Path(__file__).resolve().parents[2]

FIRST_ANSWER = r"""
import asyncio, json, sys
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from bot.settings import load_settings
from bot.teams.app import create_app

WORKERS = sys.argv[1] == "on"


def activity(stub, **extra):
    return {
        "id": "a1", "channelId": "msteams", "serviceUrl": stub, "locale": "nb-NO",
        "from": {"id": "29:u", "name": "Kari", "aadObjectId": "aad-u"},
        "recipient": {"id": "28:bot", "name": "KI-vett"},
        "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t"},
        **extra,
    }


async def main():
    sent = []

    async def connector(request):
        sent.append(await request.json())
        return web.json_response({"id": str(len(sent))})

    stub = web.Application()
    stub.router.add_route("POST", "/{tail:.*}", connector)
    app = create_app(load_settings(None), dev=True, workers=WORKERS)
    async with TestServer(stub) as teams, TestClient(TestServer(app)) as client:
        url = str(teams.make_url("")).rstrip("/")
        started = set(sys.modules)
        answer = await client.post(
            "/api/messages", json=activity(url, type="message", text="hjelp")
        )
        answered = set(sys.modules)
        action = await client.post(
            "/api/messages",
            json=activity(
                url,
                type="invoke",
                name="adaptiveCard/action",
                value={"action": {"type": "Action.Execute", "verb": "kisjekk.start",
                                  "data": {"v": 1}}},
            ),
        )
        acted = set(sys.modules)
        invoke_response = await action.json()
    print(json.dumps({
        "invoke_card": invoke_response["value"],
        "statuses": [answer.status, action.status],
        "cards": [a["content"] for s in sent for a in s.get("attachments") or []],
        "started": sorted(started),
        "answered": sorted(answered),
        "acted": sorted(acted),
    }))


asyncio.run(main())
"""

NOT_FOR_THE_FIRST_ANSWER = (
    "msgraph",  # only with a SharePoint site
    "kiota_abstractions",
    "azure.storage",  # only with KIVETT_STORAGE=azure
    "azure.identity",
    "bot.adapters.azure_storage",
    "bot.adapters.sharepoint",
    "openpyxl",  # kivett gevinst export only
    "bot.operator",  # CLI commands
    "pydantic",  # card actions only
    "pydantic_settings",
    "dialogs.ki_check",  # each flow: at its first command
    "dialogs.learning_flow",
    "dialogs.trials",
    "dialogs.gevinst",
    "dialogs.champion",
    "dialogs.my_data",
    "bot.core.privacy.scanner",  # the text check and a learning card's check: at their first scan
    "bot.core.privacy.names",
    "bot.core.privacy.detectors",
    "bot.core.privacy.patterns",
    "cards.flow_views",  # the flows' card views: with the first flow that renders one
)


def _first_answer(tmp_path: Path, workers: str) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KIVETT_", "Microsoft"))
    }
    env |= {
        "KIVETT_DATA_DIR": str(tmp_path / "data"),
        "KIVETT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", FIRST_ANSWER, workers],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def _loaded(modules: list[str], prefix: str) -> list[str]:
    return [name for name in modules if name == prefix or name.startswith(prefix + ".")]


def _help_title() -> str:
    return title_of(CardRenderer().render(HelpView(), load_catalog().texts("nb")))


def _ki_check_title() -> str:
    content = load_content()
    texts = content.catalog.texts("nb")
    return title_of(CardRenderer().render(KiCheckDialog(content.policy).start(texts), texts))


@pytest.mark.parametrize("workers", ["off", "on"])
def test_the_first_answer_on_sqlite_loads_only_what_it_needs(tmp_path: Path, workers: str) -> None:
    seen = _first_answer(tmp_path, workers)
    assert seen["statuses"][0] < 300
    assert seen["statuses"][1] == 200
    # the employee got the help card, then KI-sjekken's first step in the invoke response
    assert [title_of(card) for card in seen["cards"]] == [_help_title()]
    assert title_of(seen["invoke_card"]) == _ki_check_title()
    for prefix in NOT_FOR_THE_FIRST_ANSWER:
        assert _loaded(seen["answered"], prefix) == [], f"{prefix} loaded for 'hjelp'"
    worker_modules = _loaded(seen["answered"], "bot.workers")
    if workers == "off":
        assert worker_modules == [], "serve with KIVETT_WORKERS=off loaded the workers"
    else:
        assert "bot.workers.broadcast" in worker_modules
    # a card action loads its parser, and the flow it belongs to, when it arrives
    assert _loaded(seen["acted"], "dialogs.ki_check") == ["dialogs.ki_check"]
    assert _loaded(seen["acted"], "pydantic") != []
    assert _loaded(seen["acted"], "dialogs.trials") == []


async def test_a_flow_that_cannot_be_built_answers_with_the_error_card_and_is_tried_again(
    tmp_path: Path,
) -> None:
    harness = await make_harness(tmp_path)
    attempts: list[int] = []

    def broken() -> TextCheckFlow:
        attempts.append(1)
        raise ImportError("a module of the text check is missing")

    text_check = LazyFlow(
        "text_check",
        commands=(CommandName.TEXT_CHECK,),
        verbs=(Verb.TEXT_OPEN, Verb.TEXT_RUN),
        build=broken,
    )
    others = [flow.routes() for flow in harness.flows.lazy if flow.name != "text_check"]
    routes = table(*others, text_check.routes())
    harness.router._routes = routes
    adapter = harness.adapter()
    texts = load_catalog().texts("nb")
    error_title = title_of(CardRenderer().render(ErrorView(), texts))

    for _ in range(2):
        await say(adapter, "tekstsjekk")
        assert [title_of(card) for card in cards_sent(adapter)] == [error_title]
    assert len(attempts) == 2, "a failed build is not kept: the next turn tries again"
    # the other flows answer as before
    await say(adapter, "hjelp")
    assert [title_of(card) for card in cards_sent(adapter)] == [_help_title()]
    await harness.db.close()


def test_a_flow_answering_other_routes_than_declared_is_refused_on_first_use() -> None:
    lazy = LazyFlow(
        "home", commands=(CommandName.HELP,), verbs=(Verb.HELP,), build=lambda: HomeFlow()
    )
    with pytest.raises(FlowDeclarationError, match="home"):
        lazy.get()


async def test_every_flow_answers_exactly_what_the_composition_root_declares(
    tmp_path: Path,
) -> None:
    harness = await make_harness(tmp_path)
    for flow in harness.flows.lazy:
        assert not flow.is_built, f"{flow.name} was built before it was used"
        routes = flow.get().routes()  # raises FlowDeclarationError on a difference
        assert set(routes.commands) == flow.commands
        assert set(routes.verbs) == flow.verbs
    await harness.db.close()


async def test_a_lazy_flow_is_built_once_and_then_answers_through_its_own_handlers() -> None:
    built: list[int] = []

    def home() -> HomeFlow:
        built.append(1)
        return HomeFlow()

    lazy = LazyFlow(
        "home",
        commands=(CommandName.HELP, CommandName.ABOUT),
        verbs=(Verb.HELP, Verb.ABOUT),
        build=home,
    )
    routes: Routes = lazy.routes()
    assert built == [], "declaring the routes builds nothing"
    assert set(routes.commands) == {CommandName.HELP, CommandName.ABOUT}
    handler = routes.commands[CommandName.ABOUT]
    asked = request(caller())
    first: Reply = await handler(asked)
    second: Reply = await routes.verbs[Verb.ABOUT](asked)
    assert type(first.view).__name__ == "AboutView" == type(second.view).__name__
    assert built == [1]


def test_start_up_switches_a_paused_collector_back_on_with_the_start_up_heap_frozen() -> None:
    gc.disable()  # as kivett serve does while it starts
    try:
        started()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0, "what the start made is left out of collections"
    finally:
        gc.unfreeze()
        gc.enable()
    started()  # an app built in a process that never paused the collector: nothing to do
    assert gc.get_freeze_count() == 0


PRIVACY_IN_A_FRESH_INTERPRETER = r"""
import json, sys
import bot.core.privacy as privacy
import bot.content_loader, bot.core.learning_cards
before = sorted(name for name in sys.modules if name.startswith("bot.core.privacy"))
names = {name: type(getattr(privacy, name)).__name__ for name in privacy.__all__}
found = [finding.kind.value for finding in privacy.scan("Ring 412 34 567").findings]
print(json.dumps({"before": before, "names": names, "found": found}))
"""


def test_the_privacy_package_loads_its_scanner_at_the_first_scan_and_keeps_every_name() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PRIVACY_IN_A_FRESH_INTERPRETER],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout)
    # the content loader and the learning cards need the name lexicon and the findings only
    assert "bot.core.privacy.scanner" not in seen["before"]
    assert "bot.core.privacy.names" not in seen["before"]
    assert "bot.core.privacy.names_lexicon" in seen["before"]
    # every public name is there (the scanner's through the package), and scan scans
    assert set(seen["names"]) == set(privacy_names())
    assert seen["names"]["MAX_TEXT_LENGTH"] == "int"
    assert seen["names"]["TextTooLongError"] == "type"
    assert seen["found"] == ["phone"]


def privacy_names() -> list[str]:
    from bot.core import privacy
    from bot.core.privacy import scanner

    assert privacy.MAX_TEXT_LENGTH == scanner.MAX_TEXT_LENGTH
    assert privacy.TextTooLongError is scanner.TextTooLongError
    missing = "no_such_name"
    with pytest.raises(AttributeError, match=missing):
        getattr(privacy, missing)
    return list(privacy.__all__)


def test_every_view_is_found_through_cards_views() -> None:
    from cards import flow_views, views

    for name in views.__all__:
        value = getattr(views, name)
        if name in {"CardView", "State"}:
            continue
        assert isinstance(value, type), name
        assert value.__module__ in {"cards.views", "cards.flow_views"}
        if value.__module__ == "cards.flow_views":
            assert getattr(flow_views, name) is value
    defined = {
        name
        for module in (views, flow_views)
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__
    }
    assert defined <= set(views.__all__), "a view cards.views does not pass on"
    missing = "NoSuchView"
    with pytest.raises(AttributeError, match=missing):
        getattr(views, missing)

"""Issue 7: a turn does not rebuild connector or token clients; proactive sends reuse them too."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msrest
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.auth import (
    BotFrameworkAuthenticationFactory,
    PasswordServiceClientCredentialFactory,
)

from bot.settings import Settings
from bot.teams.app import SERVICES, create_app

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


class Connector:
    """Records what the bot posts to the (stand-in) Teams connector."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        async def post(request: web.Request) -> web.Response:
            self.posts.append(await request.json())
            return web.json_response({"id": str(len(self.posts))})

        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", post)
        app.router.add_post("/v3/conversations/{cid}/activities/{rid}", post)
        return app


def _message(service_url: str, conversation: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "text": text,
        "locale": "nb-NO",
        "from": {"id": "29:user"},
        "recipient": {"id": "28:bot", "name": "KI-vett"},
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": "t"},
    }


@pytest.fixture
def configurations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every msrest Configuration built (each ConnectorClient and token client builds one)."""
    built: list[str] = []
    original = msrest.Configuration.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(msrest.Configuration, "__init__", counting)
    return built


Running = tuple[Connector, str, web.Application, TestClient[Any, Any]]


@pytest.fixture
async def running(
    aiohttp_client: ClientFactory, aiohttp_server: ServerFactory, tmp_path: Path
) -> Running:
    """KI-vett in dev mode, answering to a recording connector."""
    connector = Connector()
    server = await aiohttp_server(connector.app())
    app = create_app(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}), dev=True)
    return connector, str(server.make_url("/")), app, await aiohttp_client(app)


async def test_client_constructions_stay_constant_over_many_turns(
    running: Running, configurations: list[str]
) -> None:
    connector, service_url, app, client = running

    async def turns(count: int) -> None:
        for index in range(count):
            body = _message(service_url, f"a:conv-{index % 3}", "hjelp")
            response = await client.post("/api/messages", json=body)
            assert response.status == 201

    await turns(3)
    after_first = len(configurations)
    counts_first = app[SERVICES].teams.auth.counts
    assert after_first >= 1, "the first turn did build its clients"
    await turns(40)
    assert len(configurations) == after_first, "40 more turns built no new client"
    assert app[SERVICES].teams.auth.counts.connector_clients == counts_first.connector_clients == 1
    assert app[SERVICES].teams.auth.counts.user_token_clients == 1
    assert len(connector.posts) == 43, "every turn was answered"


async def test_stock_botbuilder_builds_clients_on_every_turn(
    aiohttp_server: ServerFactory, configurations: list[str]
) -> None:
    """The baseline the cache is measured against: if this ever fails, botbuilder changed and
    bot/teams/connector_cache.py may no longer be needed (see docs/performance.md)."""
    connector = Connector()
    server = await aiohttp_server(connector.app())
    auth = BotFrameworkAuthenticationFactory.create(
        credential_factory=PasswordServiceClientCredentialFactory(app_id="", password="")
    )
    adapter = CloudAdapter(auth)
    for index in range(5):
        activity = Activity().deserialize(_message(str(server.make_url("/")), f"a:{index}", "x"))
        result = await auth.authenticate_request(activity, None)
        await adapter.process_activity(result, activity, ActivityHandler().on_turn)
    assert len(configurations) >= 10, "stock CloudAdapter builds two clients per turn"


async def test_proactive_sends_reuse_the_same_clients(
    running: Running, configurations: list[str]
) -> None:
    connector, service_url, app, client = running
    assert (
        await client.post("/api/messages", json=_message(service_url, "a:p", "hjelp"))
    ).status == 201
    built = len(configurations)
    services = app[SERVICES]
    stored = await services.references.get("a:p")
    assert stored is not None
    reference = ConversationReference().deserialize(dict(stored.reference))

    async def say_hello(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Ny leksjon er klar")

    for _ in range(5):
        await services.adapter.continue_conversation(reference, say_hello, bot_app_id="")
    assert len(configurations) == built, "proactive sends built no new client"
    assert [post.get("text") for post in connector.posts[-5:]] == ["Ny leksjon er klar"] * 5
    assert connector.posts[-1]["conversation"]["id"] == "a:p"

"""Our Bot Connector client against a local connector: URLs, tokens, retries, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.teams.connector import BotConnector, ConnectorError, TokenCache

ServerFactory = Callable[..., Awaitable[TestServer]]


class ScriptedConnector:
    """Answers with the scripted (status, body, headers) in turn, then 201."""

    def __init__(self, script: list[tuple[int, dict[str, Any], dict[str, str]]]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            self.requests.append((request.raw_path, dict(request.headers), await request.json()))
            status, body, headers = self.script.pop(0) if self.script else (201, {"id": "ok"}, {})
            return web.json_response(body, status=status, headers=headers)

        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", handle)
        return app


class FakeCredentials:
    def __init__(self, app_id: str) -> None:
        self.microsoft_app_id = app_id
        self.calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls += 1
        return f"token-{self.calls}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def _connector(
    aiohttp_server: ServerFactory,
    session: aiohttp.ClientSession,
    script: list[tuple[int, dict[str, Any], dict[str, str]]],
    clock: Clock | None = None,
) -> tuple[BotConnector, ScriptedConnector, str, list[float]]:
    fake = ScriptedConnector(script)
    server = await aiohttp_server(fake.app())
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    connector = BotConnector(session, TokenCache(clock or Clock()), sleep=sleep)
    return connector, fake, str(server.make_url("/")), waits


async def test_reply_goes_to_the_quoted_conversation_url_with_a_bearer_token(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    connector, fake, url, _ = await _connector(aiohttp_server, session, [])
    credentials = FakeCredentials("bot-app-id")
    resource = await connector.send(
        service_url=url,
        conversation_id="a:1;messageid=9",
        reply_to_id="17",
        payload={"type": "message", "text": "Hei"},
        credentials=credentials,
    )
    assert resource == "ok"
    path, headers, body = fake.requests[0]
    assert path == "/v3/conversations/a%3A1%3Bmessageid%3D9/activities/17"
    assert headers["Authorization"] == "Bearer token-1"
    assert body == {"type": "message", "text": "Hei"}


async def test_no_token_is_sent_without_an_app_id(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    connector, fake, url, _ = await _connector(aiohttp_server, session, [])
    await connector.send(
        service_url=url,
        conversation_id="c",
        payload={"type": "message"},
        credentials=FakeCredentials(""),
    )
    assert "Authorization" not in fake.requests[0][1]
    assert fake.requests[0][0] == "/v3/conversations/c/activities"


async def test_tokens_are_reused_for_a_while_then_fetched_again(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    connector, fake, url, _ = await _connector(aiohttp_server, session, [], clock)
    credentials = FakeCredentials("bot")
    for _ in range(3):
        await connector.send(
            service_url=url, conversation_id="c", payload={}, credentials=credentials
        )
    clock.now += 600
    await connector.send(service_url=url, conversation_id="c", payload={}, credentials=credentials)
    assert credentials.calls == 2
    assert [r[1]["Authorization"] for r in fake.requests] == ["Bearer token-1"] * 3 + [
        "Bearer token-2"
    ]


async def test_throttling_and_outages_are_retried_honouring_retry_after(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    script = [
        (429, {"error": {"code": "Throttled"}}, {"Retry-After": "2"}),
        (503, {}, {}),
        (502, {}, {}),
    ]
    connector, fake, url, waits = await _connector(aiohttp_server, session, script)
    resource = await connector.send(service_url=url, conversation_id="c", payload={"n": 1})
    assert resource == "ok"
    assert len(fake.requests) == 4
    assert waits[0] == 2.0
    assert 0.4 <= waits[1] <= 1.6
    assert 0.8 <= waits[2] <= 3.2


async def test_retries_stop_after_three_and_report_the_last_answer(
    aiohttp_server: ServerFactory, session: aiohttp.ClientSession
) -> None:
    connector, fake, url, waits = await _connector(aiohttp_server, session, [(503, {}, {})] * 5)
    with pytest.raises(ConnectorError) as raised:
        await connector.send(service_url=url, conversation_id="c", payload={})
    assert raised.value.status == 503
    assert len(fake.requests) == 4
    assert len(waits) == 3


@pytest.mark.parametrize(
    ("status", "code", "blocked"),
    [
        (403, "MessageWritesBlocked", True),
        (403, "Forbidden", False),
        (400, "BadArgument", False),
        (404, "ConversationNotFound", False),
    ],
)
async def test_refusals_are_not_retried_and_blocked_users_are_recognised(
    aiohttp_server: ServerFactory,
    session: aiohttp.ClientSession,
    status: int,
    code: str,
    blocked: bool,
) -> None:
    connector, fake, url, waits = await _connector(
        aiohttp_server, session, [(status, {"error": {"code": code, "message": "x"}}, {})]
    )
    with pytest.raises(ConnectorError) as raised:
        await connector.send(service_url=url, conversation_id="c", payload={})
    assert (raised.value.status, raised.value.code, raised.value.blocked) == (status, code, blocked)
    assert len(fake.requests) == 1
    assert waits == []


async def test_an_unreachable_connector_is_retried_then_reported(
    session: aiohttp.ClientSession,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    connector = BotConnector(session, TokenCache(Clock()), sleep=sleep)
    with pytest.raises(ConnectorError) as raised:
        await connector.send(service_url="http://127.0.0.1:9", conversation_id="c", payload={})
    assert raised.value.status == 0
    assert len(waits) == 3

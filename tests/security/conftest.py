"""Fixtures for the /api/messages guard: a token issuer, a Bot Connector stub and the app itself."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import (
    AppCredentials,
    JwtTokenExtractor,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)

from bot.bootstrap import Overrides, Services
from bot.logs import JsonFormatter
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app
from bot.teams.auth import ChannelAuthEndpoints
from tests.security.keyserver import KeyServer
from tests.security.tokens import APP_ID, CHANNEL_ID, ISSUER, OpenIdServer

MAX_BODY_BYTES = 256 * 1024


class NoTokenCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]  # untyped SDK base
    """Accepts tokens for APP_ID only; outgoing calls carry no token, so nothing goes to Entra."""

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        # An empty app id makes AppCredentials._should_set_token() false: no token is fetched.
        return MicrosoftAppCredentials.empty()


@dataclass
class ConnectorStub:
    """Stands in for the Bot Connector service at the activity's serviceUrl; records everything."""

    activities: list[dict[str, Any]] = field(default_factory=list)
    other_requests: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._activity)
        app.router.add_post(
            "/v3/conversations/{conversation_id}/activities/{activity_id}", self._activity
        )
        app.router.add_route("*", "/{tail:.*}", self._other)
        return app

    async def _activity(self, request: web.Request) -> web.Response:
        self.activities.append(
            {
                "path": request.path,
                "conversation_id": request.match_info["conversation_id"],
                "body": await request.json(),
            }
        )
        return web.json_response({"id": "1"})

    async def _other(self, request: web.Request) -> web.Response:
        self.other_requests.append(f"{request.method} {request.path}")
        return web.json_response({"error": "not stubbed"}, status=404)


@dataclass
class Reply:
    status: int
    text: str
    headers: str


@dataclass
class Guard:
    """The running app plus the views a test needs on it."""

    client: TestClient[Any, Any]
    stub: ConnectorStub
    service_url: str
    caplog: pytest.LogCaptureFixture
    secrets: list[str] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return cast(Services, self.client.app[SERVICES])

    def activity(self, text: str = "hjelp", **changes: Any) -> dict[str, Any]:
        """A Teams personal-chat message, addressed to the connector stub."""
        activity: dict[str, Any] = {
            "type": "message",
            "id": "1700000000000",
            "timestamp": "2025-01-01T10:00:00.000Z",
            "channelId": CHANNEL_ID,
            "serviceUrl": self.service_url,
            "from": {"id": "29:user-1", "name": "Kari", "aadObjectId": "aad-user-1"},
            "conversation": {
                "id": "a:conversation-1",
                "conversationType": "personal",
                "tenantId": "tenant-1",
            },
            "recipient": {"id": f"28:{APP_ID}", "name": "KI-vett"},
            "text": text,
            "textFormat": "plain",
            "locale": "nb-NO",
            "channelData": {"tenant": {"id": "tenant-1"}},
        }
        activity.update(changes)
        return activity

    async def post(
        self,
        body: Any,
        *,
        token: str | None = None,
        authorization: str | None = None,
        content_type: str | None = "application/json",
        method: str = "POST",
        extra_headers: dict[str, str] | None = None,
        allowed_5xx: tuple[int, ...] = (),
    ) -> Reply:
        """Send one request to /api/messages and check what every answer must satisfy:
        no 5xx (but those in `allowed_5xx`), no stack trace, no echo of the token (in body or
        headers, or in the logs)."""
        headers: dict[str, str] = dict(extra_headers or {})
        if token is not None:
            authorization = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
            self.secrets.extend(part for part in authorization.split() if len(part) > 16)
        if token is not None:
            self.secrets.append(token)
        if content_type is not None:
            headers["Content-Type"] = content_type
        if isinstance(body, dict | list):
            data: Any = _json_bytes(body)
        else:
            data = body
        async with self.client.request(
            method, "/api/messages", data=data, headers=headers
        ) as response:
            reply = Reply(response.status, await response.text(), str(dict(response.headers)))
        assert reply.status < 500 or reply.status in allowed_5xx, reply
        for leak in ("Traceback", 'File "'):
            assert leak not in reply.text
        for secret in self.secrets:
            assert secret not in reply.text
            assert secret not in reply.headers
        self.assert_logs_free_of(*self.secrets)
        return reply

    def log_lines(self) -> list[str]:
        formatter = JsonFormatter()
        return [formatter.format(record) for record in self.caplog.records]

    def assert_logs_free_of(self, *needles: str) -> None:
        """No log line holds any needle, nor any 24-character stretch of one."""
        fragments = {fragment for needle in needles for fragment in _fragments(needle)}
        for line in self.log_lines():
            for fragment in fragments:
                assert fragment not in line, f"log line leaks {fragment[:8]}…: {line[:200]}"

    async def assert_bot_not_reached(self) -> None:
        assert self.stub.activities == []
        assert self.stub.other_requests == []
        assert await self.services.references.count() == 0


def _fragments(secret: str, width: int = 16, step: int = 8) -> set[str]:
    """Overlapping windows: any leaked stretch of `width + step` characters contains one."""
    if len(secret) <= width:
        return {secret}
    starts = [*range(0, len(secret) - width, step), len(secret) - width]
    return {secret[start : start + width] for start in starts}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


@pytest.fixture(scope="session")
def openid_server() -> Iterator[OpenIdServer]:
    server = OpenIdServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def key_server(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[KeyServer]:
    """A key endpoint in the test's event loop that a test can make slow or failing."""
    server = KeyServer()
    test_server = await aiohttp_server(server.app())
    server.base_url = str(test_server.make_url("")).rstrip("/")
    yield server
    server.release.set()  # a hanging handler must end before the server closes


@pytest.fixture(autouse=True)
def _fresh_openid_metadata_cache() -> Iterator[None]:
    """botbuilder caches OpenID metadata per URL at class level; no test may see another's."""
    JwtTokenExtractor.metadataCache.clear()
    yield
    JwtTokenExtractor.metadataCache.clear()


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """`requests` honours proxy variables; the local OpenID server must be reached directly."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def make_settings(data_dir: Path, **extra: Any) -> Settings:
    values = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppPassword": "x",
        "MicrosoftAppTenantId": "t",
        "KIVETT_DATA_DIR": str(data_dir),
        **extra,
    }
    settings = Settings.model_validate(values)
    assert settings.app_id == APP_ID
    assert settings.data_dir == data_dir
    return settings


GuardFactory = Callable[..., Awaitable[Guard]]


@pytest.fixture
async def make_guard(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    openid_server: OpenIdServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> GuardFactory:
    """Build the app with local token endpoints; `credentials=None` keeps the production factory."""
    caplog.set_level(logging.INFO, logger="kivett")

    async def build(
        *,
        credentials: ServiceClientCredentialsFactory | None = None,
        middlewares: tuple[Any, ...] = (),
        auth_endpoints: ChannelAuthEndpoints | None = None,
        dev: bool = False,
        **settings_extra: Any,
    ) -> Guard:
        """`auth_endpoints` replaces the session's OpenID server (see tests/security/keyserver.py);
        `dev` builds the app as `kivett serve --dev` does (authentication off)."""
        stub = ConnectorStub()
        stub_server = await aiohttp_server(stub.app())
        settings = make_settings(tmp_path / "data", **settings_extra)
        overrides = Overrides(
            auth_endpoints=auth_endpoints
            or ChannelAuthEndpoints(
                openid_metadata_url=openid_server.metadata_url, token_issuer=ISSUER
            ),
            credentials=credentials,
        )
        app = create_app(settings, dev=dev, overrides=overrides)
        app.middlewares.extend(middlewares)  # test-side instrumentation only
        client = await aiohttp_client(app)
        return Guard(
            client=client,
            stub=stub,
            service_url=str(stub_server.make_url("/")),
            caplog=caplog,
        )

    return build


@pytest.fixture
async def guard(make_guard: GuardFactory) -> Guard:
    return await make_guard(credentials=NoTokenCredentials())

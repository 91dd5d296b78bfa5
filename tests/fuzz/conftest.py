"""The real app (dev mode, SQLite in a temp dir) behind aiohttp's test client, with a Bot
Connector stub at the activities' serviceUrl, and the checks every fuzzed request must pass."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Overrides, Services
from bot.logs import JsonFormatter
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app

BOT_ID = "28:kivett-bot"
CHAMPION_AAD = "aad-champion"
LEAD_AAD = "aad-lead"
FAILURE_EVENTS = ("turn_failed", "turn_unhandled", "error_reply_failed")
LEAKS = ("Traceback", 'File "')

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


@dataclass
class ConnectorStub:
    """Stands in for the Bot Connector at the activity's serviceUrl and records every request."""

    posts: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        return app

    async def _any(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        self.posts.append({"method": request.method, "path": request.path, "body": body})
        return web.json_response({"id": str(len(self.posts))})

    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards the bot sent as messages, in order."""
        found: list[dict[str, Any]] = []
        for post in self.posts:
            body = post["body"]
            if post["method"] != "POST" or not isinstance(body, dict):
                continue
            for attachment in body.get("attachments") or []:
                if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    found.append(attachment["content"])
        return found


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class FuzzApp:
    """The running app, its connector stub and the log records of the current example."""

    client: TestClient[Any, Any]
    stub: ConnectorStub
    service_url: str
    caplog: pytest.LogCaptureFixture

    @property
    def services(self) -> Services:
        return cast(Services, self.client.app[SERVICES])

    def start_example(self) -> None:
        """Forget what earlier examples sent and logged, so each example is judged alone."""
        self.stub.posts.clear()
        self.caplog.clear()

    def activity(self, **changes: Any) -> dict[str, Any]:
        """A well-formed Teams personal-chat message to the bot, replies going to the stub."""
        activity: dict[str, Any] = {
            "type": "message",
            "id": "1700000000000",
            "timestamp": "2025-01-01T10:00:00.000Z",
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": {"id": "29:user-1", "name": "Kari", "aadObjectId": "aad-user-1"},
            "conversation": {
                "id": "a:conversation-1",
                "conversationType": "personal",
                "tenantId": "tenant-1",
            },
            "recipient": {"id": BOT_ID, "name": "KI-vett"},
            "text": "hjelp",
            "locale": "nb-NO",
            "channelData": {"tenant": {"id": "tenant-1"}},
        }
        activity.update(changes)
        return activity

    async def post(self, body: bytes) -> Reply:
        """POST raw bytes to /api/messages; no answer may be a 5xx or show a stack trace."""
        async with self.client.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            reply = Reply(response.status, await response.text())
        assert reply.status < 500, reply
        for leak in LEAKS:
            assert leak not in reply.text, reply
        return reply

    def failures(self) -> list[str]:
        """Log lines at ERROR or above or naming a failed turn, as JsonFormatter writes them."""
        formatter = JsonFormatter()
        return [
            formatter.format(record)
            for record in self.caplog.records
            if record.levelno >= logging.ERROR or record.getMessage() in FAILURE_EVENTS
        ]


def encode(value: Any) -> bytes:
    """JSON as a client would send it; NaN and infinities as Python writes them (not strict)."""
    return json.dumps(value).encode("utf-8")


@pytest.fixture
async def fuzz_app(
    aiohttp_client: ClientFactory,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> FuzzApp:
    caplog.set_level(logging.INFO, logger="kivett")
    stub = ConnectorStub()
    stub_server = await aiohttp_server(stub.app())
    settings = Settings.model_validate(
        {
            "KIVETT_DATA_DIR": str(tmp_path / "data"),
            "KIVETT_CHAMPIONS": CHAMPION_AAD,
            "KIVETT_LEADS": LEAD_AAD,
        }
    )
    overrides = Overrides(run_scheduler=False, run_broadcaster=False, run_outbox=False)
    client = await aiohttp_client(create_app(settings, dev=True, overrides=overrides))
    return FuzzApp(
        client=client,
        stub=stub,
        service_url=str(stub_server.make_url("/")),
        caplog=caplog,
    )

"""The worker role: `kivett serve --no-workers` answers turns, `kivett worker` does the rest.

Both are built here as the CLI builds them (create_app with workers off, create_worker_app) on the
same SQLite data directory, each with its own store connection, as two processes on one machine
would be. Time is a virtual clock; the worker's rounds are run by hand (one round is what its
polling loop does at each interval), so nothing here waits for a timer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Overrides
from bot.core.learning_cards import DeliveryState
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app, create_worker_app
from cards.verbs import Verb
from tests.fakes.learning_sink import FakeSink
from tests.fakes.teams_connector import FakeTeamsConnector
from tests.flows.test_learning_flow import GOOD

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]
WEDNESDAY_NOON = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
NEXT_MONDAY_9_OSLO = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WORKER_TASKS = {
    "kivett-lesson-scheduler",
    "kivett-broadcaster",
    "kivett-outbox",
    "kivett-retention",
}
CARD = GOOD  # the learning card the flow tests file: every field filled in, nothing personal


def by_hand(clock: Clock, sink: FakeSink | None = None) -> Overrides:
    """The worker built here with its loops off: the test runs their rounds itself."""
    return Overrides(
        clock=clock,
        sink=sink,
        run_scheduler=False,
        run_broadcaster=False,
        run_outbox=False,
        run_retention=False,
    )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _activity(service_url: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "nb-NO",
        "from": {"id": "29:kari", "aadObjectId": "aad-kari"},
        "recipient": {"id": "28:bot", "name": "KI-vett"},
        "conversation": {
            "id": "a:personal-kari",
            "conversationType": "personal",
            "tenantId": "tenant",
        },
        **fields,
    }


async def press(
    client: TestClient[Any, Any], service_url: str, verb: str, **data: str
) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}}
    response = await client.post(
        "/api/messages",
        json=_activity(service_url, type="invoke", name="adaptiveCard/action", value=value),
    )
    assert response.status == 200
    card = (await response.json())["value"]
    assert isinstance(card, dict)
    return card


def running_workers() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks()} & WORKER_TASKS


@pytest.fixture
async def teams(aiohttp_server: ServerFactory) -> tuple[FakeTeamsConnector, str]:
    fake = FakeTeamsConnector(enforce_limits=False)
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("/"))


def settings_for(data_dir: Path, **extra: str) -> Settings:
    return Settings.model_validate({"KIVETT_DATA_DIR": str(data_dir), **extra})


async def test_a_card_saved_by_serve_reaches_sharepoint_through_the_worker_only(
    aiohttp_client: ClientFactory, tmp_path: Path, teams: tuple[FakeTeamsConnector, str]
) -> None:
    _, service_url = teams
    clock = Clock(WEDNESDAY_NOON)
    settings = settings_for(tmp_path, KIVETT_WORKERS="off")
    serve_sink, worker_sink = FakeSink(), FakeSink()
    serve = await aiohttp_client(
        create_app(settings, dev=True, overrides=Overrides(clock=clock, sink=serve_sink))
    )
    worker_app = create_worker_app(settings, dev=True, overrides=by_hand(clock, worker_sink))
    worker = await aiohttp_client(worker_app)
    assert (await worker.get("/healthz")).status == 200
    assert (await worker.get("/readyz")).status == 200
    assert (await worker.post("/api/messages", json={})).status in (404, 405), "no bot endpoint"
    assert running_workers() == set(), "serve with KIVETT_WORKERS=off runs no worker"

    saved = await press(serve, service_url, Verb.CARD_SUBMIT, **CARD)
    assert serve_sink.calls == [], "serve never writes to SharePoint itself"
    [stored] = await serve.app[SERVICES].learning_store.all()
    assert stored.state is DeliveryState.PENDING
    assert stored.card.card_id[:8].upper() in str(saved)

    # the worker's next polling round (it was not woken: the card was stored in another process)
    outbox = worker_app[SERVICES].outbox
    assert outbox is not None
    assert await outbox.drain_once() == 1
    assert worker_sink.items[stored.card.card_id]["KortId"] == stored.card.card_id
    assert CARD["title"] in worker_sink.items[stored.card.card_id].values()
    assert worker_sink.creates == 1
    assert await outbox.drain_once() == 0, "once only"
    [after] = await serve.app[SERVICES].learning_store.all()
    assert after.state is DeliveryState.DELIVERED, "serve sees what the worker did"
    assert serve_sink.calls == []


async def test_a_due_weekly_lesson_is_sent_by_the_worker_and_serve_sends_nothing(
    aiohttp_client: ClientFactory, tmp_path: Path, teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, service_url = teams
    clock = Clock(WEDNESDAY_NOON)
    settings = settings_for(tmp_path, KIVETT_WORKERS="off")
    serve = await aiohttp_client(create_app(settings, dev=True, overrides=Overrides(clock=clock)))
    worker_app = create_worker_app(settings, dev=True, overrides=by_hand(clock))
    await aiohttp_client(worker_app)
    await press(serve, service_url, Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    before = len(fake.deliveries)

    clock.now = NEXT_MONDAY_9_OSLO + timedelta(minutes=1)
    assert running_workers() == set(), "no scheduler runs in the serve process"
    lessons = worker_app[SERVICES].lessons_worker
    assert await lessons.run_once() == 1
    assert await lessons.run_once() == 0, "never twice"
    weekly = fake.deliveries[before:]
    assert len(weekly) == 1
    assert weekly[0].activity["conversation"]["id"] == "a:personal-kari"
    stored = await serve.app[SERVICES].lesson_store.subscription("aad-kari")
    assert stored is not None
    assert stored.next_due > clock.now, "serve reads the next due time the worker stored"


async def test_serve_runs_the_workers_itself_by_default(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    assert settings.workers
    app: web.Application = create_app(
        settings, dev=True, overrides=Overrides(clock=Clock(WEDNESDAY_NOON), sink=FakeSink())
    )
    await aiohttp_client(app)
    assert running_workers() == WORKER_TASKS


async def test_no_workers_from_the_command_line_wins_over_the_setting(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, KIVETT_WORKERS="on")
    await aiohttp_client(
        create_app(settings, dev=True, overrides=Overrides(sink=FakeSink()), workers=False)
    )
    assert running_workers() == set()

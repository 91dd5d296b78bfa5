"""Weekly lessons: stored due times, delivered proactively once, across restarts and failures."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import Overrides
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app
from cards.verbs import Verb
from content import load_catalog
from tests.fakes.teams_connector import FakeTeamsConnector

NB = load_catalog().texts("nb")
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]
WEDNESDAY_NOON = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # 12:00 in Oslo
NEXT_MONDAY_9_OSLO = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Bot:
    """KI-vett in dev mode with a controlled clock, talking to the fake Teams connector."""

    def __init__(
        self, app: web.Application, client: TestClient[Any, Any], service_url: str, clock: Clock
    ) -> None:
        self.app, self.client, self.service_url, self.clock = app, client, service_url, clock
        self.conversation = "a:personal-kari"

    def _activity(self, **fields: Any) -> dict[str, Any]:
        return {
            "id": uuid.uuid4().hex,
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "locale": "nb-NO",
            "from": {"id": "29:kari", "aadObjectId": "aad-kari"},
            "recipient": {"id": "28:bot", "name": "KI-vett"},
            "conversation": {
                "id": self.conversation,
                "conversationType": "personal",
                "tenantId": "tenant",
            },
            **fields,
        }

    async def say(self, text: str) -> None:
        response = await self.client.post(
            "/api/messages", json=self._activity(type="message", text=text)
        )
        assert response.status == 201

    async def press(self, verb: str, **data: str) -> dict[str, Any]:
        value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}}
        response = await self.client.post(
            "/api/messages",
            json=self._activity(type="invoke", name="adaptiveCard/action", value=value),
        )
        assert response.status == 200
        body = await response.json()
        card = body["value"]
        assert isinstance(card, dict)
        return card

    async def run_scheduler(self) -> int:
        return await self.app[SERVICES].lessons_worker.run_once()


@pytest.fixture
async def teams(aiohttp_server: ServerFactory) -> tuple[FakeTeamsConnector, str]:
    fake = FakeTeamsConnector(enforce_limits=False)
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("/"))


@pytest.fixture
async def make_bot(
    aiohttp_client: ClientFactory, tmp_path: Path, teams: tuple[FakeTeamsConnector, str]
) -> Callable[[Clock], Awaitable[Bot]]:
    async def build(clock: Clock) -> Bot:
        settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
        app = create_app(settings, dev=True, overrides=Overrides(clock=clock, run_scheduler=False))
        client = await aiohttp_client(app)
        return Bot(app, client, teams[1], clock)

    return build


def _title(delivery: Any) -> str:
    card = delivery.activity["attachments"][0]["content"]
    return " ".join(str(e.get("text", "")) for e in card["body"][:3])


async def test_a_subscriber_gets_the_next_lesson_once_when_it_is_due(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    bot = await make_bot(clock)
    await bot.say("abonner")
    confirmation = await bot.press(Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    assert confirmation["body"][0]["text"] == NB("subscribe.subscribed_title")
    stored = await bot.app[SERVICES].lesson_store.subscription("aad-kari")
    assert stored is not None
    assert stored.next_due == NEXT_MONDAY_9_OSLO

    sent_before = len(fake.deliveries)
    clock.now = NEXT_MONDAY_9_OSLO - timedelta(minutes=1)
    assert await bot.run_scheduler() == 0
    clock.now = NEXT_MONDAY_9_OSLO + timedelta(seconds=30)
    assert await bot.run_scheduler() == 1
    assert await bot.run_scheduler() == 0, "never twice"
    weekly = fake.deliveries[sent_before:]
    assert len(weekly) == 1
    assert NB("lessons.weekly_intro") in _title(weekly[0])
    assert "Vettregel 1" in _title(weekly[0])
    buttons = [a["verb"] for a in weekly[0].activity["attachments"][0]["content"]["actions"]]
    assert Verb.UNSUBSCRIBE in buttons, "every pushed lesson has an opt-out"


async def test_a_delivery_missed_while_down_is_sent_once_after_restart(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    first = await make_bot(clock)
    await first.press(Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    await first.client.close()  # the bot goes down before Monday

    clock.now = NEXT_MONDAY_9_OSLO + timedelta(days=16)  # back up more than two weeks later
    second = await make_bot(clock)
    third = await make_bot(clock)  # a second instance on the same store
    before = len(fake.deliveries)
    assert await second.run_scheduler() + await third.run_scheduler() == 1
    assert len(fake.deliveries) == before + 1
    stored = await second.app[SERVICES].lesson_store.subscription("aad-kari")
    assert stored is not None
    assert stored.next_due > clock.now


async def test_progress_decides_which_lesson_comes_next(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    bot = await make_bot(clock)
    await bot.press(Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    book = bot.app[SERVICES].content.lessons["nb"]
    right = book.lesson(1).correct_option.id
    answered = await bot.press(Verb.LESSON_ANSWER, lesson="1", answer=right)
    assert any(NB("lessons.correct", feedback="").strip() in str(e) for e in answered["body"])
    clock.now = NEXT_MONDAY_9_OSLO + timedelta(minutes=1)
    assert await bot.run_scheduler() == 1
    assert "Vettregel 2" in _title(fake.deliveries[-1])


async def test_a_user_who_blocked_the_bot_is_unsubscribed_and_forgotten(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    bot = await make_bot(clock)
    await bot.press(Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    fake.script(bot.conversation, (403, "MessageWritesBlocked"))
    clock.now = NEXT_MONDAY_9_OSLO + timedelta(minutes=1)
    assert await bot.run_scheduler() == 0
    services = bot.app[SERVICES]
    assert await services.lesson_store.subscription("aad-kari") is None
    assert await services.references.get(bot.conversation) is None


async def test_a_teams_outage_postpones_the_lesson_without_losing_or_doubling_it(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    bot = await make_bot(clock)
    await bot.press(Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    fake.script(bot.conversation, (503, None))  # one attempt per round: the worker retries later
    clock.now = NEXT_MONDAY_9_OSLO + timedelta(minutes=1)
    before = len(fake.deliveries)
    assert await bot.run_scheduler() == 0
    clock.now += timedelta(minutes=6)
    assert await bot.run_scheduler() == 1
    assert await bot.run_scheduler() == 0
    assert len(fake.deliveries) == before + 1


async def test_unsubscribe_stops_the_lessons(
    make_bot: Callable[[Clock], Awaitable[Bot]], teams: tuple[FakeTeamsConnector, str]
) -> None:
    fake, _ = teams
    clock = Clock(WEDNESDAY_NOON)
    bot = await make_bot(clock)
    await bot.press(Verb.SUBSCRIBE_SAVE, day="2", time="14:00")
    notice = await bot.press(Verb.UNSUBSCRIBE)
    assert notice["body"][0]["text"] == NB("subscribe.unsubscribed_title")
    clock.now += timedelta(days=30)
    before = len(fake.deliveries)
    assert await bot.run_scheduler() == 0
    assert len(fake.deliveries) == before

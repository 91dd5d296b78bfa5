"""The `ProactiveSender` port on the real Bot Connector client, against the fake Teams connector
over HTTP: what the workers send arrives as Teams expects it, and refusals come back typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import Overrides
from bot.ports import DeliveryError, ProactiveSender
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app
from tests.fakes.teams_connector import FakeTeamsConnector

ServerFactory = Callable[..., Awaitable[TestServer]]
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hei"}]}


@pytest.fixture
async def wired(
    aiohttp_server: ServerFactory, aiohttp_client: Any, tmp_path: Path
) -> tuple[ProactiveSender, FakeTeamsConnector, dict[str, Any]]:
    fake = FakeTeamsConnector(enforce_limits=False)
    server = await aiohttp_server(fake.app())
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    overrides = Overrides(run_scheduler=False, run_broadcaster=False, run_outbox=False)
    app = create_app(settings, dev=True, overrides=overrides)
    await aiohttp_client(app)
    reference = {
        "serviceUrl": str(server.make_url("/")),
        "channelId": "msteams",
        "locale": "nn-NO",
        "conversation": {"id": "a:kari", "conversationType": "personal", "tenantId": "t1"},
        "bot": {"id": "28:bot", "name": "KI-vett"},
        "user": {"id": "29:kari"},
    }
    return app[SERVICES].teams.sender, fake, reference


async def test_a_card_reaches_the_conversation_of_the_stored_reference(
    wired: tuple[ProactiveSender, FakeTeamsConnector, dict[str, Any]],
) -> None:
    sender, fake, reference = wired
    await sender.send(reference, CARD)
    [delivery] = fake.deliveries
    assert delivery.conversation_id == "a:kari"
    activity = delivery.activity
    assert activity["attachments"][0]["content"] == CARD
    assert activity["from"]["id"] == "28:bot"
    assert activity["recipient"]["id"] == "29:kari"
    assert activity["conversation"]["tenantId"] == "t1"
    assert activity["locale"] == "nn-NO"


async def test_an_update_replaces_the_card_of_an_earlier_message(
    wired: tuple[ProactiveSender, FakeTeamsConnector, dict[str, Any]],
) -> None:
    sender, fake, reference = wired
    await sender.update(
        service_url=reference["serviceUrl"],
        conversation_id="a:champion",
        activity_id="1:progress",
        card=CARD,
    )
    [update] = fake.updates
    assert (update.conversation_id, update.activity_id) == ("a:champion", "1:progress")
    assert fake.deliveries == []


@pytest.mark.parametrize(
    ("answer", "blocked", "gone"),
    [
        ((403, "MessageWritesBlocked"), True, True),
        ((404, "ConversationNotFound"), False, True),
        ((503, None), False, False),
    ],
)
async def test_a_refusal_comes_back_as_one_typed_error_without_retrying(
    wired: tuple[ProactiveSender, FakeTeamsConnector, dict[str, Any]],
    answer: tuple[int, str | None],
    blocked: bool,
    gone: bool,
) -> None:
    sender, fake, reference = wired
    fake.script("a:kari", answer, answer)
    with pytest.raises(DeliveryError) as refused:
        await sender.send(reference, CARD)
    assert refused.value.status == answer[0]
    assert (refused.value.blocked, refused.value.gone) == (blocked, gone)
    assert fake.requests == 1, "one attempt: the workers decide about retries"

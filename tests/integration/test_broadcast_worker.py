"""The broadcast engine against the fake Teams connector that enforces Teams' documented limits.

The worker sends through the `ProactiveSender` port straight onto the fake (no HTTP), and time is
virtual: it moves only when the worker sleeps, and work that is ready runs before it moves. So a
window is decided by what was sent when, never by how busy the machine is."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.adapters.sqlite.broadcast import SqliteBroadcastStore
from bot.bootstrap import Overrides
from bot.core.broadcast import RecipientState
from bot.core.rate_limit import RateLimiter
from bot.core.records import StoredReference
from bot.settings import Settings
from bot.teams.app import SERVICES, create_app
from bot.workers.broadcast import BroadcastWorker
from bot.workers.pacing import Pacer
from tests.fakes.teams_connector import FakeTeamsConnector

ServerFactory = Callable[..., Awaitable[TestServer]]


class VirtualTime:
    """A clock that only moves when someone sleeps: pacing is checked without waiting for it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # sends already started go out at the time they were paced for
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
async def setup(
    aiohttp_server: ServerFactory, aiohttp_client: Any, tmp_path: Path
) -> tuple[Any, FakeTeamsConnector, str, VirtualTime]:
    time = VirtualTime()
    fake = FakeTeamsConnector(clock=time)
    server = await aiohttp_server(fake.app())
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    app = create_app(
        settings, dev=True, overrides=Overrides(run_scheduler=False, run_broadcaster=False)
    )
    await aiohttp_client(app)
    return app[SERVICES], fake, str(server.make_url("/")), time


async def _seed(services: Any, service_url: str, count: int) -> list[tuple[str, str]]:
    recipients = []
    for index in range(count):
        cid = f"a:person-{index}"
        reference = {
            "serviceUrl": service_url,
            "channelId": "msteams",
            "conversation": {"id": cid, "conversationType": "personal", "tenantId": "tenant"},
            "bot": {"id": "28:bot", "name": "KI-vett"},
            "user": {"id": f"29:{index}"},
        }
        await services.references.save(StoredReference(cid, "personal", "tenant", reference))
        recipients.append((cid, "nb"))
    return recipients


async def test_a_broadcast_reaches_everyone_within_the_limits_and_handles_each_refusal(
    setup: tuple[Any, FakeTeamsConnector, str, VirtualTime],
) -> None:
    services, fake, service_url, time = setup
    recipients = await _seed(services, service_url, 300)
    fake.script("a:person-5", (403, "MessageWritesBlocked"))
    fake.script("a:person-6", (404, "ConversationNotFound"))
    fake.script("a:person-7", (503, None), (502, None))
    fake.script("a:person-8", (400, "BadArgument"))
    store: SqliteBroadcastStore = services.broadcasts
    progress = await store.create_job(
        created_by="aad-champion",
        due=datetime.fromtimestamp(time.now, UTC),
        cards={"nb": {"type": "AdaptiveCard", "version": "1.5", "body": []}},
        recipients=recipients,
        progress_service_url=service_url,
        progress_conversation="a:champion",
        progress_activity="card-1",
        progress_language="nb",
    )
    assert progress.total == 300
    worker = BroadcastWorker(
        store=store,
        references=services.references,
        sender=fake.sender(),
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        progress_card=lambda job, p, now: {"sent": p.sent},
        clock=time,
        sleep=time.sleep,
        rng=random.Random(7),
    )
    started = time.now
    [job] = await store.runnable(time.now)
    final = await worker.run_job(job)

    assert (final.sent, final.blocked, final.not_found, final.failed) == (297, 1, 1, 1)
    assert final.finished
    assert fake.duplicates() == {}, "nobody is messaged twice"
    assert fake.count_for("a:person-7") == 1, "the retried recipient got exactly one message"
    assert fake.throttled == 0, "the limiter kept every send inside Teams' limits"
    assert time.now - started >= (300 - 50) / 50, "50 per second per tenant was respected"
    assert await services.references.get("a:person-5") is None, "blocked: reference dropped"
    assert await services.references.get("a:person-6") is None
    assert fake.updates, "the champion's progress card was updated in place"
    assert fake.updates[-1].activity["attachments"][0]["content"] == {"sent": 297}


async def test_a_job_resumes_after_a_restart_without_resending(
    setup: tuple[Any, FakeTeamsConnector, str, VirtualTime],
) -> None:
    services, fake, service_url, time = setup
    recipients = await _seed(services, service_url, 120)
    store: SqliteBroadcastStore = services.broadcasts
    await store.create_job(
        created_by="aad-champion",
        due=datetime.fromtimestamp(time.now, UTC),
        cards={"nb": {"type": "AdaptiveCard", "version": "1.5", "body": []}},
        recipients=recipients,
        progress_service_url="",
        progress_conversation="",
        progress_activity="",
        progress_language="nb",
    )
    [job] = await store.runnable(time.now)
    # the first run is "killed" after 40 recipients: their results are on disk, the rest pending
    done = [(cid, RecipientState.SENT, 1, 0.0, 201) for cid, _ in recipients[:40]]
    await store.record(job.id, done)
    worker = BroadcastWorker(
        store=store,
        references=services.references,
        sender=fake.sender(),
        pacer=Pacer(RateLimiter(), clock=time, sleep=time.sleep),
        progress_card=lambda job, p, now: {},
        clock=time,
        sleep=time.sleep,
    )
    final = await worker.run_job(job)
    assert final.sent == 120
    assert len(fake.deliveries) == 80, "only the recipients still pending were sent to"
    assert fake.duplicates() == {}

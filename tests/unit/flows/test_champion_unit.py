"""Champions' tips, called directly: only champions, everything checked, one job per send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.caller import Role
from bot.core.records import StoredReference, Subscription
from bot.core.tips import TIP_LIMIT
from cards.verbs import Verb
from cards.views import CardView, NoticeView, TipComposeView, TipPreviewView, TipProgressView
from content import Language
from dialogs.champion import ChampionFlow
from tests.fakes.stores import FakeBroadcasts, FakeLessons, FakeReferences
from tests.unit.flows.conftest import CONTENT, NOW, caller, request

CHAMPION = caller(Role.CHAMPION, user_key="aad-champion")


async def _flow(
    broadcasts: FakeBroadcasts, *, subscribers: int = 2
) -> tuple[ChampionFlow, list[tuple[CardView, Language]]]:
    lessons = FakeLessons()
    for index in range(subscribers):
        await lessons.subscribe(
            Subscription(f"u{index}", f"a:u{index}", 0, "09:00", "Europe/Oslo", "nn", NOW)
        )
    rendered: list[tuple[CardView, Language]] = []

    def render(view: CardView, language: Language) -> dict[str, Any]:
        rendered.append((view, language))
        return {"language": language}

    channel = StoredReference("19:team", "channel", "t", {"conversation": {"name": "Generelt"}})
    flow = ChampionFlow(
        books=CONTENT.lessons,
        broadcasts=broadcasts,
        references=FakeReferences(channel),
        lessons=lessons,
        render_card=render,
        clock=lambda: NOW,
        channel_language="nb",
    )
    return flow, rendered


async def test_someone_without_the_role_is_refused_and_nothing_is_queued() -> None:
    broadcasts = FakeBroadcasts()
    flow, _ = await _flow(broadcasts)
    reply = await flow.handle(request(caller(), verb=Verb.TIP_SEND, data={"tip": "tip01"}))
    assert isinstance(reply.view, NoticeView)
    assert reply.route == "tip:refused"
    assert broadcasts.jobs == []


async def test_a_send_queues_one_job_for_the_subscribers_without_listing_them() -> None:
    broadcasts = FakeBroadcasts()
    flow, _ = await _flow(broadcasts, subscribers=3)
    tip = CONTENT.lessons["nb"].tips[0].id
    preview = await flow.handle(request(CHAMPION, verb=Verb.TIP_PREVIEW, data={"tip": tip}))
    assert isinstance(preview.view, TipPreviewView)
    assert broadcasts.jobs == [], "a preview sends nothing"
    sent = await flow.handle(request(CHAMPION, verb=Verb.TIP_SEND, data={"tip": tip}))
    assert isinstance(sent.view, TipProgressView)
    [job] = broadcasts.jobs
    assert job.subscribers, "the job goes to the subscribers"
    assert job.recipients == [], "the worker lists the subscribers, not the turn"
    assert broadcasts.recipients_stored == 0
    assert set(job.cards) == {"nb", "nn", "en"}
    assert (job.created_by, job.progress_activity) == ("aad-champion", "card-7")


async def test_a_mistake_comes_back_on_the_compose_card_with_what_was_typed() -> None:
    broadcasts = FakeBroadcasts()
    flow, _ = await _flow(broadcasts)
    too_long = "x" * (TIP_LIMIT + 1)
    reply = await flow.handle(request(CHAMPION, verb=Verb.TIP_SEND, data={"own": too_long}))
    assert isinstance(reply.view, TipComposeView)
    nb = CONTENT.catalog.texts("nb")
    assert reply.view.error == nb("tips.error_too_long", limit=TIP_LIMIT)
    unknown = {"tip": "tip01", "audience": "channels", "channels": "19:gone"}
    reply = await flow.handle(request(CHAMPION, verb=Verb.TIP_SEND, data=unknown))
    assert isinstance(reply.view, TipComposeView)
    assert reply.view.error == nb("tips.error_unknown_channel")
    assert broadcasts.jobs == []


async def test_a_tip_to_a_channel_is_written_in_the_municipalitys_language() -> None:
    broadcasts = FakeBroadcasts()
    flow, _ = await _flow(broadcasts)
    data = {"tip": "tip01", "audience": "channels", "channels": "19:team"}
    await flow.handle(request(CHAMPION, verb=Verb.TIP_SEND, data=data))
    [job] = broadcasts.jobs
    assert job.recipients == [("19:team", "nb")]


async def test_a_tip_for_later_is_queued_for_that_time() -> None:
    broadcasts = FakeBroadcasts()
    flow, _ = await _flow(broadcasts)
    data = {"tip": "tip01", "date": "2026-11-20", "time": "10:00"}
    reply = await flow.handle(request(CHAMPION, verb=Verb.TIP_SEND, data=data))
    assert isinstance(reply.view, NoticeView)
    [job] = broadcasts.jobs
    assert job.due == datetime.fromisoformat("2026-11-20T09:00:00+00:00")

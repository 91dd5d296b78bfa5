"""Champions' weekly tip: only champions, everything re-checked, nothing sent by mistake."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ActivityTypes

from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import BOT, CHAMPION, Harness, cards_sent, invoke, say, title_of

NB = load_catalog().texts("nb")


async def _press(adapter: Any, verb: str, **data: str) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}}
    response = await invoke(adapter, value)
    assert response.status == 200
    card = response.body["value"]
    assert isinstance(card, dict)
    return card


async def _subscribers(harness: Harness, count: int) -> None:
    from bot.adapters.sqlite.lessons import SqliteLessonStore
    from bot.core.records import Subscription
    from tests.flows.conftest import NOW

    store = SqliteLessonStore(harness.db)
    for index in range(count):
        await store.subscribe(
            Subscription(f"user-{index}", f"a:sub-{index}", 0, "09:00", "Europe/Oslo", "nb", NOW)
        )


async def test_anyone_else_gets_a_polite_refusal_and_nothing_is_queued(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "ukens tips")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("tips.refused_title")
    sent = await _press(adapter, Verb.TIP_SEND, tip="tip01", audience="subscribers")
    assert title_of(sent) == NB("tips.refused_title")
    assert await harness.broadcasts.runnable(9e12) == []


async def test_a_champion_picks_previews_and_sends_a_tip_to_all_subscribers(
    harness: Harness,
) -> None:
    await _subscribers(harness, 3)
    adapter = harness.adapter("a:champion-chat", user=CHAMPION)
    await say(adapter, "ukens tips")
    [compose] = cards_sent(adapter)
    assert title_of(compose) == NB("tips.title")
    book = harness.book("nb")
    preview = await _press(adapter, Verb.TIP_PREVIEW, tip="tip02", audience="subscribers")
    assert title_of(preview) == NB("tips.preview_title")
    assert f"💡 {book.tip('tip02').text}" in str(preview)
    assert "'value': '3'" in str(preview)
    send = next(a for a in preview["actions"] if a["verb"] == Verb.TIP_SEND)
    progress = await _press(
        adapter, Verb.TIP_SEND, **{k: v for k, v in send["data"].items() if k != "v"}
    )
    assert title_of(progress) == NB("tips.progress_title")
    [job] = await harness.broadcasts.runnable(9e12)
    assert job.progress_conversation == "a:champion-chat"
    assert book.tip("tip02").text in str(job.cards["nb"])
    assert "subscribe.cancel" in str(job.cards["nn"]), "every pushed tip has an opt-out"


async def test_bad_tips_audiences_and_times_get_the_form_back_with_the_problem(
    harness: Harness,
) -> None:
    await _subscribers(harness, 1)
    adapter = harness.adapter(user=CHAMPION)
    cases = [
        ({"tip": "", "own": ""}, NB("tips.error_empty")),
        ({"own": "x" * 501}, NB("tips.error_too_long", limit=500)),
        ({"tip": "tip999"}, NB("tips.error_empty")),
        ({"tip": "tip01", "audience": "channels", "channels": ""}, NB("tips.error_no_channels")),
        (
            {"tip": "tip01", "audience": "channels", "channels": "19:forged@thread"},
            NB("tips.error_unknown_channel"),
        ),
        ({"tip": "tip01", "date": "2020-01-01", "time": "09:00"}, NB("tips.error_past")),
        ({"tip": "tip01", "audience": "everyone-in-norway"}, NB("tips.error_empty")),
    ]
    for data, message in cases:
        card = await _press(adapter, Verb.TIP_SEND, **data)
        assert title_of(card) == NB("tips.title"), data
        assert message in str(card), data
    assert await harness.broadcasts.runnable(9e12) == []


async def test_a_tip_can_go_to_a_channel_where_the_app_is_installed(harness: Harness) -> None:
    channel = harness.adapter("19:general@thread", "channel")
    added = Activity(type=ActivityTypes.conversation_update, members_added=[BOT])
    await channel.process_activity(added, channel.logic)
    adapter = harness.adapter(user=CHAMPION)
    card = await _press(adapter, Verb.TIP_COMPOSE)
    assert "19:general@thread" in str(card)
    progress = await _press(
        adapter,
        Verb.TIP_SEND,
        own="Husk klarspråk!",
        audience="channels",
        channels="19:general@thread",
    )
    assert title_of(progress) == NB("tips.progress_title")
    [job] = await harness.broadcasts.runnable(9e12)
    pending = await harness.broadcasts.pending(job.id, 9e12, 10)
    assert [p.conversation_id for p in pending] == ["19:general@thread"]


async def test_a_scheduled_tip_waits_for_its_time(harness: Harness) -> None:
    await _subscribers(harness, 2)
    adapter = harness.adapter(user=CHAMPION)
    card = await _press(adapter, Verb.TIP_SEND, tip="tip03", date="2026-12-01", time="10:00")
    assert title_of(card) == NB("tips.scheduled_title")
    assert "01.12.2026 10:00" in str(card)
    from tests.flows.conftest import NOW

    assert await harness.broadcasts.runnable(NOW.timestamp()) == []
    assert len(await harness.broadcasts.runnable(9e12)) == 1

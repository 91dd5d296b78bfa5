"""Card actions that change something apply once per card, whatever the replays (issue 15).

Through the real router and SQLite: a double-pressed or replayed Send queues one broadcast, the
"nyttig?" vote counts once, the subscription form saves once; the second press answers with what
already happened, in the card's language. Forged action ids change nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes

from bot.core.records import Subscription
from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import BOT, CHAMPION, NOW, Harness, cards_sent, invoke, say, title_of
from tests.flows.test_champion_flow import _subscribers as _subscribers_with_chats
from tests.flows.test_champion_flow import run_broadcasts
from tests.flows.test_ki_check_flow import button, press, texts_in, walk_to_verdict

CATALOG = load_catalog()
NB, NN, EN = CATALOG.texts("nb"), CATALOG.texts("nn"), CATALOG.texts("en")


async def _invoke(adapter: Any, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}}
    response = await invoke(adapter, value)
    assert response.status == 200
    card = response.body["value"]
    assert isinstance(card, dict)
    return card


async def _jobs(harness: Harness) -> int:
    def count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM broadcast_jobs").fetchone()[0])

    return await harness.db.run(count)


async def _subscribers(harness: Harness, count: int) -> None:
    for index in range(count):
        await harness.lessons.subscribe(
            Subscription(f"user-{index}", f"a:sub-{index}", 0, "09:00", "Europe/Oslo", "nb", NOW)
        )


async def _preview(adapter: Any, **data: str) -> dict[str, Any]:
    """A preview card, and the data its Send button carries (as Teams sends it back)."""
    preview = await _invoke(adapter, Verb.TIP_PREVIEW, {"v": "1", **data})
    texts = {"nn": NN, "en": EN}.get(data.get("lang", ""), NB)
    assert title_of(preview) == texts("tips.preview_title")
    send = next(a for a in preview["actions"] if a["verb"] == Verb.TIP_SEND)
    assert isinstance(send["data"], dict)
    return send["data"]


async def test_a_double_pressed_send_queues_one_job_and_the_second_press_says_so(
    harness: Harness,
) -> None:
    await _subscribers_with_chats(harness, 3)
    adapter = harness.adapter("a:champion-chat", user=CHAMPION)
    send = await _preview(adapter, tip="tip02", audience="subscribers")
    assert len(send["act"]) >= 16, "the Send button carries the card's action id"
    first = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(first) == NB("tips.progress_title")
    again = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(again) == NB("already.tip_sent_title")
    assert NB("already.tip_subscribers_body") in texts_in(again)
    assert await _jobs(harness) == 1
    fake, [final] = await run_broadcasts(harness)
    assert (final.total, final.sent) == (3, 3)
    assert sorted(d.conversation_id for d in fake.deliveries) == [
        "a:sub-0",
        "a:sub-1",
        "a:sub-2",
    ], "each gets it once"
    again = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(again) == NB("already.tip_sent_title"), "still one job after it was sent"
    assert await _jobs(harness) == 1


async def test_replays_of_a_send_at_the_same_moment_on_two_instances_queue_one_job(
    harness: Harness,
) -> None:
    await _subscribers(harness, 2)
    champion = harness.adapter("a:champion-chat", user=CHAMPION)
    send = await _preview(champion, tip="tip01")
    # no shared turn lock: as if two bot instances each got one of the replays
    instances = [
        harness.adapter("a:champion-chat", user=CHAMPION, lock_turns=False) for _ in range(5)
    ]
    cards = await asyncio.gather(*(_invoke(a, Verb.TIP_SEND, send) for a in instances))
    titles = sorted(title_of(card) for card in cards)
    assert titles.count(NB("tips.progress_title")) == 1
    assert await _jobs(harness) == 1


async def test_a_replayed_scheduled_send_shows_the_time_it_is_planned_for(
    harness: Harness,
) -> None:
    await _subscribers(harness, 2)
    adapter = harness.adapter(user=CHAMPION)
    send = await _preview(adapter, tip="tip03", date="2026-12-01", time="10:00")
    first = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(first) == NB("tips.scheduled_title")
    again = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(again) == NB("already.tip_scheduled_title")
    assert NB("already.tip_subscribers_scheduled_body", when="01.12.2026 10:00") in texts_in(again)
    assert await _jobs(harness) == 1


@pytest.mark.parametrize(("language", "texts"), [("nn", NN), ("en", EN)])
async def test_the_second_press_answers_in_the_language_of_the_card(
    harness: Harness, language: str, texts: Any
) -> None:
    await _subscribers(harness, 1)
    adapter = harness.adapter(user=CHAMPION)
    send = await _preview(adapter, tip="tip01", lang=language)
    await _invoke(adapter, Verb.TIP_SEND, send)
    again = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(again) == texts("already.tip_sent_title")
    assert await _jobs(harness) == 1


@pytest.mark.parametrize(
    "forged",
    ["", "short", "x" * 65, "abc/def/ghi/jkl/mno", "Åse-ølkopp-er-her-nå", "a b c d e f g h"],
)
async def test_a_forged_action_id_is_refused_and_nothing_is_queued(
    harness: Harness, forged: str
) -> None:
    await _subscribers(harness, 1)
    adapter = harness.adapter(user=CHAMPION)
    send = await _preview(adapter, tip="tip01")
    card = await _invoke(adapter, Verb.TIP_SEND, {**send, "act": forged})
    assert title_of(card) == NB("stale.title")
    assert await _jobs(harness) == 0


async def test_an_old_card_without_an_action_id_is_sent_once(harness: Harness) -> None:
    """Preview cards from before action ids: the same press by the same champion applies once
    (per button data and day)."""
    await _subscribers(harness, 2)
    adapter = harness.adapter(user=CHAMPION)
    old = {"v": "1", "tip": "tip01", "audience": "subscribers", "lang": "nb"}
    first = await _invoke(adapter, Verb.TIP_SEND, old)
    assert title_of(first) == NB("tips.progress_title")
    for _ in range(3):
        again = await _invoke(adapter, Verb.TIP_SEND, old)
        assert title_of(again) == NB("already.tip_sent_title")
    assert await _jobs(harness) == 1
    other = await _invoke(adapter, Verb.TIP_SEND, {**old, "tip": "tip02"})
    assert title_of(other) == NB("tips.progress_title"), "a different tip is a different action"
    assert await _jobs(harness) == 2


async def test_a_send_with_a_problem_queues_nothing_even_when_replayed(harness: Harness) -> None:
    await _subscribers(harness, 1)
    adapter = harness.adapter(user=CHAMPION)
    send = await _preview(adapter, tip="tip01")
    await harness.lessons.unsubscribe("user-0")  # the only recipient left meanwhile
    for _ in range(2):
        card = await _invoke(adapter, Verb.TIP_SEND, send)
        assert title_of(card) == NB("tips.title")
        assert NB("tips.error_no_recipients") in str(card)
    await _subscribers(harness, 1)  # back again: a replay of the refused card still sends nothing
    card = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(card) == NB("tips.title")
    assert await _jobs(harness) == 0


async def test_fifty_replays_of_a_feedback_vote_count_once(harness: Harness) -> None:
    adapter = harness.adapter()
    verdict = await walk_to_verdict(harness, adapter, "write", "copilot_chat", "open")
    vote = button(verdict, Verb.KI_FEEDBACK)
    assert len(vote["data"]["act"]) >= 16, "the vote buttons carry the card's action id"
    thanked = await press(harness, adapter, verdict, Verb.KI_FEEDBACK, useful="yes")
    assert NB("kisjekk.thanks") in texts_in(thanked)
    for _ in range(49):
        again = await press(harness, adapter, verdict, Verb.KI_FEEDBACK, useful="yes")
        assert NB("already.feedback") in texts_in(again)
    # the other button of the same card is the same card's vote: not counted either
    other = await press(harness, adapter, verdict, Verb.KI_FEEDBACK, useful="no")
    assert NB("already.feedback") in texts_in(other)
    snapshot = await harness.usage.snapshot()
    assert snapshot.feedback[True] == 1
    assert snapshot.feedback[False] == 0
    # a new verdict card is a new vote
    verdict = await walk_to_verdict(harness, adapter, "write", "copilot_chat", "open")
    await press(harness, adapter, verdict, Verb.KI_FEEDBACK, useful="no")
    snapshot = await harness.usage.snapshot()
    assert (snapshot.feedback[True], snapshot.feedback[False]) == (1, 1)


async def test_a_forged_feedback_id_counts_nothing(harness: Harness) -> None:
    adapter = harness.adapter()
    verdict = await walk_to_verdict(harness, adapter, "write", "copilot_chat", "open")
    data = {**button(verdict, Verb.KI_FEEDBACK)["data"], "useful": "yes", "act": "../../" * 20}
    card = await _invoke(adapter, Verb.KI_FEEDBACK, data)
    assert title_of(card) == NB("stale.title")
    assert (await harness.usage.snapshot()).feedback[True] == 0


async def _subscribe_form(adapter: Any) -> dict[str, Any]:
    await say(adapter, "abonner")
    [form] = cards_sent(adapter)
    save = button(form, Verb.SUBSCRIBE_SAVE)
    assert len(save["data"]["act"]) >= 16, "the save button carries the card's action id"
    return form


async def test_a_replayed_subscription_is_saved_once_and_shows_the_subscription(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await _subscribe_form(adapter)
    saved = await press(harness, adapter, form, Verb.SUBSCRIBE_SAVE, day="3", time="13:00")
    assert title_of(saved) == NB("subscribe.subscribed_title")
    first = await harness.lessons.subscription("aad-user")
    assert first is not None
    for _ in range(3):
        again = await press(harness, adapter, form, Verb.SUBSCRIBE_SAVE, day="3", time="13:00")
        assert title_of(again) == NB("already.subscribed_title")
        assert "torsdag" in str(again)
    assert await harness.lessons.subscription("aad-user") == first


async def test_a_replayed_subscription_does_not_undo_a_later_unsubscribe(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    form = await _subscribe_form(adapter)
    await press(harness, adapter, form, Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    await say(adapter, "avslutt abonnement")
    cards_sent(adapter)
    assert await harness.lessons.subscription("aad-user") is None
    replay = await press(harness, adapter, form, Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    assert NB("already.subscription_ended") in texts_in(replay)
    assert await harness.lessons.subscription("aad-user") is None, "still unsubscribed"
    # a new form is a new action
    form = await _subscribe_form(adapter)
    saved = await press(harness, adapter, form, Verb.SUBSCRIBE_SAVE, day="0", time="09:00")
    assert title_of(saved) == NB("subscribe.subscribed_title")
    assert await harness.lessons.subscription("aad-user") is not None


async def test_a_replayed_send_to_a_channel_says_how_many_it_went_to(harness: Harness) -> None:
    channel = harness.adapter("19:general@thread", "channel")
    added = Activity(type=ActivityTypes.conversation_update, members_added=[BOT])
    await channel.process_activity(added, channel.logic)
    adapter = harness.adapter(user=CHAMPION)
    send = await _preview(adapter, tip="tip01", audience="channels", channels="19:general@thread")
    first = await _invoke(adapter, Verb.TIP_SEND, send)
    assert title_of(first) == NB("tips.progress_title")
    assert "0 / 1" in str(first), "a channel list is stored at once: its count is known"
    again = await _invoke(adapter, Verb.TIP_SEND, send)
    assert NB.count("already.tip_sent_body", 1) in texts_in(again)
    assert await _jobs(harness) == 1

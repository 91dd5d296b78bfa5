"""Vettreglene in chat: overview with progress, lessons answered in place, subscription cards."""

from __future__ import annotations

from typing import Any

from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import Harness, cards_sent, invoke, say, title_of

NB = load_catalog().texts("nb")


async def _press(adapter: Any, verb: str, **data: str) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": "1", **data}}}
    response = await invoke(adapter, value)
    assert response.status == 200
    card = response.body["value"]
    assert isinstance(card, dict)
    return card


def _texts(card: dict[str, Any]) -> str:
    return str(card)


async def test_vettregler_shows_progress_and_the_ten_rules(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "vettregler")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("lessons.title")
    shown = _texts(card)
    assert NB("lessons.progress", done=0, total=10) in shown
    for number in range(1, 11):
        assert NB(f"vettregel.{number}.title") in shown


async def test_answering_updates_the_card_in_place_and_progress_is_kept(harness: Harness) -> None:
    adapter = harness.adapter()
    book = harness.book("nb")
    lesson = book.lesson(3)
    wrong = next(option for option in lesson.options if not option.correct)
    right = lesson.correct_option

    card = await _press(adapter, Verb.LESSON_OPEN, lesson="3")
    assert lesson.question in _texts(card)
    retry = await _press(adapter, Verb.LESSON_ANSWER, lesson="3", answer=wrong.id)
    assert NB("lessons.wrong", feedback=wrong.feedback) in _texts(retry)
    assert retry["actions"][0]["verb"] == Verb.LESSON_OPEN
    done = await _press(adapter, Verb.LESSON_ANSWER, lesson="3", answer=right.id)
    assert NB("lessons.correct", feedback=right.feedback) in _texts(done)
    assert done["actions"][0]["data"]["lesson"] == "1", "next goes to the first unfinished lesson"

    overview = await _press(adapter, Verb.LESSONS_OVERVIEW)
    assert NB("lessons.progress", done=1, total=10) in _texts(overview)
    assert await harness.lessons.completed("aad-user") == frozenset({3})


async def test_unknown_lessons_and_answers_get_a_start_over_card(harness: Harness) -> None:
    adapter = harness.adapter()
    for data in ({"lesson": "11"}, {"lesson": "x"}, {}, {"lesson": "2", "answer": "d"}):
        verb = Verb.LESSON_ANSWER if "answer" in data else Verb.LESSON_OPEN
        card = await _press(adapter, verb, **data)
        assert title_of(card) == NB("stale.title"), data
        assert card["actions"][0]["verb"] == Verb.LESSONS_OVERVIEW


async def test_subscribe_offers_monday_nine_by_default_and_confirms_the_choice(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "abonner")
    [form] = cards_sent(adapter)
    assert title_of(form) == NB("subscribe.title")
    pickers = {c["items"][0]["id"]: c["items"][0]["value"] for c in form["body"][2]["columns"]}
    assert pickers == {"day": "0", "time": "09:00"}
    saved = await _press(adapter, Verb.SUBSCRIBE_SAVE, day="3", time="13:00")
    assert title_of(saved) == NB("subscribe.subscribed_title")
    assert "torsdag" in _texts(saved)
    assert "13:00" in _texts(saved)
    stored = await harness.lessons.subscription("aad-user")
    assert stored is not None
    assert (stored.weekday, stored.at, stored.zone) == (3, "13:00", "Europe/Oslo")


async def test_forged_subscription_times_are_refused(harness: Harness) -> None:
    adapter = harness.adapter()
    for day, time in (("6", "09:00"), ("0", "03:00"), ("zero", "09:00"), ("0", "9")):
        card = await _press(adapter, Verb.SUBSCRIBE_SAVE, day=day, time=time)
        assert title_of(card) == NB("stale.title"), (day, time)
    assert await harness.lessons.subscription("aad-user") is None


async def test_subscribing_from_a_channel_points_to_the_personal_chat(harness: Harness) -> None:
    adapter = harness.adapter("19:team@thread", "channel")
    await say(adapter, "abonner")
    [card] = cards_sent(adapter)
    assert NB("subscribe.personal_only") in _texts(card)


async def test_unsubscribe_without_a_subscription_says_so_kindly(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "avslutt")
    [card] = cards_sent(adapter)
    assert NB("subscribe.not_subscribed") in _texts(card)

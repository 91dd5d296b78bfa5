"""Which language the bot answers in, and the `språk` choice, over the real router and SQLite.

Issue 14: the person's choice first; the målform for a Norwegian client or a Norwegian command
or question; the client's locale after that. A button answers in its card's language. The first
answer to someone whose Teams is not Norwegian offers the choice in one line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes

from bot.core.records import LanguageChoice, Subscription
from bot.ports import Stores
from cards.verbs import Verb
from content import load_catalog
from tests.card_tree import actions
from tests.fakes.stores import FakeLanguageChoices
from tests.flows.conftest import (
    NOW,
    USER,
    Harness,
    cards_sent,
    invoke,
    make_harness,
    say,
    title_of,
)
from tests.flows.test_ki_check_flow import button, press, texts_in

NB = load_catalog().texts("nb")
NN = load_catalog().texts("nn")
EN = load_catalog().texts("en")
USER_KEY = str(USER.aad_object_id)


def _offer_buttons(card: dict[str, Any]) -> list[str]:
    """Titles of the language buttons in the card's body (the offer line), in order."""
    return [str(node["title"]) for node in actions(card.get("body", []), Verb.LANGUAGE_SET)]


async def _one_card(harness: Harness, text: str, locale: str = "en-US") -> dict[str, Any]:
    adapter = harness.adapter()
    await say(adapter, text, locale=locale)
    [card] = cards_sent(adapter)
    return card


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("hjelp", NB("help.title")),
        ("help", EN("help.title")),
        ("?", EN("help.title")),
        ("vettreglene", NB("lessons.title")),
        ("lessons", EN("lessons.title")),
        ("mine data", NB("mydata.title")),
    ],
)
async def test_an_english_teams_gets_the_language_of_the_words_typed(
    harness: Harness, text: str, title: str
) -> None:
    assert title_of(await _one_card(harness, text)) == title


@pytest.mark.parametrize(
    ("question", "texts"),
    [
        ("kan jeg bruke ChatGPT til å skrive et brev til en innbygger?", NB),
        ("Can I use ChatGPT to write a letter to a resident?", EN),
    ],
)
async def test_a_question_from_an_english_teams_is_answered_in_its_own_language(
    harness: Harness, question: str, texts: Any
) -> None:
    card = await _one_card(harness, question)
    # the question reader knows Norwegian words; an English question may get the fallback card
    assert title_of(card) in {texts("kisjekk.understood_title"), texts("fallback.title")}


async def test_a_norwegian_teams_gets_the_malform_even_for_english_words(tmp_path: Path) -> None:
    harness = await make_harness(tmp_path, KIVETT_DEFAULT_LANGUAGE="nn")
    try:
        for text, locale in [("help", "nb-NO"), ("hjelp", "en-US"), ("hjelp", "nb-NO")]:
            assert title_of(await _one_card(harness, text, locale)) == NN("help.title"), text
        assert title_of(await _one_card(harness, "help", "en-US")) == EN("help.title")
    finally:
        await harness.db.close()


async def test_the_first_answer_to_an_english_teams_offers_the_choice_once(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "hjelp", locale="en-US")
    await say(adapter, "hjelp", locale="en-US")
    first, second = cards_sent(adapter)
    expected = [NB("language.button_nb"), NB("language.button_nn"), NB("language.button_en")]
    assert _offer_buttons(first) == expected
    assert NB("language.offer") in texts_in(first)
    assert _offer_buttons(second) == [], "offered once, not on every answer"
    stored = await harness.stores.languages.get(USER_KEY)
    assert stored == LanguageChoice(language=None, offered=True)


async def test_a_norwegian_teams_is_not_offered_the_choice(harness: Harness) -> None:
    card = await _one_card(harness, "hjelp", locale="nb-NO")
    assert _offer_buttons(card) == []
    assert await harness.stores.languages.get(USER_KEY) is None, "nothing stored about them"


async def test_choosing_nynorsk_on_the_card_answers_in_nynorsk_from_then_on(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await say(adapter, "språk", locale="en-US")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("language.title")
    assert NB("language.current_auto", language=NB("language.name_nb")) in texts_in(card)

    action = button(card, Verb.LANGUAGE_SET, NB("language.button_nn"))
    response = await invoke(
        adapter, {"action": {"type": "Action.Execute", "verb": Verb.LANGUAGE_SET, **action}}
    )
    chosen = response.body["value"]
    assert title_of(chosen) == NN("language.chosen_title")
    assert NN("language.chosen_body", language=NN("language.name_nn")) in texts_in(chosen)

    for text in ("hjelp", "help"):  # the choice beats the words and the client's locale
        await say(adapter, text, locale="en-US")
        [answer] = cards_sent(adapter)
        assert title_of(answer) == NN("help.title"), text
    await say(adapter, "språk", locale="en-US")
    [again] = cards_sent(adapter)
    assert NN("language.current_chosen", language=NN("language.name_nn")) in texts_in(again)


async def test_the_choice_holds_in_a_new_process(tmp_path: Path) -> None:
    first = await make_harness(tmp_path)
    await say(first.adapter(), "language english", locale="nb-NO")
    await first.db.close()
    second = await make_harness(tmp_path)
    try:
        assert title_of(await _one_card(second, "hjelp", locale="nb-NO")) == EN("help.title")
    finally:
        await second.db.close()


@pytest.mark.parametrize(
    ("typed", "language"),
    [("språk nynorsk", "nn"), ("nynorsk", "nn"), ("Language: English", "en"), ("bokmål", "nb")],
)
async def test_typing_the_language_chooses_it(harness: Harness, typed: str, language: str) -> None:
    card = await _one_card(harness, typed, locale="en-US")
    texts = load_catalog().texts(language)  # type: ignore[arg-type]
    assert title_of(card) == texts("language.chosen_title")
    stored = await harness.stores.languages.get(USER_KEY)
    assert stored == LanguageChoice(language=language, offered=True)


async def test_a_button_answers_in_the_language_of_its_card(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "hjelp", locale="en-US")  # a bokmål card, for an English Teams
    [card] = cards_sent(adapter)
    about = await press(harness, adapter, card, Verb.ABOUT, locale="en-US")
    assert title_of(about) == NB("about.title")
    await say(adapter, "help", locale="en-US")
    [english] = cards_sent(adapter)
    about = await press(harness, adapter, english, Verb.ABOUT, locale="nb-NO")
    assert title_of(about) == EN("about.title")


async def test_a_button_from_before_the_language_was_carried_follows_the_choice(
    harness: Harness,
) -> None:
    await harness.stores.languages.choose(USER_KEY, "nn")
    adapter = harness.adapter()
    response = await invoke(
        adapter,
        {"action": {"type": "Action.Execute", "verb": Verb.ABOUT, "data": {"v": 1}}},
        locale="en-US",
    )
    assert title_of(response.body["value"]) == NN("about.title")


@pytest.mark.parametrize("forged", ["de", "", "nb; DROP TABLE", None])
async def test_a_forged_choice_changes_nothing(harness: Harness, forged: str | None) -> None:
    adapter = harness.adapter()
    data: dict[str, Any] = {"v": 1, "lang": "nb"}
    if forged is not None:
        data["choice"] = forged
    response = await invoke(
        adapter, {"action": {"type": "Action.Execute", "verb": Verb.LANGUAGE_SET, "data": data}}
    )
    assert title_of(response.body["value"]) == NB("stale.title")
    assert await harness.stores.languages.get(USER_KEY) is None


async def test_a_forged_card_language_is_ignored(harness: Harness) -> None:
    adapter = harness.adapter()
    response = await invoke(
        adapter,
        {"action": {"type": "Action.Execute", "verb": Verb.ABOUT, "data": {"v": 1, "lang": "xx"}}},
        locale="en-US",
    )
    assert title_of(response.body["value"]) == EN("about.title")


async def test_the_weekly_subscription_follows_the_choice(harness: Harness) -> None:
    subscription = Subscription(
        user_key=USER_KEY,
        conversation_id="a:personal-1",
        weekday=0,
        at="09:00",
        zone="Europe/Oslo",
        language="nb",
        next_due=NOW + timedelta(days=5),
    )
    await harness.lessons.subscribe(subscription)
    await _one_card(harness, "språk nynorsk")
    moved = await harness.lessons.subscription(USER_KEY)
    assert moved == replace(subscription, language="nn"), "same week and time, new language"
    assert await harness.lessons.subscribers() == [("a:personal-1", "nn")], "tips follow too"


async def test_a_store_outage_when_choosing_says_so_and_stores_nothing(tmp_path: Path) -> None:
    failing = FakeLanguageChoices()

    def swap(stores: Stores) -> Stores:
        return replace(stores, languages=failing)

    harness = await make_harness(tmp_path, swap)
    try:
        failing.down = True
        card = await _one_card(harness, "språk nynorsk", locale="nb-NO")
        assert NB("language.storage_down") in texts_in(card)
        failing.down = False
        assert await failing.get(USER_KEY) is None
        # with the store down, answers still come, in the language the words and Teams give
        failing.down = True
        assert title_of(await _one_card(harness, "help", locale="en-US")) == EN("help.title")
    finally:
        await harness.db.close()


async def test_erasing_my_data_forgets_the_choice_at_once(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "språk nynorsk", locale="en-US")
    cards_sent(adapter)
    await say(adapter, "mine data", locale="en-US")
    [overview] = cards_sent(adapter)
    assert NN("language.name_nn") in texts_in(overview), "mine data shows the choice"
    response = await invoke(
        adapter,
        {"action": {"type": "Action.Execute", "verb": Verb.MY_DATA_ERASE, "data": {"v": 1}}},
    )
    assert response.status == 200
    assert await harness.stores.languages.get(USER_KEY) is None
    await say(adapter, "help", locale="en-US")
    [answer] = cards_sent(adapter)
    assert title_of(answer) == EN("help.title"), "not nynorsk from a memory of the erased choice"


async def test_the_welcome_in_an_english_teams_offers_the_choice(harness: Harness) -> None:
    adapter = harness.adapter()
    activity = Activity(type=ActivityTypes.installation_update, action="add", locale="en-US")
    await adapter.process_activity(activity, adapter.logic)
    [welcome] = cards_sent(adapter)
    assert title_of(welcome) == EN("welcome.title")
    assert _offer_buttons(welcome) == ["Bokmål", "Nynorsk", "English"]

"""The answer language end to end through the Agents Playground (issue 14), as a person types and
clicks. The Playground's client always says en-US, like a Norwegian employee who runs Teams in
English.

One bot and one Playground for the module, and one person: the tests follow that person in file
order (no choice yet, then a choice of nynorsk), so each test also holds when run on its own or
with any of the others. The bot is stopped and started again on the same port (the Playground is
bound to the bot's endpoint): once on the same data directory, to show the choice is stored, and
once on a fresh one with nynorsk as the municipality's målform.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cards.verbs import Verb
from content import Texts, load_catalog
from tests.e2e.playground import (
    BotProcess,
    Message,
    PlaygroundClient,
    PlaygroundProcess,
    all_actions,
    card_texts,
    connect,
    language_offer,
    run_bot,
    run_playground,
)

pytestmark = pytest.mark.e2e

CATALOG = load_catalog()
NB = CATALOG.texts("nb")
NN = CATALOG.texts("nn")
EN = CATALOG.texts("en")
CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class LanguageStack:
    """A Playground and a bot that can be stopped and started again behind it."""

    workdir: Path
    data_dir: Path
    playground: PlaygroundProcess | None = None
    bot: BotProcess | None = None
    _bot_context: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def start_bot(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> BotProcess:
        """Stop the running bot, if any, and start one on `data_dir`, on the same port."""
        port = self.bot.port if self.bot is not None else None
        self.stop_bot()
        self.data_dir = data_dir
        self.bot = self._bot_context.enter_context(
            run_bot(data_dir, self.workdir / "bot.log", extra_env, port=port)
        )
        return self.bot

    def stop_bot(self) -> None:
        self._bot_context.close()
        self._bot_context = contextlib.ExitStack()

    @property
    def base(self) -> str:
        assert self.playground is not None
        return self.playground.base


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanguageStack]:
    workdir = tmp_path_factory.mktemp("e2e-language")
    data_dir = workdir / "data"
    data_dir.mkdir()
    languages = LanguageStack(workdir=workdir, data_dir=data_dir)
    try:
        bot = languages.start_bot(data_dir)
        with run_playground(bot.endpoint, workdir) as playground:
            languages.playground = playground
            try:
                yield languages
            finally:
                languages.stop_bot()  # first: a reply still on its way reaches the Playground
    finally:
        languages.stop_bot()


@pytest.fixture
def bokmal_bot(stack: LanguageStack) -> LanguageStack:
    """The module's bot on its first data directory, with the default målform (bokmål)."""
    first = stack.workdir / "data"
    if stack.data_dir != first:
        stack.start_bot(first)
    return stack


def _assert_help(card: dict[str, Any], t: Texts) -> None:
    """The help card in `t`'s language: the title is the same in bokmål and nynorsk, the line
    under it is not."""
    assert card_texts(card)[:2] == [t("help.title"), t("help.intro")], card_texts(card)[:2]


def _assert_about(card: dict[str, Any], t: Texts) -> None:
    assert card_texts(card)[:2] == [t("about.title"), t("about.body")], card_texts(card)[:2]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        str(fact["title"]): str(fact["value"])
        for element in card.get("body", [])
        if element.get("type") == "FactSet"
        for fact in element["facts"]
    }


def _button(card: dict[str, Any], verb: str, **data: str) -> dict[str, Any]:
    [button] = [
        action
        for action in all_actions(card)
        if action.get("verb") == verb
        and all((action.get("data") or {}).get(k) == v for k, v in data.items())
    ]
    return button


async def _press(pg: PlaygroundClient, message: Message, button: dict[str, Any]) -> dict[str, Any]:
    status, body = await pg.press(message, button)
    assert status == 200, body
    assert body["type"] == CARD
    value = body["value"]
    assert isinstance(value, dict)
    return value


async def _say(pg: PlaygroundClient, text: str) -> Message:
    await pg.say(text)
    return await pg.next_message()


async def test_hjelp_is_answered_in_bokmal_help_in_english_and_the_first_answer_offers_the_choice(
    bokmal_bot: LanguageStack,
) -> None:
    async with connect(bokmal_bot.base) as pg:
        first = await _say(pg, "hjelp")
        _assert_help(first.card, NB)
        offer = language_offer(first.card)
        assert offer is not None, "the first answer to a client in English offers the choice"
        assert offer.text == [NB("language.offer")]
        assert [b["title"] for b in offer.buttons] == [
            NB("language.button_nb"),
            NB("language.button_nn"),
            NB("language.button_en"),
        ]
        assert offer.choices == ["nb", "nn", "en"]

        english = await _say(pg, "help")
        _assert_help(english.card, EN)
        assert language_offer(english.card) is None, "offered once"

        again = await _say(pg, "hjelp")
        _assert_help(again.card, NB)
        assert language_offer(again.card) is None


async def test_a_button_on_a_bokmal_card_answers_in_bokmal_for_a_client_in_english(
    bokmal_bot: LanguageStack,
) -> None:
    async with connect(bokmal_bot.base) as pg:
        help_message = await _say(pg, "hjelp")
        _assert_help(help_message.card, NB)

        about = await _press(pg, help_message, _button(help_message.card, Verb.ABOUT))
        _assert_about(about, NB)
        language_card = await _press(pg, help_message, _button(help_message.card, Verb.LANGUAGE))
        assert card_texts(language_card)[:2] == [
            NB("language.title"),
            NB("language.current_auto", language=NB("language.name_nb")),
        ]


async def test_nynorsk_chosen_on_the_sprak_card_beats_the_words_and_outlives_a_restart(
    bokmal_bot: LanguageStack,
) -> None:
    stack = bokmal_bot
    async with connect(stack.base) as pg:
        earlier = await _say(pg, "hjelp")  # a bokmål card that stays in the chat
        _assert_help(earlier.card, NB)

        shown = await _say(pg, "språk")
        assert card_texts(shown.card)[0] == NB("language.title")
        assert NB("language.ask") in card_texts(shown.card)
        choices = [
            (b["title"], b["data"]["choice"])
            for b in all_actions(shown.card)
            if b["verb"] == Verb.LANGUAGE_SET
        ]
        assert choices == [
            (NB("language.button_nb"), "nb"),
            (NB("language.button_nn"), "nn"),
            (NB("language.button_en"), "en"),
        ]

        chosen = await _press(pg, shown, _button(shown.card, Verb.LANGUAGE_SET, choice="nn"))
        assert card_texts(chosen)[:2] == [
            NN("language.chosen_title"),
            NN("language.chosen_body", language=NN("language.name_nn")),
        ]

        _assert_help((await _say(pg, "hjelp")).card, NN)
        _assert_help((await _say(pg, "help")).card, NN)  # the choice beats the English word

        # a button on the earlier bokmål card still answers in bokmål, the language of its card
        _assert_about(await _press(pg, earlier, _button(earlier.card, Verb.ABOUT)), NB)

    stack.start_bot(stack.data_dir)  # the same data directory, a new process

    async with connect(stack.base) as pg:
        _assert_help((await _say(pg, "hjelp")).card, NN)
        mine = (await _say(pg, "mine data")).card
        assert card_texts(mine)[0] == NN("mydata.title")
        assert _facts(mine)[NN("mydata.fact_language")] == NN("language.name_nn")


async def test_with_nynorsk_as_malform_a_fresh_bot_answers_hjelp_in_nynorsk(
    stack: LanguageStack,
) -> None:
    fresh = stack.workdir / "data-nynorsk"
    fresh.mkdir()
    stack.start_bot(fresh, {"KIVETT_DEFAULT_LANGUAGE": "nn"})  # `bokmal_bot` undoes this
    async with connect(stack.base) as pg:
        answer = await _say(pg, "hjelp")
        _assert_help(answer.card, NN)
        assert language_offer(answer.card) is not None, "nothing stored: a first answer"
        _assert_help((await _say(pg, "help")).card, EN)  # English words, English client

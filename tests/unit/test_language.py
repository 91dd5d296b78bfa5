"""The language order (bot.core.language), the words that tell Norwegian from English, and the
in-process memory of choices (bot.adapters.language_cache)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.language_cache import CachedLanguageChoices
from bot.core.commands import _WORDS, CommandName, parse_command
from bot.core.language import as_language, choose_language, written_language
from bot.core.records import LanguageChoice
from bot.operator.packaging import COMMANDS
from tests.fakes.stores import FakeLanguageChoices


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # a button answers in its card's language, whatever else is true
        ({"card": "nn", "chosen": "en", "locale": "en-US", "written": "en"}, "nn"),
        # then the person's own choice
        ({"chosen": "en", "locale": "nb-NO", "written": "no"}, "en"),
        ({"chosen": "nn", "locale": "en-US", "written": "en"}, "nn"),
        # then the målform for a Norwegian client or Norwegian words
        ({"locale": "nb-NO", "written": "en"}, "malform"),
        ({"locale": "no", "written": None}, "malform"),
        ({"locale": "en-US", "written": "no"}, "malform"),
        ({"locale": None, "written": "no"}, "malform"),
        # a client set to nynorsk asks for it outright
        ({"locale": "nn-NO", "written": "en"}, "nn"),
        # then the client's locale, or English words
        ({"locale": "en-US", "written": None}, "en"),
        ({"locale": "en-GB", "written": "en"}, "en"),
        ({"locale": "de-DE", "written": "en"}, "en"),
        # else the målform
        ({"locale": "de-DE", "written": None}, "malform"),
        ({"locale": None, "written": None}, "malform"),
        ({"locale": "", "written": None}, "malform"),
    ],
)
@pytest.mark.parametrize("malform", ["nb", "nn"])
def test_the_answer_language_follows_the_documented_order(
    facts: dict[str, str | None], expected: str, malform: str
) -> None:
    got = choose_language(malform=malform, **facts)  # type: ignore[arg-type]
    assert got == (malform if expected == "malform" else expected)


@pytest.mark.parametrize(
    "text",
    [
        "kan jeg bruke ChatGPT til å oversette et brev?",
        "Kan eg bruke Copilot til referat frå møtet?",
        "hvordan skriver jeg et godt notat med KI",
        "er det lov å laste opp en søknad",
        "korleis sjekkar eg ein tekst",
        "Hei!",
        "ikkje send dette",
    ],
)
def test_norwegian_questions_read_as_norwegian(text: str) -> None:
    assert written_language(text) == "no"


@pytest.mark.parametrize(
    "text",
    [
        "Can I use ChatGPT to translate a letter?",
        "how do I write meeting minutes with AI",
        "is it allowed to upload an application",
        "What is this?",
        "thanks",
    ],
)
def test_english_questions_read_as_english(text: str) -> None:
    assert written_language(text) == "en"


@pytest.mark.parametrize("text", ["", "   ", "Ola Nordmann", "12345", "ChatGPT Copilot", "!!!"])
def test_names_numbers_and_product_names_say_nothing(text: str) -> None:
    assert written_language(text) is None


@given(st.text(max_size=200))
def test_reading_the_language_never_raises(text: str) -> None:
    assert written_language(text) in {"no", "en", None}


def test_start_belongs_to_both_languages() -> None:
    assert parse_command("start").written is None


def test_every_command_word_knows_its_language() -> None:
    for words, key in COMMANDS:
        for language, word in words.items():
            expected = "en" if language == "en" else "no"
            assert parse_command(word).written == expected, (key, word)
    norwegian = [word for word in _WORDS if parse_command(word).written == "no"]
    english = [word for word in _WORDS if parse_command(word).written == "en"]
    assert {"hjelp", "vettreglar", "samandrag"} <= set(norwegian)
    assert {"help", "summary", "language"} <= set(english)
    assert len(norwegian) + len(english) == len(_WORDS) - 1, "only 'start' is both"


@pytest.mark.parametrize(
    ("text", "argument"),
    [
        ("språk", ""),
        ("Språk", ""),
        ("language", ""),
        ("språk nynorsk", "nn"),
        ("språk: bokmål", "nb"),
        ("Language English", "en"),
        ("nynorsk", "nn"),
        ("English", "en"),
        ("språk klingon", None),
    ],
)
def test_the_language_command_and_its_choice(text: str, argument: str | None) -> None:
    command = parse_command(text)
    if argument is None:
        assert command.name is CommandName.UNKNOWN
    else:
        assert command.name is CommandName.LANGUAGE
        assert command.argument == argument


@pytest.mark.parametrize(
    ("value", "expected"), [("nb", "nb"), (" NN ", "nn"), ("en", "en"), ("de", None), (3, None)]
)
def test_only_languages_we_speak_are_accepted(value: object, expected: str | None) -> None:
    assert as_language(value) == expected


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Counting(FakeLanguageChoices):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, user_key: str) -> LanguageChoice | None:
        self.reads += 1
        return await super().get(user_key)


async def test_a_remembered_choice_saves_store_reads_for_a_while() -> None:
    inner, clock = _Counting(), _Clock()
    cache = CachedLanguageChoices(inner, clock, ttl=60)
    assert await cache.get("kari") is None
    assert await cache.get("kari") is None
    assert inner.reads == 1, "'nothing stored' is remembered too"
    await inner.choose("kari", "nn")  # another instance chooses
    clock.now = 61
    assert await cache.get("kari") == LanguageChoice("nn", offered=True)
    assert inner.reads == 2


async def test_writes_through_the_memory_are_seen_at_once() -> None:
    inner, clock = _Counting(), _Clock()
    cache = CachedLanguageChoices(inner, clock)
    assert await cache.get("kari") is None
    await cache.mark_offered("kari")
    assert await cache.get("kari") == LanguageChoice(None, offered=True)
    await cache.choose("kari", "en")
    assert await cache.get("kari") == LanguageChoice("en", offered=True)
    assert inner.reads == 1
    assert inner.items["kari"] == LanguageChoice("en", offered=True)
    cache.forget("kari")
    inner.items.clear()  # erased in the store
    assert await cache.get("kari") is None


async def test_the_memory_holds_a_bounded_number_of_people() -> None:
    inner, clock = _Counting(), _Clock()
    cache = CachedLanguageChoices(inner, clock, size=2)
    for person in ("a", "b", "c"):
        await cache.get(person)
    await cache.get("c")
    await cache.get("a")  # forgotten as the least recently used: read again
    assert inner.reads == 4

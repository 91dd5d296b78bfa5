from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import CommandName, parse_command
from bot.core.language import language_for_locale


@pytest.mark.parametrize(
    "text", ["hjelp", "Hjelp", "  HJELP  ", "hjelp!", "hjelp?", "help", "?", "meny", "Help."]
)
def test_help_words_in_any_case_and_punctuation_open_help(text: str) -> None:
    assert parse_command(text).name is CommandName.HELP


@pytest.mark.parametrize("text", ["om", "Om KI-vett", "about"])
def test_about_words_open_about(text: str) -> None:
    assert parse_command(text).name is CommandName.ABOUT


@pytest.mark.parametrize("text", ["", None, "hjelp meg med å skrive et brev", "hjelpe", "blabla"])
def test_anything_else_is_unknown_not_an_error(text: str | None) -> None:
    assert parse_command(text).name is CommandName.UNKNOWN


@given(st.text(max_size=300))
def test_parser_never_raises_and_always_returns_a_command(text: str) -> None:
    assert parse_command(text).name in set(CommandName)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nb-NO", "nb"),
        ("nn-NO", "nn"),
        ("no", "nb"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("sv-SE", "nb"),
        (None, "nb"),
        ("", "nb"),
        ("NN-no", "nn"),
    ],
)
def test_language_follows_the_teams_locale(locale: str | None, expected: str) -> None:
    assert language_for_locale(locale) == expected


def test_unknown_locale_falls_back_to_the_configured_default() -> None:
    assert language_for_locale("de-DE", default="nn") == "nn"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("utprøving", "no"),
        ("Ny utprøving", "no"),
        ("ny utproving!", "no"),
        ("trial", "en"),
        ("New trial", "en"),
    ],
)
def test_trial_words_open_the_form_to_register_a_trial(text: str, written: str) -> None:
    command = parse_command(text)
    assert command.name is CommandName.TRIAL_NEW
    assert command.written == written


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("utprøvinger", "no"),
        ("Utprøvingar", "no"),
        ("mine utprøvinger", "no"),
        ("trials", "en"),
        ("my trials", "en"),
    ],
)
def test_trials_words_list_the_persons_trials_in_bokmal_nynorsk_and_english(
    text: str, written: str
) -> None:
    command = parse_command(text)
    assert command.name is CommandName.TRIALS
    assert command.written == written


def test_a_sentence_about_a_trial_is_no_trial_command() -> None:
    assert parse_command("hvordan går utprøvingen?").name is CommandName.UNKNOWN

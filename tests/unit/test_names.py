"""The name detector: person names in Norwegian case notes, and capitalised words that are not."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.privacy.names import (
    NameLexicon,
    NameLexiconError,
    NameSpan,
    find_names,
    parse_name_lexicon,
)

NAMES_YAML = Path(__file__).resolve().parents[2] / "content" / "names.yaml"


@cache
def _raw() -> dict[str, object]:
    raw = yaml.safe_load(NAMES_YAML.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


@cache
def lexicon() -> NameLexicon:
    return parse_name_lexicon(_raw())


def names_in(text: str) -> list[str]:
    return [span.text for span in find_names(text, lexicon())]


# -- the three examples from the issue, with exact spans --


def test_kari_nordmann_after_an_ordinary_sentence_start() -> None:
    text = "Saken gjelder Kari Nordmann"
    assert find_names(text, lexicon()) == [NameSpan(14, 27, "Kari Nordmann", "list")]


def test_two_names_one_after_a_role_word() -> None:
    text = "Møte med Ola Hansen og saksbehandler Fatima Ali"
    spans = find_names(text, lexicon())
    assert [(s.start, s.end, s.text) for s in spans] == [
        (9, 19, "Ola Hansen"),
        (37, 47, "Fatima Ali"),
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert [s.reason for s in spans] == ["context", "context"]


def test_pupil_at_sentence_start_and_class_is_not_a_name() -> None:
    text = "Eleven Jonas Berg i 7B"
    assert find_names(text, lexicon()) == [NameSpan(7, 17, "Jonas Berg", "context")]


# -- forms of names --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brukeren Anne-Lise Johansen ønsker besøk.", ["Anne-Lise Johansen"]),
        ("Pasienten Ingrid Solberg Haugen fikk medisin.", ["Ingrid Solberg Haugen"]),
        ("Klage fra Svein Arne Lie er mottatt.", ["Svein Arne Lie"]),
        ("Henvendelse fra Pieter van der Berg om graving.", ["Pieter van der Berg"]),
        ("Erika von Essen er innlagt.", ["Erika von Essen"]),
        ("Ahmad al-Hassan har fått bolig.", ["Ahmad al-Hassan"]),
        ("Jamal bin Khalid har søkt stønad.", ["Jamal bin Khalid"]),
        ("Liam McCarthy har byttet klasse.", ["Liam McCarthy"]),
        ("Siobhan O'Brien tar kontakt.", ["Siobhan O'Brien"]),
        ("Helsefagarbeider Maricel dela Cruz dokumenterte.", ["Maricel dela Cruz"]),
    ],
)
def test_hyphenated_multi_part_and_particle_names(text: str, expected: list[str]) -> None:
    assert names_in(text) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Máret Ánne Sara",  # Sámi
        "Abdirahman Mohamed Ali",  # Somali
        "Rami Alkhatib",  # Syrian
        "Katarzyna Nowak",  # Polish
        "Aistė Balčiūnaitė",  # Lithuanian
        "Semhar Tesfay",  # Eritrean
        "Oleksandr Shevchenko",  # Ukrainian
        "Maria Santos",  # Filipino
        "Nguyen Van An",  # Vietnamese, family name first
        "Somchai Saetang",  # Thai
    ],
)
def test_names_of_many_origins_are_found_mid_sentence(name: str) -> None:
    assert names_in(f"Vi har hatt samtale i dag, og {name} møtte opp.") == [name]


def test_unlisted_name_is_found_after_a_context_word_only() -> None:
    assert names_in("Saksbehandler Zyxo Quarnth har saken.") == ["Zyxo Quarnth"]
    assert names_in("Vi venter svar, og Zyxo Quarnth har saken.") == []


def test_a_list_of_first_names_and_a_list_after_a_context_word() -> None:
    assert names_in("Ola, Kari og Per var til stede.") == ["Ola", "Kari", "Per"]
    assert names_in("Samtale med Zyxo Quarnth og Brilo Vendt.") == ["Zyxo Quarnth", "Brilo Vendt"]


def test_titles_and_greetings_are_context_not_part_of_the_name() -> None:
    assert find_names("Undersøkt av dr. Hansen i dag.", lexicon()) == [
        NameSpan(17, 23, "Hansen", "context")
    ]
    assert names_in("Fru Berit ringte.") == ["Berit"]
    assert names_in("Med vennlig hilsen\nAstrid Moen\nSaksbehandler") == ["Astrid Moen"]
    assert names_in("Hei Helene! Vedlagt er vedtaket.") == ["Helene"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brukaren Kari Nordmann ønskjer besøk.", "Kari Nordmann"),
        ("Bebuaren Zyxo Quarnth har fått rullestol.", "Zyxo Quarnth"),
        ("Sakshandsamar Zyxo Quarnth har saka.", "Zyxo Quarnth"),
        ("Mora Zyxo Quarnth ønskjer ikkje det.", "Zyxo Quarnth"),
        ("Faren Zyxo Quarnth kjem på møtet.", "Zyxo Quarnth"),
        ("Pasienten Zyxo Quarnth vart sendt heim.", "Zyxo Quarnth"),
        ("Brukeren Zyxo Quarnth ønsker besøk.", "Zyxo Quarnth"),
        ("Kontaktlærer Zyxo Quarnth melder fravær.", "Zyxo Quarnth"),
        ("Hun ble henvist av fastlege Zyxo Quarnth.", "Zyxo Quarnth"),
    ],
)
def test_context_words_in_bokmal_and_nynorsk(text: str, expected: str) -> None:
    assert names_in(text) == [expected]


# -- what is not a name --


@pytest.mark.parametrize(
    "text",
    [
        "Oslo, Bergen og Trondheim har gratis skolemat.",
        "Biblioteket i Drammen har utvidet åpningstid.",
        "Kontoret flytter til nye lokaler på Stovner.",
        "Statens vegvesen stenger veien ved Asker.",
        "Nye Veier har lagt fram ny trasé.",
        "NAV Bærum holder stengt.",
        "Helse Bergen og Bergen kommune samarbeider.",
        "Udir har publisert nye retningslinjer.",
        "Datatilsynet og Helsedirektoratet har laget en veileder.",
        "Asker kommune og Vestland fylkeskommune inviterer.",
        "Elevene ved Bekkestua skole og Furuly barnehage vant.",
        "Haukeland universitetssjukehus utvider.",
        "Vi har avtale med Hansen Bygg AS.",
        "Vi bruker Copilot, ChatGPT og Google Gemini.",
        "Microsoft Teams, Word, Excel og Outlook oppgraderes.",
        "Veiarbeid i Storgata 12 og langs Drammensveien.",
        "Strømbrudd i Kong Haakons gate fra Kirkeveien 4.",
        "Arbeidet i Lindeveien 3 er ferdig.",
        "Saken gjelder søknad om dispensasjon.",
        "Mandag og Fredag er det åpent; Juni og Desember er stengt.",
        "Møtet ble holdt på Teams. Referat sendes fredag.",
        "Trondheim kommune og NTNU lanserer en lab.",
    ],
)
def test_places_institutions_products_streets_and_dates_are_not_names(text: str) -> None:
    assert names_in(text) == []


def test_a_name_next_to_an_institution_is_still_found() -> None:
    assert names_in("Kari Nordmann fra Asker kommune ringte NAV.") == ["Kari Nordmann"]


# -- the parser --


def _with(**changes: object) -> dict[str, object]:
    return {**_raw(), **changes}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["Kari"], "names: the file must hold sections"),
        (_with(nicknames=["Kaja"]), "names: unknown section 'nicknames'"),
        (_with(first_names=None), "names: section 'first_names' is missing or empty"),
        (_with(surnames="Hansen"), "names surnames: must be a list of words, not str"),
        (_with(first_names=["Kari", 7]), "names first_names[1]: must be a word"),
        (_with(first_names=["Kari", " "]), "names first_names[1]: is empty"),
        (_with(first_names=["Kari", "kari"]), "names first_names: 'kari' is listed twice"),
        (_with(places=["Nye Veier"]), "names places[0]: 'Nye Veier' must be one word"),
        (
            _with(first_names=["Kari", "Per"], ambiguous_first_names=["Per"]),
            "names ambiguous_first_names: already in first_names",
        ),
    ],
)
def test_parser_explains_mistakes(raw: object, message: str) -> None:
    with pytest.raises(NameLexiconError) as error:
        parse_name_lexicon(raw)
    assert str(error.value).startswith(message)


def test_content_file_parses_and_lookups_ignore_case() -> None:
    lex = lexicon()
    assert "kari" in lex.first_names
    assert "nordmann" in lex.surnames
    assert "saksbehandler" in lex.context_words
    assert "nye veier" in lex.stop_phrases


# -- property: a listed first name after a context word is always found --

_LEX = lexicon()
_NOT_NAMES = _LEX.stop_words | _LEX.places | _LEX.context_words | _LEX.particles
_FIRST_NAMES = sorted(n for n in _LEX.first_names if n not in _NOT_NAMES)
_CONTEXT = sorted(_LEX.context_words)


@given(
    context=st.sampled_from(_CONTEXT),
    name=st.sampled_from(_FIRST_NAMES),
    capital_context=st.booleans(),
)
def test_a_listed_first_name_after_a_context_word_is_always_found(
    context: str, name: str, capital_context: bool
) -> None:
    shown = name[0].upper() + name[1:]
    lead = context.capitalize() if capital_context else f"Notat: {context}"
    text = f"{lead} {shown} har fått svar."
    spans = find_names(text, _LEX)
    assert [s.text for s in spans] == [shown]
    assert text[spans[0].start : spans[0].end] == shown

"""Tests for the local personal-data scanner in `bot.core.privacy`.

Every identifier used here is computed in this file from the published check-digit rules;
none of them belongs to a real person.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.content_loader import load_content
from bot.core.privacy import (
    MAX_TEXT_LENGTH,
    PLACEHOLDERS,
    Finding,
    FindingKind,
    ScanResult,
    TextTooLongError,
    is_valid_account_number,
    is_valid_fodselsnummer,
    scan,
)

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
ID_KINDS = {FindingKind.FODSELSNUMMER, FindingKind.D_NUMMER}


# --------------------------------------------------------------------------- helpers


def control_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """Classic mod-11 control digit, or None when it would be 10."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def complete_id(nine: str) -> str | None:
    """Append both control digits to DDMMYY + individnummer, if they exist."""
    k1 = control_digit(nine, K1_WEIGHTS)
    if k1 is None:
        return None
    k2 = control_digit(nine + str(k1), K2_WEIGHTS)
    return None if k2 is None else f"{nine}{k1}{k2}"


def id_for(ddmmyy: str, individ: int = 0) -> str:
    """The first number with valid control digits at or after the given individnummer."""
    for candidate in range(individ, individ + 1000):
        full = complete_id(f"{ddmmyy}{candidate % 1000:03d}")
        if full is not None:
            return full
    raise AssertionError("no control digits found")  # pragma: no cover


def account_for(first_ten: str) -> str | None:
    k = control_digit(first_ten, K2_WEIGHTS)
    return None if k is None else f"{first_ten}{k}"


def valid_account(bank: str) -> str:
    for rest in range(100_000, 200_000):
        account = account_for(f"{bank}{rest:06d}")
        if account is not None and not is_valid_fodselsnummer(account):
            return account
    raise AssertionError("no account found")  # pragma: no cover


def norwegian_iban(account: str) -> str:
    numeric = int(f"{account}232400")  # "NO" is 23 24, then two zero check digits
    return f"NO{98 - numeric % 97:02d}{account}"


def grouped(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def found(text: str) -> list[tuple[FindingKind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in scan(text).findings]


def change_digit(number: str, position: int, new_digit: str) -> str:
    return number[:position] + new_digit + number[position + 1 :]


FNR = id_for("150385", 123)  # 15 March 1985
D_NUMMER = id_for("550385", 123)  # day + 40
ACCOUNT = valid_account("1234")
ACCOUNT_DOTTED = f"{ACCOUNT[:4]}.{ACCOUNT[4:6]}.{ACCOUNT[6:]}"
IBAN = norwegian_iban(ACCOUNT)


# --------------------------------------------------------------------------- strategies

PREFIXES_BOKMAL = (
    "Brukeren har fødselsnummer ",
    "Pasienten (fnr. ",
    "Søknaden gjelder eleven med personnummer ",
    "Vedtak om helse- og omsorgstjenester til ",
    "Saken er registrert på: ",
)
PREFIXES_NYNORSK = (
    "Brukaren har fødselsnummer ",
    "Søknaden gjeld eleven med personnummer ",
    "Vedtaket om heimeteneste gjeld ",
    "Saka er registrert på ",
)
SUFFIXES = (
    "",
    ".",
    ", og saken behandles innen tre uker.",
    ") er innlagt på sjukeheimen.",
    " og bur i kommunen.",
    " – ring pårørende før besøket.",
)
filler = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå ,.", max_size=40)


@st.composite
def national_ids(draw: st.DrawFn, d_number: bool = False) -> str:
    """A valid fødselsnummer (or D-nummer) for a birth date between 1900 and 2039."""
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2039, 12, 31)))
    if born.year < 1940:
        individ = draw(st.integers(0, 499))
    elif born.year < 2000:
        individ = draw(st.one_of(st.integers(0, 499), st.integers(900, 999)))
    else:
        individ = draw(st.integers(500, 999))
    day = born.day + (40 if d_number else 0)
    full = complete_id(f"{day:02d}{born.month:02d}{born.year % 100:02d}{individ:03d}")
    assume(full is not None)
    assert full is not None
    return full


@st.composite
def in_running_text(draw: st.DrawFn, value: str) -> tuple[str, int]:
    """`value` inside Norwegian text; returns the text and where the value starts."""
    before = draw(filler) + " " + draw(st.sampled_from(PREFIXES_BOKMAL + PREFIXES_NYNORSK))
    after = draw(st.sampled_from(SUFFIXES)) + " " + draw(filler)
    return before + value + after, len(before)


def spaced_or_not(number: str, spaced: bool) -> str:
    return f"{number[:6]} {number[6:]}" if spaced else number


# --------------------------------------------------------------------------- national ids


@settings(max_examples=150)
@given(data=st.data(), number=national_ids(), spaced=st.booleans())
def test_valid_fodselsnummer_in_running_text_is_always_found(
    data: st.DataObject, number: str, spaced: bool
) -> None:
    value = spaced_or_not(number, spaced)
    text, start = data.draw(in_running_text(value))
    result = scan(text)
    assert (FindingKind.FODSELSNUMMER, value) in found(text)
    finding = next(f for f in result.findings if f.kind is FindingKind.FODSELSNUMMER)
    assert (finding.start, finding.end) == (start, start + len(value))
    assert "[FØDSELSNUMMER]" in result.redacted
    assert number[6:] not in result.redacted


@settings(max_examples=150)
@given(data=st.data(), number=national_ids(d_number=True), spaced=st.booleans())
def test_valid_d_nummer_in_running_text_is_always_found(
    data: st.DataObject, number: str, spaced: bool
) -> None:
    value = spaced_or_not(number, spaced)
    text, _ = data.draw(in_running_text(value))
    assert (FindingKind.D_NUMMER, value) in found(text)
    assert "[D-NUMMER]" in scan(text).redacted


@settings(max_examples=200)
@given(
    data=st.data(),
    number=st.one_of(national_ids(), national_ids(d_number=True)),
    position=st.integers(0, 10),
    spaced=st.booleans(),
)
def test_changing_one_digit_of_a_valid_id_is_never_reported_as_an_id(
    data: st.DataObject, number: str, position: int, spaced: bool
) -> None:
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = change_digit(number, position, new_digit)
    assert not is_valid_fodselsnummer(changed)
    text, _ = data.draw(in_running_text(spaced_or_not(changed, spaced)))
    assert not [kind for kind, _ in found(text) if kind in ID_KINDS]


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "310285",  # 31 February
        "300285",  # 30 February
        "290201",  # 29 February in a year that is not a leap year
        "011385",  # month 13
        "010085",  # month 0
        "000185",  # day 0
        "320185",  # day 32
        "310485",  # 31 April
        "710285",  # D-nummer for 31 February
        "015385",  # H-nummer for month 13
        "019385",  # Tenor number for month 13
        "415185",  # D-nummer day combined with H-nummer month
    ],
)
def test_valid_control_digits_with_an_impossible_date_are_not_an_id(ddmmyy: str) -> None:
    number = id_for(ddmmyy)
    assert control_digit(number[:9], K1_WEIGHTS) == int(number[9])
    assert control_digit(number[:10], K2_WEIGHTS) == int(number[10])
    assert not is_valid_fodselsnummer(number)
    assert not [
        kind for kind, _ in found(f"Brukeren har fødselsnummer {number}.") if kind in ID_KINDS
    ]


def test_29_february_in_a_leap_year_is_a_valid_date() -> None:
    for ddmmyy in ("290200", "290284", "290224"):
        assert is_valid_fodselsnummer(id_for(ddmmyy))


def test_h_nummer_with_month_plus_40_is_reported_as_fodselsnummer() -> None:
    number = id_for("154385")
    assert is_valid_fodselsnummer(number)
    assert found(f"Pasienten har H-nummer {number} på legevakta.") == [
        (FindingKind.FODSELSNUMMER, number)
    ]


def test_tenor_test_numbers_with_month_plus_80_are_reported_by_choice() -> None:
    tenor = id_for("158385")
    tenor_d = id_for("558385")
    text = f"Testbrukar {tenor} og testbrukar {tenor_d} frå Tenor."
    assert found(text) == [(FindingKind.FODSELSNUMMER, tenor), (FindingKind.D_NUMMER, tenor_d)]


def _id_with_k1_remainder(nine: str, remainder: int) -> str | None:
    """A number whose weighted k1 sum (including k1) leaves `remainder` modulo 11."""
    classic = (11 - sum(int(d) * w for d, w in zip(nine, K1_WEIGHTS, strict=True)) % 11) % 11
    k1 = (classic + remainder) % 11
    if k1 == 10:
        return None
    k2 = control_digit(nine + str(k1), K2_WEIGHTS)
    return None if k2 is None else f"{nine}{k1}{k2}"


def _ids_with_k1_remainder(remainder: int) -> list[str]:
    numbers = (_id_with_k1_remainder(f"150385{i:03d}", remainder) for i in range(200))
    return [n for n in numbers if n is not None][:5]


@pytest.mark.parametrize("remainder", [1, 2, 3])
def test_k1_remainders_up_to_three_are_accepted_under_the_2032_rule(remainder: int) -> None:
    numbers = _ids_with_k1_remainder(remainder)
    assert numbers
    for number in numbers:
        assert is_valid_fodselsnummer(number)
        assert found(f"Ny innbyggjar med fødselsnummer {number}.") == [
            (FindingKind.FODSELSNUMMER, number)
        ]


@pytest.mark.parametrize("remainder", [4, 5, 9])
def test_k1_remainders_above_three_are_rejected(remainder: int) -> None:
    numbers = _ids_with_k1_remainder(remainder)
    assert numbers
    for number in numbers:
        assert not is_valid_fodselsnummer(number)


@pytest.mark.parametrize(
    "digits",
    ["", FNR[:10], FNR + "0", FNR[:5] + " " + FNR[5:], FNR[:10] + "x", "١٥٠٣٨٥١٢٣٤٥"],
)
def test_is_valid_fodselsnummer_needs_exactly_eleven_ascii_digits(digits: str) -> None:
    assert not is_valid_fodselsnummer(digits)


def test_a_number_valid_as_both_id_and_account_is_reported_as_fodselsnummer() -> None:
    assert is_valid_fodselsnummer(FNR)
    assert is_valid_account_number(FNR)
    assert found(f"Overfør til {FNR} i dag.") == [(FindingKind.FODSELSNUMMER, FNR)]


def test_id_is_not_found_inside_a_longer_digit_run() -> None:
    for text in (f"Ref 9{FNR}", f"Ref {FNR}7", f"sak 2024/{FNR}", f"beløp {FNR},50"):
        assert not [kind for kind, _ in found(text) if kind in ID_KINDS]


# --------------------------------------------------------------------------- accounts and IBAN


@pytest.mark.parametrize(
    "value",
    [ACCOUNT, ACCOUNT_DOTTED, f"{ACCOUNT[:4]} {ACCOUNT[4:6]} {ACCOUNT[6:]}", "1234.56.78903"],
)
def test_valid_account_number_in_any_common_format_is_found(value: str) -> None:
    text = f"Tilskotet vert utbetalt til kontonummer {value} innan fredag."
    assert found(text) == [(FindingKind.ACCOUNT, value)]
    assert "[KONTONUMMER]" in scan(text).redacted


@pytest.mark.parametrize("position", range(11))
def test_account_number_with_a_wrong_digit_is_not_reported(position: int) -> None:
    wrong = change_digit(ACCOUNT, position, str((int(ACCOUNT[position]) + 1) % 10))
    assert not is_valid_account_number(wrong)
    assert found(f"Refusjonen går til konto {wrong}.") == []


def test_account_number_rule_examples() -> None:
    assert is_valid_account_number("12345678903")
    assert not is_valid_account_number("12345678904")
    assert not is_valid_account_number("1234.56.78903")
    assert not is_valid_account_number("1234567890")


@pytest.mark.parametrize(
    "value",
    ["NO93 8601 1117 947", "NO9386011117947", grouped(IBAN), IBAN],
)
def test_norwegian_iban_with_or_without_spaces_is_found(value: str) -> None:
    text = f"Betal til IBAN {value} (BIC DNBANOKK)."
    assert found(text) == [(FindingKind.IBAN, value)]
    assert "[IBAN]" in scan(text).redacted


@pytest.mark.parametrize(
    "value",
    ["DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819"],
)
def test_valid_foreign_iban_is_found(value: str) -> None:
    assert found(f"Leverandøren har IBAN {value}.") == [(FindingKind.IBAN, value)]


@pytest.mark.parametrize(
    "value", ["NO94 8601 1117 947", "NO9486011117947", "DE88 3704 0044 0532 0130 00"]
)
def test_iban_with_wrong_check_digits_is_not_reported(value: str) -> None:
    assert found(f"Betal til IBAN {value}.") == []


# --------------------------------------------------------------------------- phone and e-mail


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Ring meg på 91234567 om det gjelder timen.", "91234567"),
        ("Pårørende kan nås på 912 34 567 etter kl. 16.", "912 34 567"),
        ("Du kan ringje helsesjukepleiaren på 91 23 45 67.", "91 23 45 67"),
        ("Kontaktlærer: +47 912 34 567", "+47 912 34 567"),
        ("Vakttelefon teknisk drift 0047 41234567.", "0047 41234567"),
        ("Sentralbordet har nummer 22 33 44 55.", "22 33 44 55"),
        ("Mobil:+4791234567", "+4791234567"),
        ("Ring 73 12 34 56 eller send e-post.", "73 12 34 56"),
    ],
)
def test_norwegian_phone_numbers_are_found(text: str, value: str) -> None:
    assert found(text) == [(FindingKind.PHONE, value)]
    assert "[TELEFON]" in scan(text).redacted


@pytest.mark.parametrize(
    "text",
    [
        "Kontrakten har en ramme på 12 345 678 kr.",
        "Budsjettet er kr 35000000 for 2025.",
        "Prosjektet kostar 45000000 kroner.",
        "Beløpet 91234567,- er utbetalt.",
        "Saksnummer 2024/12345678 er avsluttet.",
        "Organisasjonsnummer 974 760 673 står på fakturaen.",
        "Dato 20240115 er brukt i filnavnet.",
        "Nummeret 123456789 har ni siffer.",
        "Nummeret 1234567 har sju siffer.",
        "Telefon 12345678 begynner med 1.",
        "Måler 912345678 er lest av.",
        "Dei brukte 20 30 40 50 prosent av tida dei fire åra.",
        "Vi fakturerer 91 23 45 67 NOK.",
    ],
)
def test_amounts_case_numbers_and_wrong_lengths_are_not_phone_numbers(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind is FindingKind.PHONE] == []


@pytest.mark.parametrize(
    "value",
    [
        "kari.nordmann@bergen.kommune.no",
        "ola@eksempel.no",
        "post+vedtak@nav-kontor.no",
        "jens.ås@sandnes.kommune.no",
        "a@b.no",
    ],
)
def test_email_addresses_are_found(value: str) -> None:
    text = f"Send dokumentasjonen til {value}, så svarer vi innen 14 dager."
    assert found(text) == [(FindingKind.EMAIL, value)]
    assert "[E-POST]" in scan(text).redacted


@pytest.mark.parametrize(
    "text",
    [
        "Skriv til postmottak at kommune.no.",
        "Adressen @kommune er ikke en e-post.",
        "Brukernavnet er kari@ og mangler domene.",
        "Bruk domenet kommune.no i lenka.",
    ],
)
def test_text_that_only_resembles_email_is_not_found(text: str) -> None:
    assert found(text) == []


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Brukeren bor i Storgata 5 i andre etasje.", "Storgata 5"),
        ("Hjemmetjenesten besøker Kirkeveien 12 B hver morgen.", "Kirkeveien 12 B"),
        ("Ny adresse: Nedre gate 3, 0551 Oslo.", "Nedre gate 3, 0551 Oslo"),
        ("Eleven flyttar til Kong Haakons gate 12 etter jul.", "Kong Haakons gate 12"),
        ("Kontoret ligg i Nedre Slottsgate 3.", "Nedre Slottsgate 3"),
        ("Ho bur i Fjellvegen 7, 6800 Førde.", "Fjellvegen 7, 6800 Førde"),
        ("Vannlekkasje meldt fra Solbakken 14A.", "Solbakken 14A"),
        ("Rommet er på Bygdøy allé 5.", "Bygdøy allé 5"),
        ("Eiendommen Bjørkelia 2 8610 Mo i Rana er solgt.", "Bjørkelia 2 8610 Mo i Rana"),
        ("Søknaden gjeld Olav Kyrres plass 4.", "Olav Kyrres plass 4"),
    ],
)
def test_street_addresses_are_found(text: str, value: str) -> None:
    assert found(text) == [(FindingKind.ADDRESS, value)]
    assert "[ADRESSE]" in scan(text).redacted


@pytest.mark.parametrize(
    "text",
    [
        "Vi stengde gata 5 dagar i mars.",
        "Fylkesveg 17 skal få ny asfalt.",
        "Riksvei 4 er stengt ved Gjøvik.",
        "Vurderingen 2 viser at tiltaket virker.",
        "Julia 3 år begynner i barnehagen.",
        "Storgata-prosjektet 5 er ferdig.",
        "Parkeringsplass 3 er reservert.",
        "Tiltaksplassen 2024 er nevnt i planen.",
        "Storgata er stengt for trafikk.",
    ],
)
def test_words_that_resemble_streets_are_not_addresses(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind is FindingKind.ADDRESS] == []


# --------------------------------------------------------------------------- dates of birth


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Barnet er født 12.03.1985 og har vedtak om avlastning.", "12.03.1985"),
        ("Eleven er fødd 1. mars 2012 og går i 7. klasse.", "1. mars 2012"),
        ("Ola Nordmann, f. 12.03.85, søker om parkeringskort.", "12.03.85"),
        ("Fødselsdato: 03.11.2012", "03.11.2012"),
        ("Han ble født den 29.02.2000 på Haukeland.", "29.02.2000"),
        ("Ho er fødd 7. desember 1940.", "7. desember 1940"),
        ("Bruker født 1985-03-12 er registrert.", "1985-03-12"),
        ("Søker, født 5 okt. 1977, har rett på tjenesten.", "5 okt. 1977"),
    ],
)
def test_dates_of_birth_after_a_birth_keyword_are_found(text: str, value: str) -> None:
    assert found(text) == [(FindingKind.BIRTH_DATE, value)]
    assert "[FØDSELSDATO]" in scan(text).redacted


@pytest.mark.parametrize(
    "text",
    [
        "Møtet er 12.03.2024 klokka 10.",
        "Saken ble behandlet 1. mars 2024.",
        "Barnet er født 31.02.1985 ifølge skjemaet.",
        "Han er født i 1985.",
        "jf. 12.03.2024 i vedtaket",
        "Ref. 12.03.2024.",
    ],
)
def test_dates_without_a_birth_keyword_or_impossible_dates_are_not_found(text: str) -> None:
    assert found(text) == []


# --------------------------------------------------------------------------- masking, redaction

MIXED_TEXT = (
    f"Brukeren (fnr. {FNR}, D-nummer {D_NUMMER[:6]} {D_NUMMER[6:]}) bor i Storgata 5, "
    f"0551 Oslo, tlf. 912 34 567, e-post kari.nordmann@eksempel.no. Utbetaling til konto "
    f"{ACCOUNT_DOTTED} eller IBAN {grouped(IBAN)}. Brukeren er født 15.03.1985."
)


def test_every_kind_in_a_mixed_case_note_is_found_in_order() -> None:
    result = scan(MIXED_TEXT)
    assert [f.kind for f in result.findings] == [
        FindingKind.FODSELSNUMMER,
        FindingKind.D_NUMMER,
        FindingKind.ADDRESS,
        FindingKind.PHONE,
        FindingKind.EMAIL,
        FindingKind.ACCOUNT,
        FindingKind.IBAN,
        FindingKind.BIRTH_DATE,
    ]
    without_names = [kind for kind in FindingKind if kind is not FindingKind.NAME]
    assert result.counts() == dict.fromkeys(without_names, 1), "names only with a name lexicon"


def test_redacted_text_has_placeholders_and_none_of_the_values() -> None:
    result = scan(MIXED_TEXT)
    for finding in result.findings:
        assert MIXED_TEXT[finding.start : finding.end] not in result.redacted
    for kind, placeholder in PLACEHOLDERS.items():
        assert (placeholder in result.redacted) is (kind is not FindingKind.NAME)
    assert result.redacted.startswith("Brukeren (fnr. [FØDSELSNUMMER], D-nummer [D-NUMMER])")


def test_masked_excerpts_never_contain_the_full_value() -> None:
    result = scan(MIXED_TEXT)
    for finding in result.findings:
        value = MIXED_TEXT[finding.start : finding.end]
        assert value not in finding.masked
        assert "•" in finding.masked
        assert not set(finding.masked) & set("*_~`[]")


def test_masked_excerpts_keep_only_a_recognisable_part() -> None:
    masks = {f.kind: f.masked for f in scan(MIXED_TEXT).findings}
    assert masks[FindingKind.FODSELSNUMMER] == f"•••••• •••{FNR[-2:]}"
    assert masks[FindingKind.D_NUMMER] == f"•••••• •••{D_NUMMER[-2:]}"
    assert masks[FindingKind.PHONE] == "••• •• •67"
    assert masks[FindingKind.EMAIL] == "k•••@•••.no"
    assert masks[FindingKind.ACCOUNT] == f"••••.••.•••{ACCOUNT[-2:]}"
    assert masks[FindingKind.IBAN] == f"NO•• •••• •••• •{IBAN[-2:]}"
    assert masks[FindingKind.ADDRESS] == "Storg••• 5, 0••• Oslo"
    assert masks[FindingKind.BIRTH_DATE] == "••.••.••85"


def test_one_letter_email_parts_are_still_masked() -> None:
    (finding,) = scan("a@b.no").findings
    assert finding.masked == "•••@•••.no"


def test_counts_only_lists_kinds_that_were_found() -> None:
    result = scan("Ring 91234567 eller 41234567, eller skriv til ola@eksempel.no.")
    assert result.counts() == {FindingKind.PHONE: 2, FindingKind.EMAIL: 1}


def test_every_kind_has_its_own_bokmal_placeholder() -> None:
    assert set(PLACEHOLDERS) == set(FindingKind)
    assert len(set(PLACEHOLDERS.values())) == len(FindingKind)
    assert all(p.startswith("[") and p.endswith("]") for p in PLACEHOLDERS.values())


def test_results_are_immutable() -> None:
    result = scan(MIXED_TEXT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.redacted = ""  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.findings[0].start = 0  # type: ignore[misc]
    assert isinstance(result, ScanResult)
    assert isinstance(result.findings[0], Finding)


# --------------------------------------------------------------------------- false positives

ROAD_PROJECT_BOKMAL = (
    "Kommunestyret vedtok 12.03.2024 (sak 2024/1234) å ruste opp Fylkesveg 17 mellom "
    "sentrum og skolen. Kostnadsrammen er 12 345 678 kr, hvorav kr 2 500 000 er statlige "
    "midler. Arbeidet starter uke 14 og varer til 1. oktober 2025. Kontrakten med "
    "entreprenøren (org.nr. 974 760 673) er på 45 000 000 kroner eks. mva. Omkjøring skjer "
    "via Riksvei 4 i 6–8 uker. Strekningen er 2,5 km og har ÅDT på 4 500. Arkivsak "
    "24/01234-5 gjelder grunnerverv, og tiltaket er del av prosjekt 2024-17. Møtet starter "
    "kl. 08.30 i kommunestyresalen."
)
CARE_NYNORSK = (
    "Helse- og omsorgstenesta har i 2024 fått 3 nye årsverk. Talet på vedtak auka med "
    "12 % frå 2023 til 2024, og budsjettet er 91 234 000 kroner. Saka vart handsama i "
    "formannskapet 05.02.2024 (sak 2024/0456), og tenesta er open måndag til fredag kl. "
    "08.00–15.30. Brukarundersøkinga hadde 1 234 svar. Skulen på Eikrem har 312 elevar, "
    "og 7. klasse er på leirskule veke 38. Kommunen søkjer om 1 500 000 kr i tilskot."
)


@pytest.mark.parametrize("text", [ROAD_PROJECT_BOKMAL, CARE_NYNORSK])
def test_ordinary_municipal_text_without_personal_data_has_no_findings(text: str) -> None:
    result = scan(text)
    assert result.findings == ()
    assert result.redacted == text


# --------------------------------------------------------------------------- limits and robustness


def test_text_longer_than_the_limit_is_refused_without_echoing_the_text() -> None:
    text = (f"Brukeren har fnr {FNR}. " * 1000)[: MAX_TEXT_LENGTH + 1]
    with pytest.raises(TextTooLongError) as caught:
        scan(text)
    message = str(caught.value)
    assert FNR not in message
    assert "Brukeren" not in message
    assert isinstance(caught.value, ValueError)


def test_text_at_the_limit_is_scanned() -> None:
    text = ("Ring 91234567. " * 2000)[:MAX_TEXT_LENGTH]
    assert len(text) == MAX_TEXT_LENGTH
    assert scan(text).counts()[FindingKind.PHONE] > 1000


def _assert_well_formed(text: str, result: ScanResult) -> None:
    previous_end = 0
    pieces: list[str] = []
    for finding in result.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.start >= previous_end
        pieces.append(text[previous_end : finding.start] + PLACEHOLDERS[finding.kind])
        previous_end = finding.end
        value = text[finding.start : finding.end]
        assert value not in finding.masked
    pieces.append(text[previous_end:])
    assert result.redacted == "".join(pieces)


@settings(max_examples=200)
@given(st.text(max_size=2_000))
def test_scan_never_raises_and_returns_sorted_non_overlapping_findings(text: str) -> None:
    _assert_well_formed(text, scan(text))


TOKENS = st.sampled_from(
    [
        " ", ", ", ". ", "\n", "født ", "f. ", "tlf. ", "+47 ", "kr ", "Storgata ", "Nedre ",
        "gate ", "Kong ", "Haakons ", "NO", "93 ", "8601 ", "@", "kommune.no", "ola.", "5",
        "12", "03", "1985", "mars ", "0551 Oslo", "912 34 567", "-", "/", "A",
    ]
)  # fmt: skip
VALUES = st.one_of(
    national_ids(),
    national_ids(d_number=True),
    st.just(ACCOUNT_DOTTED),
    st.just(grouped(IBAN)),
    st.sampled_from(["91 23 45 67", "+47 41234567", "ola@eksempel.no", "Kirkeveien 12 B"]),
    st.sampled_from(["født 12.03.1985", "fødd 1. mars 1985", "Nedre gate 3, 0551 Oslo"]),
)


@settings(max_examples=200)
@given(st.lists(st.one_of(TOKENS, VALUES), max_size=40))
def test_redaction_removes_every_found_value(parts: list[str]) -> None:
    text = "".join(parts)
    result = scan(text)
    _assert_well_formed(text, result)
    uncovered: list[str] = []
    position = 0
    for finding in result.findings:
        uncovered.append(text[position : finding.start])
        position = finding.end
    uncovered.append(text[position:])
    for finding in result.findings:
        value = text[finding.start : finding.end]
        assert value not in result.redacted or any(value in piece for piece in uncovered)


NAMES = load_content().names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Saken gjelder Kari Nordmann.", ["Kari Nordmann"]),
        ("Møte med Ola Hansen og saksbehandler Fatima Ali.", ["Ola Hansen", "Fatima Ali"]),
        ("Eleven Jonas Berg i 7B har fått ny plan.", ["Jonas Berg"]),
    ],
)
def test_with_the_name_lexicon_names_are_found_masked_and_replaced(
    text: str, names: list[str]
) -> None:
    result = scan(text, NAMES)
    found = [text[f.start : f.end] for f in result.findings if f.kind is FindingKind.NAME]
    assert found == names
    for name in names:
        assert name not in result.redacted
        assert name.split()[-1] not in " ".join(f.masked for f in result.findings)
    assert result.redacted.count("[NAVN]") == len(names)

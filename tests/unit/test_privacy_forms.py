"""The text check finds numbers in the forms people write them (issue 13, point 1).

Identity, account and phone numbers with separators, invisible characters and Unicode digits
are found, the redacted text keeps no digit of them, and the masked excerpts show neither a
birth date nor markdown characters. Every number is computed here from the check-digit rules
(helpers from `test_privacy`); none belongs to a real person.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.privacy import FindingKind, is_valid_fodselsnummer, scan
from bot.core.privacy.normalise import normalise
from tests.unit.test_privacy import (
    ID_KINDS,
    change_digit,
    id_for,
    in_running_text,
    national_ids,
    valid_account,
)

MARKDOWN = frozenset("*_~`[]")
INVISIBLES = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")

FNR = id_for("150385", 123)
D_NUMMER = id_for("550385", 123)
H_NUMMER = id_for("154385", 123)
ACCOUNT = valid_account("1234")
PHONE = "91234567"


# --------------------------------------------------------------------------- written forms

ID_STYLES: dict[str, Callable[[str], str]] = {
    "compact": lambda n: n,
    "space": lambda n: f"{n[:6]} {n[6:]}",
    "no-break space": lambda n: f"{n[:6]}\u00a0{n[6:]}",
    "hyphen": lambda n: f"{n[:6]}-{n[6:]}",
    "en dash": lambda n: f"{n[:6]}–{n[6:]}",
    "spaced dash": lambda n: f"{n[:6]} – {n[6:]}",
    "dot": lambda n: f"{n[:6]}.{n[6:]}",
    "slash": lambda n: f"{n[:6]}/{n[6:]}",
    "date with dots": lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]} {n[6:]}",
    "date with dots, hyphen": lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:]}",
    "date with slashes": lambda n: f"{n[:2]}/{n[2:4]}/{n[4:6]} {n[6:]}",
    "date with hyphens": lambda n: f"{n[:2]}-{n[2:4]}-{n[4:6]}-{n[6:]}",
    "all spaced": lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:9]} {n[9:]}",
    "individual spaced": lambda n: f"{n[:6]} {n[6:9]} {n[9:]}",
    "zero-width space": lambda n: f"{n[:3]}\u200b{n[3:8]}\u200b{n[8:]}",
    "soft hyphen": lambda n: f"{n[:6]}\u00ad{n[6:]}",
    "word joiner and BOM": lambda n: f"{n[:2]}\u2060{n[2:6]}\ufeff {n[6:]}",
    "full-width": lambda n: fullwidth(n),
    "full-width, hyphen": lambda n: fullwidth(f"{n[:6]}-{n[6:]}"),
    "full-width date": lambda n: fullwidth(f"{n[:2]}.{n[2:4]}.{n[4:6]} {n[6:]}"),
    "arabic-indic digits": lambda n: other_digits(n, 0x0660),
    "devanagari digits": lambda n: other_digits(f"{n[:6]} {n[6:]}", 0x0966),
}

ACCOUNT_STYLES: dict[str, Callable[[str], str]] = {
    "compact": lambda n: n,
    "dots": lambda n: f"{n[:4]}.{n[4:6]}.{n[6:]}",
    "spaces": lambda n: f"{n[:4]} {n[4:6]} {n[6:]}",
    "no-break spaces": lambda n: f"{n[:4]}\u00a0{n[4:6]}\u00a0{n[6:]}",
    "zero-width spaces": lambda n: f"{n[:4]}\u200b{n[4:6]}\u200b{n[6:]}",
    "dots and soft hyphen": lambda n: f"{n[:4]}.\u00ad{n[4:6]}.{n[6:]}",
    "full-width": lambda n: fullwidth(n),
    "full-width dots": lambda n: fullwidth(f"{n[:4]}.{n[4:6]}.{n[6:]}"),
}

PHONE_STYLES: dict[str, Callable[[str], str]] = {
    "compact": lambda n: n,
    "+47": lambda n: f"+47 {n[:3]} {n[3:5]} {n[5:]}",
    "+47 compact": lambda n: f"+47 {n}",
    "+47 hyphens": lambda n: f"+47-{n[:3]}-{n[3:5]}-{n[5:]}",
    "0047": lambda n: f"0047 {n}",
    "3-2-3": lambda n: f"{n[:3]} {n[3:5]} {n[5:]}",
    "2-2-2-2": lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}",
    "3-2-3 dots": lambda n: f"{n[:3]}.{n[3:5]}.{n[5:]}",
    "2-2-2-2 dots": lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]}.{n[6:]}",
    "3-2-3 hyphens": lambda n: f"{n[:3]}-{n[3:5]}-{n[5:]}",
    "2-2-2-2 hyphens": lambda n: f"{n[:2]}-{n[2:4]}-{n[4:6]}-{n[6:]}",
    "no-break spaces": lambda n: f"{n[:3]}\u00a0{n[3:5]}\u00a0{n[5:]}",
    "zero-width space": lambda n: f"{n[:4]}\u200b{n[4:]}",
    "full-width": lambda n: fullwidth(f"+47 {n}"),
}


def fullwidth(value: str) -> str:
    """`value` in full-width characters (digits, punctuation; a space becomes U+3000)."""
    return "".join(
        "\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in value
    )


def other_digits(value: str, zero: int) -> str:
    return "".join(chr(zero + int(ch)) if ch.isdigit() else ch for ch in value)


def digit_count(text: str) -> int:
    return sum(1 for ch in text if ch.isdigit())


def check_found(value: str, kind: FindingKind, context: str = "Saka gjeld {} og bur her.") -> str:
    """Assert `value` in `context` is found whole as `kind` and leaves no digit; its mask."""
    text = context.format(value)
    result = scan(text)
    spans = [(f.kind, text[f.start : f.end]) for f in result.findings]
    assert spans == [(kind, value)], f"{value!r}: {spans}"
    assert digit_count(result.redacted) == digit_count(text) - digit_count(value)
    (finding,) = result.findings
    assert not set(finding.masked) & MARKDOWN
    return finding.masked


def id_findings(text: str) -> list[str]:
    return [text[f.start : f.end] for f in scan(text).findings if f.kind in ID_KINDS]


# --------------------------------------------------------------------------- identity numbers


@pytest.mark.parametrize("style", sorted(ID_STYLES))
@pytest.mark.parametrize(
    ("number", "kind"),
    [
        (FNR, FindingKind.FODSELSNUMMER),
        (D_NUMMER, FindingKind.D_NUMMER),
        (H_NUMMER, FindingKind.FODSELSNUMMER),
    ],
)
def test_identity_number_in_every_written_form_is_found(
    style: str, number: str, kind: FindingKind
) -> None:
    assert is_valid_fodselsnummer(number)
    masked = check_found(ID_STYLES[style](number), kind)
    assert masked == f"•••••• •••{number[-2:]}"
    assert number[:6] not in masked


@settings(max_examples=200)
@given(
    data=st.data(),
    number=st.one_of(national_ids(), national_ids(d_number=True)),
    style=st.sampled_from(sorted(ID_STYLES)),
)
def test_any_valid_identity_number_in_any_style_in_running_text_is_found(
    data: st.DataObject, number: str, style: str
) -> None:
    value = ID_STYLES[style](number)
    text, start = data.draw(in_running_text(value))
    result = scan(text)
    ids = [f for f in result.findings if f.kind in ID_KINDS]
    assert [(f.start, f.end) for f in ids] == [(start, start + len(value))]
    assert ids[0].masked == f"•••••• •••{number[-2:]}"
    assert digit_count(result.redacted) == 0


@settings(max_examples=100)
@given(
    number=national_ids(),
    invisible=st.lists(st.sampled_from(INVISIBLES), min_size=1, max_size=3),
    positions=st.lists(st.integers(1, 10), min_size=1, max_size=3),
)
def test_invisible_characters_anywhere_inside_an_identity_number_do_not_hide_it(
    number: str, invisible: list[str], positions: list[int]
) -> None:
    value = number
    for position, char in sorted(zip(positions, invisible, strict=False), reverse=True):
        value = value[:position] + char + value[position:]
    check_found(value, FindingKind.FODSELSNUMMER)


@settings(max_examples=200)
@given(
    data=st.data(),
    number=st.one_of(national_ids(), national_ids(d_number=True)),
    position=st.integers(0, 10),
    style=st.sampled_from(sorted(ID_STYLES)),
)
def test_a_wrong_check_digit_is_no_identity_number_in_any_style(
    data: st.DataObject, number: str, position: int, style: str
) -> None:
    new_digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = change_digit(number, position, new_digit)
    assert not is_valid_fodselsnummer(changed)
    assert id_findings(f"Saka gjeld {ID_STYLES[style](changed)} og bur her.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Saksnummer 2024/1234 er avsluttet.",
        "Arkivsak 24/12345-3 gjelder grunnerverv.",
        "Se sak 2015/038512 og 24/01234-5.",
        "Beløpet er 150 385,12 kroner.",
        "Beløpet er 150.385,12 kroner.",
        "Møtet var 15.03.85 i kommunestyresalen.",
        "Møtet var 15.03.85 kl. 12.30.",
        "Den 15.03.85 kom 123 45-åringer.",
        "Ny adresse: 0551 Oslo, eller 6800 Førde.",
        "Organisasjonsnummer 974 760 673 og 974760673.",
        "Ring 912 34 567 eller +47 41 23 45 67.",
        "Mobil 0047 91234567.",
        f"Konto {ACCOUNT[:4]}.{ACCOUNT[4:6]}.{ACCOUNT[6:]}.",
        f"Lista: 1 {FNR[:6]} {FNR[6:]}",  # glued to another digit group
        f"Nummeret {FNR[:6]} {FNR[6:]} 7 er ein del av noko anna.",
        f"Internasjonalt nummer +{FNR}.",
        f"Saka {FNR[:6]}123 {FNR[9:]} har ein anna form.",
    ],
)
def test_case_numbers_amounts_dates_postcodes_and_phones_are_not_identity_numbers(
    text: str,
) -> None:
    assert id_findings(text) == []


def test_an_organisation_number_is_not_a_person() -> None:
    # 974760673 is Brønnøysundregistrene's own, valid organisasjonsnummer (9 digits).
    for text in ("Org.nr. 974 760 673", "org.nr. 974760673 MVA", "NO 974 760 673 MVA"):
        assert [f.kind for f in scan(text).findings] == []


def test_a_birth_date_followed_by_the_individual_part_is_one_identity_number() -> None:
    value = f"{FNR[:2]}.{FNR[2:4]}.{FNR[4:6]} {FNR[6:]}"
    text = f"Ola Nordmann, f. {value}, søker om parkeringskort."
    result = scan(text)
    assert [(f.kind, text[f.start : f.end]) for f in result.findings] == [
        (FindingKind.FODSELSNUMMER, value)
    ]
    assert digit_count(result.redacted) == 0


def test_invisible_characters_around_a_number_stay_outside_the_redaction() -> None:
    text = f"fnr \u200b{FNR}\u200b."
    assert scan(text).redacted == "fnr \u200b[FØDSELSNUMMER]\u200b."


def test_redaction_keeps_the_rest_of_a_text_with_full_width_numbers_as_written() -> None:
    text = f"Ｎｏｔａｔ: {fullwidth(FNR)} og {fullwidth(PHONE)}．"
    assert scan(text).redacted == "Ｎｏｔａｔ: [FØDSELSNUMMER] og [TELEFON]．"


# --------------------------------------------------------------------------- accounts and phones


@pytest.mark.parametrize("style", sorted(ACCOUNT_STYLES))
def test_account_number_in_every_written_form_is_found(style: str) -> None:
    masked = check_found(ACCOUNT_STYLES[style](ACCOUNT), FindingKind.ACCOUNT)
    assert masked.endswith(ACCOUNT[-2:])
    assert digit_count(masked) == 2


@pytest.mark.parametrize("style", sorted(ACCOUNT_STYLES))
def test_account_number_with_a_wrong_check_digit_is_not_found_in_any_form(style: str) -> None:
    wrong = change_digit(ACCOUNT, 10, str((int(ACCOUNT[10]) + 1) % 10))
    assert scan(f"Til konto {ACCOUNT_STYLES[style](wrong)} i dag.").findings == ()


@pytest.mark.parametrize("style", sorted(PHONE_STYLES))
def test_phone_number_in_every_written_form_is_found(style: str) -> None:
    masked = check_found(PHONE_STYLES[style](PHONE), FindingKind.PHONE)
    assert masked.endswith("67")
    assert digit_count(masked) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Møtet er 12.03.2024 kl. 08.30-15.30.",
        "Versjon 1.20.30.40 er installert.",
        "Tallene 12-34-56-78 er ikke et nummer.",
        "Beløpet 912.345.678 er stort.",
        "Vi fakturerer 91.23.45.67 NOK.",
        "Strekningen 20-30-40 km.",
        "Telefon 123.45.678 begynner med 1.",
        "Saksnummer 2024-123-45678.",
    ],
)
def test_dotted_and_hyphenated_numbers_that_are_not_phones_are_not_found(text: str) -> None:
    assert [f.kind for f in scan(text).findings if f.kind is FindingKind.PHONE] == []


# --------------------------------------------------------------------------- masks


def test_masks_use_a_neutral_character_and_reveal_little() -> None:
    text = (
        f"Kari (fnr. {FNR}) på kari_nordmann@bergen.kommune.no, "
        f"tlf. +47 412 34 567, konto {ACCOUNT}."
    )
    masks = {f.kind: f.masked for f in scan(text).findings}
    assert masks == {
        FindingKind.FODSELSNUMMER: f"•••••• •••{FNR[-2:]}",
        FindingKind.EMAIL: "k•••@•••.no",
        FindingKind.PHONE: "••• •• •67",
        FindingKind.ACCOUNT: f"•••••••••{ACCOUNT[-2:]}",
    }


@settings(max_examples=200)
@given(st.text(max_size=500))
def test_no_mask_ever_contains_a_markdown_character(text: str) -> None:
    for finding in scan(text).findings:
        assert not set(finding.masked) & MARKDOWN


# --------------------------------------------------------------------------- normalisation


def test_normalised_text_maps_every_character_back_to_its_original() -> None:
    text = "a\u200b１\u00a0–\u00adb"
    normalised = normalise(text)
    assert normalised.text == "a1 -b"
    assert normalised.origins == (0, 2, 3, 4, 6)
    assert normalised.span(1, 4) == (2, 5)
    assert normalised.span(0, 5) == (0, 7)


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_normalisation_keeps_ascii_and_never_grows_the_text(text: str) -> None:
    normalised = normalise(text)
    assert len(normalised.text) == len(normalised.origins) <= len(text)
    assert list(normalised.origins) == sorted(set(normalised.origins))
    for ch, origin in zip(normalised.text, normalised.origins, strict=True):
        if text[origin].isascii():
            assert ch == text[origin]

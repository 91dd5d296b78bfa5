"""Counts read right: one and other forms in bokmål, nynorsk and English, checked at start-up."""

from __future__ import annotations

import pytest

from content import ContentError, check_consistent, load_catalog, parse_texts, plural_form

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("nb", "Fant 1 personopplysning", "Fant 3 personopplysninger"),
        ("nn", "Fann 1 personopplysning", "Fann 3 personopplysningar"),
        ("en", "Found 1 item of personal data", "Found 3 items of personal data"),
    ],
)
def test_the_text_checks_count_is_singular_for_one_and_plural_otherwise(
    language: str, one: str, many: str
) -> None:
    texts = CATALOG.by_language[language]  # type: ignore[index]
    assert texts.count("tekstsjekk.found_title", 1) == one
    assert texts.count("tekstsjekk.found_title", 3) == many


@pytest.mark.parametrize(("n", "form"), [(0, "other"), (1, "one"), (2, "other"), (21, "other")])
def test_zero_and_every_count_but_one_use_the_other_form(n: int, form: str) -> None:
    assert plural_form(n) == form


def test_other_values_fill_in_besides_the_count() -> None:
    en = CATALOG.texts("en")
    assert en.count("tips.scheduled_body", 1, when="at 09:00") == (
        "The tip will be sent at 09:00 to 1 recipient."
    )
    assert en.count("learning.summary.recommended_line", 2, task="Writing") == (
        "Writing: 2 recommend it"
    )


def test_a_language_missing_a_one_form_is_refused() -> None:
    nb = parse_texts("nb", "x:\n  one: Ett kort\n  other: '{count} kort'\n", "nb/texts.yaml")
    nn = parse_texts("nn", "x:\n  one: Eitt kort\n  other: '{count} kort'\n", "nn/texts.yaml")
    with pytest.raises(ContentError, match=r"'x.one' is a plural form; 'x.other' is missing"):
        parse_texts("en", "x:\n  one: One card\n", "en/texts.yaml")
    without_one = parse_texts("en", "x:\n  other: '{count} cards'\n", "en/texts.yaml")
    with pytest.raises(ContentError, match=r"en/texts.yaml: missing texts x.one"):
        check_consistent({"nb": nb, "nn": nn, "en": without_one})
    en = parse_texts("en", "x:\n  one: One card\n  other: '{count} cards'\n", "en/texts.yaml")
    check_consistent({"nb": nb, "nn": nn, "en": en})
    assert en.count("x", 1) == "One card"
    assert en.count("x", 0) == "0 cards"

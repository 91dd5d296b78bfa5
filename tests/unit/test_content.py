from __future__ import annotations

import pytest

from content import LANGUAGES, ContentError, Texts, check_consistent, load_catalog, parse_texts


def test_every_language_has_the_same_texts() -> None:
    catalog = load_catalog()
    keys = {lang: set(catalog.texts(lang).entries) for lang in LANGUAGES}
    assert keys["nb"] == keys["nn"] == keys["en"]
    assert len(keys["nb"]) > 20


def test_nynorsk_and_english_are_translations_not_copies() -> None:
    catalog = load_catalog()
    nb, nn, en = (catalog.texts(lang) for lang in LANGUAGES)
    assert nb("welcome.intro") != nn("welcome.intro")
    assert nb("welcome.intro") != en("welcome.intro")


def test_missing_translation_is_a_clear_error() -> None:
    nb = parse_texts("nb", "a:\n  b: Hei\n  c: Hallo\n", "nb/texts.yaml")
    nn = parse_texts("nn", "a:\n  b: Hei\n", "nn/texts.yaml")
    en = parse_texts("en", "a:\n  b: Hi\n  c: Hello\n", "en/texts.yaml")
    with pytest.raises(ContentError, match=r"nn/texts.yaml: missing texts a.c"):
        check_consistent({"nb": nb, "nn": nn, "en": en})


def test_placeholders_must_match_across_languages() -> None:
    nb = parse_texts("nb", "x: Hei {name}\n", "nb")
    nn = parse_texts("nn", "x: Hei {namn}\n", "nn")
    en = parse_texts("en", "x: Hi {name}\n", "en")
    with pytest.raises(ContentError, match=r"same \{placeholders\}"):
        check_consistent({"nb": nb, "nn": nn, "en": en})


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("a: [1, 2]\n", "must be a string"),
        ("a: ''\n", "is empty"),
        ("- a\n", "mapping"),
        ("a: {\n", "not valid YAML"),
        ("a: 'Hei {'\n", "broken"),
    ],
)
def test_broken_content_files_are_reported_with_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(ContentError, match=problem):
        parse_texts("nb", raw, "nb/texts.yaml")


def test_text_lookup_fills_placeholders_and_names_missing_keys() -> None:
    texts = Texts(language="nb", entries={"greet": "Hei, {name}!"})
    assert texts("greet", name="Kari") == "Hei, Kari!"
    with pytest.raises(ContentError, match="no text 'nope' in language 'nb'"):
        texts("nope")

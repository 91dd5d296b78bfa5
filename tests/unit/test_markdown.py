"""User text is made inert for Teams markdown; plain Norwegian text stays as it was."""

from __future__ import annotations

import copy
import json
import re

import pytest

from cards.markdown import UserText, inert
from cards.renderer import CardRenderer
from cards.views import Fact, TextCheckResultView, TipCardView
from content import load_catalog

NB = load_catalog().texts("nb")
UNESCAPED = re.compile(r"(?<!\\)(\*\*|__|\]\(|\[|~~|`)")
"""Markdown that would still work: bold, a link or image, strike-through, code."""


@pytest.mark.parametrize(
    "plain",
    [
        "Blåbærsyltetøy på Ærøy, 12,5 timer i måneden.",
        "Hva koster det? Omtrent 300 kr (eks. mva.), sa hun: «greit».",
        "e-post og D-nummer 2024: 3/4 av sakene",
    ],
)
def test_plain_norwegian_text_is_left_as_it_is(plain: str) -> None:
    assert inert(plain) == plain


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("[Logg inn](https://evil.example)", r"\[Logg inn\](https://evil.example)"),
        ("![bilde](https://evil.example/x.png)", r"!\[bilde\](https://evil.example/x.png)"),
        ("**viktig** og _kursiv_", r"\*\*viktig\*\* og \_kursiv\_"),
        ("~~strøket~~ `kode`", r"\~\~strøket\~\~ \`kode\`"),
        ("<https://evil.example>", r"\<https://evil.example\>"),
        ("0101******", r"0101\*\*\*\*\*\*"),
        ("C:\\mapper", "C:\\\\mapper"),
        ("&lt;b&gt;", r"\&lt;b\&gt;"),
    ],
)
def test_inline_markdown_is_escaped(typed: str, expected: str) -> None:
    assert inert(typed) == expected
    assert not UNESCAPED.search(inert(typed))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("- punkt", r"\- punkt"),
        ("+ punkt", r"\+ punkt"),
        ("# Overskrift", r"\# Overskrift"),
        ("> sitat", r"\> sitat"),
        ("1. første", r"1\. første"),
        ("Tekst\n  2) andre\n===", "Tekst\n  2\\) andre\n\\==="),
    ],
)
def test_markers_at_the_start_of_a_line_are_escaped(typed: str, expected: str) -> None:
    assert inert(typed) == expected


def test_user_text_is_escaped_however_a_sentence_takes_it() -> None:
    text = UserText("**viktig**")
    assert str(text) == r"\*\*viktig\*\*"
    assert f"Tips: {text}" == r"Tips: \*\*viktig\*\*"
    assert "{title} ({reason})".format_map({"title": text, "reason": "x"}) == (
        r"\*\*viktig\*\* (x)"
    )
    assert text.raw == "**viktig**"
    assert copy.deepcopy(text) == text
    assert hash(text) == hash(UserText("**viktig**"))
    assert not UserText("")
    assert text


def test_the_renderer_escapes_user_text_but_not_our_own_content() -> None:
    renderer = CardRenderer()
    tip = renderer.render(TipCardView(UserText("**viktig** [her](https://evil.example)")), NB)
    shown = json.dumps(tip, ensure_ascii=False)
    assert r"\\*\\*viktig\\*\\*" in shown
    assert "**viktig**" not in shown
    assert not re.search(r"(?<!\\\\)\]\(", shown)
    content = renderer.render(TipCardView("**Husk** klarspråk"), NB)
    assert "**Husk** klarspråk" in json.dumps(content, ensure_ascii=False)


def test_the_text_check_result_shows_masked_values_and_the_redacted_text_inert() -> None:
    view = TextCheckResultView(
        True, 1, (Fact("Fødselsnummer", UserText("0101******")),), UserText("Hei [FNR] *x*")
    )
    card = CardRenderer().render(view, NB)
    shown = json.dumps(card, ensure_ascii=False)
    assert r"0101\\*\\*\\*\\*\\*\\*" in shown
    assert r"Hei \\[FNR\\] \\*x\\*" in shown

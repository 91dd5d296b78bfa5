"""Tool names on the cards: descriptions are translated, product names are left as they are."""

from __future__ import annotations

from bot.core.policy import parse_policy
from content import load_catalog, read_yaml
from dialogs.ki_verdict import tool_name
from dialogs.learning_card import LearningCardDialog

POLICY = parse_policy(read_yaml("policy.yaml"))
CATALOG = load_catalog()


def test_the_other_tool_choice_is_in_the_readers_language() -> None:
    other = POLICY.tool("unknown_tool")
    names = {lang: tool_name(CATALOG.texts(lang), other) for lang in ("nb", "nn", "en")}
    assert names == {"nb": "Et annet verktøy", "nn": "Eit anna verktøy", "en": "Another tool"}


def test_product_names_are_the_same_in_every_language() -> None:
    products = [t for t in POLICY.tools if not CATALOG.texts("nb").has(f"tool_name.{t.id}")]
    assert products, "policy.yaml names products"
    for tool in products:
        assert {tool_name(CATALOG.texts(lang), tool) for lang in ("nb", "nn", "en")} == {tool.name}


def test_the_learning_card_offers_english_tool_names_in_english() -> None:
    labels = LearningCardDialog(POLICY, ("other",)).labels(CATALOG.texts("en"))
    assert "Et annet verktøy" not in labels.tools.values()
    assert "Copilot (vet ikke hvilken)" not in labels.tools.values()

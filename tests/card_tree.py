"""Walking an Adaptive Card's JSON in tests: every element, every action, wherever it sits (body,
containers, columns, action sets, show-card actions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def nodes(card: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the card or part of one, depth first, in document order."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from nodes(value)
    elif isinstance(card, list):
        for item in card:
            yield from nodes(item)


def actions(card: Any, verb: str | None = None) -> list[dict[str, Any]]:
    """Every action (`Action.*`), or only the Action.Execute buttons with `verb`."""
    return [
        node
        for node in nodes(card)
        if str(node.get("type", "")).startswith("Action.")
        and (verb is None or (node.get("type") == "Action.Execute" and node.get("verb") == verb))
    ]

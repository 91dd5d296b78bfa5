"""How conversation state items are written, the same for every store: JSON without the e_tag
(the store keeps that itself), and the e_tag a write carries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def etag_of(value: Any) -> str | None:
    """The e_tag a state item carries (a dict key or an attribute), if any."""
    found = value.get("e_tag") if isinstance(value, Mapping) else getattr(value, "e_tag", None)
    return None if found is None else str(found)


def encode_state(key: str, value: Any) -> str:
    """The item as compact JSON, without its e_tag; TypeError names the key if it cannot be."""
    if not isinstance(value, Mapping):
        raise TypeError(f"state for '{key}' must be a mapping, not {type(value).__name__}")
    data = {k: v for k, v in value.items() if k != "e_tag"}
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except TypeError as exc:
        raise TypeError(f"state for '{key}' must hold JSON values only") from exc

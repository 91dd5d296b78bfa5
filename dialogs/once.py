"""Card actions that change something (a tip send, a subscription, a feedback vote) apply once.

The flow that builds such a card puts a fresh random action id in its view (`new_action_id`); the
id travels in the button's data under `ACTION_KEY` and is claimed in the `ActionLedger` when the
button is pressed. The first claim applies the action; every replay or double click of the same
card gets what the first one led to.

- An id that is not one we make (wrong length or characters) is forged or garbage: the press is
  refused as stale and nothing changes (`ledger_key` returns None).
- A press without an id comes from a card rendered before ids existed. It is applied once per
  person, per button data and per UTC day: its key is a digest of those (never the person's id in
  clear), so replays of an old card change nothing twice either.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

ACTION_KEY = "act"
"""The button data key that carries a card's action id."""

ACTION_ID_BYTES = 16
_ACTION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_NOT_PAYLOAD = frozenset({ACTION_KEY, "lang", "v"})


def new_action_id() -> str:
    """A fresh action id for a card being built (22 URL-safe characters)."""
    return secrets.token_urlsafe(ACTION_ID_BYTES)


def ledger_key(data: Mapping[str, Any], user_key: str, now: datetime) -> str | None:
    """The ledger key of a press: its card's action id; for a card without one, a digest of the
    person, the button data and the day; None for an id we never made (refuse the press)."""
    if ACTION_KEY in data:
        value = data[ACTION_KEY]
        if isinstance(value, str) and _ACTION_ID.fullmatch(value):
            return value
        return None
    payload = {str(k): str(v) for k, v in data.items() if k not in _NOT_PAYLOAD}
    text = json.dumps(
        [user_key, now.date().isoformat(), sorted(payload.items())], ensure_ascii=False
    )
    # "." is not among the characters of a card's id, so a derived key never meets a real one
    return "old." + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

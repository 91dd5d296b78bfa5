"""Keys that identify a person or a conversation in the stores, shared by every backend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_CHANNEL = "msteams"


def conversation_state_keys(conversation_id: str, reference: Mapping[str, Any]) -> list[str]:
    """The keys Bot Framework's ConversationState uses for a conversation (with and without the
    trailing slash: versions of botbuilder differ)."""
    channel = str(reference.get("channelId") or DEFAULT_CHANNEL)
    key = f"{channel}/conversations/{conversation_id}"
    return [key, key + "/"]


def require_user_key(user_key: str) -> str:
    """The person's key, refused when empty: an empty key would match every erased card (its
    sender is "") and every tip without a creator."""
    if not user_key.strip():
        raise ValueError("a person's key must not be empty")
    return user_key

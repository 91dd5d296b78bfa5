"""Flow unit tests: each flow called directly with a `Caller`, over in-memory fake stores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.content_loader import Content, load_content
from bot.core.caller import Caller, Conversation, Role
from cards.verbs import Verb
from content import Language
from dialogs.flow import Request

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
CONTENT: Content = load_content()


def caller(
    *roles: Role,
    user_key: str = "aad-kari",
    kind: str = "personal",
    language: Language = "nb",
) -> Caller:
    return Caller(
        user_key=user_key,
        object_id=user_key,
        display_name="Kari Nordmann",
        language=language,
        conversation=Conversation(
            id="a:chat-1",
            kind=kind,
            tenant_id="tenant-1",
            service_url="https://smba.example.test/emea/",
            card_activity_id="card-7",
        ),
        roles=frozenset(roles),
    )


def request(
    who: Caller | None = None,
    *,
    verb: Verb | None = None,
    text: str = "",
    data: Mapping[str, Any] | None = None,
) -> Request:
    """A typed message (`text`) or a card action (`verb` with the card's `data`)."""
    who = who or caller()
    texts = CONTENT.catalog.texts(who.language)
    return Request(caller=who, texts=texts, data=dict(data or {}), text=text, verb=verb)

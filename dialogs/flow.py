"""What every flow shares: the request a handler gets, the reply it gives, and the routing table.

A flow is a class in `dialogs/` with a `routes()` method: which typed commands and which card verbs
it answers. The Teams router merges every flow's routes into one table and never decides anything
itself, so a new feature is a new flow plus its entry in `build_flows` in the bootstrap (the
commands and verbs it answers, and how it is built).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.caller import Caller
from bot.core.commands import CommandName
from cards.verbs import Verb
from cards.views import CardView
from content import Language, Texts


@dataclass(frozen=True)
class Request:
    """One turn as a flow sees it: who asks, in which language, and what they sent."""

    caller: Caller
    texts: Texts
    data: Mapping[str, Any] = field(default_factory=dict)
    """The card's payload (for a card action); empty for a typed command."""
    text: str = ""
    """What the person typed (for a command), without the @mention of the bot."""
    verb: Verb | None = None
    """The card action's verb (None for a typed command)."""


@dataclass(frozen=True)
class Reply:
    """What a flow answers: the card to show, and what the turn log should say about it."""

    view: CardView
    route: str = ""
    """A detail for the turn log (never user text), added to the command or verb."""
    remember_conversation: bool = False
    """The conversation will be written to later (a subscription): store its reference now."""
    conversation_forgotten: bool = False
    """The flow removed this conversation's reference from the store (an erasure): the next
    message stores it anew instead of trusting what this process saved earlier today."""
    language: Language | None = None
    """Render the card in this language instead of the caller's (the answer to a language choice
    comes in the language just chosen)."""
    person_erased: bool = False
    """The flow erased everything stored about the caller: forget what this process remembers of
    them too (their language choice)."""


Handler = Callable[[Request], Awaitable[Reply]]


class DuplicateRouteError(Exception):
    """Two flows claim the same command or verb."""


@dataclass(frozen=True)
class Routes:
    """Typed command → handler and card verb → handler."""

    commands: Mapping[CommandName, Handler] = field(default_factory=dict)
    verbs: Mapping[Verb, Handler] = field(default_factory=dict)

    def merged(self, other: Routes) -> Routes:
        clash = set(self.commands) & set(other.commands) | set(self.verbs) & set(other.verbs)
        if clash:
            raise DuplicateRouteError(", ".join(sorted(str(item) for item in clash)))
        return Routes({**self.commands, **other.commands}, {**self.verbs, **other.verbs})


def table(*routes: Routes) -> Routes:
    """Every flow's routes in one table; a command or verb claimed twice is a start-up error."""
    merged = Routes()
    for part in routes:
        merged = merged.merged(part)
    return merged

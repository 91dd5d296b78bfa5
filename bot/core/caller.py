"""Who is asking: the typed caller every flow receives, and the roles a caller can hold.

The Teams router builds a `Caller` from an activity; flows never see an activity. Roles come from
settings (the Entra object ids of champions and project leads), so granting a role is a
configuration change, not a code change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from content import Language

PERSONAL = "personal"
"""Teams' conversation type of a one-to-one chat with the bot (also when a client leaves it out)."""


class Role(StrEnum):
    CHAMPION = "champion"
    """A pådriver: may push weekly tips to subscribers and channels."""
    LEAD = "lead"
    """A project lead: may see the learning-card summary."""


def roles_for(
    *,
    object_id: str,
    champions: Collection[str],
    leads: Collection[str],
) -> frozenset[Role]:
    """The roles settings give this person, by the Entra object id Teams sends
    (`from.aadObjectId`) only: never by the Teams user id (`from.id`), which a client of another
    channel can choose freely and which is not unique across tenants. No object id, no role."""
    if not object_id:
        return frozenset()
    roles: set[Role] = set()
    if object_id in champions:
        roles.add(Role.CHAMPION)
    if object_id in leads:
        roles.add(Role.LEAD)
    return frozenset(roles)


@dataclass(frozen=True)
class Conversation:
    """Where the turn happens: enough to answer there later, free of any SDK type."""

    id: str
    kind: str = PERSONAL
    tenant_id: str = ""
    service_url: str = ""
    card_activity_id: str = ""
    """For a card action: the id of the message holding the card (so a worker can update it)."""

    @property
    def is_personal(self) -> bool:
        return self.kind == PERSONAL


@dataclass(frozen=True)
class Caller:
    """The person behind one turn, in the terms flows need."""

    user_key: str
    """Whom progress, subscriptions and learning cards belong to: Entra object id, else Teams id."""
    object_id: str
    display_name: str
    language: Language
    conversation: Conversation
    roles: frozenset[Role] = field(default_factory=frozenset)

    def has(self, role: Role) -> bool:
        return role in self.roles

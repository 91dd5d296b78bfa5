"""A learning card as the bot holds it: the choices it offers, a valid draft, the stored card and
its delivery state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.policy import Policy, ToolClass

OTHER_TOOL = "other"

TEXT_FIELDS = ("title", "tool_other", "what", "result", "challenges")
"""Free-text fields: each goes through the personal-data check before a card is saved."""


class DeliveryState(StrEnum):
    PENDING = "pending"  # stored; waiting for (or retrying) the write to SharePoint
    DELIVERED = "delivered"  # an item exists in the SharePoint list
    PARKED = "parked"  # SharePoint refused it for good; a lead must look
    REDACT = "redact"  # delivered, then its sender was erased: the item's sender column must be
    # emptied (the outbox patches the item, then the card is DELIVERED again)


class FollowUp(StrEnum):
    SENSITIVE_IN_OPEN_TOOL = "sensitive_in_open_tool"
    SENSITIVE_IN_UNKNOWN_TOOL = "sensitive_in_unknown_tool"
    NOT_APPROVED_FOR_CATEGORY = "not_approved_for_category"


@dataclass(frozen=True)
class CardOptions:
    """The choices a card offers, all from content: service areas, tasks, tools, categories."""

    service_areas: tuple[str, ...]
    tasks: tuple[str, ...]
    tools: tuple[str, ...]  # the policy's tool ids (without its "unknown" entry) + OTHER_TOOL
    categories: tuple[str, ...]
    trials: tuple[str, ...] = ()
    """Ids of the trials this person may file the card under (their open trials, bot.core.trials);
    empty: the card offers none, and a card naming a trial is refused."""


def card_options(policy: Policy, service_areas: Sequence[str]) -> CardOptions:
    tools = tuple(t.id for t in policy.tools if t.tool_class is not ToolClass.UNKNOWN)
    return CardOptions(
        service_areas=tuple(service_areas),
        tasks=tuple(task.id for task in policy.tasks),
        tools=(*tools, OTHER_TOOL),
        categories=tuple(policy.categories),
    )


@dataclass(frozen=True)
class CardDraft:
    """A submitted card whose every field is valid."""

    title: str
    service_area: str
    task: str
    tool: str
    tool_other: str
    what: str
    result: str
    benefit: int
    minutes_saved: int
    times_per_month: int
    category: str
    challenges: str
    recommend: str
    share: bool
    trial: str = ""  # the id of the trial (utprøving) the card belongs to; "" for none

    def texts(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in TEXT_FIELDS}


@dataclass(frozen=True)
class LearningCard:
    card_id: str
    submitted_at: datetime  # UTC
    author: str  # Entra object id (or the Teams id in the Playground)
    language: str
    draft: CardDraft
    follow_up: tuple[FollowUp, ...]


@dataclass(frozen=True)
class StoredCard:
    card: LearningCard
    state: DeliveryState
    attempts: int = 0
    reason: str = ""
    item_id: str = ""
    lead_status: str = ""

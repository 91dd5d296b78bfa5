"""Records the stores keep and the workers read: plain, frozen data without behaviour.

They live in the core, not beside the Protocols, so flows, workers and adapters share one
definition without depending on the port module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.learning_cards import StoredCard
from bot.core.trials import StoredTrial


@dataclass(frozen=True)
class StoredReference:
    """A conversation the bot may write to later (proactive messages)."""

    conversation_id: str
    conversation_type: str
    tenant_id: str
    reference: Mapping[str, Any]
    # When the bot last heard from the conversation (UTC; stores fill it in when read; None on
    # save means "now"). Not part of the reference itself, so it does not count in comparisons.
    last_seen: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class UsageSnapshot:
    """Counts without people: verdicts by task, tool and information category, and feedback."""

    verdicts: Mapping[tuple[str, str, str, str], int]  # (verdict, task, tool, category) → count
    feedback: Mapping[bool, int]  # useful? → count


@dataclass(frozen=True)
class Subscription:
    """An employee's weekly lesson subscription. Due times are UTC."""

    user_key: str
    conversation_id: str
    weekday: int
    at: str  # "HH:MM" local time
    zone: str
    language: str
    next_due: datetime


JOB_LISTING = "listing"
"""A job's state while its recipients are the lesson subscribers, not yet listed: the broadcast
worker lists them in chunks when the job is due (off the champion's turn), then it is scheduled."""


@dataclass(frozen=True)
class Job:
    id: str
    created_by: str
    due: float  # epoch seconds
    state: str  # listing | scheduled | running | done
    cards: Mapping[str, Any]  # language → card
    progress_service_url: str
    progress_conversation: str
    progress_activity: str
    progress_language: str
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class PendingRecipient:
    conversation_id: str
    language: str
    attempts: int
    reference: Mapping[str, Any] | None  # None: the conversation is no longer known


@dataclass(frozen=True)
class LanguageChoice:
    """What the bot remembers about one person's language (`språk`): the language they chose,
    and whether the one-line offer to choose has been shown to them."""

    language: str | None = None
    """"nb", "nn" or "en" as the person chose it; None while they have not chosen."""
    offered: bool = False
    """The bot has offered the choice once (to someone whose Teams is not in Norwegian)."""


@dataclass(frozen=True)
class PersonRecord:
    """Everything the bot's store holds about one person (`mine data`, an art. 15 request).

    `user_key` is the Entra object id (the Teams id where Teams sends none, as in the Playground).
    """

    user_key: str
    conversations: tuple[StoredReference, ...]  # stored references that name the person
    lessons_completed: frozenset[int]
    subscription: Subscription | None
    learning_cards: tuple[StoredCard, ...]  # cards the person sent (still carrying their id)
    broadcasts: tuple[Job, ...]  # tips the person (a champion) created
    language: LanguageChoice | None = None  # their `språk` choice (and whether it was offered)
    trials: tuple[StoredTrial, ...] = ()  # trials they registered or take part in
    trial_reminders_muted: bool = False  # they asked for no more reminders about trials

    @property
    def empty(self) -> bool:
        return not (
            self.language
            or self.trials
            or self.trial_reminders_muted
            or self.conversations
            or self.lessons_completed
            or self.subscription
            or self.learning_cards
            or self.broadcasts
        )


@dataclass(frozen=True)
class Erasure:
    """What `erase` removed or made anonymous for one person (counts, for the card and the CLI)."""

    conversations: (
        int  # references (and their conversation state) removed or stripped of the person
    )
    lessons: int  # completed lessons forgotten
    subscription: bool  # a weekly subscription ended
    learning_cards: int  # cards whose sender was removed (content kept for the organisation)
    broadcasts: int  # tips whose creator was removed
    trials: int = 0  # trials the person was removed from (as owner or participant)
    trial_reminders: bool = False  # their "no more reminders about trials" choice was forgotten

"""A trial (utprøving) as the bot holds it: what a unit tries with which tool, who takes part,
when, what success looks like, and the KI-sjekk verdict it was registered with.

The KI-veikart has units try AI in planned trials (the utprøvingsskjema), record what they learn
on learning cards, and turn experienced benefit into benefits to realise in a gevinstverksted.
A trial ties those together: learning cards name the trial they belong to.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from bot.core.learning_cards.model import DeliveryState

FILING_GRACE = timedelta(days=14)
"""How long after its last day a trial is still offered on the learning card: people often write
down what they learned once the trial is over."""

REMIND_BEFORE = timedelta(days=3)
"""Participants are asked for a learning card this long before the trial's last day."""


@dataclass(frozen=True)
class TrialDraft:
    """A submitted trial whose every field is valid."""

    title: str  # the task as the unit describes it
    task: str  # the policy's task id (for the KI-sjekk verdict)
    service_area: str  # a service area id from content/learning.yaml
    unit: str  # the unit or department, free text
    tool: str  # the policy's tool id, or OTHER_TOOL
    tool_other: str
    category: str  # the information category the trial works with
    participants: tuple[str, ...]  # Entra object ids (the champion is always one too)
    starts: date
    ends: date
    success: str  # what success looks like


@dataclass(frozen=True)
class Trial:
    trial_id: str
    created_at: datetime  # UTC
    owner: str  # the champion's user key (Entra object id); "" once erased
    language: str
    draft: TrialDraft
    verdict: str  # "green" | "yellow" | "red": the KI-sjekk verdict at registration
    risk_level: str  # the AI Act risk level the check gave


@dataclass(frozen=True)
class StoredTrial:
    trial: Trial
    state: DeliveryState  # its SharePoint item, like a learning card's
    attempts: int = 0
    reason: str = ""
    item_id: str = ""
    reminded: bool = False
    unreached: int = 0
    """Participants the reminder could not reach: the bot has never talked with them (no chat of
    theirs is stored). The trial's summary shows the count; who they are is not kept."""


def takes_part(trial: Trial, user_key: str) -> bool:
    """The person registered the trial or is named in it."""
    return bool(user_key) and (user_key == trial.owner or user_key in trial.draft.participants)


def is_open(trial: Trial, today: date) -> bool:
    """Offered on the learning card: begun, and not more than `FILING_GRACE` past its end."""
    return trial.draft.starts <= today <= trial.draft.ends + FILING_GRACE


def reminder_due(stored: StoredTrial, today: date) -> bool:
    """Time to ask the participants for a learning card (once): within `REMIND_BEFORE` of the
    last day, or later while the trial is still open."""
    trial = stored.trial
    return (
        not stored.reminded and trial.draft.ends - REMIND_BEFORE <= today and is_open(trial, today)
    )


def draft_json(draft: TrialDraft) -> str:
    """The draft as stored (JSON text; dates as ISO days)."""
    record = asdict(draft)
    record["participants"] = list(draft.participants)
    record["starts"] = draft.starts.isoformat()
    record["ends"] = draft.ends.isoformat()
    return json.dumps(record, ensure_ascii=False)


def draft_from_json(text: str) -> TrialDraft:
    record = json.loads(text)
    record["participants"] = tuple(record.get("participants") or ())
    record["starts"] = date.fromisoformat(record["starts"])
    record["ends"] = date.fromisoformat(record["ends"])
    return TrialDraft(**record)

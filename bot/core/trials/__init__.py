"""Trials (utprøvinger): what a unit tries with AI, registered by a champion, with the learning
cards that belong to it. Pure: the model, validation of a submitted trial, and when a trial is
open or due a reminder. No I/O."""

from __future__ import annotations

from bot.core.trials.model import (
    FILING_GRACE,
    REMIND_BEFORE,
    StoredTrial,
    Trial,
    TrialDraft,
    draft_from_json,
    draft_json,
    is_open,
    reminder_due,
    takes_part,
)
from bot.core.trials.validation import MAX_PARTICIPANTS, TrialOptions, validate_trial

__all__ = [
    "FILING_GRACE",
    "MAX_PARTICIPANTS",
    "REMIND_BEFORE",
    "StoredTrial",
    "Trial",
    "TrialDraft",
    "TrialOptions",
    "draft_from_json",
    "draft_json",
    "is_open",
    "reminder_due",
    "takes_part",
    "validate_trial",
]

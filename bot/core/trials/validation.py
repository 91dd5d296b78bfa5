"""`validate_trial`: every field of a submitted trial checked again (type, length, choice, dates),
since a card payload can be forged. Same rules and error shape as the learning card's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.learning_cards.model import OTHER_TOOL, CardOptions
from bot.core.learning_cards.validation import (
    LONG_MAX,
    SHORT_MAX,
    TITLE_MAX,
    FieldError,
    Problem,
    choice_field,
    text_field,
)
from bot.core.trials.model import TrialDraft

MAX_PARTICIPANTS = 200
LONGEST = timedelta(days=366)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{0,99}$")


@dataclass(frozen=True)
class TrialOptions:
    """The choices a trial offers: those of the learning card (areas, tasks, tools, categories)."""

    card: CardOptions


def _date(data: Mapping[str, object], name: str, errors: list[FieldError]) -> date | None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, Problem.REQUIRED))
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        errors.append(FieldError(name, Problem.NOT_A_DATE))
        return None


def _participants(
    data: Mapping[str, object], owner: str, errors: list[FieldError]
) -> tuple[str, ...]:
    """Entra object ids from Teams' people picker (comma-separated), the owner first."""
    value = data.get("participants", "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError("participants", Problem.UNKNOWN_CHOICE))
        return (owner,)
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if any(not _ID.match(part) for part in ids):
        errors.append(FieldError("participants", Problem.UNKNOWN_CHOICE))
        return (owner,)
    unique = list(dict.fromkeys([owner, *ids]))
    if len(unique) > MAX_PARTICIPANTS:
        errors.append(FieldError("participants", Problem.OUT_OF_RANGE))
    return tuple(unique)


def validate_trial(
    data: Mapping[str, object], options: TrialOptions, *, owner: str, today: date
) -> TrialDraft | tuple[FieldError, ...]:
    """Total: any mapping gives a valid draft or the list of what is wrong, field by field. The
    period must not be over (it may have begun), end on or after its start, and last a year at
    most."""
    errors: list[FieldError] = []
    card = options.card
    title = text_field(data, "title", TITLE_MAX, errors, required=True)
    task = choice_field(data, "task", card.tasks, errors)
    area = choice_field(data, "area", card.service_areas, errors)
    unit = text_field(data, "unit", SHORT_MAX, errors, required=True)
    tool = choice_field(data, "tool", card.tools, errors)
    tool_other = text_field(data, "tool_other", SHORT_MAX, errors, required=tool == OTHER_TOOL)
    category = choice_field(data, "category", card.categories, errors)
    participants = _participants(data, owner, errors)
    starts = _date(data, "starts", errors)
    ends = _date(data, "ends", errors)
    if starts is not None and ends is not None:
        if ends < starts or ends - starts > LONGEST:
            errors.append(FieldError("ends", Problem.OUT_OF_RANGE))
        elif ends < today:
            errors.append(FieldError("ends", Problem.IN_THE_PAST))
    success = text_field(data, "success", LONG_MAX, errors, required=True)
    if errors or starts is None or ends is None:
        return tuple(errors)
    return TrialDraft(
        title=title,
        task=task,
        service_area=area,
        unit=unit,
        tool=tool,
        tool_other=tool_other if tool == OTHER_TOOL else "",
        category=category,
        participants=participants,
        starts=starts,
        ends=ends,
        success=success,
    )

"""`validate`: every field of a submitted card checked again (type, range, length and choice),
since a card payload can be forged."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.core.learning_cards.model import OTHER_TOOL, CardDraft, CardOptions

RECOMMEND = ("yes", "maybe", "no")
TITLE_MAX = 120
SHORT_MAX = 100
LONG_MAX = 2000
BENEFIT_RANGE = (1, 5)
MINUTES_RANGE = (0, 600)
PER_MONTH_RANGE = (0, 500)


class Problem(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CHOICE = "unknown_choice"
    NOT_A_DATE = "not_a_date"
    IN_THE_PAST = "in_the_past"


@dataclass(frozen=True)
class FieldError:
    field: str
    problem: Problem


def text_field(
    data: Mapping[str, object], name: str, limit: int, errors: list[FieldError], *, required: bool
) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(name, Problem.REQUIRED if required else Problem.TOO_LONG))
        return ""
    value = value.strip()
    if required and not value:
        errors.append(FieldError(name, Problem.REQUIRED))
    elif len(value) > limit:
        errors.append(FieldError(name, Problem.TOO_LONG))
    return value


def choice_field(
    data: Mapping[str, object], name: str, allowed: Sequence[str], errors: list[FieldError]
) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, Problem.REQUIRED))
        return ""
    if value.strip() not in allowed:
        errors.append(FieldError(name, Problem.UNKNOWN_CHOICE))
        return ""
    return value.strip()


def _number(
    data: Mapping[str, object], name: str, bounds: tuple[int, int], errors: list[FieldError]
) -> int:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(name, Problem.REQUIRED))
        return 0
    number: float
    if isinstance(value, bool):
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 20:
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            errors.append(FieldError(name, Problem.NOT_A_NUMBER))
            return 0
    else:
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    if not math.isfinite(number) or number != int(number):
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    low, high = bounds
    if not low <= number <= high:
        errors.append(FieldError(name, Problem.OUT_OF_RANGE))
        return 0
    return int(number)


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def validate(
    data: Mapping[str, object], options: CardOptions
) -> CardDraft | tuple[FieldError, ...]:
    """Check every field of a submitted card: type, range, length and choice. Total: any mapping
    gives either a valid draft or the list of what is wrong, field by field."""
    errors: list[FieldError] = []
    title = text_field(data, "title", TITLE_MAX, errors, required=True)
    area = choice_field(data, "area", options.service_areas, errors)
    task = choice_field(data, "task", options.tasks, errors)
    tool = choice_field(data, "tool", options.tools, errors)
    tool_other = text_field(data, "tool_other", SHORT_MAX, errors, required=tool == OTHER_TOOL)
    what = text_field(data, "what", LONG_MAX, errors, required=True)
    result = text_field(data, "result", LONG_MAX, errors, required=True)
    benefit = _number(data, "benefit", BENEFIT_RANGE, errors)
    minutes = _number(data, "minutes", MINUTES_RANGE, errors)
    per_month = _number(data, "per_month", PER_MONTH_RANGE, errors)
    category = choice_field(data, "category", options.categories, errors)
    challenges = text_field(data, "challenges", LONG_MAX, errors, required=False)
    recommend = choice_field(data, "recommend", RECOMMEND, errors)
    share = _flag(data.get("share"))
    if share is None:
        errors.append(FieldError("share", Problem.UNKNOWN_CHOICE))
    trial = data.get("trial")
    if trial is None or trial == "":
        trial = ""
    elif not isinstance(trial, str) or trial.strip() not in options.trials:
        errors.append(FieldError("trial", Problem.UNKNOWN_CHOICE))
        trial = ""
    if errors:
        return tuple(errors)
    return CardDraft(
        title=title,
        service_area=area,
        task=task,
        tool=tool,
        tool_other=tool_other if tool == OTHER_TOOL else "",
        what=what,
        result=result,
        benefit=benefit,
        minutes_saved=minutes,
        times_per_month=per_month,
        category=category,
        challenges=challenges,
        recommend=recommend,
        share=bool(share),
        trial=str(trial).strip(),
    )

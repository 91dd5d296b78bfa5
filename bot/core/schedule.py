"""When a weekly subscription is next due. Pure: times are passed in; zones come from zoneinfo.

A subscriber picks a weekday and a local time (default Monday 09:00 Europe/Oslo). Due times are
stored in UTC, so delivery survives restarts and daylight-saving changes land on the right local
hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/Oslo"
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_TIME = time(9, 0)
WEEKDAYS = tuple(range(5))  # Monday–Friday: lessons arrive on working days
TIMES = tuple(time(hour, 0) for hour in range(7, 17))  # 07:00 … 16:00


class ScheduleError(ValueError):
    """A weekday or time outside what the subscription card offers, or an unknown time zone."""


@dataclass(frozen=True)
class WeeklySlot:
    weekday: int  # 0 = Monday
    at: time
    zone: str = DEFAULT_ZONE

    def __post_init__(self) -> None:
        if self.weekday not in WEEKDAYS:
            raise ScheduleError("weekday must be Monday to Friday (0–4)")
        if self.at not in TIMES:
            raise ScheduleError("time must be a whole hour from 07:00 to 16:00")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            # checked here, not first in next_due (a KeyError there would stop a whole batch)
            raise ScheduleError("unknown time zone") from None

    @staticmethod
    def parse(weekday: str, at: str, zone: str = DEFAULT_ZONE) -> WeeklySlot:
        try:
            day = int(weekday)
            hour, minute = (int(part) for part in at.split(":"))
            return WeeklySlot(day, time(hour, minute), zone)
        except (ValueError, TypeError, OverflowError):
            raise ScheduleError("weekday or time is not valid") from None

    @property
    def time_text(self) -> str:
        return self.at.strftime("%H:%M")


DEFAULT_SLOT = WeeklySlot(DEFAULT_WEEKDAY, DEFAULT_TIME)


def next_due(slot: WeeklySlot, after: datetime) -> datetime:
    """The first moment of `slot` strictly after `after` (an aware datetime), in UTC."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    zone = ZoneInfo(slot.zone)
    local = after.astimezone(zone)
    days_ahead = (slot.weekday - local.weekday()) % 7
    for extra_weeks in (0, 1):
        day = local.date() + timedelta(days=days_ahead + 7 * extra_weeks)
        candidate = datetime.combine(day, slot.at, tzinfo=zone)
        if candidate.astimezone(UTC) > after.astimezone(UTC):
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: two weeks always contain the slot")  # pragma: no cover

"""Champions' weekly tip: what a valid request is. Pure rules, with an error code per mistake.

Everything a compose or preview card sends back is checked here again: the tip (one from the pool,
or the champion's own text within the limit), the audience (subscribers, or channels the app is
installed in) and the time (not in the past). A forged or stale payload gets a code, never a send.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.lessons import LessonBook

TIP_LIMIT = 500
CLOCK_SKEW = timedelta(minutes=2)
"""A time this little in the past still counts as now: the champion's clock and ours differ."""
AUDIENCES = ("subscribers", "channels")


class TipError(StrEnum):
    """Why a tip request was refused; each has a sentence `tips.error_<code>` in content."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_CHANNELS = "no_channels"
    UNKNOWN_CHANNEL = "unknown_channel"
    PAST = "past"
    NO_RECIPIENTS = "no_recipients"


@dataclass(frozen=True)
class TipRequest:
    """A validated request: what to send, to whom, when (UTC)."""

    tip_id: str  # "" for the champion's own text
    own_text: str
    audience: str  # subscribers | channels
    channels: tuple[str, ...]
    due: datetime | None  # None = now

    def text(self, book: LessonBook) -> str:
        return self.own_text if not self.tip_id else book.tip(self.tip_id).text


def parse_tip(
    data: Mapping[str, object],
    book: LessonBook,
    known_channels: Collection[str],
    now: datetime,
    zone: ZoneInfo,
) -> TipRequest | TipError:
    """A valid request from a card's data, or the code of what is wrong."""
    own = str(data.get("own", "") or "").strip()
    tip_id = "" if own else str(data.get("tip", "") or "")
    if not own and not tip_id:
        return TipError.EMPTY
    if len(own) > TIP_LIMIT:
        return TipError.TOO_LONG
    if tip_id and tip_id not in {tip.id for tip in book.tips}:
        return TipError.EMPTY
    audience = str(data.get("audience", "subscribers"))
    if audience not in AUDIENCES:
        return TipError.EMPTY
    channels: tuple[str, ...] = ()
    if audience == "channels":
        raw = str(data.get("channels", "") or "")
        channels = tuple(part for part in raw.split(",") if part)
        if not channels:
            return TipError.NO_CHANNELS
        if any(channel not in known_channels for channel in channels):
            return TipError.UNKNOWN_CHANNEL
    due = _due(data, now, zone)
    if isinstance(due, TipError):
        return due
    return TipRequest(tip_id=tip_id, own_text=own, audience=audience, channels=channels, due=due)


def _due(data: Mapping[str, object], now: datetime, zone: ZoneInfo) -> datetime | TipError | None:
    date_text = str(data.get("date", "") or "").strip()
    time_text = str(data.get("time", "") or "").strip()
    if not date_text and not time_text:
        return None
    try:
        day = datetime.strptime(date_text or now.astimezone(zone).strftime("%Y-%m-%d"), "%Y-%m-%d")
        hour, minute = (int(part) for part in (time_text or "09:00").split(":")[:2])
        due = day.replace(hour=hour, minute=minute, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):  # a forged date or time, or one out of range
        return TipError.PAST
    if due < now - CLOCK_SKEW:
        return TipError.PAST
    return due

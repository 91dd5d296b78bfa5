"""Champions' weekly tip: compose → preview → send (now or at a chosen time) → progress.

Everything the card sends back is checked again here: the tip (from the pool, or the champion's
own text within the limit), the audience (subscribers, or channels the app is installed in), and
the time (not in the past). A forged or stale payload gets the compose card with what was wrong;
nothing is sent by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.broadcast import Progress
from bot.core.lessons import LessonBook
from bot.core.schedule import DEFAULT_ZONE
from cards.verbs import Verb
from cards.views import (
    ButtonSpec,
    CardView,
    Choice,
    Fact,
    NoticeView,
    TipComposeView,
    TipPreviewView,
    TipProgressView,
)
from content import Texts

TIP_LIMIT = 500
CLOCK_SKEW = timedelta(minutes=2)


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


class ChampionDialog:
    def __init__(self, zone: str = DEFAULT_ZONE) -> None:
        self._zone = ZoneInfo(zone)

    def refused(self, texts: Texts) -> CardView:
        return NoticeView(
            title=texts("tips.refused_title"),
            body=texts("tips.refused_body"),
            buttons=(ButtonSpec(texts("fallback.button_help"), Verb.HELP.value),),
        )

    def compose(
        self,
        texts: Texts,
        book: LessonBook,
        channels: Sequence[tuple[str, str]],
        *,
        error: str = "",
        data: Mapping[str, object] | None = None,
    ) -> CardView:
        data = data or {}
        return TipComposeView(
            tips=tuple(Choice(tip.id, _short(tip.text)) for tip in book.tips),
            channels=tuple(Choice(cid, name) for cid, name in channels),
            limit=TIP_LIMIT,
            error=error,
            tip=str(data.get("tip", "") or (book.tips[0].id if book.tips else "")),
            own=str(data.get("own", ""))[:TIP_LIMIT],
            audience="channels" if data.get("audience") == "channels" else "subscribers",
        )

    def parse(
        self,
        texts: Texts,
        book: LessonBook,
        data: Mapping[str, object],
        known_channels: Sequence[str],
        now: datetime,
    ) -> TipRequest | str:
        """A valid request, or the sentence that says what is wrong."""
        own = str(data.get("own", "") or "").strip()
        tip_id = "" if own else str(data.get("tip", "") or "")
        if not own and not tip_id:
            return texts("tips.error_empty")
        if len(own) > TIP_LIMIT:
            return texts("tips.error_too_long", limit=TIP_LIMIT)
        if tip_id:
            try:
                book.tip(tip_id)
            except KeyError:
                return texts("tips.error_empty")
        audience = str(data.get("audience", "subscribers"))
        if audience not in ("subscribers", "channels"):
            return texts("tips.error_empty")
        channels: tuple[str, ...] = ()
        if audience == "channels":
            raw = str(data.get("channels", "") or "")
            channels = tuple(part for part in raw.split(",") if part)
            if not channels:
                return texts("tips.error_no_channels")
            if any(channel not in known_channels for channel in channels):
                return texts("tips.error_unknown_channel")
        due = self._due(data, now)
        if due == "past":
            return texts("tips.error_past")
        if due == "invalid":
            return texts("tips.error_past")
        return TipRequest(
            tip_id=tip_id,
            own_text=own,
            audience=audience,
            channels=channels,
            due=due if isinstance(due, datetime) else None,
        )

    def _due(self, data: Mapping[str, object], now: datetime) -> datetime | str | None:
        date_text = str(data.get("date", "") or "").strip()
        time_text = str(data.get("time", "") or "").strip()
        if not date_text and not time_text:
            return None
        try:
            day = datetime.strptime(
                date_text or now.astimezone(self._zone).strftime("%Y-%m-%d"), "%Y-%m-%d"
            )
            hour, minute = (int(part) for part in (time_text or "09:00").split(":")[:2])
            local = day.replace(hour=hour, minute=minute, tzinfo=self._zone)
            due = local.astimezone(UTC)
        except (ValueError, OverflowError):  # a forged date or time, or one out of range
            return "invalid"
        if due < now - CLOCK_SKEW:
            return "past"
        return due

    def preview(self, texts: Texts, book: LessonBook, request: TipRequest, count: int) -> CardView:
        when = (
            texts("tips.now")
            if request.due is None
            else request.due.astimezone(self._zone).strftime("%d.%m.%Y %H:%M")
        )
        audience = texts(f"tips.audience_{request.audience}")
        return TipPreviewView(
            text=request.text(book),
            facts=(
                Fact(texts("tips.fact_audience"), audience),
                Fact(texts("tips.fact_count"), str(count)),
                Fact(texts("tips.fact_when"), when),
            ),
            state=(
                ("tip", request.tip_id),
                ("own", request.own_text),
                ("audience", request.audience),
                ("channels", ",".join(request.channels)),
                (
                    "date",
                    ""
                    if request.due is None
                    else request.due.astimezone(self._zone).strftime("%Y-%m-%d"),
                ),
                (
                    "time",
                    ""
                    if request.due is None
                    else request.due.astimezone(self._zone).strftime("%H:%M"),
                ),
            ),
        )

    def scheduled(self, texts: Texts, request: TipRequest, count: int) -> CardView:
        when = (
            ""
            if request.due is None
            else request.due.astimezone(self._zone).strftime("%d.%m.%Y %H:%M")
        )
        return NoticeView(
            title=texts("tips.scheduled_title"),
            body=texts("tips.scheduled_body", when=when, count=count),
            buttons=(ButtonSpec(texts("tips.title"), Verb.TIP_COMPOSE.value),),
        )

    def progress(self, texts: Texts, progress: Progress, seconds_left: float) -> CardView:
        total = progress.total
        facts = [
            Fact(texts("tips.fact_sent"), f"{progress.sent} / {total}"),
            Fact(texts("tips.fact_failed"), str(progress.failed)),
            Fact(texts("tips.fact_blocked"), str(progress.blocked)),
            Fact(texts("tips.fact_not_found"), str(progress.not_found)),
        ]
        if progress.finished:
            facts.append(
                Fact(
                    texts("tips.fact_duration"),
                    texts("tips.seconds", seconds=round(progress.elapsed_seconds)),
                )
            )
        else:
            facts.append(
                Fact(texts("tips.fact_left"), texts("tips.seconds", seconds=round(seconds_left)))
            )
        return TipProgressView(
            title=texts("tips.report_title" if progress.finished else "tips.progress_title"),
            facts=tuple(facts),
            finished=progress.finished,
        )


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

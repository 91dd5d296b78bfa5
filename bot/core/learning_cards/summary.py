"""The project leads' summary of all cards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.learning_cards.model import DeliveryState, StoredCard
from bot.core.sharepoint_schema import LEAD_STATUSES


@dataclass(frozen=True)
class Summary:
    total: int
    by_area: tuple[tuple[str, int], ...]  # id → count, most first
    by_tool: tuple[tuple[str, int], ...]
    average_benefit: float | None
    hours_saved_per_month: float
    recommended: tuple[tuple[str, int], ...]  # task id → cards that would recommend it
    flagged: tuple[StoredCard, ...]
    by_status: tuple[tuple[str, int], ...]
    pending: int
    parked: tuple[StoredCard, ...] = field(default=())


def _most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def summarize(cards: Iterable[StoredCard]) -> Summary:
    items = list(cards)
    drafts = [stored.card.draft for stored in items]
    benefit = sum(d.benefit for d in drafts) / len(drafts) if drafts else None
    minutes = sum(d.minutes_saved * d.times_per_month for d in drafts)
    statuses = Counter(stored.lead_status or LEAD_STATUSES[0] for stored in items)
    return Summary(
        total=len(items),
        by_area=_most_first(Counter(d.service_area for d in drafts)),
        by_tool=_most_first(Counter(d.tool for d in drafts)),
        average_benefit=benefit,
        hours_saved_per_month=minutes / 60,
        recommended=_most_first(Counter(d.task for d in drafts if d.recommend == "yes")),
        flagged=tuple(stored for stored in items if stored.card.follow_up),
        by_status=tuple((status, statuses.get(status, 0)) for status in LEAD_STATUSES)
        + tuple(
            sorted((s, n) for s, n in statuses.items() if s not in LEAD_STATUSES)  # set in the list
        ),
        pending=sum(1 for stored in items if stored.state is DeliveryState.PENDING),
        parked=tuple(stored for stored in items if stored.state is DeliveryState.PARKED),
    )

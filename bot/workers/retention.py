"""The retention limit (KIVETT_RETENTION_DAYS): once a day, forget what has outlived it.

- Conversations nobody has written in for longer than the limit and that no one subscribes to
  lessons in: their reference and conversation state (`PersonalData.prune`). A subscriber is not
  gone: when they leave the municipality, Teams refuses the weekly delivery and the lesson worker
  drops their subscription and reference. Lesson progress and the language choice stay until the
  person erases them.
- Usage counts of calendar months that ended longer ago than the limit (`UsageStats.prune`). The
  counts name no one; they are kept by month so that old ones can go.
- Card actions claimed longer ago than the limit (`ActionLedger.prune`): the record that a tip
  send, a subscription or a feedback vote was applied. A button pressed again after that long would
  apply once more (it names no one, but it is kept no longer than the rest).

Learning cards are not pruned: they belong to the municipality's learning. Their sender is
removed on request ("Slett mine data", `kivett privacy erase`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.logs import get_logger
from bot.ports import ActionLedger, PersonalData, UsageStats

_log = get_logger("retention")

DAY_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Pruned:
    cutoff: datetime
    conversations: int
    usage_counters: int
    card_actions: int = 0


class RetentionWorker:
    def __init__(
        self,
        *,
        personal: PersonalData,
        usage: UsageStats,
        days: int,
        actions: ActionLedger | None = None,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._personal = personal
        self._usage = usage
        self._actions = actions
        self._keep = timedelta(days=days)
        self._clock = clock
        self._sleep = sleep

    async def run_once(self) -> Pruned:
        cutoff = self._clock() - self._keep
        conversations = await self._personal.prune(cutoff)
        counters = await self._usage.prune(cutoff)
        actions = 0 if self._actions is None else await self._actions.prune(cutoff)
        _log.info(
            "retention_pruned",
            extra={
                "fields": {
                    "conversations": conversations,
                    "usage_counters": counters,
                    "card_actions": actions,
                }
            },
        )
        return Pruned(
            cutoff=cutoff,
            conversations=conversations,
            usage_counters=counters,
            card_actions=actions,
        )

    async def run_forever(self, interval_seconds: float = DAY_SECONDS) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the store failed: log, and try again at the next round
                _log.exception("retention_round_failed")
            await self._sleep(interval_seconds)

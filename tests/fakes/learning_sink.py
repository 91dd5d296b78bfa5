"""A fake learning-card sink (implements bot.ports.LearningCardSink) with a script of failures.

It behaves like the SharePoint list: items keyed by a unique card id, so creating the same card id
twice gives back the first item, as the real sink does when it finds the card after an ambiguous
failure. `script` holds what the next calls do: "ok", "429", "503", "timeout", "403",
"ambiguous" (the item is created, but the caller sees a timeout).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from bot.ports import SinkPermanentError, SinkTransientError


class FakeSink:
    def __init__(self, script: list[str] | None = None, retry_after: float = 1.0) -> None:
        self.script: deque[str] = deque(script or [])
        self.retry_after = retry_after
        self.items: dict[str, dict[str, object]] = {}
        self.creates = 0  # items actually created (a duplicate would show here)
        self.calls: list[str] = []
        self.statuses_answer: dict[str, str] = {}
        self.closed = False

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        outcome = self.script.popleft() if self.script else "ok"
        self.calls.append(outcome)
        if outcome == "429":
            raise SinkTransientError("429 throttled", retry_after=self.retry_after)
        if outcome == "503":
            raise SinkTransientError("503 serviceNotAvailable")
        if outcome == "timeout":
            raise SinkTransientError("timeout")
        if outcome == "403":
            raise SinkPermanentError("403 accessDenied")
        if card_id not in self.items:
            self.items[card_id] = dict(fields)
            self.creates += 1
        if outcome == "ambiguous":
            raise SinkTransientError("timeout")
        return f"item-{list(self.items).index(card_id) + 1}"

    async def statuses(self) -> dict[str, str]:
        return dict(self.statuses_answer)

    def list_url(self) -> str:
        return "https://contoso.sharepoint.com/sites/ki/Lists/Laeringskort" if self.items else ""

    async def close(self) -> None:
        self.closed = True

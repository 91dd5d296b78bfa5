"""A fake learning-card sink (implements bot.ports.LearningCardSink) with a script of failures.

It behaves like the SharePoint list: items keyed by a unique card id, so creating the same card id
twice gives back the first item, as the real sink does when it finds the card after an ambiguous
failure; `update` changes only the fields it is given, and an item that is not there (deleted by a
lead, see `delete`) counts as updated, as in the real sink. `script` holds what the next calls
(creates and updates alike) do: "ok", "429", "503", "timeout", "403", "ambiguous" (the change is
made, but the caller sees a timeout).
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
        self.item_ids: dict[str, str] = {}  # item id -> card id
        self.creates = 0  # items actually created (a duplicate would show here)
        self.updates: list[tuple[str, dict[str, object]]] = []  # (item id, fields) carried out
        self.calls: list[str] = []
        self.statuses_answer: dict[str, str] = {}
        self.closed = False
        self._next_item = 1

    def _outcome(self) -> str:
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
        return outcome

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        outcome = self._outcome()
        if card_id not in self.items:
            self.items[card_id] = dict(fields)
            self.item_ids[f"item-{self._next_item}"] = card_id
            self._next_item += 1
            self.creates += 1
        if outcome == "ambiguous":
            raise SinkTransientError("timeout")
        return next(item for item, card in self.item_ids.items() if card == card_id)

    async def update(self, item_id: str, fields: Mapping[str, object]) -> None:
        outcome = self._outcome()
        card_id = self.item_ids.get(item_id)
        if card_id is not None:
            self.items[card_id].update(fields)
            self.updates.append((item_id, dict(fields)))
        if outcome == "ambiguous":
            raise SinkTransientError("timeout")

    def delete(self, item_id: str) -> None:
        """A lead deletes the item in SharePoint."""
        card_id = self.item_ids.pop(item_id)
        del self.items[card_id]

    async def statuses(self) -> dict[str, str]:
        return dict(self.statuses_answer)

    def list_url(self) -> str:
        return "https://contoso.sharepoint.com/sites/ki/Lists/Laeringskort" if self.items else ""

    async def close(self) -> None:
        self.closed = True

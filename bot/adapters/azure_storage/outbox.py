"""Learning cards on Azure Storage (implements bot.ports.LearningCardStore), for several instances.

One blob per card (the card and its delivery state) and one queue message per card waiting for
SharePoint. An instance that receives the message has it to itself until the visibility timeout; a
retry is the same message hidden until its retry time; a delivered or parked card's message is
deleted. An instance that dies lets the message reappear for another. A message received more often
than `poison_after` times goes to the `-poison` queue and its card is parked with the reason.
A delivered card whose sender was erased gets a new message and state `redact`, so the outbox
removes the sender from its item too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from azure.storage.blob.aio import ContainerClient
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from bot.adapters.azure_storage.blob import (
    blob_names,
    create_json,
    gather_bounded,
    read_json,
    replace_json,
)
from bot.adapters.azure_storage.queues import delete_message, hide, receive, send
from bot.core.learning_cards import CardDraft, DeliveryState, FollowUp, LearningCard, StoredCard
from bot.core.state_keys import require_user_key
from bot.logs import get_logger
from bot.ports import StorageUnavailableError

_log = get_logger("azure_outbox")
CARDS = "learning-cards/"


def _card_document(card: LearningCard) -> dict[str, Any]:
    return {
        "card_id": card.card_id,
        "submitted_at": card.submitted_at.isoformat(),
        "author": card.author,
        "language": card.language,
        "draft": asdict(card.draft),
        "follow_up": [flag.value for flag in card.follow_up],
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "reason": "",
        "item_id": "",
        "lead_status": "",
    }


def _stored_card(data: Mapping[str, Any]) -> StoredCard:
    card = LearningCard(
        card_id=str(data["card_id"]),
        submitted_at=datetime.fromisoformat(str(data["submitted_at"])),
        author=str(data["author"]),
        language=str(data["language"]),
        draft=CardDraft(**data["draft"]),
        follow_up=tuple(FollowUp(value) for value in data.get("follow_up", [])),
    )
    return StoredCard(
        card=card,
        state=DeliveryState(str(data.get("state", DeliveryState.PENDING.value))),
        attempts=int(data.get("attempts", 0)),
        reason=str(data.get("reason", "")),
        item_id=str(data.get("item_id", "")),
        lead_status=str(data.get("lead_status", "")),
    )


class AzureLearningCardStore:
    """Implements bot.ports.LearningCardStore: card blobs plus the outbox queue."""

    def __init__(
        self,
        container: ContainerClient,
        queue: QueueClient,
        poison: QueueClient,
        *,
        visibility_seconds: int = 120,
        poison_after: int = 25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._container = container
        self._queue = queue
        self._poison = poison
        self._visibility = visibility_seconds
        self._poison_after = poison_after
        self._clock = clock
        self._held: dict[str, QueueMessage] = {}  # card id → the message this instance holds

    @staticmethod
    def _name(card_id: str) -> str:
        return f"{CARDS}{card_id}.json"

    async def add(self, card: LearningCard) -> bool:
        # The message first: a card whose blob is written always has a message. A message whose
        # blob never came (a crash in between, before the employee was told "saved") is dropped.
        sent = await send(self._queue, card.card_id)
        if await create_json(self._container, self._name(card.card_id), _card_document(card)):
            return True
        await delete_message(self._queue, sent)  # the card was stored before: one message is enough
        return False

    async def get(self, card_id: str) -> StoredCard | None:
        found = await read_json(self._container, self._name(card_id))
        return None if found is None else _stored_card(found[0])

    async def all(self) -> list[StoredCard]:
        names = await blob_names(self._container, CARDS)
        found = await gather_bounded(read_json(self._container, name) for name in names)
        cards = [_stored_card(item[0]) for item in found if item is not None]
        return sorted(cards, key=lambda s: (s.card.submitted_at, s.card.card_id))

    async def due(self, now: float, limit: int) -> list[StoredCard]:
        due: list[StoredCard] = []
        for message in await receive(self._queue, limit, self._visibility):
            card_id = str(message.content)
            held = self._held.get(card_id)
            if held is not None and held.id != message.id:
                await self._delete(message)  # a second message for a card this instance has
                continue
            found = await read_json(self._container, self._name(card_id))
            if found is None:
                if (message.dequeue_count or 0) >= 3:
                    await self._delete(message)  # its card was never stored: nothing to deliver
                else:
                    await self._hide(message, 5)
                continue
            stored = _stored_card(found[0])
            if stored.state not in (DeliveryState.PENDING, DeliveryState.REDACT):
                await self._delete(message)
                continue
            if (message.dequeue_count or 0) > self._poison_after:
                await self._to_poison(message)
                await self._set(card_id, state=DeliveryState.PARKED.value, reason="poison")
                continue
            self._held[card_id] = message
            due.append(stored)
        return due

    async def next_attempt(self) -> float | None:
        return None  # the queue knows; the worker looks again at its interval

    async def delivered(self, card_id: str, item_id: str) -> None:
        """The card's item exists. A pending card whose sender was erased meanwhile (perhaps
        while its item was being created, with the sender) goes on to REDACT with a new
        message, so the item's sender column is emptied too; a REDACT card is DELIVERED again.
        The state is decided on the document being replaced, so an erase between this read and
        this write is not overwritten."""

        def change(data: dict[str, Any]) -> dict[str, Any]:
            erased = data.get("author") == "" and data.get("state") == DeliveryState.PENDING.value
            state = DeliveryState.REDACT if erased else DeliveryState.DELIVERED
            data.update(state=state.value, item_id=item_id, reason="")
            data["attempts"] = int(data.get("attempts", 0)) + 1
            return data

        written = await self._update(card_id, change)
        await self._release(card_id)
        if written is not None and written.get("state") == DeliveryState.REDACT.value:
            await send(self._queue, card_id)

    async def retry(self, card_id: str, at: float, reason: str) -> None:
        await self._set(card_id, reason=reason, bump=True)
        message = self._held.pop(card_id, None)
        if message is not None:
            await self._hide(message, at - self._clock())

    async def park(self, card_id: str, reason: str) -> None:
        await self._set(card_id, state=DeliveryState.PARKED.value, reason=reason, bump=True)
        await self._release(card_id)

    async def requeue_parked(self) -> int:
        """Send parked cards again; a card that already has its item goes back to having its
        sender removed, not to a new item."""
        count = 0
        for stored in await self.all():
            if stored.state is DeliveryState.PARKED:
                state = DeliveryState.REDACT if stored.item_id else DeliveryState.PENDING
                await self._set(stored.card.card_id, state=state.value)
                await send(self._queue, stored.card.card_id)
                count += 1
        return count

    async def by_author(self, user_key: str) -> list[StoredCard]:
        """The cards this person sent (that still carry their id)."""
        return [stored for stored in await self.all() if stored.card.author == user_key]

    async def remove_author(self, user_key: str) -> int:
        """Remove the sender from every card of this person; a card already in SharePoint goes
        back to the outbox (state `redact`, with a new message). Returns how many cards. Each
        card is decided on the document being replaced, so a delivery racing the erase cannot
        leave the sender in SharePoint."""
        require_user_key(user_key)

        to_redact = [False]  # whether the replace that was written turned the card to REDACT

        def change(data: dict[str, Any]) -> dict[str, Any] | None:
            to_redact[0] = False
            if data.get("author") != user_key:
                return None
            data["author"] = ""
            if data.get("state") == DeliveryState.DELIVERED.value and data.get("item_id"):
                data["state"] = DeliveryState.REDACT.value
                to_redact[0] = True
            return data

        count = 0
        for stored in await self.by_author(user_key):
            card_id = stored.card.card_id
            if await self._update(card_id, change) is None:
                continue
            count += 1
            if to_redact[0]:
                await send(self._queue, card_id)
        return count

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int:
        changed = 0
        for card_id, status in statuses.items():
            found = await read_json(self._container, self._name(card_id))
            if found is not None and found[0].get("lead_status") != status:
                await self._set(card_id, lead_status=status)
                changed += 1
        return changed

    async def _set(self, card_id: str, *, bump: bool = False, **changes: Any) -> None:
        def change(data: dict[str, Any]) -> dict[str, Any]:
            data.update(changes)
            if bump:
                data["attempts"] = int(data.get("attempts", 0)) + 1
            return data

        await self._update(card_id, change)

    async def _update(
        self, card_id: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any] | None:
        """Apply `change` to the freshly read document and replace it with optimistic
        concurrency (re-read and re-apply on a lost race). `change` returning None leaves the
        card as it is. Returns the document written, or None if nothing was written."""
        for _ in range(10):
            found = await read_json(self._container, self._name(card_id))
            if found is None:
                return None
            data, etag = found
            changed = change(data)
            if changed is None:
                return None
            if await replace_json(self._container, self._name(card_id), changed, etag=etag):
                return changed
        raise StorageUnavailableError("card document: too many concurrent writers")

    async def _release(self, card_id: str) -> None:
        message = self._held.pop(card_id, None)
        if message is not None:
            await self._delete(message)

    async def _delete(self, message: QueueMessage) -> None:
        await delete_message(self._queue, message)

    async def _hide(self, message: QueueMessage, seconds: float) -> None:
        await hide(self._queue, message, seconds)

    async def _to_poison(self, message: QueueMessage) -> None:
        await send(self._poison, str(message.content))
        await self._delete(message)
        _log.warning("outbox_poison", extra={"fields": {"card": str(message.content)}})

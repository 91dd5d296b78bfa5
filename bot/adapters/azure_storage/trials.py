"""Trials on Azure Storage (implements bot.ports.TrialStore), for several instances.

One blob per trial, holding the trial and its delivery state for the SharePoint trials list. Trials
are few (a municipality registers tens to hundreds a year), so the outbox and "the trials I am in"
read them all; every change is a compare-and-set on the blob's ETag, so two instances never
overwrite each other. Two instances delivering the same trial at once cannot make two list items:
the list's trial-id column is unique and the sink looks the id up after an ambiguous failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from azure.storage.blob.aio import ContainerClient

from bot.adapters.azure_storage.blob import (
    blob_names,
    create_json,
    delete_if_present,
    gather_bounded,
    key_segment,
    read_json,
    replace_json,
)
from bot.core.learning_cards import DeliveryState
from bot.core.state_keys import require_user_key
from bot.core.trials import StoredTrial, Trial, draft_from_json, draft_json
from bot.ports import StorageUnavailableError

TRIALS = "trials/"
MUTES = "trial-reminder-mutes/"
"""One small blob per person who asked for no more reminders about trials (outside `TRIALS`,
which holds only trials)."""
MAX_ATTEMPTS = 8


def _mute_name(user_key: str) -> str:
    return MUTES + key_segment(user_key)


def _document(trial: Trial) -> dict[str, Any]:
    return {
        "trial_id": trial.trial_id,
        "created_at": trial.created_at.isoformat(),
        "owner": trial.owner,
        "language": trial.language,
        "draft": draft_json(trial.draft),
        "verdict": trial.verdict,
        "risk_level": trial.risk_level,
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "next_attempt": 0.0,
        "reason": "",
        "item_id": "",
        "reminded": False,
        "unreached": 0,
    }


def _stored(data: Mapping[str, Any]) -> StoredTrial:
    trial = Trial(
        trial_id=str(data["trial_id"]),
        created_at=datetime.fromisoformat(str(data["created_at"])),
        owner=str(data.get("owner", "")),
        language=str(data.get("language", "nb")),
        draft=draft_from_json(str(data["draft"])),
        verdict=str(data.get("verdict", "")),
        risk_level=str(data.get("risk_level", "")),
    )
    return StoredTrial(
        trial=trial,
        state=DeliveryState(str(data.get("state", DeliveryState.PENDING.value))),
        attempts=int(data.get("attempts", 0)),
        reason=str(data.get("reason", "")),
        item_id=str(data.get("item_id", "")),
        reminded=bool(data.get("reminded", False)),
        unreached=int(data.get("unreached", 0)),
    )


_OUTBOX_STATES = (DeliveryState.PENDING.value, DeliveryState.REDACT.value)
"""States in which the outbox has work: create the item, or empty its Pådriver column."""


class AzureTrialStore:
    def __init__(
        self, container: ContainerClient, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._container = container
        self._clock = clock

    @staticmethod
    def _name(trial_id: str) -> str:
        return f"{TRIALS}{trial_id}.json"

    async def add(self, trial: Trial) -> bool:
        return await create_json(self._container, self._name(trial.trial_id), _document(trial))

    async def get(self, trial_id: str) -> StoredTrial | None:
        found = await read_json(self._container, self._name(trial_id))
        return None if found is None else _stored(found[0])

    async def _documents(self) -> list[dict[str, Any]]:
        names = await blob_names(self._container, TRIALS)
        found = await gather_bounded(read_json(self._container, name) for name in names)
        documents = [item[0] for item in found if item is not None]
        return sorted(documents, key=lambda d: (str(d["created_at"]), str(d["trial_id"])))

    async def all(self) -> list[StoredTrial]:
        return [_stored(document) for document in await self._documents()]

    async def of_person(self, user_key: str) -> list[StoredTrial]:
        if not user_key:
            return []
        return [
            stored
            for stored in await self.all()
            if stored.trial.owner == user_key or user_key in stored.trial.draft.participants
        ]

    async def due(self, now: float, limit: int) -> list[StoredTrial]:
        due = [
            d
            for d in await self._documents()
            if d.get("state") in _OUTBOX_STATES and float(d.get("next_attempt", 0.0)) <= now
        ]
        due.sort(key=lambda d: (float(d.get("next_attempt", 0.0)), str(d["created_at"])))
        return [_stored(d) for d in due[: max(limit, 0)]]

    async def next_attempt(self) -> float | None:
        pending = [
            float(d.get("next_attempt", 0.0))
            for d in await self._documents()
            if d.get("state") in _OUTBOX_STATES
        ]
        return min(pending, default=None)

    async def delivered(self, trial_id: str, item_id: str) -> None:
        """A pending trial whose champion was erased meanwhile goes on to redact (due now), so
        the item's Pådriver column is emptied too; a redact trial is delivered again."""

        def change(data: dict[str, Any]) -> dict[str, Any] | None:
            erased = data.get("owner") == "" and data.get("state") == DeliveryState.PENDING.value
            state = DeliveryState.REDACT if erased else DeliveryState.DELIVERED
            data.update(state=state.value, item_id=item_id, reason="")
            if erased:
                data["next_attempt"] = 0.0
            data["attempts"] = int(data.get("attempts", 0)) + 1
            return data

        await self._update(trial_id, change)

    async def retry(self, trial_id: str, at: float, reason: str) -> None:
        def change(data: dict[str, Any]) -> dict[str, Any] | None:
            if data.get("state") not in _OUTBOX_STATES:
                return None
            data.update(next_attempt=at, reason=reason)
            data["attempts"] = int(data.get("attempts", 0)) + 1
            return data

        await self._update(trial_id, change)

    async def park(self, trial_id: str, reason: str) -> None:
        def change(data: dict[str, Any]) -> dict[str, Any] | None:
            data.update(state=DeliveryState.PARKED.value, reason=reason)
            data["attempts"] = int(data.get("attempts", 0)) + 1
            return data

        await self._update(trial_id, change)

    async def requeue_parked(self) -> int:
        count = 0
        for document in await self._documents():
            if document.get("state") != DeliveryState.PARKED.value:
                continue

            def change(data: dict[str, Any]) -> dict[str, Any] | None:
                if data.get("state") != DeliveryState.PARKED.value:
                    return None
                again = DeliveryState.REDACT if data.get("item_id") else DeliveryState.PENDING
                data.update(state=again.value, next_attempt=0.0)
                return data

            if await self._update(str(document["trial_id"]), change):
                count += 1
        return count

    async def mark_reminded(self, trial_id: str, *, unreached: int = 0) -> bool:
        def change(data: dict[str, Any]) -> dict[str, Any] | None:
            if data.get("reminded"):
                return None
            data["reminded"] = True
            data["unreached"] = max(unreached, 0)
            return data

        return await self._update(trial_id, change)

    async def forget_person(self, user_key: str) -> int:
        if not user_key:
            return 0
        count = 0
        for stored in await self.of_person(user_key):

            def change(data: dict[str, Any]) -> dict[str, Any] | None:
                current = _stored(data).trial
                kept = tuple(p for p in current.draft.participants if p != user_key)
                if current.owner != user_key and kept == current.draft.participants:
                    return None
                if current.owner == user_key:
                    data["owner"] = ""
                    # the item's Pådriver column is emptied too, like a learning card's sender
                    if data.get("state") == DeliveryState.DELIVERED.value and data.get("item_id"):
                        data.update(state=DeliveryState.REDACT.value, next_attempt=0.0)
                data["draft"] = draft_json(replace(current.draft, participants=kept))
                return data

            if await self._update(stored.trial.trial_id, change):
                count += 1
        return count

    async def mute_reminders(self, user_key: str) -> None:
        require_user_key(user_key)
        record = {"user_key": user_key, "muted_at": datetime.now(UTC).isoformat()}
        await replace_json(self._container, _mute_name(user_key), record)

    async def unmute_reminders(self, user_key: str) -> bool:
        require_user_key(user_key)
        return await delete_if_present(self._container, _mute_name(user_key))

    async def reminders_muted(self, user_key: str) -> bool:
        if not user_key.strip():
            return False
        return await read_json(self._container, _mute_name(user_key)) is not None

    async def _update(
        self, trial_id: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> bool:
        """Apply `change` to the stored document by compare-and-set; False if the trial is gone
        or `change` had nothing to do (returned None)."""
        name = self._name(trial_id)
        for _ in range(MAX_ATTEMPTS):
            found = await read_json(self._container, name)
            if found is None:
                return False
            data, etag = found
            changed = change(dict(data))
            if changed is None:
                return False
            if await replace_json(self._container, name, changed, etag=etag):
                return True
        raise StorageUnavailableError(f"a trial stayed contended after {MAX_ATTEMPTS} attempts")

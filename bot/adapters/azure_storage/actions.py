"""The card-action ledger on Azure Blob Storage (implements bot.ports.ActionLedger).

One small JSON blob per action id, `actions/<id>`: its kind, the outcome of the first application
("" while it is under way) and when it was claimed. A claim creates the blob only if none exists
(If-None-Match: *), so of any number of instances claiming the same id exactly one wins; the others
read the blob and get its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    blob_names,
    create_json,
    delete_unless_changed,
    gather_bounded,
    key_segment,
    read_json,
    replace_json,
)
from bot.adapters.sqlite.actions import require_action, stamp
from bot.ports import StorageUnavailableError

_ACTIONS = "actions/"
_ATTEMPTS = 10


def _name(action_id: str) -> str:
    return _ACTIONS + key_segment(action_id)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AzureActionLedger:
    def __init__(self, store: AzureBlobStore, clock: Callable[[], datetime] = _utc_now) -> None:
        self._store = store
        self._clock = clock

    async def claim(self, action_id: str, kind: str) -> str | None:
        require_action(action_id, kind)
        container, name = self._store.container, _name(action_id)
        record = {
            "action_id": action_id,
            "kind": kind,
            "outcome": "",
            "claimed_at": stamp(self._clock()),
        }
        if await create_json(container, name, record):
            return None
        found = await read_json(container, name)
        return "" if found is None else str(found[0].get("outcome", ""))

    async def settle(self, action_id: str, outcome: str) -> None:
        require_action(action_id, "settle")
        container, name = self._store.container, _name(action_id)
        for _ in range(_ATTEMPTS):
            found = await read_json(container, name)
            if found is None:  # pruned meanwhile (or never claimed): record the outcome anyway
                record: dict[str, Any] = {
                    "action_id": action_id,
                    "kind": "",
                    "outcome": outcome,
                    "claimed_at": stamp(self._clock()),
                }
                if await create_json(container, name, record):
                    return
                continue
            data, etag = found
            if await replace_json(container, name, {**data, "outcome": outcome}, etag=etag):
                return
        raise StorageUnavailableError("card action: too many concurrent writers")

    async def prune(self, before: datetime) -> int:
        container, cutoff = self._store.container, stamp(before)
        names = await blob_names(container, _ACTIONS)

        async def one(name: str) -> bool:
            found = await read_json(container, name)
            if found is None:
                return False
            data, etag = found
            if str(data.get("claimed_at", "")) >= cutoff:
                return False
            return await delete_unless_changed(container, name, etag)

        return sum(await gather_bounded(one(name) for name in names))

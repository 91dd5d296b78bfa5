"""Lesson progress and weekly subscriptions on Azure Blob Storage (implements LessonStore).

A subscription is one JSON blob under `lessons/sub/`; the same record rides in the blob's
metadata, so `due` and `subscribers` read every subscription from one listing (one request per
5,000) instead of one download each. `claim` and `reschedule` are compare-and-swaps on the blob's
ETag: of two schedulers that saw the same due time, exactly one moves it on. A completed lesson is
an empty blob `lessons/done/<user>/<lesson id>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob.aio import ContainerClient

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    blob_names,
    decode_meta,
    delete_if_present,
    dump_json,
    encode_meta,
    gather_bounded,
    key_segment,
    read_json,
    replace_json,
    unavailable_on_error,
)
from bot.core.records import Subscription
from bot.ports import StorageUnavailableError

_SUBS = "lessons/sub/"
_DONE = "lessons/done/"
_RECORD_META = "record"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _record(s: Subscription) -> dict[str, Any]:
    return {
        "user_key": s.user_key,
        "conversation_id": s.conversation_id,
        "weekday": s.weekday,
        "at": s.at,
        "zone": s.zone,
        "language": s.language,
        "next_due": _iso(s.next_due),
    }


def _subscription(data: Mapping[str, Any]) -> Subscription:
    return Subscription(
        user_key=str(data["user_key"]),
        conversation_id=str(data["conversation_id"]),
        weekday=int(data["weekday"]),
        at=str(data["at"]),
        zone=str(data["zone"]),
        language=str(data["language"]),
        next_due=_parse(str(data["next_due"])),
    )


def _sub_name(user_key: str) -> str:
    return _SUBS + key_segment(user_key)


def _done_prefix(user_key: str) -> str:
    return f"{_DONE}{key_segment(user_key)}/"


class AzureBlobLessonStore:
    def __init__(self, store: AzureBlobStore, *, max_attempts: int = 20) -> None:
        """
        :param store: the open blob store.
        :param max_attempts: compare-and-swap rounds for `claim` / `reschedule` before giving up
            (StorageUnavailableError); a round is lost only when the subscription changed.
        """
        self._store = store
        self._max_attempts = max_attempts

    async def completed(self, user_key: str) -> frozenset[int]:
        prefix = _done_prefix(user_key)
        container = self._store.container
        async with unavailable_on_error("read lesson progress"):
            names = [blob.name async for blob in container.list_blobs(name_starts_with=prefix)]
        return frozenset(int(name[len(prefix) :]) for name in names)

    async def complete(self, user_key: str, lesson_id: int) -> None:
        container = self._store.container
        async with unavailable_on_error("record lesson progress"):
            with suppress(ResourceExistsError):  # already completed: keep the first time
                await container.upload_blob(
                    f"{_done_prefix(user_key)}{int(lesson_id)}", b"", overwrite=False
                )

    async def subscription(self, user_key: str) -> Subscription | None:
        found = await read_json(self._store.container, _sub_name(user_key))
        return None if found is None else _subscription(found[0])

    async def subscribe(self, subscription: Subscription) -> None:
        await _put(self._store.container, subscription)

    async def unsubscribe(self, user_key: str) -> bool:
        return await delete_if_present(self._store.container, _sub_name(user_key))

    async def forget_progress(self, user_key: str) -> int:
        """Delete the person's completed lessons (the blobs named after them); how many."""
        container = self._store.container
        names = await blob_names(container, _done_prefix(user_key))
        return sum(await gather_bounded(delete_if_present(container, name) for name in names))

    async def _all(self) -> list[Subscription]:
        container = self._store.container
        found: list[Subscription] = []
        async with unavailable_on_error("list subscriptions"):
            async for blob in container.list_blobs(name_starts_with=_SUBS, include="metadata"):
                record = (blob.metadata or {}).get(_RECORD_META)
                if record is not None:
                    found.append(_subscription(json.loads(decode_meta(record))))
        return found

    async def subscribers(self) -> list[tuple[str, str]]:
        """(conversation id, language) of every subscriber, for champions' tips."""
        ordered = sorted(await self._all(), key=lambda s: s.user_key)
        return [(s.conversation_id, s.language) for s in ordered]

    async def subscriber_count(self) -> int:
        """The subscription blobs, listed by name only (no metadata to decode)."""
        return len(await blob_names(self._store.container, _SUBS))

    async def due(self, now: datetime, limit: int) -> list[Subscription]:
        due = [s for s in await self._all() if s.next_due <= now]
        due.sort(key=lambda s: (s.next_due, s.user_key))
        return due[: max(limit, 0)]

    async def claim(self, user_key: str, due: datetime, next_due: datetime) -> bool:
        return await self._swap(user_key, _iso(due), next_due)

    async def reschedule(self, user_key: str, due: datetime) -> None:
        await self._swap(user_key, None, due)

    async def _swap(self, user_key: str, expected: str | None, next_due: datetime) -> bool:
        """Set next_due if the subscription exists (and, given `expected`, is still due then)."""
        container = self._store.container
        name = _sub_name(user_key)
        for _ in range(self._max_attempts):
            found = await read_json(container, name)
            if found is None:
                return False
            current, e_tag = _subscription(found[0]), found[1]
            if expected is not None and _iso(current.next_due) != expected:
                return False
            if await _put(container, replace(current, next_due=next_due), e_tag):
                return True
            # changed (or removed) since we read it: look again
        raise StorageUnavailableError(f"subscription stayed contended after {self._max_attempts}")


async def _put(container: ContainerClient, s: Subscription, e_tag: str | None = None) -> bool:
    """Write the subscription (with `e_tag`: only over that version; False if it changed)."""
    record = _record(s)
    metadata = {_RECORD_META: encode_meta(dump_json(record).decode("utf-8"))}
    return await replace_json(
        container, _sub_name(s.user_key), record, etag=e_tag, metadata=metadata
    )

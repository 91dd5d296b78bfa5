"""Anonymous usage counters on Azure Blob Storage (implements bot.ports.UsageStats).

One empty blob per counter and UTC calendar month under `usage/<metric>/<YYYY-MM>/`, its key and
count in the blob's metadata, so `snapshot()` reads every counter from one listing and a retention
limit can drop whole months. Counters written before months were kept (`usage/<metric>/<key>`)
still count, as the oldest month. An increment is a compare-and-swap on the
blob's ETag (Set Blob Metadata with If-Match, or Put Blob with If-None-Match: * for the first
count), retried with a little jitter when another instance wrote first.

Increments of the same counter within this process are committed in groups: while one write is
under way, the increments that arrive wait for the next one, which adds them all at once. Two
hundred conversations counting the same thing at the same moment then cost a few writes, not two
hundred in a row, and only other instances cause retries.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    decode_meta,
    delete_if_present,
    encode_meta,
    gather_bounded,
    key_segment,
    unavailable_on_error,
)
from bot.core.records import UsageSnapshot
from bot.ports import StorageUnavailableError

_USAGE = "usage/"
_SEP = "|"
_KEY_META = "key"
_COUNT_META = "count"
_MONTH = re.compile(r"\d{4}-\d{2}")
OLDEST = ""
"""The month of a counter written before counts were kept per month: older than any month."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def _metric_and_month(name: str) -> tuple[str, str]:
    """(metric, month) of a counter blob's name; OLDEST for a counter without a month."""
    parts = name[len(_USAGE) :].split("/")
    month = parts[1] if len(parts) == 3 and _MONTH.fullmatch(parts[1]) else OLDEST
    return parts[0], month


class AzureBlobUsageStats:
    def __init__(
        self,
        store: AzureBlobStore,
        *,
        max_attempts: int = 50,
        max_jitter_seconds: float = 0.2,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        """
        :param store: the open blob store.
        :param clock: now, for the month a count belongs to.
        :param max_attempts: compare-and-swap rounds before an increment gives up
            (StorageUnavailableError); only contention from other instances uses them up.
        :param max_jitter_seconds: the longest random pause between two rounds.
        """
        self._store = store
        self._max_attempts = max_attempts
        self._max_jitter = max_jitter_seconds
        self._clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: dict[str, list[asyncio.Future[None]]] = {}

    async def _increment(self, metric: str, key: str) -> None:
        name = f"{_USAGE}{metric}/{month_of(self._clock())}/{key_segment(key)}"
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        group = self._pending.setdefault(name, [])
        group.append(done)
        if len(group) == 1:  # the first of a new group writes for everyone who joins it
            asyncio.get_running_loop().create_task(self._commit(name, metric, key))
        await done

    async def _commit(self, name: str, metric: str, key: str) -> None:
        async with self._locks[name]:  # one write per counter at a time in this process
            group = self._pending.pop(name, [])
            try:
                await self._add(name, metric, key, len(group))
            except BaseException as exc:
                for waiter in group:
                    if not waiter.done():
                        waiter.set_exception(exc)
                return
            for waiter in group:
                if not waiter.done():
                    waiter.set_result(None)

    async def _add(self, name: str, metric: str, key: str, by: int) -> None:
        async with unavailable_on_error("count usage"):
            blob = self._store.container.get_blob_client(name)
            for attempt in range(self._max_attempts):
                try:
                    properties = await blob.get_blob_properties()
                except ResourceNotFoundError:
                    try:
                        await blob.upload_blob(
                            b"",
                            overwrite=False,
                            metadata={_KEY_META: encode_meta(key), _COUNT_META: str(by)},
                        )
                        return
                    except ResourceExistsError:
                        pass
                else:
                    count = int((properties.metadata or {}).get(_COUNT_META, "0")) + by
                    try:
                        await blob.set_blob_metadata(
                            {_KEY_META: encode_meta(key), _COUNT_META: str(count)},
                            etag=properties.etag,
                            match_condition=MatchConditions.IfNotModified,
                        )
                        return
                    except (ResourceModifiedError, ResourceNotFoundError):
                        pass
                pause = min(self._max_jitter, 0.005 * (attempt + 1))
                await asyncio.sleep(random.uniform(0, pause))  # noqa: S311 - jitter, not secrets
        raise StorageUnavailableError(f"usage counter '{metric}' stayed contended")

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None:
        await self._increment("verdict", _SEP.join((verdict, task, tool, category)))

    async def record_feedback(self, useful: bool) -> None:
        await self._increment("feedback", "yes" if useful else "no")

    async def snapshot(self) -> UsageSnapshot:
        verdicts: dict[tuple[str, str, str, str], int] = {}
        feedback: dict[bool, int] = {True: 0, False: 0}
        container = self._store.container
        async with unavailable_on_error("read usage"):
            async for blob in container.list_blobs(name_starts_with=_USAGE, include="metadata"):
                metadata = blob.metadata or {}
                if _KEY_META not in metadata or _COUNT_META not in metadata:
                    continue
                metric, _ = _metric_and_month(blob.name)
                key, count = decode_meta(metadata[_KEY_META]), int(metadata[_COUNT_META])
                if metric == "verdict":
                    parts = key.split(_SEP)
                    if len(parts) == 4:
                        verdict = (parts[0], parts[1], parts[2], parts[3])
                        verdicts[verdict] = verdicts.get(verdict, 0) + count
                elif metric == "feedback":
                    feedback[key == "yes"] += count
        return UsageSnapshot(verdicts=verdicts, feedback=feedback)

    async def date_monthless(self) -> int:
        """Move counters written before months were kept into the current month (adding to a
        counter already there), so the first retention round does not take them as the oldest
        month. Run at start. Returns how many. (A stop between adding and deleting would count
        one twice; it only happens once, on the first start after the upgrade.)"""
        container = self._store.container
        month = month_of(self._clock())
        async with unavailable_on_error("list usage"):
            old = [
                (blob.name, blob.metadata or {})
                async for blob in container.list_blobs(name_starts_with=_USAGE, include="metadata")
                if _metric_and_month(blob.name)[1] == OLDEST
            ]
        moved = 0
        for name, metadata in old:
            if _KEY_META not in metadata or _COUNT_META not in metadata:
                continue
            metric, _ = _metric_and_month(name)
            key, count = decode_meta(metadata[_KEY_META]), int(metadata[_COUNT_META])
            await self._add(f"{_USAGE}{metric}/{month}/{key_segment(key)}", metric, key, count)
            await delete_if_present(container, name)
            moved += 1
        return moved

    async def prune(self, before: datetime) -> int:
        """Delete the counters of every month that ended before `before` (and those without a
        month)."""
        current = month_of(before)
        container = self._store.container
        async with unavailable_on_error("list usage"):
            old = [
                blob.name
                async for blob in container.list_blobs(name_starts_with=_USAGE)
                if _metric_and_month(blob.name)[1] < current
            ]
        deleted = await gather_bounded(delete_if_present(container, name) for name in old)
        return sum(deleted)

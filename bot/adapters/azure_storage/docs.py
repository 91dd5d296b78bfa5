"""Shared pieces for work on Azure Storage: JSON documents in Blob Storage with their ETags, and
queue calls that turn the SDK's errors into the store's own (see azure_outbox, azure_broadcast)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import ContainerClient
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from bot.ports import (
    StorageUnavailableError,
)

MAX_VISIBILITY_SECONDS = 7 * 24 * 3600 - 60  # Storage Queues hide a message for at most 7 days
CARDS = "learning-cards/"
BROADCASTS = "broadcasts/"
SHARD_SIZE = 500
READ_CONCURRENCY = 32


def hide_for(seconds: float) -> int:
    return int(min(max(seconds, 0.0), MAX_VISIBILITY_SECONDS))


async def gather_bounded(calls: Sequence[Any], limit: int = READ_CONCURRENCY) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Any) -> Any:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


class Documents:
    """JSON documents in a container, with their ETags."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    async def read(self, name: str) -> tuple[dict[str, Any], str] | None:
        try:
            stream = await self._container.get_blob_client(name).download_blob()
            raw = await stream.readall()
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise StorageUnavailableError(f"blob read: {type(exc).__name__}") from exc
        data = json.loads(raw)
        return (data if isinstance(data, dict) else {}), str(stream.properties.etag)

    async def create(self, name: str, data: Mapping[str, Any]) -> bool:
        """Write a new document; False if one with this name exists."""
        try:
            await self._container.get_blob_client(name).upload_blob(
                json.dumps(data, ensure_ascii=False).encode(), overwrite=False
            )
        except ResourceExistsError:
            return False
        except AzureError as exc:
            raise StorageUnavailableError(f"blob write: {type(exc).__name__}") from exc
        return True

    async def replace(self, name: str, data: Mapping[str, Any], etag: str | None = None) -> bool:
        """Overwrite; with `etag`, only if nobody wrote since (False if somebody did)."""
        kwargs: dict[str, Any] = {"overwrite": True}
        if etag is not None:
            kwargs.update(etag=etag, match_condition=MatchConditions.IfNotModified)
        try:
            await self._container.get_blob_client(name).upload_blob(
                json.dumps(data, ensure_ascii=False).encode(), **kwargs
            )
        except (ResourceExistsError, ResourceNotFoundError) as exc:
            if etag is not None:
                return False
            raise StorageUnavailableError(f"blob write: {type(exc).__name__}") from exc
        except AzureError as exc:
            if etag is not None and getattr(exc, "status_code", None) == 412:
                return False
            raise StorageUnavailableError(f"blob write: {type(exc).__name__}") from exc
        return True

    async def names(self, prefix: str) -> list[str]:
        try:
            return [blob.name async for blob in self._container.list_blobs(name_starts_with=prefix)]
        except AzureError as exc:
            raise StorageUnavailableError(f"blob list: {type(exc).__name__}") from exc


async def receive(queue: QueueClient, count: int, visibility: int) -> list[QueueMessage]:
    try:
        pages = queue.receive_messages(
            messages_per_page=min(max(count, 1), 32),
            visibility_timeout=visibility,
            max_messages=count,
        )
        return [message async for message in pages]
    except AzureError as exc:
        raise StorageUnavailableError(f"queue receive: {type(exc).__name__}") from exc


async def delete_message(queue: QueueClient, message: QueueMessage) -> None:
    try:
        await queue.delete_message(message)
    except ResourceNotFoundError:
        return  # already gone: its visibility ran out and another instance finished it
    except AzureError as exc:
        raise StorageUnavailableError(f"queue delete: {type(exc).__name__}") from exc

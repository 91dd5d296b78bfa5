"""Storage Queue calls for the stores that share work between instances (learning-card outbox,
broadcasts), with the SDK's errors turned into the store's own: a message that is already gone is
not an error, anything else the queue cannot do is `StorageUnavailableError`."""

from __future__ import annotations

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient

from bot.ports import StorageUnavailableError

MAX_VISIBILITY_SECONDS = 7 * 24 * 3600 - 60  # Storage Queues hide a message for at most 7 days


def hide_for(seconds: float) -> int:
    """Seconds as a visibility timeout the queue accepts (0 to almost 7 days)."""
    return int(min(max(seconds, 0.0), MAX_VISIBILITY_SECONDS))


async def send(queue: QueueClient, content: str, *, hidden_for: float = 0.0) -> QueueMessage:
    """Add a message, invisible for `hidden_for` seconds."""
    try:
        return await queue.send_message(content, visibility_timeout=hide_for(hidden_for))
    except AzureError as exc:
        raise StorageUnavailableError(f"queue send: {type(exc).__name__}") from exc


async def receive(queue: QueueClient, count: int, visibility: int) -> list[QueueMessage]:
    """Up to `count` visible messages, each hidden from everyone else for `visibility` seconds."""
    try:
        pages = queue.receive_messages(
            messages_per_page=min(max(count, 1), 32),
            visibility_timeout=visibility,
            max_messages=count,
        )
        return [message async for message in pages]
    except AzureError as exc:
        raise StorageUnavailableError(f"queue receive: {type(exc).__name__}") from exc


async def hide(queue: QueueClient, message: QueueMessage, seconds: float) -> QueueMessage | None:
    """Hide a message this instance holds for `seconds` more; the updated message, or None if it
    is gone (its visibility ran out and another instance finished it)."""
    try:
        return await queue.update_message(message, visibility_timeout=hide_for(seconds))
    except ResourceNotFoundError:
        return None
    except AzureError as exc:
        raise StorageUnavailableError(f"queue update: {type(exc).__name__}") from exc


async def delete_message(queue: QueueClient, message: QueueMessage) -> None:
    try:
        await queue.delete_message(message)
    except ResourceNotFoundError:
        return  # already gone: its visibility ran out and another instance finished it
    except AzureError as exc:
        raise StorageUnavailableError(f"queue delete: {type(exc).__name__}") from exc

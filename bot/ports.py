"""Ports: the small Protocols that the handler and dialogs depend on. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class ETagConflictError(Exception):
    """A write carried an e_tag that no longer matches the stored item (someone wrote first)."""


class StorageUnavailableError(Exception):
    """The store cannot be reached or used right now."""


class StateStore(Protocol):
    """Key/value state with e_tag optimistic concurrency (the Bot Framework `Storage` contract).

    `read` returns a dict per found key with its current `e_tag`; `write` refuses (raises
    ETagConflictError) a value whose `e_tag` is set, is not `*`, and differs from the stored one.
    """

    async def read(self, keys: Sequence[str]) -> dict[str, Any]: ...

    async def write(self, changes: Mapping[str, Any]) -> None: ...

    async def delete(self, keys: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class StoredReference:
    """A conversation the bot may write to later (proactive messages)."""

    conversation_id: str
    conversation_type: str
    tenant_id: str
    reference: Mapping[str, Any]


class ConversationReferenceStore(Protocol):
    """Where conversation references live, for the proactive messages that come later."""

    async def save(self, reference: StoredReference) -> bool:
        """Insert or update; True if something changed."""
        ...

    async def remove(self, conversation_id: str) -> bool:
        """Forget a conversation; True if it was known."""
        ...

    async def get(self, conversation_id: str) -> StoredReference | None: ...

    async def count(self) -> int: ...


@dataclass(frozen=True)
class UsageSnapshot:
    """Counts without people: verdicts by task, tool and information category, and feedback."""

    verdicts: Mapping[tuple[str, str, str, str], int]  # (verdict, task, tool, category) → count
    feedback: Mapping[bool, int]  # useful? → count


class UsageStats(Protocol):
    """Anonymous usage figures for the project leads' summary. Never a user id or any text."""

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None: ...

    async def record_feedback(self, useful: bool) -> None: ...

    async def snapshot(self) -> UsageSnapshot: ...


class HealthCheck(Protocol):
    async def ping(self) -> None:
        """Raise StorageUnavailableError if the store cannot serve requests."""
        ...

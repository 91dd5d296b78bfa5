"""Serialise turns per conversation inside one process, so concurrent turns never lose an update.

Across processes the e_tag check in storage still refuses a stale write; within one process this
lock makes sure that never happens to two turns of the same conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from botbuilder.core import Middleware, TurnContext


class KeyedLocks:
    """One asyncio.Lock per key, dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class ConversationLockMiddleware(Middleware):  # type: ignore[misc]  # untyped SDK base
    def __init__(self, locks: KeyedLocks) -> None:
        self._locks = locks

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        conversation = context.activity.conversation
        key = conversation.id if conversation is not None and conversation.id else ""
        if not key:
            await logic()
            return
        async with self._locks.hold(key):
            await logic()

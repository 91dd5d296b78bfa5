"""Serialise turns per conversation inside one process, so concurrent turns never lose an update,
and bound how many turns run at once.

Across processes the e_tag check in storage still refuses a stale write; within one process this
lock makes sure that never happens to two turns of the same conversation.

The bound: a turn's work (rendering, storage, the reply to Teams) interleaves on one event loop.
Without a bound, 2,000 turns arriving together all start, each holds its coroutines, its card and
its outgoing connection wait, the reply POSTs queue behind the connection pool until they time
out, and memory grows with the backlog. With it, at most `max_turns` turns do work; the others
wait in arrival order before starting (holding their request, activity and turn context, but no
card, storage call or outgoing connection), so every started turn finishes quickly and the work in
progress is bounded by the limit rather than by the load. The waiting requests are bounded by the
callers: one per conversation while callers wait for their answers, more only when callers give up
and send again while the turn they gave up on still waits (see docs/performance.md, bench/soak).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from botbuilder.core import Middleware, TurnContext

MAX_CONCURRENT_TURNS = 48
"""Turns doing work at once in one process: below the reply connection pool to one Teams host
(50, bot/teams/wiring.py), so a started turn never waits for a connection."""


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


class TurnGate:
    """At most `limit` turns inside at once; the rest wait in arrival order (asyncio.Semaphore
    wakes waiters first in, first out)."""

    def __init__(self, limit: int = MAX_CONCURRENT_TURNS) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)
        self.inside = 0
        self.most_inside = 0
        """The most turns that were inside at the same time (for tests and the benchmark)."""

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        async with self._slots:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            try:
                yield
            finally:
                self.inside -= 1


class ConversationLockMiddleware(Middleware):  # type: ignore[misc]  # untyped SDK base
    def __init__(self, locks: KeyedLocks, gate: TurnGate | None = None) -> None:
        self._locks = locks
        self._gate = gate if gate is not None else TurnGate()

    @property
    def gate(self) -> TurnGate:
        return self._gate

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        conversation = context.activity.conversation
        key = conversation.id if conversation is not None and conversation.id else ""
        if not key:
            async with self._gate.enter():
                await logic()
            return
        # the conversation's lock first: a turn waiting behind its own conversation holds no slot
        async with self._locks.hold(key), self._gate.enter():
            await logic()

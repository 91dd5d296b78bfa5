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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import ActivityTypes

from bot.logs import get_logger

_log = get_logger("turn")

MAX_CONCURRENT_TURNS = 48
"""Turns doing work at once in one process: below the reply connection pool to one Teams host
(50, bot/teams/wiring.py), so a started turn never waits for a connection."""


_CALLER_WAITING: ContextVar[Callable[[], bool] | None] = ContextVar(
    "kivett_caller_waiting", default=None
)


@contextmanager
def caller_waiting(still_there: Callable[[], bool]) -> Iterator[None]:
    """While the block runs, turns ask `still_there` whether their caller is still waiting for
    the answer (bot/teams/guard.py: the HTTP connection is open). Without it, every caller counts
    as waiting."""
    token = _CALLER_WAITING.set(still_there)
    try:
        yield
    finally:
        _CALLER_WAITING.reset(token)


def _caller_gone() -> bool:
    still_there = _CALLER_WAITING.get()
    return still_there is not None and not still_there()


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
        self.abandoned = 0
        """Turns not worked on because their caller had gone when they got their slot."""

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        async with self._slots:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            try:
                yield
            finally:
                self.inside -= 1


_SHEDDABLE = frozenset({ActivityTypes.message, ActivityTypes.invoke})
"""The turns a person is waiting for: not worked on once that person's caller has gone."""


class ConversationLockMiddleware(Middleware):  # type: ignore[misc]  # untyped SDK base
    """Runs a turn once it holds its conversation's lock and a slot in the gate, unless its
    caller has gone by then: a caller who gave up (Teams waits 15 s, the benchmark 30 s) gets no
    answer on that connection, and its next turn is already on the way. Working on such turns in
    an overload only makes every later caller wait longer, until none is answered in time and the
    requests pile up; not working on them lets the queue drain."""

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
                await self._unless_gone(context, logic)
            return
        # the conversation's lock first: a turn waiting behind its own conversation holds no slot
        async with self._locks.hold(key), self._gate.enter():
            await self._unless_gone(context, logic)

    async def _unless_gone(
        self, context: TurnContext, logic: Callable[[], Awaitable[None]]
    ) -> None:
        # Only a person's message or button press is shed: an install, an uninstall or another
        # event from Teams changes what the bot keeps (a reference to forget, a welcome owed) and
        # is never sent again, so it is worked on whatever the caller does.
        if context.activity.type in _SHEDDABLE and _caller_gone():
            self._gate.abandoned += 1
            _log.warning(
                "turn_abandoned",
                extra={"fields": {"activity_type": str(context.activity.type or "")}},
            )
            return
        await logic()

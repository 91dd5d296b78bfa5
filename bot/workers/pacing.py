"""One budget for everything the bot sends on its own: broadcasts and weekly lessons.

Both workers ask the same `Pacer` before each message, so together they stay within Teams' limits
per tenant and per conversation, and a 429 from either pauses the tenant for both.

`begin` / `end` (or `sending`) count a message from the moment it starts until its answer comes
back and then for the windows' length after that, so network and event-loop delays cannot push more
into any window Teams looks at; `acquire` counts a message at one moment, for senders that do not
report their answers.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from bot.core.rate_limit import RateLimiter

DEFAULT_TENANT = "tenant"
"""The key for references that name no tenant (the Playground, old references)."""

Sleep = Callable[[float], Awaitable[None]]


def tenant_of(reference: Mapping[str, Any] | None) -> str:
    """The tenant a stored conversation reference belongs to."""
    conversation = (reference or {}).get("conversation") or {}
    return str(conversation.get("tenantId") or DEFAULT_TENANT)


class Pacer:
    def __init__(
        self,
        limiter: RateLimiter,
        clock: Callable[[], float],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._answered = asyncio.Event()

    async def acquire(self, tenant: str, conversation_id: str) -> None:
        """Wait until one more message to this conversation fits every window, and count it."""
        while True:
            wait = self._limiter.try_acquire(tenant, conversation_id, self._clock())
            if wait <= 0:
                return
            await self._wait(wait)

    async def begin(self, tenant: str, conversation_id: str) -> None:
        """Wait until one more message fits every window, and count it as in flight until `end`."""
        while True:
            wait = self._limiter.begin(tenant, conversation_id, self._clock())
            if wait <= 0:
                return
            await self._wait(wait)

    def end(self, tenant: str, conversation_id: str) -> None:
        """The answer to a message counted by `begin` came back (whatever it was)."""
        self._limiter.end(tenant, conversation_id, self._clock())
        self._answered.set()

    @asynccontextmanager
    async def sending(self, tenant: str, conversation_id: str) -> AsyncIterator[None]:
        """`begin` before the block and `end` after it, however it ends."""
        await self.begin(tenant, conversation_id)
        try:
            yield
        finally:
            self.end(tenant, conversation_id)

    async def _wait(self, wait: float) -> None:
        if math.isinf(wait):  # only an answer to a message in flight can make room
            self._answered.clear()
            await self._answered.wait()
        else:
            await self._sleep(wait)

    def pause(self, tenant: str, until: float) -> None:
        """Teams said 429: nothing more to this tenant before `until`."""
        self._limiter.pause_tenant(tenant, until)

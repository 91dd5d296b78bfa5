"""One budget for everything the bot sends on its own: broadcasts and weekly lessons.

Both workers ask the same `Pacer` before each message, so together they stay within Teams' limits
per tenant and per conversation, and a 429 from either pauses the tenant for both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
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

    async def acquire(self, tenant: str, conversation_id: str) -> None:
        """Wait until one more message to this conversation fits every window, and count it."""
        while True:
            wait = self._limiter.try_acquire(tenant, conversation_id, self._clock())
            if wait <= 0:
                return
            await self._sleep(wait)

    def pause(self, tenant: str, until: float) -> None:
        """Teams said 429: nothing more to this tenant before `until`."""
        self._limiter.pause_tenant(tenant, until)

"""A Microsoft key endpoint we can make slow or failing: OpenID metadata + JWKS on an aiohttp
test server in the test's own event loop (our key cache never blocks the loop, so it can), with
a count of every hit and events to follow a request that hangs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from bot.teams.auth import ChannelAuthEndpoints
from tests.security.tokens import CHANNEL_ID, ISSUER, jwks_document

Mode = Literal["ok", "fail", "hang"]

METADATA_PATH = "/.well-known/openid-configuration"
KEYS_PATH = "/keys"


class FakeClock:
    """A monotonic clock that moves only when told (the key cache's refresh and back-off)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class KeyServer:
    mode: Mode = "ok"
    """ok: answer; fail: 503 at once; hang: wait until `release` is set, then answer."""
    endorsements: tuple[str, ...] = (CHANNEL_ID,)
    hits: list[str] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request reached the hanging handler."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a hanging request was finally answered."""
    clock: FakeClock = field(default_factory=FakeClock)
    base_url: str = ""
    _hit: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def metadata_hits(self) -> int:
        return self.hits.count(METADATA_PATH)

    def endpoints(self) -> ChannelAuthEndpoints:
        return ChannelAuthEndpoints(
            openid_metadata_url=f"{self.base_url}{METADATA_PATH}",
            token_issuer=ISSUER,
            clock=self.clock,
        )

    async def wait_for_metadata_hits(self, count: int) -> None:
        async with self._hit:
            await self._hit.wait_for(lambda: self.metadata_hits >= count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        return app

    async def _record(self, path: str) -> None:
        async with self._hit:
            self.hits.append(path)
            self._hit.notify_all()

    async def _metadata(self, request: web.Request) -> web.Response:
        await self._record(METADATA_PATH)
        if self.mode == "fail":
            return web.json_response({"error": "unavailable"}, status=503)
        if self.mode == "hang":
            self.entered.set()
            await self.release.wait()
            self.finished.set()
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.base_url}{KEYS_PATH}"})

    async def _keys(self, request: web.Request) -> web.Response:
        await self._record(KEYS_PATH)
        if self.mode == "fail":
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response(jwks_document(self.endorsements))

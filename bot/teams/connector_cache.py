"""Reuse Bot Framework connector and user-token clients instead of building them for every turn.

botbuilder 4.17's `CloudAdapter.process_activity` asks its `BotFrameworkAuthentication` for a new
connector factory, a new `ConnectorClient` and a new user-token client on every incoming activity.
Each client builds an msrest `Configuration`, whose retry policy computes
`[i for i in range(999) if i not in safe_codes]` against a 500-element list, and a fresh HTTP
session (so no connection is ever reused). Measured on our machines that was most of a turn's CPU.

`CachingBotFrameworkAuthentication` wraps the SDK's authentication object and hands out one
connector factory per bot app id, one `ConnectorClient` per (service URL, audience) and one
user-token client per app id. Credentials stay inside those clients, which fetch and refresh their
tokens exactly as before (MSAL caches and renews them). Proactive sends
(`continue_conversation`) go through `create_connector_factory` and so reuse the same clients.

This is a structural fix in our own wiring: no library attribute is patched.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

MAX_CONNECTOR_CLIENTS = 64
"""Teams uses a handful of regional service URLs; the bound only matters for forged activities in
dev mode, where the service URL is not vouched for by a token."""


@dataclass
class ClientCounts:
    """How many clients were really built (for tests and the benchmark)."""

    connector_factories: int = 0
    connector_clients: int = 0
    user_token_clients: int = 0


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    """The bot's app id as botbuilder derives it: the audience claim, else the appid claim."""
    if claims_identity is None or not claims_identity.claims:
        return ""
    claims = claims_identity.claims
    value = claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(
        AuthenticationConstants.APP_ID_CLAIM
    )
    return str(value or "")


class CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]  # untyped SDK base
    """One ConnectorClient per (service URL, audience), built once, safe under concurrency."""

    def __init__(
        self, inner: ConnectorFactory, counts: ClientCounts, default_audience: str
    ) -> None:
        self._inner = inner
        self._counts = counts
        self._default_audience = default_audience
        self._clients: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = asyncio.Lock()

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        # No audience means the channel's default scope (as botbuilder does): one client for both.
        key = (service_url, audience or self._default_audience)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        async with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = await self._inner.create(service_url, audience)
                self._counts.connector_clients += 1
                self._clients[key] = client
                while len(self._clients) > MAX_CONNECTOR_CLIENTS:
                    self._clients.popitem(last=False)
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Delegates authentication to botbuilder; caches the clients it would rebuild per turn."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        super().__init__()
        self._inner = inner
        self.counts = ClientCounts()
        self._factories: dict[str, CachingConnectorFactory] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}
        self._token_lock = asyncio.Lock()

    def _factory(self, claims_identity: ClaimsIdentity) -> CachingConnectorFactory:
        key = _app_id(claims_identity)
        factory = self._factories.get(key)
        if factory is None:
            factory = CachingConnectorFactory(
                self._inner.create_connector_factory(claims_identity),
                self.counts,
                str(self._inner.get_originating_audience() or ""),
            )
            self.counts.connector_factories += 1
            self._factories[key] = factory
        return factory

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._factory(result.claims_identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self._user_token_clients.get(key)
        if client is not None:
            return client
        async with self._token_lock:
            client = self._user_token_clients.get(key)
            if client is None:
                client = await self._inner.create_user_token_client(claims_identity)
                self.counts.user_token_clients += 1
                self._user_token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

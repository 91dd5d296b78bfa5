"""Sending activities to Teams (the Bot Connector service) over one shared aiohttp session.

`KiVettCloudAdapter` keeps botbuilder's `CloudAdapter` for everything it does well (turns,
authentication, invoke responses, proactive continuation) and overrides only `send_activities`, the
adapter's documented extension point for outgoing activities. The stock path serialises every
activity twice through msrest and posts it with `requests` on a worker thread with a new HTTP
session per turn; ours serialises once (bot/teams/activity_json.py) and posts with aiohttp,
reusing connections. Outgoing tokens come from the same SDK credentials object the stock client
would use, with the same rule for when a token is sent.
"""

from __future__ import annotations

import asyncio
import json
import random
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse
from botframework.connector.auth import AuthenticationConstants, BotFrameworkAuthentication
from yarl import URL

from bot.ports import DeliveryError
from bot.teams.activity_json import to_json

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRIES = 3
BACKOFF_SECONDS = 0.8
MAX_WAIT_SECONDS = 30.0
TOKEN_REUSE_SECONDS = 240.0
USER_AGENT = "KI-vett (botbuilder-python 4.17 CloudAdapter)"

Sleep = Callable[[float], Awaitable[None]]


class ConnectorError(DeliveryError):
    """The connector refused or could not be reached. `status` 0 = no HTTP answer at all."""


@dataclass
class _Token:
    value: str
    fetched_at: float


class TokenCache:
    """Bearer tokens from the SDK's credentials objects, fetched off the event loop.

    MSAL (inside the credentials) caches and renews tokens; asking it costs a thread hop, so a token
    is reused for a few minutes, far less than its lifetime."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._tokens: weakref.WeakKeyDictionary[Any, _Token] = weakref.WeakKeyDictionary()

    async def bearer(self, credentials: Any) -> str | None:
        app_id = getattr(credentials, "microsoft_app_id", None)
        # botbuilder sends no token without an app id (dev mode) or for the anonymous skill id
        if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            return None
        cached = self._tokens.get(credentials)
        now = self._clock()
        if cached is not None and now - cached.fetched_at < TOKEN_REUSE_SECONDS:
            return cached.value
        value = str(await asyncio.to_thread(credentials.get_access_token))
        self._tokens[credentials] = _Token(value, now)
        return value

    def forget(self, credentials: Any) -> None:
        self._tokens.pop(credentials, None)


def activities_url(service_url: str, conversation_id: str, reply_to_id: str | None) -> str:
    base = (
        f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
    )
    return f"{base}/{quote(reply_to_id, safe='')}" if reply_to_id else base


async def _error_of(response: aiohttp.ClientResponse) -> ConnectorError:
    code = ""
    try:
        payload = json.loads(await response.read() or b"{}")
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            code = str(payload["error"].get("code", ""))[:64]
    except ValueError:
        pass
    retry_after: float | None = None
    header = response.headers.get("Retry-After")
    if header:
        try:
            retry_after = max(0.0, float(header))
        except ValueError:
            retry_after = None
    return ConnectorError(response.status, code, retry_after)


class BotConnector:
    """POST activities to a Bot Connector, with the SDK's retry behaviour (408, 429 and 5xx
    except 501/505, up to three retries with exponential backoff, honouring Retry-After)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenCache,
        *,
        sleep: Sleep = asyncio.sleep,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send(
        self,
        *,
        service_url: str,
        conversation_id: str,
        payload: dict[str, Any],
        reply_to_id: str | None = None,
        credentials: Any = None,
        retries: int = MAX_RETRIES,
        update_id: str | None = None,
    ) -> str:
        """Send one activity (or, with `update_id`, replace that one); return its id.
        `retries=0` leaves retrying to the caller (the broadcast engine does its own)."""
        # encoded=True: send the ids percent-encoded exactly as botbuilder does (yarl would decode
        # ":" and ";" back, and ";messageid=" must not become a path parameter)
        url = URL(
            activities_url(service_url, conversation_id, update_id or reply_to_id), encoded=True
        )
        method = "PUT" if update_id else "POST"
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        for attempt in range(retries + 1):
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
            token = await self._tokens.bearer(credentials)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                async with self._session.request(
                    method, url, data=body, headers=headers, timeout=self._timeout
                ) as response:
                    if response.status < 300:
                        return _resource_id(await response.read())
                    error = await _error_of(response)
            except aiohttp.ClientConnectorError:
                error = ConnectorError(0, "unreachable")  # nothing was sent: safe to retry
            if error.status == 401:
                self._tokens.forget(credentials)
            retryable = error.status in RETRY_STATUSES or error.status == 0
            if not retryable or attempt == retries:
                raise error
            backoff = BACKOFF_SECONDS * (2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
            wait = error.retry_after if error.retry_after is not None else backoff
            await self._sleep(min(wait, MAX_WAIT_SECONDS))
        raise AssertionError("unreachable")  # pragma: no cover


def _resource_id(raw: bytes) -> str:
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        return ""
    return str(payload.get("id", "")) if isinstance(payload, dict) else ""


_LOCAL_TYPES = frozenset({ActivityTypes.invoke_response, ActivityTypes.trace, "delay"})


class KiVettCloudAdapter(CloudAdapter):  # type: ignore[misc]  # botbuilder ships no types
    """botbuilder's CloudAdapter, sending outgoing activities through `BotConnector`."""

    def __init__(self, auth: BotFrameworkAuthentication, connector: BotConnector) -> None:
        super().__init__(auth)
        self._auth = auth
        self._connector = connector

    @property
    def connector(self) -> BotConnector:
        return self._connector

    async def credentials_for(self, service_url: str, bot_app_id: str) -> Any:
        """The bot's credentials for proactive sends to `service_url` (cached clients)."""
        claims = self.create_claims_identity(bot_app_id)
        factory = self._auth.create_connector_factory(claims)
        client = await factory.create(service_url, self._auth.get_originating_audience())
        return client.config.credentials

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        if not context or not activities:
            return list(await super().send_activities(context, activities))
        responses: list[ResourceResponse] = []
        for activity in activities:
            if activity.type in _LOCAL_TYPES:
                responses.extend(await super().send_activities(context, [activity]))
                continue
            client = context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY)
            if client is None:
                raise ConnectorError(0, "no_connector_client")
            activity.id = None
            resource_id = await self._connector.send(
                service_url=str(client.config.base_url),
                conversation_id=activity.conversation.id,
                payload=to_json(activity),
                reply_to_id=activity.reply_to_id,
                credentials=client.config.credentials,
            )
            responses.append(ResourceResponse(id=resource_id))
        return responses

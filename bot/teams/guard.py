"""POST /api/messages: everything between the HTTP request and the bot.

Order of checks, each answered before any bot logic runs:
405 wrong method (routing) → 415 not JSON → 413 declared too large → the Authorization header:
401 missing or not a valid channel token, 503 when the signing keys cannot be had (both before a
byte of the body is read) → the body, read under a time limit (408 and the connection closed when
it is too slow; 413 when it grows too large; when authentication is off, in dev mode, at most
`max_unauthenticated_reads` bodies at once, beyond that 503 and closed) → 400 not an activity →
403 a channel other than Teams → the full check of token against activity (service URL): 401 →
the adapter and the bot. Nothing here returns a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, web
from botbuilder.core import InvokeResponse, TurnContext, serializer_helper
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

from bot.logs import get_logger
from bot.teams.connector import KiVettCloudAdapter
from bot.teams.router import Router
from bot.teams.signing_keys import KeysUnavailableError
from bot.teams.turn_lock import caller_waiting
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog

_log = get_logger("turn")

TEAMS_CHANNEL = "msteams"
"""The only channel KI-vett serves (botbuilder's `Channels.ms_teams`)."""

KEYS_UNAVAILABLE = {
    "error": "signing_keys_unavailable",
    "message": "The keys that prove a request comes from Microsoft Teams cannot be fetched "
    "right now. The request was not processed; try again shortly.",
}
CHANNEL_NOT_ALLOWED = {
    "error": "channel_not_allowed",
    "message": "KI-vett answers Microsoft Teams (channel msteams) only.",
}
BODY_TIMEOUT = {
    "error": "request_timeout",
    "message": "The request body did not arrive in time.",
}
BUSY = {
    "error": "too_many_pending_requests",
    "message": "Too many requests are being read at once; try again shortly.",
}


def _problem(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


@dataclass(frozen=True)
class RequestLimits:
    """How much and how long /api/messages reads (settings KIVETT_MAX_BODY_BYTES,
    KIVETT_BODY_TIMEOUT_SECONDS, KIVETT_MAX_UNAUTHENTICATED_READS)."""

    max_body_bytes: int
    body_timeout_seconds: float = 10.0
    max_unauthenticated_reads: int = 16


async def _never() -> bool:
    return False


class MessagesEndpoint:
    def __init__(
        self,
        *,
        adapter: KiVettCloudAdapter,
        auth: BotFrameworkAuthentication,
        bot: Router,
        limits: RequestLimits,
        authentication_disabled: Callable[[], Awaitable[bool]] = _never,
        allow_other_channels: bool = False,
    ) -> None:
        self._adapter = adapter
        self._auth = auth
        self._bot = bot
        self._limits = limits
        self._authentication_disabled = authentication_disabled
        self._allow_other_channels = allow_other_channels
        self.unauthenticated_reads = 0
        """Bodies being read right now whose sender is not authenticated (dev mode only)."""

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        record = TurnLog(
            request_id=request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        )
        response = await self._handle(request, record)
        if not response.prepared and not request.content.is_eof():
            # answered before the whole body came (refused on its headers): no keep-alive; the
            # rest is drained without being kept for a few seconds at most, then closed
            response.force_close()
        record.status = response.status
        _log.info(
            "turn",
            extra={
                "fields": {
                    "request_id": record.request_id,
                    "activity_type": record.activity_type,
                    "activity_name": record.activity_name,
                    "conversation_type": record.conversation_type,
                    "route": record.route,
                    "status": record.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            },
        )
        return response

    async def _handle(self, request: web.Request, record: TurnLog) -> web.Response:
        limits = self._limits
        if request.content_type != "application/json":
            record.route = "rejected:content_type"
            return _problem(415, "unsupported_media_type")
        if request.content_length is not None and request.content_length > limits.max_body_bytes:
            record.route = "rejected:too_large"
            return _problem(413, "payload_too_large")

        # The token is checked before the body is read: without one, nobody can make us hold a
        # body. The channel is not known yet; the Teams endorsement is asked for right here
        # unless other channels are allowed, and everything is checked again with the activity.
        auth_header = request.headers.get("Authorization")
        verified = bool(auth_header)
        if auth_header:
            channel = "" if self._allow_other_channels else TEAMS_CHANNEL
            refused = await self._authenticate(
                record, lambda: self._auth.authenticate_streaming_request(auth_header, channel)
            )
            if refused is not None:
                return refused
        elif not await self._authentication_disabled():
            record.route = "rejected:auth:no_token"
            return _problem(401, "unauthorized")
        elif self.unauthenticated_reads >= limits.max_unauthenticated_reads:
            record.route = "rejected:busy"
            return await _answer_and_close(request, 503, BUSY)

        if not verified:
            self.unauthenticated_reads += 1
        try:
            async with asyncio.timeout(limits.body_timeout_seconds):
                raw = await _read_body(request, limits.max_body_bytes)
        except TimeoutError:
            record.route = "rejected:slow_body"
            return await _answer_and_close(request, 408, BODY_TIMEOUT)
        except (OSError, ClientError, asyncio.IncompleteReadError):
            record.route = "rejected:unreadable"
            return _problem(400, "unreadable_body")
        finally:
            if not verified:
                self.unauthenticated_reads -= 1
        if raw is None:
            record.route = "rejected:too_large"
            return _problem(413, "payload_too_large")
        activity = _parse_activity(raw)
        if activity is None:
            record.route = "rejected:malformed"
            return _problem(400, "not_an_activity")
        record.activity_type = str(activity.type)
        record.activity_name = str(activity.name or "")[:64]
        if activity.conversation is not None:
            record.conversation_type = str(activity.conversation.conversation_type or "")[:32]
        if activity.channel_id != TEAMS_CHANNEL and not self._allow_other_channels:
            record.route = "rejected:channel"
            return web.json_response(CHANNEL_NOT_ALLOWED, status=403)

        results: list[AuthenticateRequestResult] = []

        async def authenticate() -> None:
            results.append(await self._auth.authenticate_request(activity, auth_header))

        refused = await self._authenticate(record, authenticate)
        if refused is not None:
            return refused
        auth_result = results[0]

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[TURN_LOG_KEY] = record
            await self._bot.on_turn(turn_context)

        try:
            with caller_waiting(lambda: _connected(request)):
                invoke_response = await self._adapter.process_activity(auth_result, activity, logic)
        except Exception:
            # The bot's own errors are handled in on_turn_error; reaching here means even the
            # apology could not be delivered (Teams unreachable). Say so without details.
            _log.exception("turn_unhandled", extra={"fields": {"request_id": record.request_id}})
            record.route = record.route or "failed"
            return _problem(502, "upstream_unavailable")
        if not _connected(request):
            record.route = record.route or "abandoned"  # the caller left before its turn began
        if isinstance(invoke_response, InvokeResponse):
            return web.json_response(_body(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201)

    async def _authenticate(
        self, record: TurnLog, check: Callable[[], Awaitable[Any]]
    ) -> web.Response | None:
        """None when `check` passes; else the answer: 503 while no signing keys can be had,
        401 for every way a token can be wrong (never a 500)."""
        try:
            await check()
        except KeysUnavailableError as exc:
            record.route = "rejected:keys_unavailable"
            return web.json_response(
                KEYS_UNAVAILABLE,
                status=503,
                headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))},
            )
        except Exception as exc:
            record.route = f"rejected:auth:{type(exc).__name__}"
            return _problem(401, "unauthorized")
        return None


def _connected(request: web.Request) -> bool:
    """Whether the caller is still waiting for the answer: its connection is open."""
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def _answer_and_close(
    request: web.Request, status: int, body: dict[str, str]
) -> web.Response:
    """Send the answer, then close the connection at once: whatever else the client still
    sends is not waited for (aiohttp would otherwise keep reading it for up to 10 s)."""
    response = web.json_response(body, status=status)
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` (it may arrive in many pieces)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _parse_activity(raw: bytes) -> Activity | None:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not an activity
        return None
    if not isinstance(body, dict):
        return None
    try:
        activity = Activity().deserialize(body)
    except Exception:  # msrest raises several kinds of errors on wrong shapes
        return None
    if not isinstance(activity.type, str) or not activity.type:
        return None
    service_url = activity.service_url
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return None
    if not urlsplit(service_url).hostname:
        return None
    conversation = activity.conversation
    if conversation is None or not isinstance(conversation.id, str) or not conversation.id:
        return None  # every Teams activity belongs to a conversation; state is kept by it
    if not isinstance(activity.channel_id, str) or not activity.channel_id:
        return None
    return activity


def _body(body: Any) -> Any:
    if body is None or isinstance(body, dict | list | str | int | float | bool):
        return body
    return serializer_helper(body)

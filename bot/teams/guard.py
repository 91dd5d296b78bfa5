"""POST /api/messages: everything between the HTTP request and the bot.

Order of checks, each answered before any bot logic runs:
405 wrong method (routing) → 415 not JSON → 413 too large → 400 not an activity →
401 any authentication failure → the adapter and the bot. Nothing here returns a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, web
from botbuilder.core import InvokeResponse, TurnContext, serializer_helper
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

from bot.logs import get_logger
from bot.teams.connector import KiVettCloudAdapter
from bot.teams.router import Router
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog

_log = get_logger("turn")


def _problem(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)


class MessagesEndpoint:
    def __init__(
        self,
        *,
        adapter: KiVettCloudAdapter,
        auth: BotFrameworkAuthentication,
        bot: Router,
        max_body_bytes: int,
    ) -> None:
        self._adapter = adapter
        self._auth = auth
        self._bot = bot
        self._max_body_bytes = max_body_bytes

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        record = TurnLog(
            request_id=request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        )
        response = await self._handle(request, record)
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
        if request.content_type != "application/json":
            record.route = "rejected:content_type"
            return _problem(415, "unsupported_media_type")
        if request.content_length is not None and request.content_length > self._max_body_bytes:
            record.route = "rejected:too_large"
            return _problem(413, "payload_too_large")
        try:
            raw = await _read_body(request, self._max_body_bytes)
        except (OSError, ClientError, asyncio.IncompleteReadError):
            record.route = "rejected:unreadable"
            return _problem(400, "unreadable_body")
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

        auth_header = request.headers.get("Authorization")
        try:
            auth_result: AuthenticateRequestResult = await self._auth.authenticate_request(
                activity, auth_header
            )
        except Exception as exc:  # every way a token can be wrong is a 401, never a 500
            record.route = f"rejected:auth:{type(exc).__name__}"
            return _problem(401, "unauthorized")

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[TURN_LOG_KEY] = record
            await self._bot.on_turn(turn_context)

        try:
            invoke_response = await self._adapter.process_activity(auth_result, activity, logic)
        except Exception:
            # The bot's own errors are handled in on_turn_error; reaching here means even the
            # apology could not be delivered (Teams unreachable). Say so without details.
            _log.exception("turn_unhandled", extra={"fields": {"request_id": record.request_id}})
            record.route = record.route or "failed"
            return _problem(502, "upstream_unavailable")
        if isinstance(invoke_response, InvokeResponse):
            return web.json_response(_body(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201)


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

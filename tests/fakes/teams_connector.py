"""A stateful fake Bot Connector (the Teams side of proactive sends) for tests and benchmarks.

It accepts ``POST /v3/conversations/{id}/activities[/{reply_to}]`` and
``PUT /v3/conversations/{id}/activities/{activity_id}``, records what it accepted, and enforces
Teams' documented limits the way Teams does: 50 messages per second per tenant, and per
conversation 7 per second, 8 per 2 seconds, 60 per 30 seconds and 1800 per hour. Past a limit it
answers 429 with an integer ``Retry-After`` and records nothing.

The limits are counted here with their own code (sorted timestamp lists and bisect), not with
``bot.core.rate_limit``, so that a bug in the limiter cannot hide by being in both. The windows
have the same meaning: a message accepted at ``t`` counts against an ``s``-second window while
``now < t + s``.

Scripted answers (``script`` / ``script_all``) stand in for refusals and outages: 403
``MessageWritesBlocked`` (the user blocked or removed the bot), 404 ``ConversationNotFound``,
transient 412/502/503/504, or a 429 of your own.
"""

from __future__ import annotations

import json
import math
import time
from bisect import bisect_right, insort
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.ports import DeliveryError
from cards.renderer import CARD_CONTENT_TYPE

__all__ = [
    "CONVERSATION_LIMITS",
    "TENANT_LIMITS",
    "Answer",
    "Delivery",
    "FakeSender",
    "FakeTeamsConnector",
]

# (limit, seconds), written out here on purpose rather than imported from the limiter.
TENANT_LIMITS: tuple[tuple[int, float], ...] = ((50, 1.0),)
CONVERSATION_LIMITS: tuple[tuple[int, float], ...] = (
    (7, 1.0),
    (8, 2.0),
    (60, 30.0),
    (1800, 3600.0),
)
DEFAULT_TENANT = "tenant"

Response = tuple[int, str | None]


@dataclass
class Delivery:
    """One message (or update) the fake accepted."""

    conversation_id: str
    activity: dict[str, Any]
    at: float
    activity_id: str
    reply_to_id: str | None = None


def _end_of(seconds: float) -> Callable[[float], float]:
    """When a message sent at ``t`` leaves a window of ``seconds``."""
    return lambda t: t + seconds


class _Windows:
    """Accepted-message times per key, checked against a set of sliding windows."""

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self.limits = limits
        self._windows = [(limit, seconds, _end_of(seconds)) for limit, seconds in limits]
        self._keep = max(limit for limit, _ in limits)
        self._times: dict[str, list[float]] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds until one more message for ``key`` fits every window; 0.0 if it fits now."""
        times = self._times.get(key)
        if not times:
            return 0.0
        wait = 0.0
        for limit, seconds, end in self._windows:
            # Messages still inside the window: those with now < t + seconds.
            first_inside = bisect_right(times, now, key=end)
            inside = len(times) - first_inside
            if inside >= limit:
                # The oldest message that has to leave for the count to drop below the limit.
                wait = max(wait, times[len(times) - limit] + seconds - now)
        return wait

    def add(self, key: str, now: float) -> None:
        times = self._times.setdefault(key, [])
        if not times or now >= times[-1]:
            times.append(now)
        else:
            insort(times, now)
        if len(times) > 2 * self._keep:
            # Only the newest `keep` times can ever decide a check (the largest limit).
            del times[: len(times) - self._keep]


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def _default_code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"Status{status}"


class FakeTeamsConnector:
    """A Bot Connector that remembers what it accepted and throttles like Teams.

    ``clock`` gives the time used for the limits and for ``Delivery.at``; tests inject one they
    control. ``enforce_limits=False`` accepts everything. A 429 carries ``Retry-After`` in whole
    seconds: the time until the message would fit, rounded up, and at least
    ``retry_after_seconds`` (rounded up) and at least 1; a scripted 429 carries
    ``retry_after_seconds`` rounded up (at least 1). The tenant of a message is read from the
    ``tenant_header`` request header if one is named and present, else from the activity's
    ``conversation.tenantId``, else ``channelData.tenant.id``, else ``"tenant"``. Updates (PUT)
    count against the same limits as new messages.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        enforce_limits: bool = True,
        retry_after_seconds: float = 1.0,
        tenant_header: str | None = None,
    ) -> None:
        self.clock = clock
        self.enforce_limits = enforce_limits
        self.retry_after_seconds = retry_after_seconds
        self.tenant_header = tenant_header
        self.deliveries: list[Delivery] = []
        self.updates: list[Delivery] = []
        self.throttled = 0
        self.requests = 0
        self._counts: Counter[str] = Counter()
        self._tenants = _Windows(TENANT_LIMITS)
        self._conversations = _Windows(CONVERSATION_LIMITS)
        self._scripts: dict[str, deque[Response]] = {}
        self._script_all: deque[Response] = deque()
        self._next_id = 0

    # -- set-up -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        base = "/v3/conversations/{conversation_id}/activities"
        app.router.add_post(base, self._post)
        app.router.add_post(base + "/{reply_to_id}", self._post)
        app.router.add_put(base + "/{activity_id}", self._put)
        return app

    def script(self, conversation_id: str, *responses: Response) -> None:
        """The next answers for ``conversation_id``, e.g. ``(503, None)``,
        ``(403, "MessageWritesBlocked")``, ``(404, "ConversationNotFound")``; a 2xx entry means
        "accept normally, without the limit check". Normal behaviour resumes afterwards.
        Conversation scripts are used before ``script_all`` entries."""
        self._scripts.setdefault(conversation_id, deque()).extend(responses)

    def script_all(self, *responses: Response) -> None:
        """The next answers for any conversation (an outage, say), in order."""
        self._script_all.extend(responses)

    # -- what happened ------------------------------------------------------------------------

    def count_for(self, conversation_id: str) -> int:
        """How many new messages (not updates) the conversation was sent."""
        return self._counts[conversation_id]

    def duplicates(self) -> dict[str, int]:
        """Conversations that got the same message (same text and attachments) more than once,
        mapped to the number of extra copies: a message delivered twice counts 1."""
        seen: Counter[tuple[str, str]] = Counter()
        for delivery in self.deliveries:
            seen[delivery.conversation_id, _fingerprint(delivery.activity)] += 1
        extra: Counter[str] = Counter()
        for (conversation_id, _), count in seen.items():
            if count > 1:
                extra[conversation_id] += count - 1
        return dict(extra)

    # -- handlers -----------------------------------------------------------------------------

    async def _post(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, update=False)

    async def _put(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, update=True)

    async def _handle(self, request: web.Request, *, update: bool) -> web.StreamResponse:
        # aiohttp has already percent-decoded the path segments (a%3A1 -> a:1, %2F -> /).
        conversation_id = request.match_info["conversation_id"]
        try:
            activity = json.loads(await request.read())
        except ValueError:
            self.requests += 1
            return _error(400, "BadArgument", "The body is not JSON.")
        if not isinstance(activity, dict):
            self.requests += 1
            return _error(400, "BadArgument", "The body is not an activity object.")
        answer = self.answer(
            conversation_id,
            activity,
            tenant=self._tenant_of(request, activity),
            update_id=request.match_info.get("activity_id") if update else None,
            reply_to_id=request.match_info.get("reply_to_id"),
        )
        if answer.status >= 300:
            headers = (
                {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else None
            )
            return _error(answer.status, answer.code, answer.message, headers)
        return web.json_response({"id": answer.activity_id}, status=answer.status)

    def answer(
        self,
        conversation_id: str,
        activity: dict[str, Any],
        *,
        tenant: str | None = None,
        update_id: str | None = None,
        reply_to_id: str | None = None,
    ) -> Answer:
        """What Teams would answer to this message (or update) now; records what it accepts.
        The HTTP handlers and the in-process `sender()` both come here."""
        self.requests += 1
        tenant = tenant or _tenant_in(activity)
        scripted = self._next_scripted(conversation_id)
        if scripted is not None and not 200 <= scripted[0] < 300:
            return self._scripted_answer(*scripted)

        now = self.clock()
        if self.enforce_limits and scripted is None:
            wait = max(
                self._tenants.wait(tenant, now), self._conversations.wait(conversation_id, now)
            )
            if wait > 0:
                self.throttled += 1
                seconds = max(1, math.ceil(wait), math.ceil(self.retry_after_seconds))
                return Answer(
                    429,
                    "Throttled",
                    "Too many requests to this conversation or tenant; retry later.",
                    retry_after=seconds,
                )
        self._tenants.add(tenant, now)
        self._conversations.add(conversation_id, now)

        if update_id is not None:
            self.updates.append(Delivery(conversation_id, activity, now, update_id))
            return Answer(200, activity_id=update_id)
        self._next_id += 1
        activity_id = f"1:{self._next_id}"
        self.deliveries.append(Delivery(conversation_id, activity, now, activity_id, reply_to_id))
        self._counts[conversation_id] += 1
        return Answer(201, activity_id=activity_id)

    def sender(self) -> FakeSender:
        """The bot's `ProactiveSender` port straight onto this fake, without HTTP: a send is
        answered at the moment it is made, so a virtual clock decides every window exactly."""
        return FakeSender(self)

    def _next_scripted(self, conversation_id: str) -> Response | None:
        own = self._scripts.get(conversation_id)
        if own:
            answer = own.popleft()
            if not own:
                del self._scripts[conversation_id]
            return answer
        if self._script_all:
            return self._script_all.popleft()
        return None

    def _scripted_answer(self, status: int, code: str | None) -> Answer:
        code = code or _default_code(status)
        retry_after = None
        if status == 429:
            self.throttled += 1
            retry_after = max(1, math.ceil(self.retry_after_seconds))
        return Answer(status, code, f"Scripted answer {status} {code}.", retry_after=retry_after)

    def _tenant_of(self, request: web.Request, activity: dict[str, Any]) -> str:
        if self.tenant_header:
            header = request.headers.get(self.tenant_header)
            if header:
                return header
        return _tenant_in(activity)


def _tenant_in(activity: dict[str, Any]) -> str:
    conversation = activity.get("conversation")
    if isinstance(conversation, dict):
        tenant = conversation.get("tenantId")
        if isinstance(tenant, str) and tenant:
            return tenant
    channel_data = activity.get("channelData")
    if isinstance(channel_data, dict):
        tenant_info = channel_data.get("tenant")
        if isinstance(tenant_info, dict):
            tenant = tenant_info.get("id")
            if isinstance(tenant, str) and tenant:
                return tenant
    return DEFAULT_TENANT


@dataclass(frozen=True)
class Answer:
    """One answer of the fake: a status, and for a refusal its error code and Retry-After."""

    status: int
    code: str = ""
    message: str = ""
    retry_after: int | None = None
    activity_id: str = ""


class FakeSender:
    """`ProactiveSender` on a `FakeTeamsConnector` (see `FakeTeamsConnector.sender`)."""

    def __init__(self, connector: FakeTeamsConnector) -> None:
        self.connector = connector

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        conversation = dict(reference.get("conversation") or {})
        activity = {
            "type": "message",
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
            "conversation": conversation,
            "recipient": reference.get("user"),
            "locale": reference.get("locale"),
        }
        self._check(self.connector.answer(str(conversation.get("id", "")), activity))

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        activity = {
            "type": "message",
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
        }
        self._check(self.connector.answer(conversation_id, activity, update_id=activity_id))

    @staticmethod
    def _check(answer: Answer) -> None:
        if answer.status >= 300:
            raise DeliveryError(answer.status, answer.code, answer.retry_after)


def _fingerprint(activity: dict[str, Any]) -> str:
    return json.dumps(
        [activity.get("text"), activity.get("attachments")], sort_keys=True, default=str
    )

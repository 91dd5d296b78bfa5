"""Sliding-window rate limiting for sends to Teams. Pure: time is passed in, nothing sleeps.

Teams allows a bot 50 messages per second per tenant (all conversations together) and, per
conversation, 7 per second, 8 per 2 seconds, 60 per 30 seconds and 1800 per hour, all at once.
Past a limit it answers HTTP 429 with Retry-After.

The windows are exact sliding windows: a send at time ``t`` counts against a window of ``s``
seconds while ``now < t + s``, so no half-open interval ``[x, x + s)`` ever holds more than the
window's limit of recorded sends. Per tenant and per conversation the limiter keeps one deque of
the most recent send times, at most as long as the largest limit; a window of limit ``n`` is full
exactly when the ``n``-th most recent send is still inside it, so every check is O(windows).

Conversations and tenants with no send inside their longest window are forgotten (oldest first,
checked on every call, amortised O(1)), and so are pauses that have run out, so a broadcast to
10,000 one-off recipients does not keep 10,000 deques after the hour has passed.

Times are monotonic seconds (``time.monotonic()``) and are expected not to go backwards; if a send
is recorded earlier than the last one for the same key it is counted at the later time (the
conservative choice). Not thread-safe: it is meant for one event loop.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CONVERSATION_WINDOWS",
    "TENANT_WINDOWS",
    "RateLimiter",
    "Window",
]


@dataclass(frozen=True)
class Window:
    """At most ``limit`` sends in any ``seconds``-long stretch of time."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a window's limit must be at least 1")
        if not self.seconds > 0 or math.isinf(self.seconds):
            raise ValueError("a window's length must be a positive, finite number of seconds")


TENANT_WINDOWS: tuple[Window, ...] = (Window(50, 1.0),)
CONVERSATION_WINDOWS: tuple[Window, ...] = (
    Window(7, 1.0),
    Window(8, 2.0),
    Window(60, 30.0),
    Window(1800, 3600.0),
)

ConversationKey = tuple[str, str]


def _wait_until(boundary: float, now: float) -> float:
    """``boundary - now``, rounded up so that ``now + result >= boundary`` holds in floats.

    A caller that advances its clock by exactly the returned wait is then allowed to send, instead
    of being told to wait a further 1e-16 seconds for ever.
    """
    wait = boundary - now
    while now + wait < boundary:
        wait = math.nextafter(wait, math.inf)
    return wait


class _Track:
    """Send times for one kind of key (tenants or conversations) and its pauses."""

    __slots__ = ("_heap", "_longest", "_maxlen", "_order", "_windows", "pauses", "sends")

    def __init__(self, windows: tuple[tuple[int, float], ...]) -> None:
        self._windows = windows
        self._maxlen = max((limit for limit, _ in windows), default=0)
        self._longest = max((seconds for _, seconds in windows), default=0.0)
        # Ordered by the time of the last send (move_to_end on every send), oldest first.
        self.sends: OrderedDict[object, deque[float]] = OrderedDict()
        self.pauses: dict[object, float] = {}
        self._heap: list[tuple[float, int, object]] = []
        self._order = itertools.count()

    def wait(self, key: object, now: float) -> float:
        wait = 0.0
        until = self.pauses.get(key)
        if until is not None and until > now:
            wait = _wait_until(until, now)
        times = self.sends.get(key)
        if times is not None:
            count = len(times)
            for limit, seconds in self._windows:
                if count >= limit:
                    boundary = times[-limit] + seconds
                    if boundary > now:
                        candidate = _wait_until(boundary, now)
                        if candidate > wait:
                            wait = candidate
        return wait

    def record(self, key: object, now: float) -> None:
        if not self._maxlen:
            return
        times = self.sends.get(key)
        if times is None:
            times = self.sends[key] = deque(maxlen=self._maxlen)
        else:
            self.sends.move_to_end(key)
            if times and now < times[-1]:
                now = times[-1]
        times.append(now)

    def pause(self, key: object, until: float) -> None:
        if until > self.pauses.get(key, -math.inf):
            self.pauses[key] = until
            # The counter keeps the heap from ever comparing keys of different types.
            heapq.heappush(self._heap, (until, next(self._order), key))

    def expire(self, now: float) -> None:
        sends = self.sends
        longest = self._longest
        while sends:
            key, times = next(iter(sends.items()))
            if times[-1] + longest > now:
                break
            sends.popitem(last=False)
        heap = self._heap
        while heap and heap[0][0] <= now:
            until, _, key = heapq.heappop(heap)
            if self.pauses.get(key) == until:
                del self.pauses[key]

    def keys(self) -> set[object]:
        return set(self.sends) | set(self.pauses)


def _effective(windows: Sequence[Window], safety: float) -> tuple[Window, ...]:
    scale = 1.0 - safety
    return tuple(
        Window(max(1, math.floor(window.limit * scale + 1e-9)), window.seconds)
        for window in windows
    )


class RateLimiter:
    """Sliding-window limiter for sends to Teams. Time is passed in (monotonic seconds).

    ``safety`` lowers every limit by that fraction (rounded down, at least 1) to leave headroom,
    e.g. ``safety=0.02`` turns 50 per second into 49 per second.
    """

    def __init__(
        self,
        tenant_windows: Sequence[Window] = TENANT_WINDOWS,
        conversation_windows: Sequence[Window] = CONVERSATION_WINDOWS,
        *,
        safety: float = 0.0,
    ) -> None:
        if not 0.0 <= safety < 1.0:
            raise ValueError("safety must be a fraction in [0, 1)")
        self.tenant_windows = _effective(tenant_windows, safety)
        self.conversation_windows = _effective(conversation_windows, safety)
        self._tenants = _Track(tuple((w.limit, w.seconds) for w in self.tenant_windows))
        self._conversations = _Track(tuple((w.limit, w.seconds) for w in self.conversation_windows))

    def wait_time(self, tenant_id: str, conversation_id: str, now: float) -> float:
        """0.0 if a send is allowed at ``now``, else the seconds until it is."""
        self.expire(now)
        return self._wait(tenant_id, (tenant_id, conversation_id), now)

    def record(self, tenant_id: str, conversation_id: str, now: float) -> None:
        """A send to ``conversation_id`` in ``tenant_id`` happened at ``now``."""
        self.expire(now)
        self._tenants.record(tenant_id, now)
        self._conversations.record((tenant_id, conversation_id), now)

    def try_acquire(self, tenant_id: str, conversation_id: str, now: float) -> float:
        """If a send is allowed at ``now``, record it and return 0.0; else return the wait."""
        self.expire(now)
        key = (tenant_id, conversation_id)
        wait = self._wait(tenant_id, key, now)
        if wait == 0.0:
            self._tenants.record(tenant_id, now)
            self._conversations.record(key, now)
        return wait

    def pause_tenant(self, tenant_id: str, until: float) -> None:
        """Nobody in ``tenant_id`` sends before ``until`` (after a 429 with Retry-After).

        A pause only ever gets longer: an earlier ``until`` than the current one is ignored.
        """
        self._tenants.pause(tenant_id, until)

    def pause_conversation(self, tenant_id: str, conversation_id: str, until: float) -> None:
        """Nothing is sent to this conversation before ``until``. Pauses only get longer."""
        self._conversations.pause((tenant_id, conversation_id), until)

    def expire(self, now: float) -> None:
        """Forget keys with no send inside their longest window and pauses that have run out.

        Every other method calls this; it is public for callers that want to trim memory while
        idle.
        """
        self._tenants.expire(now)
        self._conversations.expire(now)

    @property
    def tracked_tenants(self) -> int:
        """How many tenants the limiter holds any state (sends or a pause) for."""
        return len(self._tenants.keys())

    @property
    def tracked_conversations(self) -> int:
        """How many conversations the limiter holds any state (sends or a pause) for."""
        return len(self._conversations.keys())

    def _wait(self, tenant_id: str, key: ConversationKey, now: float) -> float:
        tenant_wait = self._tenants.wait(tenant_id, now)
        conversation_wait = self._conversations.wait(key, now)
        return tenant_wait if tenant_wait > conversation_wait else conversation_wait

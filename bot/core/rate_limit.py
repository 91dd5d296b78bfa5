"""Sliding-window rate limiting for sends to Teams. Pure: time is passed in, nothing sleeps.

Teams allows a bot 50 messages per second per tenant (all conversations together) and, per
conversation, 7 per second, 8 per 2 seconds, 60 per 30 seconds and 1800 per hour, all at once.
Past a limit it answers HTTP 429 with Retry-After.

The limiter keeps its own log of what was sent and counts each message over the whole stretch in
which Teams might count it. Teams counts a message at the moment it arrives, which is somewhere
between the moment we start sending it and the moment its answer comes back. So a message is
counted from ``begin`` (it is "in flight") until ``end`` plus the window's length: any stretch of
time Teams looks at then holds at most the window's limit of messages, however the network delays
them, with no fixed safety margin and no timers. (``try_acquire`` is ``begin`` and ``end`` at the
same moment, for callers that do not report when the answer came.)

Windows up to ``EXACT_SECONDS`` long (all of Teams' per-tenant windows and the per-conversation 1, 2
and 30 second ones) are exact: per key a deque of the most recent completion times, at most as long
as the largest limit, forgotten as soon as no send is inside the longest of them (30 s for a
conversation), so memory follows the conversations active in the last half minute. Longer windows
(the hour) are counted in a fixed-size table instead of per conversation: two rows of hashed
counters per minute of sends, so one conversation's count can only come out too high (another
conversation sharing both its counters), never too low, and a send counts until the end of its
minute plus the window. With 2,048 counters a row and Teams' 180,000 messages an hour per tenant, a
counter holds about 90 sends, far below the 1,800 that would hold anyone back.

Times are monotonic seconds and are expected not to go backwards; if a send is recorded earlier
than the last one for the same key it is counted at the later time (the conservative choice). Not
thread-safe: it is meant for one event loop.
"""

from __future__ import annotations

import heapq
import itertools
import math
from array import array
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CONVERSATION_WINDOWS",
    "IN_FLIGHT",
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

EXACT_SECONDS = 60.0
"""Windows up to this long are counted exactly per key; longer ones in the hashed table."""
BUCKET_SECONDS = 60.0
SKETCH_ROWS = 2
SKETCH_SLOTS = 2048

IN_FLIGHT = math.inf
"""The wait when only a send that is still in flight can make room: wait for its answer."""


def _wait_until(boundary: float, now: float) -> float:
    """``boundary - now``, rounded up so that ``now + result >= boundary`` holds in floats.

    A caller that advances its clock by exactly the returned wait is then allowed to send, instead
    of being told to wait a further 1e-16 seconds for ever.
    """
    wait = boundary - now
    while now + wait < boundary:
        wait = math.nextafter(wait, math.inf)
    return wait


class _Sketch:
    """Sends per key in long windows, in a fixed-size table of hashed counters per minute."""

    __slots__ = ("_buckets", "_longest", "_totals", "_windows")

    def __init__(self, windows: tuple[tuple[int, float], ...]) -> None:
        self._windows = windows
        self._longest = max(seconds for _, seconds in windows)
        self._totals = array("I", bytes(4 * SKETCH_ROWS * SKETCH_SLOTS))
        # (minute number, counters of that minute), oldest first
        self._buckets: deque[tuple[int, array[int]]] = deque()

    @staticmethod
    def _slots(key: object) -> list[int]:
        return [row * SKETCH_SLOTS + hash((row, key)) % SKETCH_SLOTS for row in range(SKETCH_ROWS)]

    def _leaves(self, minute: int) -> float:
        """When every send of that minute is out of the longest window (conservatively late)."""
        return (minute + 1) * BUCKET_SECONDS + self._longest

    def record(self, key: object, now: float) -> None:
        minute = math.floor(now / BUCKET_SECONDS)
        buckets = self._buckets
        if not buckets or buckets[-1][0] < minute:
            buckets.append((minute, array("I", bytes(4 * SKETCH_ROWS * SKETCH_SLOTS))))
        counters = buckets[-1][1]  # a time that went backwards counts in the latest minute
        for slot in self._slots(key):
            counters[slot] += 1
            self._totals[slot] += 1

    def expire(self, now: float) -> None:
        buckets = self._buckets
        while buckets and self._leaves(buckets[0][0]) <= now:
            _, counters = buckets.popleft()
            totals = self._totals
            for slot, count in enumerate(counters):
                if count:
                    totals[slot] -= count

    def wait(self, key: object, now: float, in_flight: int) -> float:
        slots = self._slots(key)
        wait = 0.0
        for limit, seconds in self._windows:
            counts = [self._totals[slot] for slot in slots]
            if in_flight + min(counts) < limit:
                continue
            boundary = math.inf
            for minute, counters in self._buckets:
                counts = [count - counters[slot] for count, slot in zip(counts, slots, strict=True)]
                if in_flight + min(counts) < limit:
                    boundary = (minute + 1) * BUCKET_SECONDS + seconds
                    break
            if boundary > now:
                candidate = math.inf if math.isinf(boundary) else _wait_until(boundary, now)
                wait = max(wait, candidate)
        return wait

    @property
    def bytes_used(self) -> int:
        return (len(self._buckets) + 1) * 4 * SKETCH_ROWS * SKETCH_SLOTS


class _Track:
    """What was sent for one kind of key (tenants or conversations), and its pauses."""

    __slots__ = (
        "_exact",
        "_heap",
        "_longest",
        "_maxlen",
        "_order",
        "_sketch",
        "in_flight",
        "pauses",
        "sends",
    )

    def __init__(self, windows: tuple[tuple[int, float], ...]) -> None:
        self._exact = tuple((n, s) for n, s in windows if s <= EXACT_SECONDS)
        long = tuple((n, s) for n, s in windows if s > EXACT_SECONDS)
        self._sketch = _Sketch(long) if long else None
        self._maxlen = max((limit for limit, _ in self._exact), default=0)
        self._longest = max((seconds for _, seconds in self._exact), default=0.0)
        # Completion times, ordered by the time of the last one (move_to_end), oldest first.
        self.sends: OrderedDict[object, deque[float]] = OrderedDict()
        self.in_flight: dict[object, int] = {}
        self.pauses: dict[object, float] = {}
        self._heap: list[tuple[float, int, object]] = []
        self._order = itertools.count()

    def wait(self, key: object, now: float) -> float:
        wait = 0.0
        until = self.pauses.get(key)
        if until is not None and until > now:
            wait = _wait_until(until, now)
        flying = self.in_flight.get(key, 0)
        times = self.sends.get(key)
        count = len(times) if times is not None else 0
        for limit, seconds in self._exact:
            needed = limit - flying  # completed sends that, with those in flight, fill the window
            if needed <= 0:
                return IN_FLIGHT
            if times is not None and count >= needed:
                boundary = times[-needed] + seconds
                if boundary > now:
                    candidate = _wait_until(boundary, now)
                    if candidate > wait:
                        wait = candidate
        if self._sketch is not None:
            wait = max(wait, self._sketch.wait(key, now, flying))
        return wait

    def begin(self, key: object) -> None:
        self.in_flight[key] = self.in_flight.get(key, 0) + 1

    def end(self, key: object, now: float) -> None:
        flying = self.in_flight.get(key, 0)
        if flying > 1:
            self.in_flight[key] = flying - 1
        else:
            self.in_flight.pop(key, None)
        self.record(key, now)

    def record(self, key: object, now: float) -> None:
        if self._sketch is not None:
            self._sketch.record(key, now)
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
        if self._sketch is not None:
            self._sketch.expire(now)
        heap = self._heap
        while heap and heap[0][0] <= now:
            until, _, key = heapq.heappop(heap)
            if self.pauses.get(key) == until:
                del self.pauses[key]

    def keys(self) -> set[object]:
        return set(self.sends) | set(self.pauses) | set(self.in_flight)

    @property
    def sketch_bytes(self) -> int:
        return 0 if self._sketch is None else self._sketch.bytes_used


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
        """If a send is allowed at ``now``, record it and return 0.0; else return the wait.

        For a send whose answer is not reported: it counts as if it arrived at ``now``.
        """
        self.expire(now)
        key = (tenant_id, conversation_id)
        wait = self._wait(tenant_id, key, now)
        if wait == 0.0:
            self._tenants.record(tenant_id, now)
            self._conversations.record(key, now)
        return wait

    def begin(self, tenant_id: str, conversation_id: str, now: float) -> float:
        """If a send is allowed at ``now``, count it as in flight and return 0.0; else the wait.

        The wait is ``IN_FLIGHT`` (infinity) when only the answer to a send still in flight can
        make room. Every ``begin`` that returned 0.0 must be followed by one ``end``.
        """
        self.expire(now)
        key = (tenant_id, conversation_id)
        wait = self._wait(tenant_id, key, now)
        if wait == 0.0:
            self._tenants.begin(tenant_id)
            self._conversations.begin(key)
        return wait

    def end(self, tenant_id: str, conversation_id: str, now: float) -> None:
        """The answer to a send counted by ``begin`` came back (or the send failed) at ``now``:
        from here on it counts as sent at ``now``, the latest moment Teams can have counted it."""
        self.expire(now)
        self._tenants.end(tenant_id, now)
        self._conversations.end((tenant_id, conversation_id), now)

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
        """How many conversations the limiter holds any state for (sends inside the exact windows,
        a send in flight or a pause). The hour window is in a fixed-size table, not per
        conversation."""
        return len(self._conversations.keys())

    @property
    def table_bytes(self) -> int:
        """Bytes of the fixed-size hashed tables for the long windows (independent of how many
        conversations were sent to)."""
        return self._tenants.sketch_bytes + self._conversations.sketch_bytes

    def _wait(self, tenant_id: str, key: ConversationKey, now: float) -> float:
        tenant_wait = self._tenants.wait(tenant_id, now)
        conversation_wait = self._conversations.wait(key, now)
        return tenant_wait if tenant_wait > conversation_wait else conversation_wait

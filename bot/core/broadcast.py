"""The broadcast plan: what happens to one recipient after one attempt, and the job's progress.

Pure: the worker feeds in the connector's answer and the time; this decides sent / retry (and when)
/ failed / blocked / not found, following Teams' guidance: honour Retry-After on 429, retry 412,
502, 503, 504 and network failures with exponential backoff and jitter up to a bound, stop writing
to users who blocked the bot (403 MessageWritesBlocked), and give up on conversations that no
longer exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_ATTEMPTS = 6
BASE_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
TRANSIENT = frozenset({0, 408, 412, 500, 502, 503, 504})
BLOCKED_CODES = frozenset({"MessageWritesBlocked", "ConversationBlockedByUser"})


class RecipientState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    NOT_FOUND = "not_found"


FINAL = frozenset(
    {RecipientState.SENT, RecipientState.FAILED, RecipientState.BLOCKED, RecipientState.NOT_FOUND}
)


@dataclass(frozen=True)
class Decision:
    state: RecipientState
    retry_at: float | None = None  # for PENDING: when to try again (same clock as `now`)
    pause_tenant_until: float | None = None  # 429: nobody in the tenant sends before this


def after_attempt(
    *,
    status: int,
    code: str,
    retry_after: float | None,
    attempts: int,
    now: float,
    jitter: float,
) -> Decision:
    """`attempts` counts this one; `jitter` is in [0, 1), from the caller's random source."""
    if 200 <= status < 300:
        return Decision(RecipientState.SENT)
    if status == 403 and code in BLOCKED_CODES:
        return Decision(RecipientState.BLOCKED)
    if status == 404:
        return Decision(RecipientState.NOT_FOUND)
    if status == 429:
        wait = max(1.0, retry_after if retry_after is not None else BASE_BACKOFF_SECONDS)
        # throttling is not the recipient's fault: it does not use up their attempts
        return Decision(RecipientState.PENDING, retry_at=now + wait, pause_tenant_until=now + wait)
    if status in TRANSIENT and attempts < MAX_ATTEMPTS:
        backoff = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** (attempts - 1))
        wait = retry_after if retry_after is not None else backoff * (0.5 + jitter / 2)
        return Decision(RecipientState.PENDING, retry_at=now + wait)
    return Decision(RecipientState.FAILED)


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    blocked: int
    not_found: int
    elapsed_seconds: float

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.not_found

    @property
    def pending(self) -> int:
        return self.total - self.done

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def seconds_left(self, ceiling_per_second: float) -> float:
        """An estimate from the rate so far, never faster than the ceiling allows."""
        if self.pending == 0:
            return 0.0
        rate = self.done / self.elapsed_seconds if self.elapsed_seconds > 0 and self.done else 0.0
        rate = min(rate, ceiling_per_second) if rate else ceiling_per_second
        return self.pending / rate

"""How long the outbox waits before trying to deliver a card again."""

from __future__ import annotations

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0


def retry_delay(attempts: int, retry_after: float | None, jitter: float) -> float:
    """Seconds to wait before the next try: the server's Retry-After when it gave one, else
    exponential backoff (2 s, 4 s, 8 s … capped at 15 min) with jitter in [0.5, 1] of the step.
    Transient failures are retried without end: a card is never dropped for being unlucky."""
    if retry_after is not None and retry_after >= 0:
        return min(max(retry_after, 0.0), BACKOFF_CAP_SECONDS)
    exponent = min(max(attempts - 1, 0), 20)
    step = min(BACKOFF_BASE_SECONDS * float(2**exponent), BACKOFF_CAP_SECONDS)
    return step * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))

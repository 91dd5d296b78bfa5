"""What happens to one recipient after one attempt, and how progress is reported."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.broadcast import (
    MAX_ATTEMPTS,
    MAX_BACKOFF_SECONDS,
    Decision,
    Progress,
    RecipientState,
    after_attempt,
)


def decide(
    status: int,
    code: str = "",
    attempts: int = 1,
    retry_after: float | None = None,
    jitter: float = 0.5,
) -> Decision:
    return after_attempt(
        status=status,
        code=code,
        retry_after=retry_after,
        attempts=attempts,
        now=1000.0,
        jitter=jitter,
    )


def test_success_is_sent() -> None:
    assert decide(201).state is RecipientState.SENT


def test_a_user_who_blocked_the_bot_is_blocked_not_retried() -> None:
    result = decide(403, "MessageWritesBlocked")
    assert result.state is RecipientState.BLOCKED


def test_a_missing_conversation_is_not_found() -> None:
    assert decide(404, "ConversationNotFound").state is RecipientState.NOT_FOUND


def test_throttling_waits_retry_after_pauses_the_tenant_and_costs_no_attempt() -> None:
    result = decide(429, retry_after=3.0, attempts=MAX_ATTEMPTS + 5)
    assert result.state is RecipientState.PENDING
    assert result.retry_at == 1003.0
    assert result.pause_tenant_until == 1003.0


@pytest.mark.parametrize("status", [0, 412, 502, 503, 504])
def test_transient_failures_back_off_exponentially_up_to_a_bound(status: int) -> None:
    waits = [
        (decide(status, attempts=n, jitter=1.0).retry_at or 0.0) - 1000.0
        for n in range(1, MAX_ATTEMPTS)
    ]
    assert waits == sorted(waits)
    assert waits[0] == 1.0
    assert max(waits) <= MAX_BACKOFF_SECONDS
    assert decide(status, attempts=MAX_ATTEMPTS).state is RecipientState.FAILED


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_other_refusals_fail_at_once(status: int) -> None:
    assert decide(status, "BadArgument").state is RecipientState.FAILED


@given(
    status=st.integers(0, 599),
    attempts=st.integers(1, 20),
    jitter=st.floats(0, 0.999),
    retry_after=st.one_of(st.none(), st.floats(0, 120)),
)
def test_every_answer_gets_exactly_one_decision_and_retries_lie_ahead(
    status: int, attempts: int, jitter: float, retry_after: float | None
) -> None:
    result = after_attempt(
        status=status, code="", retry_after=retry_after, attempts=attempts, now=50.0, jitter=jitter
    )
    if result.state is RecipientState.PENDING:
        assert result.retry_at is not None
        assert result.retry_at >= 50.0
    else:
        assert result.retry_at is None


def test_progress_counts_and_estimates_time_left_within_the_ceiling() -> None:
    progress = Progress(total=1000, sent=480, failed=10, blocked=5, not_found=5, elapsed_seconds=10)
    assert progress.done == 500
    assert progress.pending == 500
    assert not progress.finished
    assert progress.seconds_left(50.0) == 10.0
    assert Progress(10, 10, 0, 0, 0, 1.0).seconds_left(50.0) == 0.0

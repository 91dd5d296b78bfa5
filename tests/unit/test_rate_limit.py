"""Tests for the pure sliding-window limiter in `bot.core.rate_limit` (time is a plain float)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.rate_limit import (
    CONVERSATION_WINDOWS,
    TENANT_WINDOWS,
    RateLimiter,
    Window,
)

T = "tenant-a"


def fill(limiter: RateLimiter, conversation: str, times: list[float], tenant: str = T) -> None:
    for now in times:
        assert limiter.try_acquire(tenant, conversation, now) == 0.0, f"refused at {now}"


def test_the_documented_limits() -> None:
    assert [(w.limit, w.seconds) for w in TENANT_WINDOWS] == [(50, 1.0)]
    assert [(w.limit, w.seconds) for w in CONVERSATION_WINDOWS] == [
        (7, 1.0),
        (8, 2.0),
        (60, 30.0),
        (1800, 3600.0),
    ]


# -- tenant: 50 per second ------------------------------------------------------------------------


def test_fifty_sends_a_second_pass_and_the_51st_waits_for_the_first_to_leave() -> None:
    limiter = RateLimiter()
    times = [i * 0.019 for i in range(50)]  # 0.0 … 0.931, one per conversation
    for i, now in enumerate(times):
        assert limiter.try_acquire(T, f"c{i}", now) == 0.0
    assert limiter.wait_time(T, "c-new", 0.95) == pytest.approx(0.05)
    assert limiter.try_acquire(T, "c-new", 0.95) == pytest.approx(0.05)
    # The first send (at 0.0) leaves the window at exactly 1.0.
    assert limiter.try_acquire(T, "c-new", 1.0) == 0.0
    # The next one waits for the second send (at 0.019) to leave.
    assert limiter.wait_time(T, "c-other", 1.0) == pytest.approx(0.019)


def test_tenants_are_counted_apart() -> None:
    limiter = RateLimiter()
    for i in range(50):
        limiter.record(T, f"c{i}", 0.0)
    assert limiter.wait_time(T, "x", 0.0) == 1.0
    assert limiter.wait_time("tenant-b", "x", 0.0) == 0.0


def test_the_same_conversation_id_in_two_tenants_is_two_conversations() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0] * 7)
    assert limiter.wait_time(T, "c", 0.0) == 1.0
    assert limiter.wait_time("tenant-b", "c", 0.0) == 0.0


# -- conversation windows -------------------------------------------------------------------------


def test_seven_per_second_per_conversation() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert limiter.wait_time(T, "c", 0.6) == pytest.approx(0.4)
    assert limiter.wait_time(T, "other", 0.6) == 0.0  # other conversations are not affected
    assert limiter.try_acquire(T, "c", 1.0) == 0.0


def test_eight_per_two_seconds_binds_after_the_first_second() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0] * 7)
    assert limiter.wait_time(T, "c", 0.0) == 1.0  # 7 per 1 s
    fill(limiter, "c", [1.0])  # the 8th in two seconds is fine …
    # … the 9th is not, although the 1 s window holds only one send: wait for t=0 to leave 2 s.
    assert limiter.wait_time(T, "c", 1.0) == 1.0
    assert limiter.wait_time(T, "c", 1.5) == 0.5
    fill(limiter, "c", [2.0] * 7)  # at 2.0 the 2 s window holds just the send at 1.0
    assert limiter.wait_time(T, "c", 2.0) == 1.0  # 8 in [1, 3) and 7 in [2, 3)


def test_sixty_per_thirty_seconds() -> None:
    limiter = RateLimiter()
    # One every 0.3 s: at most 4 per second and 7 per two seconds, so only 60/30 s can bind.
    times = [k * 0.3 for k in range(60)]
    fill(limiter, "c", times)
    now = 60 * 0.3
    assert limiter.wait_time(T, "c", now) == pytest.approx(30.0 - now)
    assert limiter.wait_time(T, "c", 29.99) == pytest.approx(0.01)
    assert limiter.try_acquire(T, "c", 30.0) == 0.0
    # The next waits for the second send (0.3) to leave the 30 s window.
    assert limiter.wait_time(T, "c", 30.0) == pytest.approx(0.3)


def test_eighteen_hundred_per_hour() -> None:
    limiter = RateLimiter()
    # One every 0.6 s: at most 2 per second, 4 per 2 s, 51 per 30 s; only 1800/h can bind.
    times = [k * 0.6 for k in range(1800)]
    fill(limiter, "c", times)
    now = 1800 * 0.6  # 1080 s
    # The hour is counted per minute of sends, a send until the end of its minute plus the hour:
    # the 100 sends of the first minute (0-59.4 s) all leave at 3660 s, never earlier than Teams.
    assert limiter.wait_time(T, "c", now) == pytest.approx(3660.0 - now)
    assert limiter.wait_time(T, "c", 3659.0) == pytest.approx(1.0)
    assert limiter.try_acquire(T, "c", 3660.0) == 0.0
    for k in range(99):
        assert limiter.try_acquire(T, "c", 3660.0 + k * 0.6) == 0.0
    assert limiter.wait_time(T, "c", 3660.0 + 99 * 0.6) == pytest.approx(3720.0 - 3660 - 99 * 0.6)


def test_the_longest_wait_of_all_windows_wins() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0] * 7)
    for i in range(50):
        limiter.record(T, f"other{i}", 0.5)  # the tenant is full until 1.5
    assert limiter.wait_time(T, "c", 0.5) == 1.0  # tenant (1.0) > conversation (0.5)
    limiter = RateLimiter()
    for i in range(43):
        limiter.record(T, f"other{i}", 0.0)
    fill(limiter, "c", [0.5] * 7)  # the tenant is full until 1.0, the conversation until 1.5
    assert limiter.wait_time(T, "c", 0.5) == 1.0


def test_safety_leaves_headroom() -> None:
    limiter = RateLimiter(safety=0.02)
    assert limiter.tenant_windows == (Window(49, 1.0),)
    assert [w.limit for w in limiter.conversation_windows] == [6, 7, 58, 1764]
    for i in range(49):
        assert limiter.try_acquire(T, f"c{i}", 0.0) == 0.0
    assert limiter.try_acquire(T, "c-new", 0.0) == 1.0
    assert RateLimiter(safety=0.99).conversation_windows[0].limit == 1


@pytest.mark.parametrize("safety", [-0.1, 1.0, 2.0])
def test_safety_must_be_a_fraction(safety: float) -> None:
    with pytest.raises(ValueError, match="safety"):
        RateLimiter(safety=safety)


@pytest.mark.parametrize(("limit", "seconds"), [(0, 1.0), (1, 0.0), (1, -1.0), (1, float("inf"))])
def test_windows_must_make_sense(limit: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="window"):
        Window(limit, seconds)


def test_no_windows_means_no_limit() -> None:
    limiter = RateLimiter((), ())
    for _ in range(1000):
        assert limiter.try_acquire(T, "c", 0.0) == 0.0
    assert limiter.tracked_conversations == 0


# -- pauses ---------------------------------------------------------------------------------------


def test_pause_tenant_stops_every_conversation_in_that_tenant_only() -> None:
    limiter = RateLimiter()
    limiter.pause_tenant(T, until=5.0)
    assert limiter.wait_time(T, "a", 1.0) == 4.0
    assert limiter.try_acquire(T, "b", 2.0) == 3.0
    assert limiter.wait_time("tenant-b", "a", 1.0) == 0.0
    assert limiter.try_acquire(T, "a", 5.0) == 0.0


def test_pause_conversation_stops_only_that_conversation() -> None:
    limiter = RateLimiter()
    limiter.pause_conversation(T, "a", until=3.0)
    assert limiter.wait_time(T, "a", 1.0) == 2.0
    assert limiter.wait_time(T, "b", 1.0) == 0.0
    assert limiter.wait_time("tenant-b", "a", 1.0) == 0.0
    assert limiter.try_acquire(T, "a", 3.0) == 0.0


def test_a_pause_only_gets_longer() -> None:
    limiter = RateLimiter()
    limiter.pause_tenant(T, until=10.0)
    limiter.pause_tenant(T, until=4.0)
    assert limiter.wait_time(T, "a", 0.0) == 10.0
    limiter.pause_conversation(T, "a", until=20.0)
    limiter.pause_conversation(T, "a", until=12.0)
    assert limiter.wait_time(T, "a", 0.0) == 20.0
    assert limiter.wait_time(T, "a", 15.0) == 5.0


def test_a_pause_and_a_full_window_combine_to_the_longer_wait() -> None:
    limiter = RateLimiter()
    fill(limiter, "a", [0.0] * 7)
    limiter.pause_conversation(T, "a", until=0.5)
    assert limiter.wait_time(T, "a", 0.0) == 1.0
    limiter.pause_tenant(T, until=3.0)
    assert limiter.wait_time(T, "a", 0.0) == 3.0


def test_waiting_exactly_the_returned_time_is_always_enough() -> None:
    # Float boundaries: t + s - now rounded down would leave the caller 1e-16 s short for ever.
    limiter = RateLimiter()
    now = 0.1
    fill(limiter, "a", [now] * 7)
    now = 0.7
    wait = limiter.wait_time(T, "a", now)
    assert wait > 0
    assert limiter.try_acquire(T, "a", now + wait) == 0.0
    # Found by search: here now + (boundary - now) < boundary in floats.
    sent, now = 152.67237468704897, 1292.1773299548915
    assert now + ((sent + 3600.0) - now) < sent + 3600.0
    limiter = RateLimiter((), (Window(1, 3600.0),))
    fill(limiter, "a", [sent])
    wait = limiter.wait_time(T, "a", now)
    assert limiter.try_acquire(T, "a", now + wait) == 0.0
    limiter.pause_conversation(T, "b", until=sent + 3600.0)
    wait = limiter.wait_time(T, "b", now)
    assert limiter.try_acquire(T, "b", now + wait) == 0.0


# -- try_acquire vs record ------------------------------------------------------------------------


def test_try_acquire_records_only_when_allowed() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0] * 7)
    for _ in range(5):
        assert limiter.try_acquire(T, "c", 0.5) == 0.5  # refused, not counted
    # Had the refusals been counted, the 1 s window at 1.0 would hold 5 and the 2 s one 12.
    assert limiter.try_acquire(T, "c", 1.0) == 0.0  # the 8th in two seconds
    assert limiter.try_acquire(T, "c", 1.0) == 1.0


def test_record_counts_even_past_the_limit() -> None:
    limiter = RateLimiter()
    for _ in range(10):
        limiter.record(T, "c", 0.0)
    # 10 sends at 0.0: the 2 s window (8) stays full until t = 2.0.
    assert limiter.wait_time(T, "c", 0.5) == 1.5
    assert limiter.wait_time(T, "c", 1.0) == 1.0
    assert limiter.wait_time(T, "c", 2.0) == 0.0


def test_time_going_backwards_counts_the_send_at_the_later_time() -> None:
    limiter = RateLimiter()
    limiter.record(T, "c", 5.0)
    limiter.record(T, "c", 4.0)  # counted at 5.0, the conservative choice
    fill(limiter, "c", [5.0] * 5)
    assert limiter.wait_time(T, "c", 5.5) == 0.5
    assert limiter.wait_time(T, "c", 6.0) == 0.0


# -- the property: no window is ever over its limit -----------------------------------------------

SMALL_TENANT = (Window(5, 1.0),)
SMALL_CONVERSATION = (Window(2, 0.5), Window(3, 2.0), Window(4, 5.0))


def over_limit(times: list[float], window: Window) -> bool:
    """Brute force: does any stretch [t_i, t_i + seconds) hold more than `limit` sends?"""
    ordered = sorted(times)
    for i, start in enumerate(ordered):
        inside = sum(1 for t in ordered[i:] if t < start + window.seconds)
        if inside > window.limit:
            return True
    return False


steps = st.lists(
    st.tuples(
        st.integers(0, 1),  # tenant
        st.integers(0, 3),  # conversation
        st.one_of(
            st.sampled_from([0.0, 0.0, 0.001, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0]),
            st.floats(0.0, 3.0, allow_nan=False),
        ),
        st.booleans(),  # after a refusal, wait exactly the returned time and try again
    ),
    max_size=120,
)


def drive(limiter: RateLimiter, plan: list[tuple[int, int, float, bool]]) -> None:
    sent_tenant: dict[str, list[float]] = defaultdict(list)
    sent_conversation: dict[tuple[str, str], list[float]] = defaultdict(list)
    now = 1000.0
    for tenant_no, conversation_no, dt, wait_and_retry in plan:
        now += dt
        tenant, conversation = f"t{tenant_no}", f"c{conversation_no}"
        wait = limiter.try_acquire(tenant, conversation, now)
        assert wait >= 0.0
        if wait > 0.0 and wait_and_retry:
            now += wait
            wait = limiter.try_acquire(tenant, conversation, now)
            assert wait == 0.0, "waiting the returned time was not enough"
        if wait == 0.0:
            sent_tenant[tenant].append(now)
            sent_conversation[tenant, conversation].append(now)
    for times in sent_tenant.values():
        for window in limiter.tenant_windows:
            assert not over_limit(times, window)
    for times in sent_conversation.values():
        for window in limiter.conversation_windows:
            assert not over_limit(times, window)


@settings(max_examples=300, deadline=None)
@given(plan=steps)
def test_sends_never_exceed_any_window_with_small_limits(
    plan: list[tuple[int, int, float, bool]],
) -> None:
    drive(RateLimiter(SMALL_TENANT, SMALL_CONVERSATION), plan)


@settings(max_examples=100, deadline=None)
@given(plan=steps)
def test_sends_never_exceed_any_window_with_the_teams_limits(
    plan: list[tuple[int, int, float, bool]],
) -> None:
    drive(RateLimiter(), plan)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(0.0, 2.0, allow_nan=False), min_size=1, max_size=60),
    probe=st.floats(0.0, 1.0, allow_nan=False),
)
def test_the_wait_is_exact(gaps: list[float], probe: float) -> None:
    """Allowed after the wait, not allowed a little before it (the wait is not padded)."""
    limiter = RateLimiter(SMALL_TENANT, SMALL_CONVERSATION)
    now = 0.0
    for gap in gaps:
        now += gap
        limiter.try_acquire(T, "c", now)
    wait = limiter.wait_time(T, "c", now)
    if wait > 1e-6:
        assert limiter.wait_time(T, "c", now + wait * probe * 0.999) > 0.0
    assert limiter.wait_time(T, "c", now + wait) == 0.0


# -- memory ---------------------------------------------------------------------------------------


def test_one_off_conversations_are_forgotten_after_half_a_minute() -> None:
    limiter = RateLimiter()
    table = limiter.table_bytes
    for i in range(10_000):
        assert limiter.try_acquire(T, f"user-{i}", i * 0.025) == 0.0  # 40 per second
    # only the conversations sent to in the last 30 s (the longest exact window) are kept
    assert limiter.tracked_conversations == 30 * 40
    assert limiter.tracked_tenants == 1
    later = 10_000 * 0.025 + 3600.0 + 60.0
    assert limiter.wait_time(T, "someone", later) == 0.0
    assert limiter.tracked_conversations == 0
    assert limiter.tracked_tenants == 0
    assert limiter.table_bytes == table  # the hour's table is back to its empty size


def test_memory_stays_bounded_during_a_long_broadcast() -> None:
    limiter = RateLimiter()
    most = 0
    for i in range(10_000):  # one new recipient every 0.72 s for two hours
        limiter.try_acquire(T, f"user-{i}", i * 0.72)
        most = max(most, limiter.tracked_conversations) if i % 100 == 0 else most
    assert most <= 3600 / 0.72 + 1


def test_a_conversation_is_kept_while_its_longest_exact_window_still_counts() -> None:
    limiter = RateLimiter()
    fill(limiter, "c", [0.0])
    limiter.expire(29.0)
    assert limiter.tracked_conversations == 1
    limiter.expire(30.0)
    assert limiter.tracked_conversations == 0


def test_pauses_that_ran_out_are_forgotten() -> None:
    limiter = RateLimiter()
    for i in range(1000):
        limiter.pause_conversation(T, f"user-{i}", until=10.0 + i)
        limiter.pause_tenant(f"tenant-{i}", until=10.0 + i)
    limiter.pause_conversation(T, "user-0", until=5000.0)  # extended: kept
    assert limiter.tracked_conversations == 1000
    limiter.expire(2000.0)
    assert limiter.tracked_conversations == 1
    assert limiter.tracked_tenants == 0
    assert limiter.wait_time(T, "user-0", 2000.0) == 3000.0
    limiter.expire(5000.0)
    assert limiter.tracked_conversations == 0

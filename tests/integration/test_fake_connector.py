"""The fake Teams Bot Connector in `tests.fakes`: what it records, how it throttles and refuses.

Its limits are checked here against hand-computed sequences, and against `bot.core.rate_limit`
(which it does not use), so that neither can quietly drift from Teams' documented windows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.rate_limit import RateLimiter
from bot.teams.connector import BotConnector, ConnectorError, TokenCache
from tests.fakes import Delivery, FakeTeamsConnector
from tests.fakes.teams_connector import CONVERSATION_LIMITS, TENANT_LIMITS, _Windows

ServerFactory = Callable[..., Awaitable[TestServer]]
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def start(
    aiohttp_client: ClientFactory, **options: Any
) -> tuple[FakeTeamsConnector, TestClient[Any, Any], Clock]:
    clock = Clock()
    fake = FakeTeamsConnector(clock=clock, **options)
    client = await aiohttp_client(fake.app())
    return fake, client, clock


def message(text: str = "Hei", tenant: str | None = None, **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message", "text": text, **extra}
    if tenant is not None:
        activity["conversation"] = {"tenantId": tenant}
    return activity


async def post(
    client: TestClient[Any, Any], conversation: str, activity: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    response = await client.post(
        f"/v3/conversations/{conversation}/activities", json=activity or message()
    )
    return response.status, await response.json(), response.headers


async def test_accepted_posts_are_recorded_in_order_with_unique_ids(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, clock = await start(aiohttp_client)
    ids = []
    for i, conversation in enumerate(["a", "b", "a"]):
        clock.now = 100.0 + i
        status, body, _ = await post(client, conversation, message(f"m{i}"))
        assert status == 201
        ids.append(body["id"])
    assert len(set(ids)) == 3
    assert fake.deliveries == [
        Delivery("a", message("m0"), 100.0, ids[0]),
        Delivery("b", message("m1"), 101.0, ids[1]),
        Delivery("a", message("m2"), 102.0, ids[2]),
    ]
    assert (fake.count_for("a"), fake.count_for("b"), fake.count_for("c")) == (2, 1, 0)
    assert fake.throttled == 0


async def test_a_reply_records_what_it_replies_to(aiohttp_client: ClientFactory) -> None:
    fake, client, _ = await start(aiohttp_client)
    response = await client.post("/v3/conversations/a/activities/17", json=message())
    assert response.status == 201
    assert fake.deliveries[0].reply_to_id == "17"
    assert fake.count_for("a") == 1


async def test_percent_encoded_conversation_ids_are_decoded(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, _ = await start(aiohttp_client)
    for raw in ["a%3A1", "19%3Aabc%40thread.tacv2%3Bmessageid%3D9", "x%2Fy%25z"]:
        assert (await post(client, raw))[0] == 201
    assert [d.conversation_id for d in fake.deliveries] == [
        "a:1",
        "19:abc@thread.tacv2;messageid=9",
        "x/y%z",
    ]
    assert fake.count_for("a:1") == 1


# -- throttling -----------------------------------------------------------------------------------


async def test_the_eighth_post_in_a_second_to_one_conversation_gets_429(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, clock = await start(aiohttp_client)
    for _ in range(7):
        assert (await post(client, "a"))[0] == 201
    status, body, headers = await post(client, "a")
    assert status == 429
    assert headers["Retry-After"] == "1"
    assert body["error"]["code"] == "Throttled"
    assert fake.throttled == 1
    assert fake.count_for("a") == 7  # the refused post is not a delivery
    assert (await post(client, "b"))[0] == 201  # other conversations go on
    clock.now += 0.999
    assert (await post(client, "a"))[0] == 429
    clock.now = 101.0  # the first seven leave the one-second window
    assert (await post(client, "a"))[0] == 201
    assert fake.throttled == 2


async def test_a_hand_computed_sequence_for_one_conversation(
    aiohttp_client: ClientFactory,
) -> None:
    """7/1 s, then 8/2 s, then 60/30 s, worked out by hand (times relative to 100.0)."""
    fake, client, clock = await start(aiohttp_client)
    expected: list[tuple[float, int, str | None]] = [
        *[(0.0, 201, None)] * 7,
        (0.0, 429, "1"),  # 7 in [0, 1)
        (0.5, 429, "1"),  # still 7 in the second; 0.5 s rounds up to 1
        (1.0, 201, None),  # the 1 s window is empty again; 8th in [0, 2)
        (1.0, 429, "1"),  # 8 in [0, 2): the sends at 0.0 leave at 2.0
        (1.9, 429, "1"),
        *[(2.0, 201, None)] * 6,  # [1, 3) holds 1.0 and these six; [2, 3) holds six
        (2.0, 201, None),  # the 8th in [1, 3) and the 7th in [2, 3)
        (2.0, 429, "1"),
    ]
    for at, status, retry_after in expected:
        clock.now = 100.0 + at
        got, _, headers = await post(client, "a")
        assert (at, got, headers.get("Retry-After")) == (at, status, retry_after)
    assert fake.count_for("a") == 15

    # 60 per 30 s: one every 0.3 s from t = 10 keeps 1 s and 2 s windows open but fills 30 s
    # after 45 more (15 are still inside [0, 30) … until they leave). Hand count at t = 10 + 0.3k:
    # the 15 early sends leave at 30.0, 31.0 and 32.0, so the 46th regular send (k = 45, t = 23.5)
    # is the 61st in [0, 30) and is refused with Retry-After ceil(30.0 - 23.5) = 7.
    for k in range(45):
        clock.now = 110.0 + 0.3 * k
        assert (await post(client, "a"))[0] == 201, k
    clock.now = 110.0 + 0.3 * 45
    got, _, headers = await post(client, "a")
    assert (got, headers["Retry-After"]) == (429, "7")


async def test_1800_an_hour_for_one_conversation(aiohttp_client: ClientFactory) -> None:
    fake, client, clock = await start(aiohttp_client)
    for k in range(1800):  # one every 0.6 s: only the hour window can bind
        clock.now = 100.0 + 0.6 * k
        assert (await post(client, "a"))[0] == 201, k
    clock.now = 100.0 + 1080.0
    got, _, headers = await post(client, "a")
    assert (got, headers["Retry-After"]) == (429, str(3600 - 1080))
    clock.now = 100.0 + 3600.0
    assert (await post(client, "a"))[0] == 201
    assert fake.count_for("a") == 1801


async def test_fifty_a_second_per_tenant_across_conversations(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, clock = await start(aiohttp_client)
    for i in range(50):
        clock.now = 100.0 + i * 0.01
        assert (await post(client, f"c{i}", message(tenant="t1")))[0] == 201
    status, _, headers = await post(client, "c-new", message(tenant="t1"))
    assert (status, headers["Retry-After"]) == (429, "1")
    # Another tenant (here named in channelData) has its own 50.
    other = message(channelData={"tenant": {"id": "t2"}})
    assert (await post(client, "c-new", other))[0] == 201
    clock.now = 101.0  # the first post (at 100.0) has left the window
    assert (await post(client, "c-new", message(tenant="t1")))[0] == 201
    assert (await post(client, "c-new2", message(tenant="t1")))[0] == 429
    assert fake.throttled == 2
    assert len(fake.deliveries) == 52


async def test_activities_without_a_tenant_share_the_default_tenant(
    aiohttp_client: ClientFactory,
) -> None:
    _, client, _ = await start(aiohttp_client)
    for i in range(50):
        assert (await post(client, f"c{i}", {"type": "message"}))[0] == 201
    assert (await post(client, "c-new", {"type": "message"}))[0] == 429
    assert (await post(client, "c-new", message(tenant="tenant")))[0] == 429


async def test_a_tenant_header_wins_when_named(aiohttp_client: ClientFactory) -> None:
    _, client, _ = await start(aiohttp_client, tenant_header="X-Tenant")
    for i in range(50):
        response = await client.post(
            f"/v3/conversations/c{i}/activities", json=message(), headers={"X-Tenant": "h"}
        )
        assert response.status == 201
    blocked = await client.post(
        "/v3/conversations/x/activities", json=message(), headers={"X-Tenant": "h"}
    )
    assert blocked.status == 429
    assert (await post(client, "x"))[0] == 201  # no header: the activity's (default) tenant


async def test_retry_after_is_at_least_the_configured_seconds(
    aiohttp_client: ClientFactory,
) -> None:
    _, client, _ = await start(aiohttp_client, retry_after_seconds=2.5)
    for _ in range(7):
        await post(client, "a")
    assert (await post(client, "a"))[2]["Retry-After"] == "3"


async def test_limits_can_be_switched_off(aiohttp_client: ClientFactory) -> None:
    fake, client, _ = await start(aiohttp_client, enforce_limits=False)
    for _ in range(100):
        assert (await post(client, "a"))[0] == 201
    assert fake.count_for("a") == 100
    assert fake.throttled == 0


# -- scripted answers -----------------------------------------------------------------------------


async def test_scripted_refusals_then_normal_behaviour(aiohttp_client: ClientFactory) -> None:
    fake, client, _ = await start(aiohttp_client)
    fake.script("blocked", (403, "MessageWritesBlocked"))
    fake.script("gone", (404, "ConversationNotFound"))
    fake.script("flaky", (503, None), (502, None))

    status, body, _ = await post(client, "blocked")
    assert status == 403
    assert body["error"]["code"] == "MessageWritesBlocked"
    assert body["error"]["message"]
    status, body, _ = await post(client, "gone")
    assert (status, body["error"]["code"]) == (404, "ConversationNotFound")
    status, body, _ = await post(client, "flaky")
    assert (status, body["error"]["code"]) == (503, "ServiceUnavailable")
    assert (await post(client, "flaky"))[0] == 502
    assert (await post(client, "flaky"))[0] == 201
    assert (await post(client, "blocked"))[0] == 201  # the script ran out
    assert [d.conversation_id for d in fake.deliveries] == ["flaky", "blocked"]


async def test_a_script_for_everyone_is_an_outage(aiohttp_client: ClientFactory) -> None:
    fake, client, _ = await start(aiohttp_client)
    fake.script_all((503, None), (504, None), (429, None))
    assert (await post(client, "a"))[0] == 503
    assert (await post(client, "b"))[0] == 504
    status, body, headers = await post(client, "c")
    assert (status, body["error"]["code"], headers["Retry-After"]) == (
        429,
        "TooManyRequests",
        "1",
    )
    assert fake.throttled == 1
    assert (await post(client, "a"))[0] == 201
    assert fake.deliveries[0].conversation_id == "a"


async def test_a_conversation_script_comes_before_the_outage(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, _ = await start(aiohttp_client)
    fake.script_all((503, None))
    fake.script("a", (403, "MessageWritesBlocked"))
    assert (await post(client, "a"))[0] == 403
    assert (await post(client, "a"))[0] == 503
    assert (await post(client, "a"))[0] == 201


async def test_our_connector_client_against_the_fake(aiohttp_client: ClientFactory) -> None:
    """The real client: quoted ids, a 503 retried, a blocked user recognised, 429 honoured."""
    fake, client, clock = await start(aiohttp_client)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    connector = BotConnector(client.session, TokenCache(clock), sleep=sleep)
    url = str(client.make_url("/"))
    fake.script("a:1", (503, None))
    assert await connector.send(service_url=url, conversation_id="a:1", payload=message())
    assert fake.deliveries[0].conversation_id == "a:1"
    fake.script("b:2", (403, "MessageWritesBlocked"))
    with pytest.raises(ConnectorError) as raised:
        await connector.send(service_url=url, conversation_id="b:2", payload=message())
    assert raised.value.blocked
    for _ in range(6):
        await connector.send(service_url=url, conversation_id="a:1", payload=message())
    waits.clear()
    await connector.send(service_url=url, conversation_id="a:1", payload=message())
    assert waits == [1.0]  # the fake's Retry-After
    assert fake.count_for("a:1") == 8
    assert fake.throttled == 1


# -- updates and duplicates -----------------------------------------------------------------------


async def test_an_update_is_recorded_apart_from_deliveries(aiohttp_client: ClientFactory) -> None:
    fake, client, clock = await start(aiohttp_client)
    _, body, _ = await post(client, "a%3A1", message("before"))
    clock.now = 105.0
    response = await client.put(
        f"/v3/conversations/a%3A1/activities/{body['id']}", json=message("after")
    )
    assert response.status == 200
    assert (await response.json()) == {"id": body["id"]}
    assert fake.updates == [Delivery("a:1", message("after"), 105.0, body["id"])]
    assert fake.count_for("a:1") == 1
    assert len(fake.deliveries) == 1


async def test_duplicates_counts_extra_copies_per_conversation(
    aiohttp_client: ClientFactory,
) -> None:
    fake, client, clock = await start(aiohttp_client)
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"v": 1}}
    sends = [
        ("a", message("tip 1")),
        ("a", message("tip 2")),
        ("b", message("tip 1")),
        ("a", message("tip 1")),  # duplicate
        ("c", message("", attachments=[card])),
        ("c", message("", attachments=[card])),  # duplicate
        ("c", message("", attachments=[{**card, "content": {"v": 2}}])),
        ("a", message("tip 1")),  # another duplicate
    ]
    for i, (conversation, activity) in enumerate(sends):
        clock.now = 100.0 + 10 * i
        assert (await post(client, conversation, activity))[0] == 201
    assert fake.duplicates() == {"a": 2, "c": 1}


async def test_a_body_that_is_not_an_activity_is_refused(aiohttp_client: ClientFactory) -> None:
    fake, client, _ = await start(aiohttp_client)
    response = await client.post("/v3/conversations/a/activities", data=b"not json")
    assert response.status == 400
    response = await client.post("/v3/conversations/a/activities", json=[1, 2])
    assert response.status == 400
    assert fake.deliveries == []


# -- the fake's windows agree with the limiter ----------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from([0.0, 0.0, 0.0, 0.01, 0.1, 0.3, 0.7, 1.0, 2.0, 29.5, 30.0]),
        ),
        max_size=150,
    )
)
def test_the_fake_and_the_limiter_agree(plan: list[tuple[int, float]]) -> None:
    """Same decisions and the same waits for any sequence, though the code is separate."""
    limiter = RateLimiter()
    tenants, conversations = _Windows(TENANT_LIMITS), _Windows(CONVERSATION_LIMITS)
    now = 0.0
    for conversation_no, dt in plan:
        now += dt
        conversation = f"c{conversation_no}"
        fake_wait = max(tenants.wait("t", now), conversations.wait(conversation, now))
        limiter_wait = limiter.try_acquire("t", conversation, now)
        assert limiter_wait == pytest.approx(fake_wait, abs=1e-9)
        assert (limiter_wait == 0.0) == (fake_wait <= 0.0)
        if fake_wait <= 0.0:
            tenants.add("t", now)
            conversations.add(conversation, now)

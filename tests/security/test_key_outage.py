"""Issue 15.1: a slow or failing Microsoft key endpoint never freezes the bot.

The key endpoint is a local server (tests/security/keyserver.py) we make slow or failing; the
key cache's refresh and back-off run on a fake clock. While no keys can be had, /api/messages
answers 503 with a clear body and Retry-After, /healthz keeps answering, the endpoint is not
hammered, and a last good copy of the keys is used when there is one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import requests
from botframework.connector.auth import AuthenticationConstants, JwtTokenExtractor

from bot.teams.auth import build_authentication, metadata_urls, signing_keys
from bot.teams.guard import KEYS_UNAVAILABLE
from bot.teams.signing_keys import KeyPolicy, OpenIdKeys, uninstall
from tests.security.conftest import Guard, GuardFactory, NoTokenCredentials
from tests.security.keyserver import KeyServer
from tests.security.tokens import mint


async def guard_on(make_guard: GuardFactory, key_server: KeyServer, **settings: Any) -> Guard:
    return await make_guard(
        credentials=NoTokenCredentials(), auth_endpoints=key_server.endpoints(), **settings
    )


async def post_message(guard: Guard) -> tuple[int, dict[str, Any], str]:
    """A genuine Teams message with a valid token; the status, JSON body and Retry-After."""
    async with guard.client.post(
        "/api/messages",
        json=guard.activity("hjelp"),
        headers={"Authorization": f"Bearer {mint(guard.service_url)}"},
    ) as response:
        text = await response.text()
        body = json.loads(text) if text else {}
        return response.status, body, response.headers.get("Retry-After", "")


async def healthz(guard: Guard) -> int:
    async with guard.client.get("/healthz") as response:
        return response.status


def assert_keys_unavailable(status: int, body: dict[str, Any], retry_after: str) -> None:
    assert status == 503
    assert body == KEYS_UNAVAILABLE
    assert "Microsoft Teams" in body["message"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1


async def test_healthz_answers_while_the_key_endpoint_is_slow_and_waiting_requests_share_one_fetch(
    make_guard: GuardFactory, key_server: KeyServer
) -> None:
    key_server.mode = "hang"
    guard = await guard_on(make_guard, key_server, KIVETT_KEY_FETCH_TIMEOUT_SECONDS=60)

    first = asyncio.create_task(post_message(guard))
    second = asyncio.create_task(post_message(guard))
    await key_server.entered.wait()

    assert await healthz(guard) == 200
    # /healthz was answered while the key endpoint still held the fetch and both turns waited
    assert not key_server.finished.is_set()
    assert not first.done()
    assert not second.done()

    key_server.release.set()
    assert (await first)[0] == 201
    assert (await second)[0] == 201
    assert key_server.metadata_hits == 1
    assert len(guard.stub.activities) == 2


async def test_slow_key_endpoint_gives_503_with_a_clear_body_before_it_answers(
    make_guard: GuardFactory, key_server: KeyServer
) -> None:
    key_server.mode = "hang"
    guard = await guard_on(make_guard, key_server, KIVETT_KEY_FETCH_TIMEOUT_SECONDS=0.2)

    assert_keys_unavailable(*await post_message(guard))
    assert await healthz(guard) == 200

    assert key_server.entered.is_set()
    assert not key_server.finished.is_set()  # answered before the slow endpoint finished
    await guard.assert_bot_not_reached()


async def test_failing_key_endpoint_gives_503_and_is_not_hammered(
    make_guard: GuardFactory, key_server: KeyServer
) -> None:
    key_server.mode = "fail"
    guard = await guard_on(make_guard, key_server)

    for _ in range(6):
        assert_keys_unavailable(*await post_message(guard))
        assert await healthz(guard) == 200
    assert key_server.metadata_hits == 1  # the five after the first waited out the back-off

    key_server.clock.advance(5)  # the first back-off (5 s) is over: one new try, still failing
    for _ in range(3):
        assert_keys_unavailable(*await post_message(guard))
    assert key_server.metadata_hits == 2

    key_server.mode = "ok"
    key_server.clock.advance(5)  # the back-off doubled to 10 s: not yet
    assert_keys_unavailable(*await post_message(guard))
    assert key_server.metadata_hits == 2
    key_server.clock.advance(5)
    assert (await post_message(guard))[0] == 201
    assert key_server.metadata_hits == 3


async def test_the_last_good_copy_is_used_while_the_key_endpoint_fails(
    make_guard: GuardFactory, key_server: KeyServer
) -> None:
    guard = await guard_on(make_guard, key_server)
    assert (await post_message(guard))[0] == 201
    assert key_server.metadata_hits == 1

    key_server.mode = "fail"
    key_server.clock.advance(25 * 3600)  # the copy is more than a day old: refreshed, and failing
    assert (await post_message(guard))[0] == 201
    await key_server.wait_for_metadata_hits(2)
    for _ in range(5):
        assert (await post_message(guard))[0] == 201
    assert key_server.metadata_hits == 2  # the back-off holds for background refreshes too
    assert len(guard.stub.activities) == 7


async def test_an_unknown_key_id_does_not_make_every_request_fetch(
    make_guard: GuardFactory, key_server: KeyServer
) -> None:
    guard = await guard_on(make_guard, key_server)
    assert (await post_message(guard))[0] == 201
    for _ in range(5):
        reply = await guard.post(
            guard.activity(), token=mint(guard.service_url, kid="rolled-over-key")
        )
        assert reply.status == 401
    assert key_server.metadata_hits == 1
    key_server.clock.advance(301)  # a new key may have been published: one look
    reply = await guard.post(guard.activity(), token=mint(guard.service_url, kid="rolled-over"))
    assert reply.status == 401
    assert key_server.metadata_hits == 2


async def test_token_checks_never_use_botbuilders_blocking_fetch(
    make_guard: GuardFactory, key_server: KeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def blocking_get(url: str, *args: object, **kwargs: object) -> None:
        calls.append(url)
        raise AssertionError("blocking fetch")

    monkeypatch.setattr(requests, "get", blocking_get)
    guard = await guard_on(make_guard, key_server)

    assert (await post_message(guard))[0] == 201
    assert calls == []
    assert key_server.metadata_hits == 1


def test_the_public_cloud_urls_are_served_by_our_key_cache() -> None:
    """Production checks Bot Framework channel tokens and Entra (emulator, skill) tokens: both
    URLs botbuilder would fetch with `requests` get our cache instead."""
    build_authentication(NoTokenCredentials())
    sources = signing_keys(None, KeyPolicy())
    try:
        assert set(metadata_urls(None)) == {
            AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        }
        for url in metadata_urls(None):
            assert isinstance(JwtTokenExtractor.get_open_id_metadata(url), OpenIdKeys)
    finally:
        uninstall(sources)

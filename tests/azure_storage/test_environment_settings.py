"""The storage clients read proxy settings from the environment only when it has some.

Without a proxy variable or a netrc file, aiohttp's environment lookup (a netrc search in a worker
thread before every request) finds nothing and costs a third of a storage request's CPU, so it is
off. With a proxy variable, requests must still go through that proxy: an operator behind a
company proxy loses nothing. The proxy here is a small forwarding proxy in the test that counts
what passes through it, in front of the real Azurite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import RawTestServer

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    environment_settings_wanted,
    read_json,
    replace_json,
)


def test_an_environment_without_proxy_or_netrc_is_not_read(tmp_path: Path) -> None:
    assert not environment_settings_wanted({"PATH": "/usr/bin", "no_proxy": "*"}, home=tmp_path)
    assert not environment_settings_wanted({"HTTPS_PROXY": ""}, home=tmp_path)


@pytest.mark.parametrize(
    "variable", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"]
)
def test_a_proxy_variable_turns_environment_settings_on(variable: str, tmp_path: Path) -> None:
    assert environment_settings_wanted({variable: "http://proxy.kommune.no:3128"}, home=tmp_path)


def test_a_netrc_file_turns_environment_settings_on(tmp_path: Path) -> None:
    (tmp_path / ".netrc").write_text("machine example.org login a password b\n")
    assert environment_settings_wanted({}, home=tmp_path)
    elsewhere = tmp_path / "other-netrc"
    assert not environment_settings_wanted({"NETRC": str(elsewhere)}, home=tmp_path / "none")
    elsewhere.write_text("machine example.org login a password b\n")
    assert environment_settings_wanted({"NETRC": str(elsewhere)}, home=tmp_path / "none")


async def _write_and_read_back(store: AzureBlobStore) -> dict[str, object] | None:
    """Open the store (creating its container), write a small document and read it back."""
    await store.open()
    try:
        assert await replace_json(store.container, "probe/answer", {"svar": "ja"})
        found = await read_json(store.container, "probe/answer")
    finally:
        await store.close()
    return None if found is None else found[0]


@pytest.fixture
async def counting_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTP forward proxy on loopback: the URL to set as HTTP_PROXY, and the methods of the
    requests it forwarded."""
    seen: list[str] = []
    client = aiohttp.ClientSession(trust_env=False, auto_decompress=False)

    async def forward(request: web.BaseRequest) -> web.StreamResponse:
        seen.append(request.method)
        target = request.raw_path  # a proxied request names the whole URL
        headers = {k: v for k, v in request.headers.items() if k.lower() != "proxy-connection"}
        body = await request.read()
        async with client.request(
            request.method,
            target,
            headers=headers,
            data=body or None,
            skip_auto_headers={"Content-Type", "Accept", "Accept-Encoding", "User-Agent"},
        ) as answer:
            answered = await answer.read()
            passed = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in {"transfer-encoding", "content-length", "connection"}
            }
            return web.Response(status=answer.status, body=answered, headers=passed)

    server = RawTestServer(forward, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", seen
    finally:
        await server.close()
        await client.close()


async def test_a_proxy_set_in_the_environment_is_still_used(
    azurite: str,
    counting_proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, seen = counting_proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    store = AzureBlobStore(f"kivett-proxy-{uuid.uuid4().hex[:12]}", connection_string=azurite)
    assert store.use_env_settings
    assert await _write_and_read_back(store) == {"svar": "ja"}
    assert "PUT" in seen
    assert "GET" in seen


async def test_without_a_proxy_the_clients_go_straight_to_storage(
    azurite: str,
    counting_proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, seen = counting_proxy
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    store = AzureBlobStore(f"kivett-direct-{uuid.uuid4().hex[:12]}", connection_string=azurite)
    assert not store.use_env_settings
    assert await _write_and_read_back(store) == {"svar": "ja"}
    assert seen == []

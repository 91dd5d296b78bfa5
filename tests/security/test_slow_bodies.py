"""Issue 15.6: a slow client cannot hold memory or sockets on /api/messages.

Requests are written by hand on raw connections, so a test can send the headers and only part
of the body and then wait. Nothing here measures time: the body time limit is set short, and
the tests check what comes back and that the server closed the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.settings import SettingsError, load_settings
from bot.teams.guard import BODY_TIMEOUT, BUSY
from tests.security.conftest import Guard, GuardFactory, NoTokenCredentials
from tests.security.tokens import mint

SAFETY_NET_SECONDS = 60.0
"""Only so that a broken server fails the test instead of hanging it; never asserted on."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool
    """The server closed the connection after its answer."""


class RawRequest:
    """One POST /api/messages on its own connection, its body sent in parts by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, guard: Guard, body: bytes, *, token: str | None, first_part: int
    ) -> AsyncIterator[RawRequest]:
        server = guard.client.server
        reader, writer = await asyncio.open_connection(server.host, server.port)
        lines = [
            "POST /api/messages HTTP/1.1",
            f"Host: {server.host}:{server.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body[:first_part])
        await writer.drain()
        request = cls(reader, writer)
        request.rest = body[first_part:]
        try:
            yield request
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    rest: bytes = b""

    async def finish_body(self) -> None:
        self.writer.write(self.rest)
        await self.writer.drain()

    async def answer(self, *, refused: bool = True) -> Answer:
        """The server's answer; for a refusal also whether it then closed the connection (a
        served request stays open for the next one, as keep-alive wants)."""
        async with asyncio.timeout(SAFETY_NET_SECONDS):
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").strip().split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in header_lines)
            }
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
            closed = refused and await self.reader.read(1) == b""  # EOF: server closed
        return Answer(int(status_line.split()[1]), headers, body, closed)


def message(guard: Guard) -> bytes:
    activity = guard.activity("hjelp")
    activity["channelData"]["padding"] = "x" * 200_000
    return json.dumps(activity).encode("utf-8")


async def test_slow_body_with_a_valid_token_gets_408_and_the_connection_is_closed(
    make_guard: GuardFactory,
) -> None:
    guard = await make_guard(credentials=NoTokenCredentials(), KIVETT_BODY_TIMEOUT_SECONDS=0.2)
    body = message(guard)

    async with RawRequest.open(
        guard, body, token=mint(guard.service_url), first_part=len(body) // 2
    ) as slow:
        answer = await slow.answer()

    assert answer.status == 408
    assert json.loads(answer.body) == BODY_TIMEOUT
    assert answer.closed
    await guard.assert_bot_not_reached()


async def test_a_body_that_arrives_in_time_is_served(make_guard: GuardFactory) -> None:
    guard = await make_guard(credentials=NoTokenCredentials())
    body = message(guard)

    async with RawRequest.open(
        guard, body, token=mint(guard.service_url), first_part=len(body) // 2
    ) as request:
        await request.finish_body()
        answer = await request.answer(refused=False)

    assert answer.status == 201
    assert len(guard.stub.activities) == 1


async def test_slow_bodies_without_a_token_are_refused_before_being_read(
    make_guard: GuardFactory,
) -> None:
    """The issue's reproduction: many connections holding an unfinished 200 kB body and no
    valid token. Each is answered 401 at once, none of their bodies is buffered."""
    guard = await make_guard(credentials=NoTokenCredentials(), KIVETT_MAX_UNAUTHENTICATED_READS=1)
    body = message(guard)
    endpoint = guard.services.teams.endpoint

    async with contextlib.AsyncExitStack() as stack:
        requests = [
            await stack.enter_async_context(
                RawRequest.open(guard, body, token=token, first_part=1000)
            )
            for token in [None, "made-up", mint(guard.service_url, aud="someone-else")] * 10
        ]
        answers = [await request.answer(refused=False) for request in requests]
        assert endpoint.unauthenticated_reads == 0

    assert [answer.status for answer in answers] == [401] * 30
    assert all(answer.headers.get("connection") == "close" for answer in answers)
    await guard.assert_bot_not_reached()


async def test_unauthenticated_reads_beyond_the_cap_get_503_and_are_closed(
    make_guard: GuardFactory,
) -> None:
    """In dev mode (authentication off) bodies are read before anyone is known: only a few
    at once."""
    guard = await make_guard(
        dev=True, KIVETT_MAX_UNAUTHENTICATED_READS=3, KIVETT_BODY_TIMEOUT_SECONDS=60
    )
    endpoint = guard.services.teams.endpoint
    body = message(guard)

    async with contextlib.AsyncExitStack() as stack:
        held = [
            await stack.enter_async_context(RawRequest.open(guard, body, token=None, first_part=10))
            for _ in range(3)
        ]
        async with asyncio.timeout(SAFETY_NET_SECONDS):
            while endpoint.unauthenticated_reads < 3:  # noqa: ASYNC110 - the endpoint's count
                await asyncio.sleep(0.01)

        refused = []
        for _ in range(4):
            async with RawRequest.open(guard, body, token=None, first_part=10) as extra:
                refused.append(await extra.answer())
        assert [answer.status for answer in refused] == [503] * 4
        assert all(json.loads(answer.body) == BUSY for answer in refused)
        assert all(answer.closed for answer in refused)

        await held[0].finish_body()  # one slow sender finishes: its turn is served
        assert (await held[0].answer(refused=False)).status == 201
        async with RawRequest.open(guard, body, token=None, first_part=len(body)) as next_one:
            assert (
                await next_one.answer(refused=False)
            ).status == 201  # the slot it held is free again

    assert len(guard.stub.activities) == 2


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("KIVETT_BODY_TIMEOUT_SECONDS", "0", "0.1 to 300"),
        ("KIVETT_MAX_UNAUTHENTICATED_READS", "0", "1 to 10000"),
        ("KIVETT_KEY_FETCH_TIMEOUT_SECONDS", "600", "0.1 to 60"),
        ("KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS", "maybe", "true or false"),
    ],
)
def test_a_wrong_limit_stops_start_up_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    message = str(raised.value)
    assert message.startswith(f"{variable}: invalid value")
    assert allowed in message
    assert "\n" not in message

"""POST /api/messages only lets authenticated, well-formed Bot Framework activities reach the bot.

Tokens are minted here and checked by botbuilder against a local OpenID metadata + JWKS server;
replies go to a local Bot Connector stub. Every request also goes through `Guard.post`, which
checks that no answer is a 5xx, carries a stack trace or echoes the token, and that no log line
carries the token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.bootstrap import InsecureConfigurationError
from bot.settings import Settings
from bot.teams.app import create_app
from cards.renderer import CARD_CONTENT_TYPE, CardRenderer
from cards.views import HelpView
from content import load_catalog
from tests.security.conftest import MAX_BODY_BYTES, Guard, GuardFactory, NoTokenCredentials
from tests.security.tokens import (
    APP_ID,
    ATTACKER_KEY,
    CHANNEL_KEY,
    DROP,
    ISSUER,
    OTHER_KID,
    mint,
    mint_hs256_with_public_key,
    mint_unsigned,
)

UNAUTHORIZED = {"error": "unauthorized"}
# An issuer botbuilder trusts for Bot Framework *skill* tokens (Auth v3.1, 1.0 token).
SKILL_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


async def assert_unauthorized(guard: Guard, token: str | None = None, **options: Any) -> None:
    reply = await guard.post(guard.activity(), token=token, **options)
    assert reply.status == 401, reply
    assert json.loads(reply.text) == UNAUTHORIZED
    await guard.assert_bot_not_reached()


def expected_help_card() -> dict[str, Any]:
    return CardRenderer().render(HelpView(), load_catalog().texts("nb"))


# -- accepted ------------------------------------------------------------------------------------


async def test_valid_channel_token_is_accepted_and_the_bot_replies_with_the_help_card(
    guard: Guard,
) -> None:
    reply = await guard.post(guard.activity("hjelp"), token=mint(guard.service_url))

    assert reply.status == 201, reply
    assert len(guard.stub.activities) == 1
    sent = guard.stub.activities[0]
    assert sent["conversation_id"] == "a:conversation-1"
    attachments = sent["body"]["attachments"]
    assert [a["contentType"] for a in attachments] == [CARD_CONTENT_TYPE]
    assert attachments[0]["content"] == expected_help_card()
    assert guard.stub.other_requests == []
    assert await guard.services.references.count() == 1


async def test_token_expired_two_minutes_ago_is_accepted_within_the_clock_leeway(
    guard: Guard,
) -> None:
    now = int(time.time())
    token = mint(guard.service_url, iat=now - 3600, nbf=now - 3600, exp=now - 120)

    reply = await guard.post(guard.activity(), token=token)

    assert reply.status == 201, reply
    assert len(guard.stub.activities) == 1


# -- rejected: the token -------------------------------------------------------------------------


async def test_token_expired_ten_minutes_ago_is_rejected(guard: Guard) -> None:
    now = int(time.time())
    token = mint(guard.service_url, iat=now - 3600, nbf=now - 3600, exp=now - 600)
    await assert_unauthorized(guard, token)


async def test_missing_authorization_header_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, token=None)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer", id="bearer-without-token"),
        pytest.param("Bearer ", id="bearer-empty-token"),
        pytest.param("", id="empty-header"),
        pytest.param("Basic " + base64.b64encode(b"kari:hemmelig").decode(), id="basic"),
        pytest.param("Basic xyz", id="basic-xyz"),
        pytest.param("garbage", id="garbage"),
        pytest.param("Bearer not.a.jwt", id="bearer-not-a-jwt"),
        pytest.param("Bearer a b", id="bearer-three-parts"),
        pytest.param("Bearer \u00e6\u00f8\u00e5.\u00e6\u00f8.\u00e5", id="non-ascii"),
    ],
)
async def test_malformed_authorization_header_is_rejected(guard: Guard, header: str) -> None:
    await assert_unauthorized(guard, authorization=header)


async def test_valid_token_under_another_scheme_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, authorization=f"Basic {mint(guard.service_url)}")


async def test_valid_token_with_trailing_garbage_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, authorization=f"Bearer {mint(guard.service_url)} extra")


async def test_token_signed_with_another_key_under_the_published_key_id_is_rejected(
    guard: Guard,
) -> None:
    await assert_unauthorized(guard, mint(guard.service_url, key=ATTACKER_KEY))


@pytest.mark.parametrize("kid", [OTHER_KID, None], ids=["unknown-kid", "no-kid"])
async def test_token_whose_key_id_is_not_published_is_rejected(
    guard: Guard, kid: str | None
) -> None:
    await assert_unauthorized(guard, mint(guard.service_url, kid=kid))


async def test_unsigned_alg_none_token_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, mint_unsigned(guard.service_url))


async def test_hs256_token_keyed_with_the_public_key_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, mint_hs256_with_public_key(guard.service_url))


@pytest.mark.parametrize(
    "audience",
    ["00000000-0000-0000-0000-000000000bad", f"api://{APP_ID}", "", DROP],
    ids=["another-app", "app-uri", "empty", "missing"],
)
async def test_token_for_another_audience_is_rejected(guard: Guard, audience: object) -> None:
    await assert_unauthorized(guard, mint(guard.service_url, aud=audience))


@pytest.mark.parametrize(
    "issuer",
    ["https://evil.example", ISSUER + "/", ISSUER.upper(), DROP],
    ids=["another-issuer", "trailing-slash", "upper-case", "missing"],
)
async def test_token_from_another_issuer_is_rejected(guard: Guard, issuer: object) -> None:
    await assert_unauthorized(guard, mint(guard.service_url, iss=issuer))


async def test_skill_token_from_another_bot_is_rejected(guard: Guard) -> None:
    """A bot-to-bot (skill) token, correctly signed; KI-vett accepts no skill callers."""
    token = mint(guard.service_url, iss=SKILL_ISSUER, ver="1.0", appid="other-bot-app-id")
    await assert_unauthorized(guard, token)


async def test_token_with_service_url_claim_for_another_service_is_rejected(
    guard: Guard,
) -> None:
    token = mint("https://smba.evil.example/emea/")
    await assert_unauthorized(guard, token)


async def test_activity_redirected_to_another_service_url_is_rejected(guard: Guard) -> None:
    """A genuine token replayed with the activity's serviceUrl pointed somewhere else."""
    token = mint(guard.service_url)
    reply = await guard.post(
        guard.activity(serviceUrl="https://smba.evil.example/emea/"), token=token
    )
    assert reply.status == 401, reply
    await guard.assert_bot_not_reached()


async def test_token_without_service_url_claim_is_rejected(guard: Guard) -> None:
    await assert_unauthorized(guard, mint(guard.service_url, serviceurl=DROP))


async def test_token_not_yet_valid_is_rejected(guard: Guard) -> None:
    now = int(time.time())
    await assert_unauthorized(guard, mint(guard.service_url, nbf=now + 3600, iat=now))


async def test_channel_without_key_endorsement_is_rejected(guard: Guard) -> None:
    """The published key is endorsed for msteams only; the same token for webchat is refused
    (as a channel other than Teams: 403; tests/security/test_channels.py has the rest)."""
    reply = await guard.post(guard.activity(channelId="webchat"), token=mint(guard.service_url))
    assert reply.status == 403, reply
    assert json.loads(reply.text)["error"] == "channel_not_allowed"
    await guard.assert_bot_not_reached()


async def test_production_credentials_factory_requires_a_token(make_guard: GuardFactory) -> None:
    """Without the test credentials override (the real password factory), no header is a 401."""
    guard = await make_guard(credentials=None)
    await assert_unauthorized(guard, token=None)
    await assert_unauthorized(guard, mint(guard.service_url, key=ATTACKER_KEY))


# -- rejected: the request, before authentication -------------------------------------------------


def padded_activity(guard: Guard, size: int) -> bytes:
    """A valid activity serialised to exactly `size` bytes."""
    activity = guard.activity()
    activity["channelData"]["padding"] = ""
    base = len(json.dumps(activity).encode("utf-8"))
    activity["channelData"]["padding"] = "x" * (size - base)
    body = json.dumps(activity).encode("utf-8")
    assert len(body) == size
    return body


async def test_body_over_the_limit_with_content_length_is_rejected_with_413(
    guard: Guard,
) -> None:
    assert guard.services.settings.max_body_bytes == MAX_BODY_BYTES
    body = padded_activity(guard, MAX_BODY_BYTES + 1)

    reply = await guard.post(body, token=mint(guard.service_url))

    assert reply.status == 413, reply
    assert json.loads(reply.text) == {"error": "payload_too_large"}
    await guard.assert_bot_not_reached()


@pytest.mark.parametrize(("size", "status"), [(8192, 401), (8193, 413)])
async def test_configured_body_limit_is_exact(
    make_guard: GuardFactory, size: int, status: int
) -> None:
    """At the limit the body is read and authenticated (no token here: 401); one byte more: 413."""
    guard = await make_guard(credentials=NoTokenCredentials(), KIVETT_MAX_BODY_BYTES=8192)
    assert guard.services.settings.max_body_bytes == 8192

    reply = await guard.post(padded_activity(guard, size))

    assert reply.status == status, reply
    await guard.assert_bot_not_reached()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def framing_recorder(seen: list[dict[str, str | None]]) -> Any:
    """Test-side middleware: records how the request body was framed on the wire."""

    @web.middleware
    async def record_framing(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append(
            {
                "content-length": request.headers.get("Content-Length"),
                "transfer-encoding": request.headers.get("Transfer-Encoding"),
            }
        )
        return await handler(request)

    return record_framing


def in_pieces(body: bytes, piece: int, pause: float = 0.0) -> Callable[[], AsyncIterator[bytes]]:
    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), piece):
            yield body[start : start + piece]
            if pause:
                await asyncio.sleep(pause)

    return pieces


async def test_chunked_body_over_the_limit_never_reaches_the_bot(
    make_guard: GuardFactory,
) -> None:
    """Chunked (no Content-Length), twice the limit, sent back to back: refused before auth."""
    seen: list[dict[str, str | None]] = []
    guard = await make_guard(
        credentials=NoTokenCredentials(), middlewares=(framing_recorder(seen),)
    )
    body = padded_activity(guard, MAX_BODY_BYTES * 2)

    reply = await guard.post(in_pieces(body, 64 * 1024)(), token=mint(guard.service_url))

    assert seen == [{"content-length": None, "transfer-encoding": "chunked"}]
    assert reply.status == 413, reply
    await guard.assert_bot_not_reached()


async def test_chunked_body_over_the_limit_is_rejected_with_413(
    make_guard: GuardFactory,
) -> None:
    """Chunked (no Content-Length), twice the limit, with a short pause between chunks."""
    seen: list[dict[str, str | None]] = []
    guard = await make_guard(
        credentials=NoTokenCredentials(), middlewares=(framing_recorder(seen),)
    )
    body = padded_activity(guard, MAX_BODY_BYTES * 2)

    reply = await guard.post(
        in_pieces(body, 64 * 1024, pause=0.02)(), token=mint(guard.service_url)
    )

    assert seen == [{"content-length": None, "transfer-encoding": "chunked"}]
    await guard.assert_bot_not_reached()
    assert reply.status == 413, reply


async def test_valid_activity_arriving_in_pieces_is_read_whole(make_guard: GuardFactory) -> None:
    """A genuine 20 kB activity with Content-Length, delivered in two TCP writes."""
    seen: list[dict[str, str | None]] = []
    guard = await make_guard(
        credentials=NoTokenCredentials(), middlewares=(framing_recorder(seen),)
    )
    body = padded_activity(guard, 20_000)

    reply = await guard.post(
        in_pieces(body, 10_000, pause=0.02)(),
        token=mint(guard.service_url),
        extra_headers={"Content-Length": str(len(body))},
    )

    assert seen == [{"content-length": "20000", "transfer-encoding": None}]
    assert reply.status == 201, reply
    assert len(guard.stub.activities) == 1


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b"\xff\xfe\x00", b"", b'{"type": "message", "serviceUrl": '],
    ids=["open-brace", "text", "not-utf8", "empty", "truncated"],
)
async def test_malformed_json_is_rejected_with_400(guard: Guard, body: bytes) -> None:
    reply = await guard.post(body, token=mint(guard.service_url))
    assert reply.status == 400, reply
    await guard.assert_bot_not_reached()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[]", id="array"),
        pytest.param(b'[{"type": "message"}]', id="array-of-activity"),
        pytest.param(b'"message"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"{}", id="empty-object"),
        pytest.param(None, id="no-type"),
        pytest.param("empty-type", id="empty-type"),
    ],
)
async def test_json_that_is_not_an_activity_is_rejected_with_400(
    guard: Guard, body: bytes | str | None
) -> None:
    if body is None:
        activity = guard.activity()
        del activity["type"]
        body = json.dumps(activity).encode()
    elif body == "empty-type":
        body = json.dumps(guard.activity(type="")).encode()
    reply = await guard.post(body, token=mint(guard.service_url))
    assert reply.status == 400, reply
    assert json.loads(reply.text) == {"error": "not_an_activity"}
    await guard.assert_bot_not_reached()


@pytest.mark.parametrize(
    "service_url",
    [DROP, "", None, "ftp://127.0.0.1/", "javascript:alert(1)", "127.0.0.1:80", 42],
    ids=["missing", "empty", "null", "ftp", "javascript", "no-scheme", "number"],
)
async def test_activity_without_an_http_service_url_is_rejected_with_400(
    guard: Guard, service_url: object
) -> None:
    activity = guard.activity()
    if service_url is DROP:
        del activity["serviceUrl"]
    else:
        activity["serviceUrl"] = service_url
    reply = await guard.post(activity, token=mint(guard.service_url))
    assert reply.status == 400, reply
    await guard.assert_bot_not_reached()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None],
    ids=["text-plain", "form", "multipart", "none"],
)
async def test_body_that_is_not_declared_json_is_rejected_with_415(
    guard: Guard, content_type: str | None
) -> None:
    reply = await guard.post(
        guard.activity(), token=mint(guard.service_url), content_type=content_type
    )
    assert reply.status == 415, reply
    await guard.assert_bot_not_reached()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_on_the_messages_endpoint_are_not_allowed(
    guard: Guard, method: str
) -> None:
    reply = await guard.post(guard.activity(), token=mint(guard.service_url), method=method)
    assert reply.status == 405, reply
    await guard.assert_bot_not_reached()


# -- logs ----------------------------------------------------------------------------------------


async def test_logs_carry_neither_tokens_nor_message_text(guard: Guard) -> None:
    said = "Mitt fodselsnummer er 01018012345 og passordet er Sommer2025"
    tokens = {
        "valid": mint(guard.service_url),
        "expired": mint(guard.service_url, exp=int(time.time()) - 600),
        "forged": mint(guard.service_url, key=ATTACKER_KEY),
        "wrong-audience": mint(guard.service_url, aud="someone-else"),
    }
    statuses = {}
    for name, token in tokens.items():
        statuses[name] = (await guard.post(guard.activity(said), token=token)).status
    statuses["no-token"] = (await guard.post(guard.activity(said))).status
    statuses["text-plain"] = (
        await guard.post(guard.activity(said), token=tokens["valid"], content_type="text/plain")
    ).status

    assert statuses == {
        "valid": 201,
        "expired": 401,
        "forged": 401,
        "wrong-audience": 401,
        "no-token": 401,
        "text-plain": 415,
    }
    lines = guard.log_lines()
    turns = [json.loads(line) for line in lines if json.loads(line)["event"] == "turn"]
    assert [turn["status"] for turn in turns] == list(statuses.values())
    guard.assert_logs_free_of(said, "01018012345", "Sommer2025", *tokens.values())


async def test_the_signing_key_pair_is_really_checked(guard: Guard) -> None:
    """Guards against a vacuous suite: the two keys differ and the forged token is well-formed."""
    assert CHANNEL_KEY.public_key().public_numbers() != ATTACKER_KEY.public_key().public_numbers()
    forged = mint(guard.service_url, key=ATTACKER_KEY)
    genuine = mint(guard.service_url)
    assert forged.split(".")[:2] == genuine.split(".")[:2]
    assert forged.split(".")[2] != genuine.split(".")[2]


async def test_app_refuses_to_start_without_credentials_outside_dev_mode(
    tmp_path: Path,
) -> None:
    """An empty app id turns botbuilder's authentication off; only --dev may run like that."""
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path / "data")})
    assert not settings.has_credentials
    server = TestServer(create_app(settings, dev=False))
    with pytest.raises(InsecureConfigurationError):
        await server.start_server()
    await server.close()

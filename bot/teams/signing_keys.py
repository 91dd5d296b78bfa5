"""The keys that prove a request comes from Teams: fetched without blocking, remembered, and
not asked for again and again while Microsoft's key endpoint is down.

botbuilder checks an incoming token with `JwtTokenExtractor`, which asks the object registered for
the OpenID metadata URL in `JwtTokenExtractor.metadataCache` for the signing key (`await
metadata.get(key_id)` → an object with `public_key` and `endorsements`). When nothing is
registered, botbuilder builds its own, which fetches the metadata and the keys with a blocking
`requests.get` without timeout on the event loop and forgets failures: a slow key endpoint froze
the whole process, and every request with a plausible token fetched again.

`OpenIdKeys` is our object for one metadata URL, registered by `bot.teams.auth` before any request
is served:

- fetched with aiohttp, under a time limit, one fetch at a time (everyone waiting shares it);
- the last good copy is kept: when it is older than a day it is refreshed in the background while
  requests go on using it; a key id it does not know triggers a refresh at most every few minutes;
- after a failed fetch the next try waits a short, growing back-off (5 s, 10 s, … at most 60 s);
  meanwhile a request that needs a fetch gets `KeysUnavailableError` at once, which the endpoint
  answers with 503 and `Retry-After`, never a stall and never a 500.

The registration is a cache entry botbuilder looks up by design; no library code is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botframework.connector.auth import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from bot.logs import get_logger

_log = get_logger("auth")

FetchJson = Callable[[str, float], Awaitable[Any]]
"""Fetch a URL and return its JSON body, giving up after the given number of seconds."""


class KeysUnavailableError(Exception):
    """No signing keys can be had right now; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("signing keys unavailable")
        self.retry_after = retry_after


class UnknownSigningKeyError(PermissionError):
    """The token names a key the channel does not publish (a forged or foreign token)."""


@dataclass(frozen=True)
class KeyPolicy:
    """How keys are fetched and remembered."""

    timeout_seconds: float = 5.0
    """Longest a fetch (metadata and keys together) may take."""
    refresh_after_seconds: float = 24 * 3600.0
    """Age at which a good copy is refreshed in the background (botbuilder's own rule: a day)."""
    unknown_key_refresh_seconds: float = 300.0
    """A key id we do not know triggers a refresh at most this often (rolled-over keys)."""
    first_backoff_seconds: float = 5.0
    max_backoff_seconds: float = 60.0
    max_document_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class SigningKey:
    """What botbuilder's `JwtTokenExtractor` reads from the metadata object."""

    public_key: Any
    endorsements: list[str]


class OpenIdKeys:
    """Signing keys for one OpenID metadata URL, as botbuilder's metadata cache expects them."""

    def __init__(
        self,
        url: str,
        *,
        policy: KeyPolicy,
        clock: Callable[[], float] = time.monotonic,
        fetch_json: FetchJson | None = None,
    ) -> None:
        self.url = url
        self._policy = policy
        self._clock = clock
        self._fetch_json = fetch_json or fetch_json_with_aiohttp(policy.max_document_bytes)
        self._keys: dict[str, SigningKey] | None = None
        self._fetched_at = 0.0
        self._last_attempt: float | None = None
        self._failures = 0
        self._next_attempt = 0.0
        self._task: asyncio.Task[None] | None = None
        self.fetches = 0
        """How many fetches were started (for tests and the operations log)."""

    @property
    def has_keys(self) -> bool:
        return self._keys is not None

    async def get(self, key_id: str | None) -> SigningKey:
        """The key a token names; raises `KeysUnavailableError` when no copy can be had and
        `UnknownSigningKeyError` when the channel does not publish that key."""
        now = self._clock()
        if self._keys is None:
            await self._refresh(now)
        elif now - self._fetched_at >= self._policy.refresh_after_seconds:
            self._refresh_in_background(now)
        key = self._find(key_id)
        if key is None and self._may_look_for_new_keys(now):
            with contextlib.suppress(KeysUnavailableError):  # the good copy stays in use
                await self._refresh(now)
            key = self._find(key_id)
        if key is None:
            raise UnknownSigningKeyError("the token's signing key is not published")
        return key

    async def close(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _find(self, key_id: str | None) -> SigningKey | None:
        if not key_id or self._keys is None:
            return None
        return self._keys.get(key_id)

    def _may_look_for_new_keys(self, now: float) -> bool:
        if self._last_attempt is None or now < self._next_attempt:
            return False
        return now - self._last_attempt >= self._policy.unknown_key_refresh_seconds

    async def _refresh(self, now: float) -> None:
        """Fetch now (or join the fetch under way) and wait for it; raise when it fails."""
        task = self._task
        if task is None or task.done():
            if now < self._next_attempt:
                raise KeysUnavailableError(self._next_attempt - now)
            task = self._start(now)
        await asyncio.shield(task)

    def _refresh_in_background(self, now: float) -> None:
        if (self._task is None or self._task.done()) and now >= self._next_attempt:
            self._start(now).add_done_callback(_consume)

    def _start(self, now: float) -> asyncio.Task[None]:
        self._last_attempt = now
        self.fetches += 1
        self._task = asyncio.get_running_loop().create_task(
            self._fetch(), name="kivett-signing-keys"
        )
        return self._task

    async def _fetch(self) -> None:
        try:
            async with asyncio.timeout(self._policy.timeout_seconds):
                keys = await self._download()
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, KeyError, TypeError) as exc:
            self._failures += 1
            backoff = min(
                self._policy.first_backoff_seconds * 2 ** (self._failures - 1),
                self._policy.max_backoff_seconds,
            )
            self._next_attempt = self._clock() + backoff
            _log.warning(
                "signing_keys_unavailable",
                extra={
                    "fields": {
                        "host": urlsplit(self.url).hostname or "",
                        "reason": type(exc).__name__,
                        "retry_in_seconds": backoff,
                        "has_last_good_copy": self._keys is not None,
                    }
                },
            )
            raise KeysUnavailableError(backoff) from None
        self._keys = keys
        self._fetched_at = self._clock()
        self._failures = 0
        self._next_attempt = 0.0
        _log.info(
            "signing_keys_fetched",
            extra={"fields": {"host": urlsplit(self.url).hostname or "", "keys": len(keys)}},
        )

    async def _download(self) -> dict[str, SigningKey]:
        limit = self._policy.timeout_seconds
        metadata = await self._fetch_json(self.url, limit)
        if not isinstance(metadata, Mapping):
            raise ValueError("OpenID metadata is not a JSON object")
        jwks_uri = metadata["jwks_uri"]
        if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("https", "http"):
            raise ValueError("OpenID metadata has no usable jwks_uri")
        document = await self._fetch_json(jwks_uri, limit)
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise ValueError("key set has no keys")
        keys = parse_keys(document["keys"])
        if not keys:
            raise ValueError("key set has no usable keys")
        return keys


def parse_keys(entries: Iterable[Any]) -> dict[str, SigningKey]:
    """The RSA keys of a JWKS by key id; entries that are not usable RSA keys are skipped."""
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(dict(entry)))
        except Exception:  # noqa: S112 - PyJWT raises several kinds for a bad key
            continue
        endorsements = entry.get("endorsements", [])
        if not isinstance(endorsements, list):
            endorsements = []
        keys[entry["kid"]] = SigningKey(
            public_key=public_key, endorsements=[str(e) for e in endorsements]
        )
    return keys


def fetch_json_with_aiohttp(max_bytes: int) -> FetchJson:
    """GET a JSON document with its own short-lived session (a fetch happens about once a day),
    honouring the usual proxy variables as botbuilder's `requests` did."""

    async def fetch(url: str, limit_seconds: float) -> Any:
        client_timeout = aiohttp.ClientTimeout(total=limit_seconds)
        async with (
            aiohttp.ClientSession(timeout=client_timeout, trust_env=True) as session,
            session.get(url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = await response.content.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise ValueError("document too large")
            return json.loads(body)

    return fetch


def install(sources: Iterable[OpenIdKeys]) -> None:
    """Make botbuilder ask `sources` for signing keys, each for its own metadata URL."""
    for source in sources:
        JwtTokenExtractor.metadataCache[source.url] = source


def uninstall(sources: Iterable[OpenIdKeys]) -> None:
    """Undo `install` for entries that are still ours (another app may have replaced them)."""
    for source in sources:
        if JwtTokenExtractor.metadataCache.get(source.url) is source:
            del JwtTokenExtractor.metadataCache[source.url]


def _consume(task: asyncio.Task[None]) -> None:
    """A background refresh's failure is logged in `_fetch`; nothing else waits for it."""
    if not task.cancelled():
        task.exception()

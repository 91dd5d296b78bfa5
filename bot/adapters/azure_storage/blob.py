"""Azure Blob Storage: the client owner shared by every Azure store, and the one set of helpers
they read and write their blobs with.

`AzureBlobStore` owns one async `BlobServiceClient` and the `ContainerClient` of the bot's
container. Every store keeps its records under its own name prefix in that one container, as JSON
documents in one encoding (`dump_json`: compact UTF-8, the same bytes the state codec writes), and
uses blob ETags for optimistic concurrency. Every storage failure other than the ones a helper
answers itself (not found, already exists, precondition failed) becomes `StorageUnavailableError`,
with the SDK error chained for the logs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient, ContainerClient, LinearRetry

from bot.ports import StorageUnavailableError

T = TypeVar("T")

JSON_CONTENT = ContentSettings(content_type="application/json; charset=utf-8")
READ_CONCURRENCY = 32
"""Downloads one store call may have under way at once (listing then reading many blobs)."""
PROBE_BLOB = "kivett-probe/ready.json"
"""The blob /readyz rewrites to prove the container writable (no person's data)."""
WRITE_PROBE_SECONDS = 5.0
_MAX_ENCODED_KEY = 700  # blob names may be 1024 characters; prefixes need some of them


# -- names and encodings -------------------------------------------------------------------------


def key_segment(key: str) -> str:
    """A key as one safe blob-name segment: base64url of its UTF-8 (no '/', '.', '%', '\\'),
    or a SHA-256 digest for very long keys. Names are never decoded: records carry their key."""
    raw = key.encode("utf-8")
    encoded = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    if len(encoded) <= _MAX_ENCODED_KEY:
        return "k" + encoded
    return "h" + hashlib.sha256(raw).hexdigest()


def encode_meta(value: str) -> str:
    """Metadata values travel as HTTP headers: keep them ASCII."""
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def decode_meta(value: str) -> str:
    return base64.b64decode(value.encode("ascii")).decode("utf-8")


def dump_json(value: object) -> bytes:
    """The one JSON encoding of the Azure stores: compact, UTF-8, characters as they are (the
    same as `bot.adapters.state_codec` writes conversation state)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _kind(name: str) -> str:
    """The store a blob belongs to (its first name segment), for messages and logs: the rest of a
    name may encode a user's or a conversation's id."""
    return name.split("/", 1)[0]


def _document(name: str, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StorageUnavailableError(f"a '{_kind(name)}' blob does not hold JSON") from exc
    if not isinstance(data, dict):
        raise StorageUnavailableError(f"a '{_kind(name)}' blob does not hold a JSON object")
    return data


# -- errors and concurrency ----------------------------------------------------------------------


@asynccontextmanager
async def unavailable_on_error(action: str) -> AsyncIterator[None]:
    """Turn any Azure SDK error that escapes the block into StorageUnavailableError."""
    try:
        yield
    except AzureError as exc:
        raise StorageUnavailableError(f"Azure Storage could not {action}") from exc


def _reason(exc: AzureError, *, writing: bool = False) -> str:
    """The readiness reason for an Azure error: a write refused for want of rights means the
    store is read-only for the bot; a full account is full; anything else is unreachable."""
    status = getattr(exc, "status_code", None)
    code = str(getattr(exc, "error_code", "") or "")
    if code in {"InsufficientAccountStorage", "AccountStorageQuotaExceeded"} or status == 507:
        return "full"
    if writing and status == 403:
        return "read-only"
    return "unreachable"


async def gather_bounded(calls: Iterable[Awaitable[T]], limit: int = READ_CONCURRENCY) -> list[T]:
    """Await every call, at most `limit` at a time; results in the calls' order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


# -- JSON documents ------------------------------------------------------------------------------


async def read_json(container: ContainerClient, name: str) -> tuple[dict[str, Any], str] | None:
    """The blob's JSON object and ETag, or None if there is no such blob."""
    async with unavailable_on_error(f"read a '{_kind(name)}' blob"):
        try:
            downloader = await container.download_blob(name)
            body = await downloader.readall()
        except ResourceNotFoundError:
            return None
    return _document(name, body), str(downloader.properties.etag)


@dataclass(frozen=True)
class JsonBlob:
    """A JSON document with the blob's properties that stores read besides it."""

    data: dict[str, Any]
    etag: str
    metadata: Mapping[str, str]
    last_modified: datetime | None


async def read_json_blob(container: ContainerClient, name: str) -> JsonBlob | None:
    """The blob's JSON object with its ETag, metadata and time of last change; None if absent."""
    async with unavailable_on_error(f"read a '{_kind(name)}' blob"):
        try:
            downloader = await container.download_blob(name)
            body = await downloader.readall()
        except ResourceNotFoundError:
            return None
    properties = downloader.properties
    return JsonBlob(
        data=_document(name, body),
        etag=str(properties.etag),
        metadata=dict(properties.metadata or {}),
        last_modified=properties.last_modified,
    )


async def create_json(
    container: ContainerClient,
    name: str,
    value: object,
    *,
    metadata: Mapping[str, str] | None = None,
) -> bool:
    """Write a new document; False (and nothing written) if a blob with this name exists."""
    async with unavailable_on_error(f"create a '{_kind(name)}' blob"):
        try:
            await container.upload_blob(
                name,
                dump_json(value),
                overwrite=False,
                metadata=dict(metadata) if metadata is not None else None,
                content_settings=JSON_CONTENT,
            )
        except ResourceExistsError:
            return False
    return True


async def replace_json(
    container: ContainerClient,
    name: str,
    value: object,
    *,
    etag: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> bool:
    """Overwrite the document; with `etag`, only if nobody wrote since that version (False if
    somebody did, or if the blob is gone)."""
    conditions: dict[str, Any] = {}
    if etag is not None:
        conditions = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
    try:
        await container.upload_blob(
            name,
            dump_json(value),
            overwrite=True,
            metadata=dict(metadata) if metadata is not None else None,
            content_settings=JSON_CONTENT,
            **conditions,
        )
    except AzureError as exc:
        lost_race = etag is not None and (
            isinstance(exc, ResourceModifiedError | ResourceNotFoundError | ResourceExistsError)
            or getattr(exc, "status_code", None) == 412
        )
        if lost_race:
            return False
        message = f"Azure Storage could not write a '{_kind(name)}' blob"
        raise StorageUnavailableError(message) from exc
    return True


async def delete_if_present(container: ContainerClient, name: str) -> bool:
    """Delete the blob; False if there was none."""
    async with unavailable_on_error(f"delete a '{_kind(name)}' blob"):
        try:
            await container.delete_blob(name)
        except ResourceNotFoundError:
            return False
    return True


async def delete_unless_changed(container: ContainerClient, name: str, etag: str) -> bool:
    """Delete the blob if it is still the version `etag`; False if it changed or is gone."""
    try:
        await container.delete_blob(name, etag=etag, match_condition=MatchConditions.IfNotModified)
    except AzureError as exc:
        if isinstance(exc, ResourceModifiedError | ResourceNotFoundError) or (
            getattr(exc, "status_code", None) in (404, 412)
        ):
            return False
        raise StorageUnavailableError(
            f"Azure Storage could not delete a '{_kind(name)}' blob"
        ) from exc
    return True


async def blob_names(container: ContainerClient, prefix: str) -> list[str]:
    """The names of every blob under `prefix`, in name order."""
    async with unavailable_on_error(f"list '{_kind(prefix)}' blobs"):
        return [blob.name async for blob in container.list_blobs(name_starts_with=prefix)]


def environment_settings_wanted(
    environ: Mapping[str, str] | None = None, home: Path | None = None
) -> bool:
    """Whether the storage clients should read the environment for their HTTP settings: only
    when it has something for them, a proxy variable (`HTTPS_PROXY`, `https_proxy`, ...) or a netrc
    file (`NETRC`, else `~/.netrc`).

    With environment settings on, aiohttp looks for a netrc entry in a worker thread before every
    request. Without a proxy or a netrc file that finds nothing, and on a busy bot costs about a
    third of the CPU a storage request takes (bench/soak, docs/performance.md)."""
    environ = os.environ if environ is None else environ
    proxies = {
        key.lower()
        for key, value in environ.items()
        if value and key.lower().endswith("_proxy") and key.lower() != "no_proxy"
    }
    if proxies:
        return True
    netrc = environ.get("NETRC")
    path = Path(netrc) if netrc else (Path.home() if home is None else home) / ".netrc"
    return path.is_file()


# -- the client owner ----------------------------------------------------------------------------


class AzureBlobStore:
    """Owns the Blob Storage clients of one container.

    Give either `connection_string` (Azurite, or an account key) or `account_url` with an optional
    async `credential` (without one, `azure.identity.aio.DefaultAzureCredential` is created here
    and closed by `close()`). A credential passed in stays the caller's to close.
    """

    def __init__(
        self,
        container: str,
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: AsyncTokenCredential | None = None,
        retry_total: int = 2,
        retry_backoff_seconds: int = 1,
        connection_timeout: float = 5.0,
        read_timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        write_probe_seconds: float = WRITE_PROBE_SECONDS,
        use_env_settings: bool | None = None,
    ) -> None:
        """
        :param container: the blob container that holds every record (created by `open()`).
        :param connection_string: a storage connection string; excludes `account_url`.
        :param account_url: `https://<account>.blob.core.windows.net`; excludes the string.
        :param credential: token credential for `account_url`; default DefaultAzureCredential.
        :param retry_total: SDK retries of a failed request (connection errors, 408/429/5xx).
        :param retry_backoff_seconds: mean pause before each retry (jittered between 0 and 2x).
        :param connection_timeout: seconds to wait for a connection before failing it.
        :param read_timeout: seconds to wait for an answer on an open connection.
        :param monotonic: the clock `ping` spaces its write probes by.
        :param write_probe_seconds: the least time between two write probes while they succeed.
        :param use_env_settings: read proxy settings (and netrc) from the environment; None:
            only if it has any (`environment_settings_wanted`).
        """
        if (connection_string is None) == (account_url is None):
            raise ValueError("give exactly one of connection_string and account_url")
        if connection_string is not None and credential is not None:
            raise ValueError("a credential goes with account_url, not with a connection string")
        if not container:
            raise ValueError("a container name is required")
        self.container_name = container
        self._connection_string = connection_string
        self._account_url = account_url
        self._credential = credential
        self._owned_credential: AsyncTokenCredential | None = None
        self._retry_total = retry_total
        self._retry_backoff = retry_backoff_seconds
        self._connection_timeout = connection_timeout
        self._read_timeout = read_timeout
        self._service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._monotonic = monotonic
        self._write_probe_seconds = write_probe_seconds
        self._last_write_ok: float | None = None
        self.use_env_settings = (
            environment_settings_wanted() if use_env_settings is None else use_env_settings
        )
        """Whether the clients read proxy settings from the environment (the queue clients of
        the same account follow it too)."""

    def _client_options(self) -> dict[str, Any]:
        # The SDK's default is exponential from 15 s: far too slow for a bot turn or /readyz.
        retry = LinearRetry(
            backoff=self._retry_backoff,
            retry_total=self._retry_total,
            random_jitter_range=self._retry_backoff,
        )
        return {
            "retry_policy": retry,
            "connection_timeout": self._connection_timeout,
            "read_timeout": self._read_timeout,
            "use_env_settings": self.use_env_settings,
        }

    @property
    def container(self) -> ContainerClient:
        if self._container is None:
            raise RuntimeError("AzureBlobStore is not open")
        return self._container

    async def open(self) -> None:
        """Create the clients and the container if it is missing."""
        if self._container is not None:
            return
        if self._connection_string is not None:
            try:
                service = BlobServiceClient.from_connection_string(
                    self._connection_string, **self._client_options()
                )
            except ValueError as exc:  # the SDK's word for a malformed connection string
                raise StorageUnavailableError("the storage connection string is malformed") from exc
        elif self._account_url is not None:
            credential = self._credential
            if credential is None:
                from azure.identity.aio import DefaultAzureCredential

                credential = self._owned_credential = DefaultAzureCredential()
            service = BlobServiceClient(
                self._account_url, credential=credential, **self._client_options()
            )
        else:  # pragma: no cover - __init__ requires one of them
            raise ValueError("no connection string and no account url")
        self._service = service
        self._container = service.get_container_client(self.container_name)
        try:
            async with unavailable_on_error("create the container"):
                with suppress(ResourceExistsError):
                    await self._container.create_container()
        except StorageUnavailableError:
            await self.close()
            raise

    async def ping(self) -> None:
        """Raise StorageUnavailableError (its message the reason: "read-only", "full" or
        "unreachable") unless the container can be read and written now. No retries: a readiness
        probe reports the current state and has its own short timeout. The write (a tiny probe
        blob) happens at most once per `write_probe_seconds` while writes succeed."""
        try:
            await self.container.get_container_properties(retry_total=0)
        except AzureError as exc:
            self._last_write_ok = None
            raise StorageUnavailableError(_reason(exc)) from exc
        now = self._monotonic()
        last = self._last_write_ok
        if last is not None and now - last < self._write_probe_seconds:
            return
        try:
            await self.container.upload_blob(
                PROBE_BLOB, b"{}", overwrite=True, content_settings=JSON_CONTENT, retry_total=0
            )
        except AzureError as exc:
            self._last_write_ok = None
            raise StorageUnavailableError(_reason(exc, writing=True)) from exc
        self._last_write_ok = now

    async def close(self) -> None:
        container, service, credential = self._container, self._service, self._owned_credential
        self._container, self._service, self._owned_credential = None, None, None
        if container is not None:
            await container.close()
        if service is not None:
            await service.close()
        if credential is not None:
            await credential.close()

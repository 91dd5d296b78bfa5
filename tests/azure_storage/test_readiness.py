"""Readiness of Azure Storage (Azurite): the probe reads the container every time and writes a
small probe blob at most once per interval; a container the bot may read but not write is
"read-only", not ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from bot.adapters.azure_storage.blob import PROBE_BLOB, AzureBlobStore
from bot.ports import StorageUnavailableError


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _probe_etag(store: AzureBlobStore) -> str:
    properties = await store.container.get_blob_client(PROBE_BLOB).get_blob_properties()
    return str(properties.etag)


async def test_the_probe_blob_is_written_at_most_once_per_interval(
    azurite: str, container_name: str
) -> None:
    ticks = Ticks()
    store = AzureBlobStore(
        container_name, connection_string=azurite, monotonic=ticks, write_probe_seconds=5.0
    )
    await store.open()
    try:
        await store.ping()
        first = await _probe_etag(store)
        ticks.now = 4.0
        await store.ping()
        assert await _probe_etag(store) == first, "no second write within the interval"
        ticks.now = 5.0
        await store.ping()
        assert await _probe_etag(store) != first
    finally:
        await store.close()


def _read_and_create_only(connection_string: str) -> str:
    """A connection string for the same account that may read, list and create but never
    overwrite: the store is there, and refuses the bot's writes."""
    parts = dict(part.split("=", 1) for part in connection_string.split(";") if part)
    sas = generate_account_sas(
        parts["AccountName"],
        parts["AccountKey"],
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, list=True, create=True),
        datetime.now(UTC) + timedelta(hours=1),
    )
    return f"BlobEndpoint={parts['BlobEndpoint']};SharedAccessSignature={sas}"


async def test_a_container_the_bot_may_not_write_is_read_only(
    blob_store: AzureBlobStore, azurite: str, container_name: str
) -> None:
    await blob_store.ping()  # the probe blob exists; overwriting it needs the right to write
    store = AzureBlobStore(container_name, connection_string=_read_and_create_only(azurite))
    await store.open()
    try:
        with pytest.raises(StorageUnavailableError, match=r"^read-only$"):
            await store.ping()
    finally:
        await store.close()

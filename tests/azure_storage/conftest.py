"""Start Azurite (Microsoft's Azure Storage emulator, pinned in package.json) on loopback.

One in-memory Azurite serves the whole test session; every test gets its own container, so tests
never see each other's blobs. `start_azurite` is also used directly by tests that need an Azurite
of their own to stop.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.adapters.azure_storage.blob import AzureBlobStore
from tests.azurite import start_azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The connection string of the session's Azurite."""
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


@pytest.fixture
def container_name() -> str:
    """A container of this test's own (3-63 lowercase letters, digits and hyphens)."""
    return f"kivett-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def blob_store(azurite: str, container_name: str) -> AsyncIterator[AzureBlobStore]:
    store = AzureBlobStore(container_name, connection_string=azurite)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def other_instance(azurite: str, container_name: str) -> AsyncIterator[AzureBlobStore]:
    """A second bot instance: its own clients and connections, the same container."""
    store = AzureBlobStore(container_name, connection_string=azurite)
    await store.open()
    yield store
    await store.close()

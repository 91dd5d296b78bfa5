"""Every store on Azure Storage (KIVETT_STORAGE=azure): state, references, usage and lessons in
Blob Storage; learning cards and broadcasts as blobs with Storage Queues deciding which instance
works on what. Several bot instances can share one account.

Imported by the composition root only when Azure is chosen (the SDKs are not needed otherwise).
"""

from __future__ import annotations

import contextlib
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError
from azure.storage.queue.aio import QueueClient

from bot.adapters.azure_storage.actions import AzureActionLedger
from bot.adapters.azure_storage.blob import AzureBlobStore
from bot.adapters.azure_storage.broadcast import AzureBroadcastStore
from bot.adapters.azure_storage.languages import AzureLanguageChoices
from bot.adapters.azure_storage.lessons import AzureBlobLessonStore
from bot.adapters.azure_storage.outbox import AzureLearningCardStore
from bot.adapters.azure_storage.personal import AzurePersonalData
from bot.adapters.azure_storage.state import AzureBlobConversationReferences, AzureBlobStateStorage
from bot.adapters.azure_storage.trials import AzureTrialStore
from bot.adapters.azure_storage.usage import AzureBlobUsageStats
from bot.ports import StorageUnavailableError, Stores
from bot.settings import Settings


class AzureBackend:
    """Owns the blob store, the queue clients and the credential they share (implements
    bot.ports.StoreBackend)."""

    def __init__(
        self,
        blobs: AzureBlobStore,
        queues: list[QueueClient],
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        self.blobs = blobs
        self.queues = queues
        self.credential = credential
        self.broadcasts: AzureBroadcastStore | None = None

    async def ping(self) -> None:
        await self.blobs.ping()

    async def close(self) -> None:
        if self.broadcasts is not None:
            await self.broadcasts.close()
        for queue in self.queues:
            await queue.close()
        await self.blobs.close()
        if self.credential is not None:
            await self.credential.close()


def _queue(
    settings: Settings,
    name: str,
    credential: AsyncTokenCredential | None,
    use_env_settings: bool,
) -> QueueClient:
    options: dict[str, Any] = {
        "retry_total": 2,
        "connection_timeout": 5,
        "read_timeout": 10,
        "use_env_settings": use_env_settings,
    }
    secret = settings.azure_connection_string.get_secret_value()
    if secret:
        return QueueClient.from_connection_string(secret, name, **options)
    url = settings.azure_account_url.replace(".blob.", ".queue.", 1)
    return QueueClient(url, name, credential=credential, **options)


async def azure_stores(settings: Settings) -> Stores:
    """Every store on the account from settings; raises StorageUnavailableError (with nothing
    left open) if the container or the queues cannot be reached or created."""
    secret = settings.azure_connection_string.get_secret_value()
    credential: AsyncTokenCredential | None = None
    if not secret:
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()  # one sign-in for blobs and queues
    blobs = AzureBlobStore(
        settings.azure_container,
        connection_string=secret or None,
        account_url=None if secret else settings.azure_account_url,
        credential=credential,
    )
    try:
        await blobs.open()
    except StorageUnavailableError:
        if credential is not None:
            await credential.close()
        raise
    prefix = settings.azure_container
    names = ("outbox", "outbox-poison", "broadcasts", "broadcasts-poison")
    queues = [
        _queue(settings, f"{prefix}-{name}", credential, blobs.use_env_settings) for name in names
    ]
    backend = AzureBackend(blobs, queues, credential)
    try:
        for queue in queues:
            with contextlib.suppress(ResourceExistsError):
                await queue.create_queue()
    except AzureError as exc:
        await backend.close()
        raise StorageUnavailableError(f"queues: {type(exc).__name__}") from exc
    outbox, outbox_poison, jobs, jobs_poison = queues
    references = AzureBlobConversationReferences(blobs)
    usage = AzureBlobUsageStats(blobs)
    try:
        await references.minimise_old()  # references stored by earlier versions
        await usage.date_monthless()  # counters from before months were kept
    except StorageUnavailableError:
        await backend.close()
        raise
    lease = settings.azure_lease_seconds
    broadcasts = AzureBroadcastStore(
        blobs.container, jobs, jobs_poison, references, lease_seconds=lease
    )
    backend.broadcasts = broadcasts
    state = AzureBlobStateStorage(blobs)
    lessons = AzureBlobLessonStore(blobs)
    languages = AzureLanguageChoices(blobs)
    learning_cards = AzureLearningCardStore(
        blobs.container, outbox, outbox_poison, visibility_seconds=max(lease, 30)
    )
    return Stores(
        backend=backend,
        state=state,
        references=references,
        usage=usage,
        lessons=lessons,
        broadcasts=broadcasts,
        learning_cards=learning_cards,
        personal=AzurePersonalData(
            blobs,
            state=state,
            references=references,
            lessons=lessons,
            learning_cards=learning_cards,
            broadcasts=broadcasts,
            languages=languages,
        ),
        languages=languages,
        actions=AzureActionLedger(blobs),
        trials=AzureTrialStore(blobs.container),
    )

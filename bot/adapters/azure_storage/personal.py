"""Everything stored about one person on Azure Storage (implements bot.ports.PersonalData): shown,
erased, and the retention limit for conversations nobody uses any more.

The person's blobs are deleted, not emptied: their language choice (`languages/<them>`), their
completed lessons (`lessons/done/<them>/…`), their subscription (`lessons/sub/<them>`, whose
metadata repeats the record), the reference of their own chat with the bot and that chat's state.
References of shared chats and channels are rewritten without the person; learning cards and
tips keep their content without the sender or creator; trials stay with the unit without the
person (as owner or participant), and their choice about trial reminders is deleted. No queue
message names a person (outbox and job messages carry card and job ids).

Azure keeps no older version of a blob unless versioning or soft delete is switched on for the
account; with them on, the account's retention decides when an erased version is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    JsonBlob,
    delete_unless_changed,
    gather_bounded,
    read_json_blob,
    replace_json,
    unavailable_on_error,
)
from bot.adapters.azure_storage.broadcast import AzureBroadcastStore
from bot.adapters.azure_storage.languages import AzureLanguageChoices
from bot.adapters.azure_storage.lessons import AzureBlobLessonStore
from bot.adapters.azure_storage.outbox import AzureLearningCardStore
from bot.adapters.azure_storage.state import (
    WHO_META,
    AzureBlobConversationReferences,
    AzureBlobStateStorage,
    last_seen,
    person_digest,
    reference_name,
    who_meta,
)
from bot.adapters.azure_storage.trials import AzureTrialStore
from bot.core.caller import PERSONAL
from bot.core.records import Erasure, PersonRecord, StoredReference
from bot.core.state_keys import conversation_state_keys, require_user_key
from bot.ports import StorageUnavailableError

_REFS = "refs/"
_DOWNLOADS_AT_ONCE = 16
_ATTEMPTS = 10


def names_person(reference: Mapping[str, Any], user_key: str) -> bool:
    """Whether a stored reference names the person (by Entra object id, or Teams id)."""
    user = reference.get("user")
    return isinstance(user, Mapping) and user_key in (user.get("aadObjectId"), user.get("id"))


def _stored(blob: JsonBlob) -> StoredReference:
    data = blob.data
    return StoredReference(
        conversation_id=str(data["conversation_id"]),
        conversation_type=str(data["conversation_type"]),
        tenant_id=str(data["tenant_id"]),
        reference=data["reference"],
        last_seen=last_seen(blob.metadata, blob.last_modified),
    )


class AzurePersonalData:
    def __init__(
        self,
        blobs: AzureBlobStore,
        *,
        state: AzureBlobStateStorage,
        references: AzureBlobConversationReferences,
        lessons: AzureBlobLessonStore,
        learning_cards: AzureLearningCardStore,
        broadcasts: AzureBroadcastStore,
        languages: AzureLanguageChoices,
    ) -> None:
        self._blobs = blobs
        self._state = state
        self._references = references
        self._lessons = lessons
        self._cards = learning_cards
        self._broadcasts = broadcasts
        self._languages = languages
        # the trials share the container (bot/adapters/azure_storage/backend.py)
        self._trials = AzureTrialStore(blobs.container)

    async def _naming(self, user_key: str) -> list[tuple[str, JsonBlob]]:
        """The references that name the person. One listing finds them by the digest of their
        id in the blobs' metadata; only those (and references written before the digest was
        kept) are downloaded."""
        container = self._blobs.container
        digest = person_digest(user_key)
        async with unavailable_on_error("list conversation references"):
            names = [
                blob.name
                async for blob in container.list_blobs(name_starts_with=_REFS, include="metadata")
                if not (who := (blob.metadata or {}).get(WHO_META)) or digest in who.split(",")
            ]
        found = await gather_bounded(
            (read_json_blob(container, name) for name in names), _DOWNLOADS_AT_ONCE
        )
        return [
            (name, blob)
            for name, blob in zip(names, found, strict=True)
            if blob is not None and names_person(blob.data.get("reference") or {}, user_key)
        ]

    async def person(self, user_key: str) -> PersonRecord:
        require_user_key(user_key)
        references = [_stored(blob) for _, blob in await self._naming(user_key)]
        return PersonRecord(
            user_key=user_key,
            conversations=tuple(sorted(references, key=lambda r: r.conversation_id)),
            lessons_completed=await self._lessons.completed(user_key),
            subscription=await self._lessons.subscription(user_key),
            learning_cards=tuple(await self._cards.by_author(user_key)),
            broadcasts=tuple(await self._broadcasts.created_by(user_key)),
            language=await self._languages.get(user_key),
            trials=tuple(await self._trials.of_person(user_key)),
            trial_reminders_muted=await self._trials.reminders_muted(user_key),
        )

    async def conversations(self, user_key: str) -> list[StoredReference]:
        require_user_key(user_key)
        references = [_stored(blob) for _, blob in await self._naming(user_key)]
        return sorted(references, key=lambda r: r.conversation_id)

    async def erase(self, user_key: str) -> Erasure:
        require_user_key(user_key)
        subscription = await self._lessons.subscription(user_key)
        own_chat = subscription.conversation_id if subscription is not None else None
        conversations = 0
        naming = await self._naming(user_key)
        if own_chat is not None and own_chat not in {
            b.data.get("conversation_id") for _, b in naming
        }:
            found = await read_json_blob(self._blobs.container, reference_name(own_chat))
            if found is not None:
                naming.append((reference_name(own_chat), found))
        own_chats: set[str] = set()
        for name, blob in naming:
            if blob.data.get("conversation_type") == PERSONAL:
                own_chats.add(str(blob.data.get("conversation_id", "")))
                conversations += await self._forget_chat(blob)
            else:
                conversations += await self._strip_person(name, user_key)
        await self._languages.forget(user_key)
        lessons = await self._lessons.forget_progress(user_key)
        ended = await self._lessons.unsubscribe(user_key)
        cards = await self._cards.remove_author(user_key)
        jobs = await self._broadcasts.remove_creator(user_key)
        await self._broadcasts.forget_recipients(own_chats)
        trials = await self._trials.forget_person(user_key)
        unmuted = await self._trials.unmute_reminders(user_key)
        return Erasure(conversations, lessons, ended, cards, jobs, trials, unmuted)

    async def _forget_chat(self, blob: JsonBlob) -> int:
        """Delete the person's own chat: its reference and its conversation state."""
        conversation_id = str(blob.data.get("conversation_id", ""))
        await self._state.delete(
            conversation_state_keys(conversation_id, blob.data.get("reference") or {})
        )
        return int(await self._references.remove(conversation_id))

    async def _strip_person(self, name: str, user_key: str) -> int:
        """Rewrite a shared chat's reference without the person (if still naming them)."""
        container = self._blobs.container
        for _ in range(_ATTEMPTS):
            current = await read_json_blob(container, name)
            if current is None or not names_person(current.data.get("reference") or {}, user_key):
                return 0
            data = dict(current.data)
            data["reference"] = {k: v for k, v in data["reference"].items() if k != "user"}
            metadata = {**current.metadata, WHO_META: who_meta(data["reference"])}
            if await replace_json(container, name, data, etag=current.etag, metadata=metadata):
                return 1
        raise StorageUnavailableError("conversation reference: too many concurrent writers")

    async def prune(self, last_seen_before: datetime) -> int:
        container = self._blobs.container
        async with unavailable_on_error("list conversation references"):
            old = [
                blob.name
                async for blob in container.list_blobs(name_starts_with=_REFS, include="metadata")
                if (seen := last_seen(blob.metadata or {}, blob.last_modified)) is not None
                and seen < last_seen_before
            ]
        # a subscriber gets a lesson every week without writing: not gone (when they leave,
        # Teams refuses the delivery and the lesson worker drops the subscription)
        subscribed = {conversation for conversation, _ in await self._lessons.subscribers()}
        forgotten = 0
        for name in old:
            blob = await read_json_blob(container, name)
            if blob is None:
                continue
            if str(blob.data.get("conversation_id", "")) in subscribed:
                continue
            seen = last_seen(blob.metadata, blob.last_modified)
            if seen is None or seen >= last_seen_before:
                continue  # seen again since the listing
            # the reference first, and only this version: a conversation that is written in
            # at this moment keeps everything
            if not await delete_unless_changed(container, name, blob.etag):
                continue
            conversation_id = str(blob.data.get("conversation_id", ""))
            await self._state.delete(
                conversation_state_keys(conversation_id, blob.data.get("reference") or {})
            )
            forgotten += 1
        return forgotten

"""Bot Framework state and conversation references on Azure Blob Storage.

State: one JSON blob per key under `state/`; the blob's ETag is the item's `e_tag`, and a write
that carries an e_tag (other than `*`) is a conditional Put Blob, so two instances cannot both
win with the same e_tag. References: one JSON blob per conversation under `refs/`, with the
conversation type and the time it was last seen in the blob's metadata, so `of_type` and the
retention limit can pick them from one listing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import ContainerClient

from bot.adapters.azure_storage.blob import (
    JSON_CONTENT,
    AzureBlobStore,
    JsonBlob,
    delete_if_present,
    dump_json,
    encode_meta,
    gather_bounded,
    key_segment,
    read_json,
    read_json_blob,
    replace_json,
    unavailable_on_error,
)
from bot.adapters.state_codec import encode_state, etag_of
from bot.core.records import StoredReference
from bot.ports import ETagConflictError

_ANY = "*"
_STATE = "state/"
_REFS = "refs/"
_TYPE_META = "ctype"
SEEN_META = "seen"  # ISO time (UTC) the bot last heard from the conversation
WHO_META = "who"  # digests of the ids of the person the reference names ("-" for nobody)
NOBODY = "-"  # (metadata cannot hold an empty value)
_DOWNLOADS_AT_ONCE = 16


def _state_name(key: str) -> str:
    return _STATE + key_segment(key)


class AzureBlobStateStorage:
    """The Bot Framework `Storage` contract (bot.ports.StateStore) on blobs with ETags.

    Unlike the SQLite store, a batch of several keys is not one transaction: every conditional
    item is checked before anything is written, so a stale e_tag found then changes nothing, but
    a writer that slips in between the check and the writes can still make a later item fail
    after earlier ones were written. Bot Framework state writes one key per `save_changes`.
    """

    def __init__(self, store: AzureBlobStore) -> None:
        self._store = store

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        wanted = [k for k in dict.fromkeys(keys) if k]
        if not wanted:
            return {}
        container = self._store.container
        async with unavailable_on_error("read state"):
            found = await asyncio.gather(*(read_json(container, _state_name(k)) for k in wanted))
        result: dict[str, Any] = {}
        for key, item in zip(wanted, found, strict=True):
            if item is None:
                continue
            data, e_tag = item
            data["e_tag"] = e_tag
            result[key] = data
        return result

    async def write(self, changes: Mapping[str, Any]) -> None:
        if changes is None:
            raise TypeError("changes are required")
        if not changes:
            return
        encoded = [
            (key, etag_of(value), encode_state(key, value).encode())
            for key, value in changes.items()
        ]
        container = self._store.container
        new_tags: dict[str, str] = {}
        async with unavailable_on_error("write state"):
            conditional = [(k, e) for k, e, _ in encoded if e is not None and e != _ANY]
            if len(encoded) > 1 and conditional:
                await asyncio.gather(*(_check(container, k, e) for k, e in conditional))
            for key, expected, data in encoded:
                new_tags[key] = await _put(container, key, expected, data)
        # The caller's objects now carry the new e_tag, so a second save in the same turn works.
        for key, value in changes.items():
            if isinstance(value, dict):
                value["e_tag"] = new_tags[key]

    async def delete(self, keys: Iterable[str]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k]
        if not wanted:
            return
        container = self._store.container
        async with unavailable_on_error("delete state"):
            await asyncio.gather(*(delete_if_present(container, _state_name(k)) for k in wanted))


async def _check(container: ContainerClient, key: str, expected: str) -> None:
    try:
        properties = await container.get_blob_client(_state_name(key)).get_blob_properties()
    except ResourceNotFoundError:
        return  # a new item: written below, as the SQLite store does
    if properties.etag != expected:
        raise ETagConflictError(f"state '{key}' was changed by another writer")


async def _put(container: ContainerClient, key: str, expected: str | None, data: bytes) -> str:
    blob = container.get_blob_client(_state_name(key))
    if expected is None or expected == _ANY:
        result = await blob.upload_blob(data, overwrite=True, content_settings=JSON_CONTENT)
        return str(result["etag"])
    try:
        result = await blob.upload_blob(
            data,
            overwrite=True,
            etag=expected,
            match_condition=MatchConditions.IfNotModified,
            content_settings=JSON_CONTENT,
        )
    except (ResourceModifiedError, ResourceNotFoundError):
        # Either someone wrote first, or there is no item yet. Create it only if still missing
        # (If-None-Match: *), so two writers with the same e_tag cannot both create it.
        try:
            result = await blob.upload_blob(data, overwrite=False, content_settings=JSON_CONTENT)
        except ResourceExistsError as exc:
            raise ETagConflictError(f"state '{key}' was changed by another writer") from exc
    return str(result["etag"])


def _reference_record(reference: StoredReference) -> dict[str, Any]:
    record = {
        "conversation_id": reference.conversation_id,
        "conversation_type": reference.conversation_type,
        "tenant_id": reference.tenant_id,
        "reference": dict(reference.reference),
    }
    # as it will read back (tuples become lists), so an unchanged reference compares equal
    parsed: dict[str, Any] = json.loads(dump_json(record))
    return parsed


def _utc_now() -> datetime:
    return datetime.now(UTC)


def last_seen(metadata: Mapping[str, str], last_modified: datetime | None) -> datetime | None:
    """When a reference blob was last seen: its `seen` metadata, else its last change."""
    seen = metadata.get(SEEN_META)
    if seen:
        return datetime.fromisoformat(seen)
    return last_modified


def _reference(blob: JsonBlob) -> StoredReference:
    data = blob.data
    return StoredReference(
        conversation_id=str(data["conversation_id"]),
        conversation_type=str(data["conversation_type"]),
        tenant_id=str(data["tenant_id"]),
        reference=data["reference"],
        last_seen=last_seen(blob.metadata, blob.last_modified),
    )


def reference_name(conversation_id: str) -> str:
    return _REFS + key_segment(conversation_id)


def person_digest(user_key: str) -> str:
    """A short one-way digest of a user id: lets `mine data` find a person's references from
    one listing without the listing holding the id itself."""
    return hashlib.sha256(user_key.encode("utf-8")).hexdigest()[:32]


def who_meta(reference: Mapping[str, Any]) -> str:
    """The WHO_META value for a reference: digests of its user's Entra object id and Teams id."""
    user = reference.get("user")
    ids = (
        [str(user[key]) for key in ("aadObjectId", "id") if user.get(key)]
        if isinstance(user, Mapping)
        else []
    )
    return ",".join(person_digest(user_id) for user_id in ids) or NOBODY


def reference_metadata(
    conversation_type: str, seen: datetime, reference: Mapping[str, Any]
) -> dict[str, str]:
    return {
        _TYPE_META: encode_meta(conversation_type),
        SEEN_META: seen.astimezone(UTC).isoformat(),
        WHO_META: who_meta(reference),
    }


class AzureBlobConversationReferences:
    """Conversation references for proactive messages (implements ConversationReferenceStore)."""

    def __init__(self, store: AzureBlobStore, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._store = store
        self._clock = clock

    async def save(self, reference: StoredReference) -> bool:
        """Write the reference (True) or, when it is unchanged, only the time it was seen."""
        container = self._store.container
        name = reference_name(reference.conversation_id)
        record = _reference_record(reference)
        metadata = reference_metadata(
            reference.conversation_type, reference.last_seen or self._clock(), reference.reference
        )
        current = await read_json(container, name)
        if current is not None and current[0] == record:
            async with unavailable_on_error("note when a conversation was seen"):
                with suppress(ResourceNotFoundError, ResourceModifiedError):
                    await container.get_blob_client(name).set_blob_metadata(
                        metadata, etag=current[1], match_condition=MatchConditions.IfNotModified
                    )
            return False
        return await replace_json(container, name, record, metadata=metadata)

    async def minimise_old(self) -> int:
        """Rewrite references stored before they were minimised (those without WHO_META): no
        display name in a personal chat, no last speaker elsewhere. Run once at start; a blob
        changed meanwhile is left to its writer (who writes it minimised). Returns how many."""
        container = self._store.container
        async with unavailable_on_error("list conversation references"):
            names = [
                blob.name
                async for blob in container.list_blobs(name_starts_with=_REFS, include="metadata")
                if WHO_META not in (blob.metadata or {})
            ]
        rewritten = 0
        for name in names:
            found = await read_json_blob(container, name)
            if found is None:
                continue
            data = dict(found.data)
            reference = dict(data.get("reference") or {})
            user = reference.pop("user", None)
            if data.get("conversation_type") == "personal" and isinstance(user, Mapping):
                reference["user"] = {k: v for k, v in user.items() if k != "name"}
            data["reference"] = reference
            metadata = {**found.metadata, WHO_META: who_meta(reference)}
            if await replace_json(container, name, data, etag=found.etag, metadata=metadata):
                rewritten += 1
        return rewritten

    async def remove(self, conversation_id: str) -> bool:
        return await delete_if_present(self._store.container, reference_name(conversation_id))

    async def get(self, conversation_id: str) -> StoredReference | None:
        found = await read_json_blob(self._store.container, reference_name(conversation_id))
        return None if found is None else _reference(found)

    async def of_type(self, conversation_type: str) -> list[StoredReference]:
        container = self._store.container
        wanted = encode_meta(conversation_type)
        async with unavailable_on_error("list conversation references"):
            names = [
                blob.name
                async for blob in container.list_blobs(name_starts_with=_REFS, include="metadata")
                if (blob.metadata or {}).get(_TYPE_META) == wanted
            ]
        found = await gather_bounded(
            (read_json_blob(container, name) for name in names), _DOWNLOADS_AT_ONCE
        )
        # A reference removed between the listing and the download is simply gone.
        references = [_reference(item) for item in found if item is not None]
        matching = [r for r in references if r.conversation_type == conversation_type]
        return sorted(matching, key=lambda r: r.conversation_id)

    async def count(self) -> int:
        container = self._store.container
        async with unavailable_on_error("count conversation references"):
            return sum([1 async for _ in container.list_blobs(name_starts_with=_REFS)])

"""Each person's language choice (`språk`) on Azure Blob Storage (implements
bot.ports.LanguageChoices).

One small JSON blob per person, `languages/<user key>`: the language they chose (null until they
choose), whether the offer to choose has been shown, and the person's key. Read on every turn: one
download. `choose` overwrites the blob; `mark_offered` changes it only over the version it read
(ETag), so it never undoes a choice written meanwhile by another instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.adapters.azure_storage.blob import (
    AzureBlobStore,
    create_json,
    delete_if_present,
    key_segment,
    read_json,
    replace_json,
)
from bot.core.records import LanguageChoice
from bot.core.state_keys import require_user_key
from bot.ports import StorageUnavailableError
from content import LANGUAGES

_LANGUAGES = "languages/"
_ATTEMPTS = 10


def _name(user_key: str) -> str:
    return _LANGUAGES + key_segment(user_key)


def _record(user_key: str, language: str | None) -> dict[str, Any]:
    return {
        "user_key": user_key,
        "language": language,
        "offered": True,
        "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _choice(data: Mapping[str, Any]) -> LanguageChoice:
    language = data.get("language")
    return LanguageChoice(
        language=None if language is None else str(language), offered=bool(data.get("offered"))
    )


class AzureLanguageChoices:
    def __init__(self, store: AzureBlobStore) -> None:
        self._store = store

    async def get(self, user_key: str) -> LanguageChoice | None:
        require_user_key(user_key)
        found = await read_json(self._store.container, _name(user_key))
        return None if found is None else _choice(found[0])

    async def choose(self, user_key: str, language: str) -> None:
        require_user_key(user_key)
        if language not in LANGUAGES:
            raise ValueError(f"not a language the bot speaks: {language!r}")
        await replace_json(self._store.container, _name(user_key), _record(user_key, language))

    async def mark_offered(self, user_key: str) -> None:
        require_user_key(user_key)
        container, name = self._store.container, _name(user_key)
        for _ in range(_ATTEMPTS):
            found = await read_json(container, name)
            if found is None:
                if await create_json(container, name, _record(user_key, None)):
                    return
                continue  # written meanwhile (a choice): read it again
            data, etag = found
            if data.get("offered") is True:
                return
            language = data.get("language")
            record = _record(user_key, None if language is None else str(language))
            if await replace_json(container, name, record, etag=etag):
                return
        raise StorageUnavailableError("language choice: too many concurrent writers")

    async def forget(self, user_key: str) -> bool:
        """Delete the person's choice (their erasure); False if none was stored."""
        require_user_key(user_key)
        return await delete_if_present(self._store.container, _name(user_key))

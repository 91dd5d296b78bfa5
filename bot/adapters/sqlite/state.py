"""Bot Framework state and conversation references on SQLite."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.state_codec import encode_state, etag_of
from bot.core.records import StoredReference
from bot.ports import ETagConflictError

_ANY = "*"
_REF_COLUMNS = "conversation_id, conversation_type, tenant_id, reference, updated_at"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_moment(moment: datetime) -> str:
    """A moment as the store writes it (UTC, microseconds): text that sorts in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def stored_reference(row: Sequence[Any]) -> StoredReference:
    """A row of `_REF_COLUMNS` as a record."""
    return StoredReference(
        conversation_id=row[0],
        conversation_type=row[1],
        tenant_id=row[2],
        reference=json.loads(row[3]),
        last_seen=_moment(row[4]),
    )


class SqliteStorage:
    """Conversation state (the `StateStore` port: the Bot Framework's storage contract) with
    e_tag optimistic concurrency, in one SQLite table."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        wanted = [k for k in dict.fromkeys(keys) if k]
        if not wanted:
            return {}

        def work(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
            marks = ",".join("?" for _ in wanted)
            return conn.execute(
                f"SELECT key, e_tag, data FROM state WHERE key IN ({marks})",  # noqa: S608
                wanted,
            ).fetchall()

        rows = await self._db.run(work)
        result: dict[str, Any] = {}
        for key, e_tag, data in rows:
            item = json.loads(data)
            item["e_tag"] = e_tag
            result[key] = item
        return result

    async def write(self, changes: Mapping[str, Any]) -> None:
        if changes is None:
            raise TypeError("changes are required")
        if not changes:
            return
        encoded = [
            (key, etag_of(value), encode_state(key, value)) for key, value in changes.items()
        ]
        new_tags = {key: uuid.uuid4().hex for key in changes}

        def work(conn: sqlite3.Connection) -> None:
            for key, expected, data in encoded:
                row = conn.execute("SELECT e_tag FROM state WHERE key = ?", (key,)).fetchone()
                if row is not None and expected not in (None, _ANY) and expected != row[0]:
                    raise ETagConflictError(f"state '{key}' was changed by another writer")
                conn.execute(
                    "INSERT INTO state(key, e_tag, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET e_tag = excluded.e_tag, data = excluded.data, "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                    (key, new_tags[key], data),
                )

        await self._db.transaction(work)
        # The caller's objects now carry the new e_tag, so a second save in the same turn works.
        for key, value in changes.items():
            if isinstance(value, dict):
                value["e_tag"] = new_tags[key]

    async def delete(self, keys: Sequence[str]) -> None:
        wanted = [k for k in keys if k]
        if not wanted:
            return

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM state WHERE key = ?", [(k,) for k in wanted])

        await self._db.transaction(work)


class SqliteConversationReferences:
    """Conversation references for proactive messages (implements ConversationReferenceStore).

    `updated_at` is when the bot last heard from the conversation (the reference's `last_seen`):
    every save sets it, also one that changes nothing else, so the retention limit can forget
    conversations nobody has used for a long time."""

    def __init__(self, db: SqliteDatabase, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def save(self, reference: StoredReference) -> bool:
        payload = json.dumps(dict(reference.reference), ensure_ascii=False, sort_keys=True)
        seen = iso_moment(reference.last_seen or self._clock())

        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT reference, conversation_type, tenant_id FROM conversation_refs "
                "WHERE conversation_id = ?",
                (reference.conversation_id,),
            ).fetchone()
            if row == (payload, reference.conversation_type, reference.tenant_id):
                conn.execute(
                    "UPDATE conversation_refs SET updated_at = ? WHERE conversation_id = ?",
                    (seen, reference.conversation_id),
                )
                return False
            conn.execute(
                "INSERT INTO conversation_refs(conversation_id, conversation_type, tenant_id, "
                "reference, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(conversation_id) "
                "DO UPDATE SET conversation_type = excluded.conversation_type, "
                "tenant_id = excluded.tenant_id, reference = excluded.reference, "
                "updated_at = excluded.updated_at",
                (
                    reference.conversation_id,
                    reference.conversation_type,
                    reference.tenant_id,
                    payload,
                    seen,
                ),
            )
            return True

        return await self._db.transaction(work)

    async def remove(self, conversation_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM conversation_refs WHERE conversation_id = ?", (conversation_id,)
            )
            return cursor.rowcount > 0

        return await self._db.transaction(work)

    async def get(self, conversation_id: str) -> StoredReference | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {_REF_COLUMNS} FROM conversation_refs WHERE conversation_id = ?",  # noqa: S608
                (conversation_id,),
            ).fetchone()
        )
        return None if row is None else stored_reference(row)

    async def of_type(self, conversation_type: str) -> list[StoredReference]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {_REF_COLUMNS} FROM conversation_refs "  # noqa: S608
                "WHERE conversation_type = ? ORDER BY conversation_id",
                (conversation_type,),
            ).fetchall()
        )
        return [stored_reference(row) for row in rows]

    async def count(self) -> int:
        row = await self._db.run(
            lambda conn: conn.execute("SELECT COUNT(*) FROM conversation_refs").fetchone()
        )
        return int(row[0])

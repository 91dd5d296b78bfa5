"""Learning cards and their outbox on SQLite (implements bot.ports.LearningCardStore).

A card is written here, in one transaction, before the employee is told it is saved. Its row is
also its outbox entry: `pending` until the SharePoint write succeeds (`delivered`, with the item
id) or is refused for good (`parked`, with a reason for the leads). A delivered card whose sender
was erased is `redact` until the outbox has emptied the item's sender column (then `delivered`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.learning_cards import CardDraft, DeliveryState, FollowUp, LearningCard, StoredCard

CARD_COLUMNS = (
    "card_id, submitted_at, author, language, draft, follow_up, state, attempts, reason, "
    "item_id, lead_status"
)


def stored_card(row: Sequence[Any]) -> StoredCard:
    draft = CardDraft(**json.loads(row[4]))
    card = LearningCard(
        card_id=row[0],
        submitted_at=datetime.fromisoformat(row[1]),
        author=row[2],
        language=row[3],
        draft=draft,
        follow_up=tuple(FollowUp(value) for value in json.loads(row[5])),
    )
    return StoredCard(
        card=card,
        state=DeliveryState(row[6]),
        attempts=int(row[7]),
        reason=row[8],
        item_id=row[9],
        lead_status=row[10],
    )


class SqliteLearningCardStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add(self, card: LearningCard) -> bool:
        """Store a new card (pending delivery). False if a card with this id is already stored
        (a repeated submit of the same card): nothing is stored twice."""

        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO learning_cards"
                "(card_id, submitted_at, author, language, draft, follow_up) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    card.card_id,
                    card.submitted_at.isoformat(),
                    card.author,
                    card.language,
                    json.dumps(asdict(card.draft), ensure_ascii=False),
                    json.dumps([flag.value for flag in card.follow_up]),
                ),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(work)

    async def get(self, card_id: str) -> StoredCard | None:
        def work(conn: sqlite3.Connection) -> StoredCard | None:
            row = conn.execute(
                f"SELECT {CARD_COLUMNS} FROM learning_cards WHERE card_id = ?",  # noqa: S608
                (card_id,),
            ).fetchone()
            return None if row is None else stored_card(row)

        return await self._db.run(work)

    async def all(self) -> list[StoredCard]:
        def work(conn: sqlite3.Connection) -> list[StoredCard]:
            rows = conn.execute(
                f"SELECT {CARD_COLUMNS} FROM learning_cards ORDER BY submitted_at, card_id"  # noqa: S608
            ).fetchall()
            return [stored_card(row) for row in rows]

        return await self._db.run(work)

    async def due(self, now: float, limit: int) -> list[StoredCard]:
        """Pending (and redact) cards whose next attempt is due, oldest first."""

        def work(conn: sqlite3.Connection) -> list[StoredCard]:
            rows = conn.execute(
                f"SELECT {CARD_COLUMNS} FROM learning_cards "  # noqa: S608
                "WHERE state IN ('pending', 'redact') AND next_attempt <= ? "
                "ORDER BY next_attempt, submitted_at LIMIT ?",
                (now, limit),
            ).fetchall()
            return [stored_card(row) for row in rows]

        return await self._db.run(work)

    async def next_attempt(self) -> float | None:
        """When the earliest pending (or redact) card is due, or None when the outbox is empty."""

        def work(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                "SELECT MIN(next_attempt) FROM learning_cards WHERE state IN ('pending', 'redact')"
            ).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return await self._db.run(work)

    async def delivered(self, card_id: str, item_id: str) -> None:
        """The card's item exists. A pending card whose sender was erased meanwhile (perhaps
        while its item was being created, with the sender) goes on to REDACT, due now, so the
        item's sender column is emptied too; a REDACT card is DELIVERED again."""
        await self._update(
            "UPDATE learning_cards SET item_id = ?, reason = '', attempts = attempts + 1, "
            "state = CASE WHEN state = 'pending' AND author = '' THEN 'redact' "
            "ELSE 'delivered' END, "
            "next_attempt = CASE WHEN state = 'pending' AND author = '' THEN 0 "
            "ELSE next_attempt END "
            "WHERE card_id = ?",
            (item_id, card_id),
        )

    async def retry(self, card_id: str, at: float, reason: str) -> None:
        await self._update(
            "UPDATE learning_cards SET attempts = attempts + 1, next_attempt = ?, reason = ? "
            "WHERE card_id = ? AND state IN ('pending', 'redact')",
            (at, reason, card_id),
        )

    async def park(self, card_id: str, reason: str) -> None:
        await self._update(
            "UPDATE learning_cards SET state = 'parked', attempts = attempts + 1, reason = ? "
            "WHERE card_id = ?",
            (reason, card_id),
        )

    async def requeue_parked(self) -> int:
        """Send parked cards again (after the cause was fixed, say a missing permission); a card
        that already has its item goes back to having its sender removed, not to a new item."""

        def work(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE learning_cards SET next_attempt = 0, "
                "state = CASE WHEN item_id <> '' THEN 'redact' ELSE 'pending' END "
                "WHERE state = 'parked'"
            )
            return cursor.rowcount

        return await self._db.transaction(work)

    async def set_lead_statuses(self, statuses: Mapping[str, str]) -> int:
        """Statuses read back from the SharePoint list; returns how many cards changed."""

        def work(conn: sqlite3.Connection) -> int:
            changed = 0
            for card_id, status in statuses.items():
                cursor = conn.execute(
                    "UPDATE learning_cards SET lead_status = ? "
                    "WHERE card_id = ? AND lead_status <> ?",
                    (status, card_id, status),
                )
                changed += cursor.rowcount
            return changed

        return await self._db.transaction(work)

    async def _update(self, sql: str, params: tuple[object, ...]) -> None:
        await self._db.transaction(lambda conn: conn.execute(sql, params))

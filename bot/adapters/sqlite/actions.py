"""The card-action ledger on SQLite (implements bot.ports.ActionLedger).

One row per action id in `card_actions`: its kind, the outcome of the first application ("" while
it is under way) and when it was claimed (UTC, ISO text that sorts by time). A claim is one
`INSERT OR IGNORE` in a transaction on the database's single thread: of two claims of the same id,
exactly one inserts the row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from bot.adapters.sqlite.db import SqliteDatabase

MAX_ACTION_ID = 256


def require_action(action_id: str, kind: str) -> None:
    """Refuse an empty or oversized id or kind (a bug in the caller, never user input)."""
    if not action_id or len(action_id) > MAX_ACTION_ID:
        raise ValueError("an action id must hold 1 to 256 characters")
    if not kind or len(kind) > 64:
        raise ValueError("an action kind must hold 1 to 64 characters")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqliteActionLedger:
    def __init__(self, db: SqliteDatabase, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock

    async def claim(self, action_id: str, kind: str) -> str | None:
        require_action(action_id, kind)
        claimed_at = stamp(self._clock())

        def work(conn: sqlite3.Connection) -> str | None:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO card_actions(action_id, kind, claimed_at) VALUES (?, ?, ?)",
                (action_id, kind, claimed_at),
            ).rowcount
            if inserted == 1:
                return None
            row = conn.execute(
                "SELECT outcome FROM card_actions WHERE action_id = ?", (action_id,)
            ).fetchone()
            return "" if row is None else str(row[0])

        return await self._db.transaction(work)

    async def settle(self, action_id: str, outcome: str) -> None:
        require_action(action_id, "settle")

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE card_actions SET outcome = ? WHERE action_id = ?", (outcome, action_id)
            )

        await self._db.transaction(work)

    async def prune(self, before: datetime) -> int:
        cutoff = stamp(before)

        def work(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM card_actions WHERE claimed_at < ?", (cutoff,)).rowcount

        return await self._db.transaction(work)

"""Trials and their outbox on SQLite (implements bot.ports.TrialStore).

A trial is written here, in one transaction, before the champion is told it is registered. Its
row is also its outbox entry for the trials list in SharePoint, with the same states as a learning
card (`pending`, `delivered` with the item id, `parked` with a reason). Who takes part is kept in
a table of its own, so "the trials I am in" is one indexed lookup. Both tables are in the schema in
bot/adapters/sqlite/db.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.learning_cards import DeliveryState
from bot.core.state_keys import require_user_key
from bot.core.trials import StoredTrial, Trial, draft_from_json, draft_json

TRIAL_COLUMNS = (
    "trial_id, created_at, owner, language, draft, verdict, risk_level, state, attempts, reason, "
    "item_id, reminded, unreached"
)


def stored_trial(row: Sequence[Any]) -> StoredTrial:
    trial = Trial(
        trial_id=row[0],
        created_at=datetime.fromisoformat(row[1]),
        owner=row[2],
        language=row[3],
        draft=draft_from_json(row[4]),
        verdict=row[5],
        risk_level=row[6],
    )
    return StoredTrial(
        trial=trial,
        state=DeliveryState(row[7]),
        attempts=int(row[8]),
        reason=row[9],
        item_id=row[10],
        reminded=bool(row[11]),
        unreached=int(row[12]),
    )


def forget_person_in(conn: sqlite3.Connection, user_key: str) -> int:
    """Remove the person as owner and participant of every trial, within the caller's
    transaction (an erasure runs it with the rest); return how many trials changed."""
    rows = conn.execute(
        f"SELECT {TRIAL_COLUMNS} FROM trials WHERE owner = ? OR trial_id IN "  # noqa: S608
        "(SELECT trial_id FROM trial_participants WHERE user_key = ?)",
        (user_key, user_key),
    ).fetchall()
    for row in rows:
        trial = stored_trial(row).trial
        kept = tuple(p for p in trial.draft.participants if p != user_key)
        owned = trial.owner == user_key
        # the champion named in a trial's SharePoint item (Pådriver) is emptied there too: a
        # delivered trial goes back to the outbox in state redact, like a learning card's sender
        conn.execute(
            "UPDATE trials SET owner = ?, draft = ?, "
            "state = CASE WHEN ? AND state = 'delivered' AND item_id <> '' THEN 'redact' "
            "ELSE state END, "
            "next_attempt = CASE WHEN ? AND state = 'delivered' AND item_id <> '' THEN 0 "
            "ELSE next_attempt END "
            "WHERE trial_id = ?",
            (
                "" if owned else trial.owner,
                draft_json(replace(trial.draft, participants=kept)),
                owned,
                owned,
                trial.trial_id,
            ),
        )
    conn.execute("DELETE FROM trial_participants WHERE user_key = ?", (user_key,))
    return len(rows)


class SqliteTrialStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add(self, trial: Trial) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO trials"
                "(trial_id, created_at, owner, language, draft, verdict, risk_level) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    trial.trial_id,
                    trial.created_at.isoformat(),
                    trial.owner,
                    trial.language,
                    draft_json(trial.draft),
                    trial.verdict,
                    trial.risk_level,
                ),
            )
            if cursor.rowcount != 1:
                return False
            people = dict.fromkeys([trial.owner, *trial.draft.participants])
            conn.executemany(
                "INSERT OR IGNORE INTO trial_participants(trial_id, user_key) VALUES (?, ?)",
                [(trial.trial_id, person) for person in people if person],
            )
            return True

        return await self._db.transaction(work)

    async def get(self, trial_id: str) -> StoredTrial | None:
        return next(iter(await self._select("WHERE trial_id = ?", (trial_id,))), None)

    async def all(self) -> list[StoredTrial]:
        return await self._select("", ())

    async def of_person(self, user_key: str) -> list[StoredTrial]:
        return await self._select(
            "WHERE trial_id IN (SELECT trial_id FROM trial_participants WHERE user_key = ?)",
            (user_key,),
        )

    async def due(self, now: float, limit: int) -> list[StoredTrial]:
        def work(conn: sqlite3.Connection) -> list[StoredTrial]:
            rows = conn.execute(
                f"SELECT {TRIAL_COLUMNS} FROM trials "  # noqa: S608
                "WHERE state IN ('pending', 'redact') AND next_attempt <= ? "
                "ORDER BY next_attempt, created_at LIMIT ?",
                (now, limit),
            ).fetchall()
            return [stored_trial(row) for row in rows]

        return await self._db.run(work)

    async def next_attempt(self) -> float | None:
        def work(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                "SELECT MIN(next_attempt) FROM trials WHERE state IN ('pending', 'redact')"
            ).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return await self._db.run(work)

    async def delivered(self, trial_id: str, item_id: str) -> None:
        """The trial's item exists. A pending trial whose champion was erased meanwhile (perhaps
        while its item was being created, with the champion) goes on to redact, due now; a
        redact trial is delivered again."""
        await self._update(
            "UPDATE trials SET item_id = ?, reason = '', attempts = attempts + 1, "
            "state = CASE WHEN state = 'pending' AND owner = '' THEN 'redact' "
            "ELSE 'delivered' END, "
            "next_attempt = CASE WHEN state = 'pending' AND owner = '' THEN 0 "
            "ELSE next_attempt END "
            "WHERE trial_id = ?",
            (item_id, trial_id),
        )

    async def retry(self, trial_id: str, at: float, reason: str) -> None:
        await self._update(
            "UPDATE trials SET attempts = attempts + 1, next_attempt = ?, reason = ? "
            "WHERE trial_id = ? AND state IN ('pending', 'redact')",
            (at, reason, trial_id),
        )

    async def park(self, trial_id: str, reason: str) -> None:
        await self._update(
            "UPDATE trials SET state = 'parked', attempts = attempts + 1, reason = ? "
            "WHERE trial_id = ?",
            (reason, trial_id),
        )

    async def requeue_parked(self) -> int:
        def work(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE trials SET next_attempt = 0, "
                "state = CASE WHEN item_id <> '' THEN 'redact' ELSE 'pending' END "
                "WHERE state = 'parked'"
            ).rowcount

        return await self._db.transaction(work)

    async def mark_reminded(self, trial_id: str, *, unreached: int = 0) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE trials SET reminded = 1, unreached = ? WHERE trial_id = ? AND reminded = 0",
                (max(unreached, 0), trial_id),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(work)

    async def forget_person(self, user_key: str) -> int:
        if not user_key:
            return 0
        return await self._db.transaction(lambda conn: forget_person_in(conn, user_key))

    async def mute_reminders(self, user_key: str) -> None:
        require_user_key(user_key)
        await self._update(
            "INSERT OR IGNORE INTO trial_reminder_mutes(user_key) VALUES (?)", (user_key,)
        )

    async def unmute_reminders(self, user_key: str) -> bool:
        require_user_key(user_key)
        return bool(
            await self._db.transaction(
                lambda conn: (
                    conn.execute(
                        "DELETE FROM trial_reminder_mutes WHERE user_key = ?", (user_key,)
                    ).rowcount
                )
            )
        )

    async def reminders_muted(self, user_key: str) -> bool:
        if not user_key.strip():
            return False
        row = await self._db.run(
            lambda conn: conn.execute(
                "SELECT 1 FROM trial_reminder_mutes WHERE user_key = ?", (user_key,)
            ).fetchone()
        )
        return row is not None

    async def _select(self, where: str, params: tuple[object, ...]) -> list[StoredTrial]:
        def work(conn: sqlite3.Connection) -> list[StoredTrial]:
            rows = conn.execute(
                f"SELECT {TRIAL_COLUMNS} FROM trials {where} "  # noqa: S608
                "ORDER BY created_at, trial_id",
                params,
            ).fetchall()
            return [stored_trial(row) for row in rows]

        return await self._db.run(work)

    async def _update(self, sql: str, params: tuple[object, ...]) -> None:
        await self._db.transaction(lambda conn: conn.execute(sql, params))

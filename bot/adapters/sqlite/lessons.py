"""Lesson progress and weekly subscriptions on SQLite (implements bot.ports.LessonStore)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.records import Subscription

SUBSCRIBER_PAGE = 2_000
"""Subscribers read per query when a tip goes to all of them."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


SUBSCRIPTION_COLUMNS = "user_key, conversation_id, weekday, at, zone, language, next_due"


def subscription_record(row: tuple[str, str, int, str, str, str, str]) -> Subscription:
    return Subscription(
        user_key=row[0],
        conversation_id=row[1],
        weekday=int(row[2]),
        at=row[3],
        zone=row[4],
        language=row[5],
        next_due=_parse(row[6]),
    )


class SqliteLessonStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def completed(self, user_key: str) -> frozenset[int]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT lesson_id FROM lesson_progress WHERE user_key = ?", (user_key,)
            ).fetchall()
        )
        return frozenset(int(row[0]) for row in rows)

    async def complete(self, user_key: str, lesson_id: int) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO lesson_progress(user_key, lesson_id) VALUES (?, ?)",
                (user_key, lesson_id),
            )

        await self._db.transaction(work)

    async def subscription(self, user_key: str) -> Subscription | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_key = ?",  # noqa: S608
                (user_key,),
            ).fetchone()
        )
        return None if row is None else subscription_record(row)

    async def subscribe(self, subscription: Subscription) -> None:
        s = subscription

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO subscriptions({SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
                "ON CONFLICT(user_key) DO UPDATE SET conversation_id = excluded.conversation_id, "
                "weekday = excluded.weekday, at = excluded.at, zone = excluded.zone, "
                "language = excluded.language, next_due = excluded.next_due",
                (
                    s.user_key,
                    s.conversation_id,
                    s.weekday,
                    s.at,
                    s.zone,
                    s.language,
                    _iso(s.next_due),
                ),
            )

        await self._db.transaction(work)

    async def unsubscribe(self, user_key: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute("DELETE FROM subscriptions WHERE user_key = ?", (user_key,)).rowcount
                > 0
            )

        return await self._db.transaction(work)

    async def subscribers(self) -> list[tuple[str, str]]:
        """(conversation id, language) of every subscriber, for champions' tips."""
        # in pages, so that 100,000 subscribers never hold the store's one thread for long
        found: list[tuple[str, str]] = []
        after = ""
        while True:

            def read(conn: sqlite3.Connection, after: str = after) -> list[sqlite3.Row]:
                return conn.execute(
                    "SELECT user_key, conversation_id, language FROM subscriptions "
                    "WHERE user_key > ? ORDER BY user_key LIMIT ?",
                    (after, SUBSCRIBER_PAGE),
                ).fetchall()

            page = await self._db.run(read)
            found.extend((str(row[1]), str(row[2])) for row in page)
            if len(page) < SUBSCRIBER_PAGE:
                return found
            after = str(page[-1][0])

    async def subscriber_count(self) -> int:
        row = await self._db.run(
            lambda conn: conn.execute("SELECT COUNT(*) FROM subscriptions").fetchone()
        )
        return int(row[0])

    async def due(self, now: datetime, limit: int) -> list[Subscription]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE next_due <= ? "  # noqa: S608
                "ORDER BY next_due LIMIT ?",
                (_iso(now), limit),
            ).fetchall()
        )
        return [subscription_record(row) for row in rows]

    async def claim(self, user_key: str, due: datetime, next_due: datetime) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE subscriptions SET next_due = ? WHERE user_key = ? AND next_due = ?",
                (_iso(next_due), user_key, _iso(due)),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(work)

    async def reschedule(self, user_key: str, due: datetime) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE subscriptions SET next_due = ? WHERE user_key = ?", (_iso(due), user_key)
            )

        await self._db.transaction(work)

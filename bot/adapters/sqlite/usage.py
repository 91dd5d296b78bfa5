"""Anonymous usage counters on SQLite (implements bot.ports.UsageStats).

Counts are kept per UTC calendar month: a counter's key starts with its month (`2026-12|…`), so a
retention limit can drop whole months. Keys written before months were kept have no month; they
still count in the totals and are the oldest month there is.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.records import UsageSnapshot

_SEP = "|"
_MONTH = re.compile(r"\d{4}-\d{2}")
OLDEST = ""
"""The month of a counter written before counts were kept per month: older than any month."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def month_of(moment: datetime) -> str:
    """The UTC calendar month of a moment, as `YYYY-MM` (text that sorts in time order)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def split_month(metric: str, key: str) -> tuple[str, str]:
    """(month, key without it); OLDEST for a key written before months were kept."""
    month, sep, rest = key.partition(_SEP)
    # an old verdict key has exactly four parts and never starts with a month
    if sep and _MONTH.fullmatch(month) and (metric != "verdict" or rest.count(_SEP) >= 3):
        return month, rest
    return OLDEST, key


def date_monthless_counts(conn: sqlite3.Connection, month: str) -> int:
    """Move counters written before months were kept into `month` (adding to a counter already
    there), so the first retention round does not take them as the oldest month. Returns how
    many. Runs in the caller's transaction."""
    rows = conn.execute("SELECT metric, key, count FROM usage_counts").fetchall()
    old = [row for row in rows if split_month(str(row[0]), str(row[1]))[0] == OLDEST]
    for metric, key, count in old:
        conn.execute(
            "INSERT INTO usage_counts(metric, key, count) VALUES (?, ?, ?) "
            "ON CONFLICT(metric, key) DO UPDATE SET count = count + excluded.count",
            (metric, f"{month}{_SEP}{key}", count),
        )
        conn.execute("DELETE FROM usage_counts WHERE metric = ? AND key = ?", (metric, key))
    return len(old)


class SqliteUsageStats:
    def __init__(self, db: SqliteDatabase, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._clock = clock

    async def _increment(self, metric: str, key: str) -> None:
        monthly = f"{month_of(self._clock())}{_SEP}{key}"

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO usage_counts(metric, key, count) VALUES (?, ?, 1) "
                "ON CONFLICT(metric, key) DO UPDATE SET count = count + 1",
                (metric, monthly),
            )

        await self._db.transaction(work)

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None:
        await self._increment("verdict", _SEP.join((verdict, task, tool, category)))

    async def record_feedback(self, useful: bool) -> None:
        await self._increment("feedback", "yes" if useful else "no")

    async def snapshot(self) -> UsageSnapshot:
        """The totals of every month kept."""
        rows = await self._db.run(
            lambda conn: conn.execute("SELECT metric, key, count FROM usage_counts").fetchall()
        )
        verdicts: dict[tuple[str, str, str, str], int] = {}
        feedback: dict[bool, int] = {True: 0, False: 0}
        for metric, stored_key, count in rows:
            _, key = split_month(str(metric), str(stored_key))
            if metric == "verdict":
                parts = key.split(_SEP)
                if len(parts) == 4:
                    verdict = (parts[0], parts[1], parts[2], parts[3])
                    verdicts[verdict] = verdicts.get(verdict, 0) + int(count)
            elif metric == "feedback":
                feedback[key == "yes"] += int(count)
        return UsageSnapshot(verdicts=verdicts, feedback=feedback)

    async def prune(self, before: datetime) -> int:
        """Drop every month that ended before `before` (and the counters without a month)."""
        current = month_of(before)

        def work(conn: sqlite3.Connection) -> int:
            rows = conn.execute("SELECT metric, key FROM usage_counts").fetchall()
            old = [
                (metric, key)
                for metric, key in rows
                if split_month(str(metric), str(key))[0] < current
            ]
            conn.executemany("DELETE FROM usage_counts WHERE metric = ? AND key = ?", old)
            return len(old)

        return await self._db.transaction(work)

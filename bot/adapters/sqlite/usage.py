"""Anonymous usage counters on SQLite (implements bot.ports.UsageStats)."""

from __future__ import annotations

import sqlite3

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.records import UsageSnapshot

_SEP = "|"


class SqliteUsageStats:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def _increment(self, metric: str, key: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO usage_counts(metric, key, count) VALUES (?, ?, 1) "
                "ON CONFLICT(metric, key) DO UPDATE SET count = count + 1",
                (metric, key),
            )

        await self._db.transaction(work)

    async def record_verdict(self, verdict: str, task: str, tool: str, category: str) -> None:
        await self._increment("verdict", _SEP.join((verdict, task, tool, category)))

    async def record_feedback(self, useful: bool) -> None:
        await self._increment("feedback", "yes" if useful else "no")

    async def snapshot(self) -> UsageSnapshot:
        rows = await self._db.run(
            lambda conn: conn.execute("SELECT metric, key, count FROM usage_counts").fetchall()
        )
        verdicts: dict[tuple[str, str, str, str], int] = {}
        feedback: dict[bool, int] = {True: 0, False: 0}
        for metric, key, count in rows:
            if metric == "verdict":
                parts = str(key).split(_SEP)
                if len(parts) == 4:
                    verdicts[(parts[0], parts[1], parts[2], parts[3])] = int(count)
            elif metric == "feedback":
                feedback[key == "yes"] = int(count)
        return UsageSnapshot(verdicts=verdicts, feedback=feedback)

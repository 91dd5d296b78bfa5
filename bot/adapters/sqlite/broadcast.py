"""Broadcast jobs and one state per recipient, on SQLite. A job survives restarts: the worker picks
up every recipient that is still pending."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.broadcast import Progress, RecipientState
from bot.core.records import JOB_LISTING, Job, PendingRecipient

JOB_COLUMNS = (
    "id, created_by, due, state, cards, progress_service_url, progress_conversation, "
    "progress_activity, progress_language, started_at, finished_at"
)

CHUNK = 500
"""Recipients inserted per transaction when a job is created."""
PREPARING = "preparing"
"""A job whose recipients are still being stored: no worker runs it."""


def job_record(row: Sequence[Any]) -> Job:
    return Job(
        id=row[0],
        created_by=row[1],
        due=float(row[2]),
        state=row[3],
        cards=json.loads(row[4]),
        progress_service_url=row[5],
        progress_conversation=row[6],
        progress_activity=row[7],
        progress_language=row[8],
        started_at=None if row[9] is None else float(row[9]),
        finished_at=None if row[10] is None else float(row[10]),
    )


class SqliteBroadcastStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create(self, job: Job, recipients: Sequence[tuple[str, str]]) -> int:
        """Store the job and its recipients; returns how many distinct recipients it has.

        The recipients go in in chunks of `CHUNK` rows, one transaction each, so that the single
        SQLite thread serves other work (people's turns) between chunks instead of waiting for
        100,000 inserts. Until the last chunk is in, the job is `preparing`, which no worker
        picks up; then it becomes `job.state`.
        """
        target_state = job.state

        def head(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO broadcast_jobs({JOB_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    job.id,
                    job.created_by,
                    job.due,
                    PREPARING if len(recipients) > CHUNK else target_state,
                    json.dumps(job.cards),
                    job.progress_service_url,
                    job.progress_conversation,
                    job.progress_activity,
                    job.progress_language,
                    job.started_at,
                    job.finished_at,
                ),
            )

        def chunk(
            part: Sequence[tuple[str, str]], last: bool
        ) -> Callable[[sqlite3.Connection], int]:
            def work(conn: sqlite3.Connection) -> int:
                if not part and not last:
                    return 0
                cursor = conn.executemany(
                    "INSERT OR IGNORE INTO broadcast_recipients(job_id, conversation_id, language) "
                    "VALUES (?, ?, ?)",
                    [(job.id, conversation, language) for conversation, language in part],
                )
                if last and len(recipients) > CHUNK:
                    conn.execute(
                        "UPDATE broadcast_jobs SET state = ? WHERE id = ?", (target_state, job.id)
                    )
                return max(0, cursor.rowcount)

            return work

        if len(recipients) <= CHUNK:  # small jobs: all or nothing in one transaction

            def whole(conn: sqlite3.Connection) -> int:
                head(conn)
                return chunk(recipients, last=True)(conn)

            return await self._db.transaction(whole)
        await self._db.transaction(head)
        inserted = 0
        for start in range(0, len(recipients), CHUNK):
            part = recipients[start : start + CHUNK]
            inserted += await self._db.transaction(chunk(part, start + CHUNK >= len(recipients)))
            await asyncio.sleep(0)  # let the turns that were waiting run before the next chunk
        return inserted

    async def create_job(
        self,
        *,
        created_by: str,
        due: datetime,
        cards: Mapping[str, Any],
        recipients: Sequence[tuple[str, str]] = (),
        subscribers: bool = False,
        progress_service_url: str,
        progress_conversation: str,
        progress_activity: str,
        progress_language: str,
    ) -> Progress:
        """Queue a broadcast (implements bot.ports.BroadcastStore); returns its first progress.
        A job for the subscribers is one row now; the worker lists them when it is due."""
        job = Job(
            id=uuid.uuid4().hex,
            created_by=created_by,
            due=due.timestamp(),
            state=JOB_LISTING if subscribers else "scheduled",
            cards=cards,
            progress_service_url=progress_service_url,
            progress_conversation=progress_conversation,
            progress_activity=progress_activity,
            progress_language=progress_language,
            started_at=None,
            finished_at=None,
        )
        total = await self.create(job, () if subscribers else recipients)
        return Progress(total=total, sent=0, failed=0, blocked=0, not_found=0, elapsed_seconds=0.0)

    async def job(self, job_id: str) -> Job | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {JOB_COLUMNS} FROM broadcast_jobs WHERE id = ?",  # noqa: S608
                (job_id,),
            ).fetchone()
        )
        return None if row is None else job_record(row)

    async def runnable(self, now: float) -> list[Job]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {JOB_COLUMNS} FROM broadcast_jobs "  # noqa: S608
                "WHERE state = 'running' OR (state IN ('scheduled', ?) AND due <= ?) ORDER BY due",
                (JOB_LISTING, now),
            ).fetchall()
        )
        return [job_record(row) for row in rows]

    async def add_recipients(self, job_id: str, recipients: Sequence[tuple[str, str]]) -> int:
        """One transaction for the chunk; a conversation the job already lists is left as it is
        (rows are keyed by job and conversation), so listing again after a crash adds nobody
        twice."""

        def work(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO broadcast_recipients(job_id, conversation_id, language) "
                "SELECT ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM broadcast_jobs WHERE id = ? AND state = ?)",
                [(job_id, cid, language, job_id, JOB_LISTING) for cid, language in recipients],
            )
            return conn.total_changes - before

        return await self._db.transaction(work)

    async def listed(self, job_id: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE broadcast_jobs SET state = 'scheduled' WHERE id = ? AND state = ?",
                (job_id, JOB_LISTING),
            )

        await self._db.transaction(work)

    async def start(self, job_id: str, now: float) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE broadcast_jobs SET state = 'running', started_at = COALESCE(started_at, ?) "
                "WHERE id = ?",
                (now, job_id),
            )

        await self._db.transaction(work)

    async def finish(self, job_id: str, now: float) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE broadcast_jobs SET state = 'done', finished_at = ? WHERE id = ?",
                (now, job_id),
            )

        await self._db.transaction(work)

    async def pending(self, job_id: str, now: float, limit: int) -> list[PendingRecipient]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT r.conversation_id, r.language, r.attempts, c.reference "
                "FROM broadcast_recipients r LEFT JOIN conversation_refs c "
                "ON c.conversation_id = r.conversation_id "
                "WHERE r.job_id = ? AND r.state = 'pending' AND r.next_attempt <= ? "
                "ORDER BY r.next_attempt LIMIT ?",
                (job_id, now, limit),
            ).fetchall()
        )
        return [
            PendingRecipient(
                conversation_id=row[0],
                language=row[1],
                attempts=int(row[2]),
                reference=None if row[3] is None else json.loads(row[3]),
            )
            for row in rows
        ]

    async def next_retry(self, job_id: str) -> float | None:
        row = await self._db.run(
            lambda conn: conn.execute(
                "SELECT MIN(next_attempt) FROM broadcast_recipients "
                "WHERE job_id = ? AND state = 'pending'",
                (job_id,),
            ).fetchone()
        )
        return None if row is None or row[0] is None else float(row[0])

    async def record(
        self,
        job_id: str,
        results: Sequence[tuple[str, RecipientState, int, float, int]],
    ) -> None:
        """(conversation, state, attempts, next_attempt, last_status) for many recipients."""

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE broadcast_recipients SET state = ?, attempts = ?, next_attempt = ?, "
                "last_status = ? WHERE job_id = ? AND conversation_id = ?",
                [
                    (state.value, attempts, at, status, job_id, conversation)
                    for conversation, state, attempts, at, status in results
                ],
            )

        await self._db.transaction(work)

    async def progress(self, job_id: str, now: float) -> Progress:
        def work(conn: sqlite3.Connection) -> tuple[dict[str, int], float | None]:
            counts = dict(
                conn.execute(
                    "SELECT state, COUNT(*) FROM broadcast_recipients WHERE job_id = ? "
                    "GROUP BY state",
                    (job_id,),
                ).fetchall()
            )
            started = conn.execute(
                "SELECT started_at FROM broadcast_jobs WHERE id = ?", (job_id,)
            ).fetchone()
            return counts, None if started is None or started[0] is None else float(started[0])

        counts, started = await self._db.run(work)
        return Progress(
            total=sum(counts.values()),
            sent=counts.get(RecipientState.SENT.value, 0),
            failed=counts.get(RecipientState.FAILED.value, 0),
            blocked=counts.get(RecipientState.BLOCKED.value, 0),
            not_found=counts.get(RecipientState.NOT_FOUND.value, 0),
            elapsed_seconds=0.0 if started is None else max(0.0, now - started),
        )

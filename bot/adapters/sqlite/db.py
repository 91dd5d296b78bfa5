"""One SQLite database file, used from one worker thread.

Every operation is a plain function run on a single dedicated thread, so a whole transaction
(read e_tag, compare, write) runs without interleaving, and the event loop never blocks on disk.
We considered aiosqlite; it also uses one thread per connection, but a transaction spanning several
awaits on a shared connection can interleave with other coroutines. Running each transaction as
one function is simpler and cannot interleave.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.ports import StorageUnavailableError

T = TypeVar("T")

SCHEMA_VERSION = 2
# 2: references no longer hold the display name (personal chats) or the last speaker (others)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    e_tag TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS usage_counts (
    metric TEXT NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (metric, key)
);
CREATE TABLE IF NOT EXISTS lesson_progress (
    user_key TEXT NOT NULL,
    lesson_id INTEGER NOT NULL,
    completed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_key, lesson_id)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    user_key TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    at TEXT NOT NULL,
    zone TEXT NOT NULL,
    language TEXT NOT NULL,
    next_due TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions(next_due);
CREATE TABLE IF NOT EXISTS broadcast_jobs (
    id TEXT PRIMARY KEY,
    created_by TEXT NOT NULL,
    due REAL NOT NULL,
    state TEXT NOT NULL,
    cards TEXT NOT NULL,
    progress_service_url TEXT NOT NULL DEFAULT '',
    progress_conversation TEXT NOT NULL DEFAULT '',
    progress_activity TEXT NOT NULL DEFAULT '',
    progress_language TEXT NOT NULL DEFAULT 'nb',
    started_at REAL,
    finished_at REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS broadcast_recipients (
    job_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    language TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, conversation_id)
);
CREATE INDEX IF NOT EXISTS broadcast_pending
    ON broadcast_recipients(job_id, state, next_attempt);
CREATE TABLE IF NOT EXISTS learning_cards (
    card_id TEXT PRIMARY KEY,
    submitted_at TEXT NOT NULL,
    author TEXT NOT NULL,
    language TEXT NOT NULL,
    draft TEXT NOT NULL,
    follow_up TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    item_id TEXT NOT NULL DEFAULT '',
    lead_status TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS learning_cards_outbox ON learning_cards(state, next_attempt);
CREATE TABLE IF NOT EXISTS language_choices (
    user_key TEXT PRIMARY KEY,
    language TEXT NULL,
    offered INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS card_actions (
    action_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    claimed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS card_actions_claimed ON card_actions(claimed_at);
CREATE TABLE IF NOT EXISTS conversation_refs (
    conversation_id TEXT PRIMARY KEY,
    conversation_type TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a database written by an earlier version up to date, once."""
    if version < 2:
        # references stored before they were minimised: no display name in a personal chat,
        # no last speaker in a shared chat or channel; then VACUUM rewrites the file, so the
        # old pages (and their free space) hold none of it
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "UPDATE conversation_refs SET reference = json_remove(reference, '$.user.name') "
            "WHERE conversation_type = 'personal' "
            "AND json_type(reference, '$.user.name') IS NOT NULL"
        )
        conn.execute(
            "UPDATE conversation_refs SET reference = json_remove(reference, '$.user') "
            "WHERE conversation_type <> 'personal' AND json_type(reference, '$.user') IS NOT NULL"
        )
        conn.execute("COMMIT")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _date_old_usage(conn: sqlite3.Connection) -> None:
    """Usage counters from before months were kept count as this month (see usage.py)."""
    from bot.adapters.sqlite.usage import date_monthless_counts, month_of  # usage imports db

    conn.execute("BEGIN IMMEDIATE")
    try:
        date_monthless_counts(conn, month_of(datetime.now(UTC)))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class SqliteDatabase:
    """Owns the connection and the thread it lives on."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def path(self) -> Path:
        return self._path

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kivett-sqlite")
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, self._connect)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        # Deleted and overwritten content is zeroed on disk (in pages and free pages), so a
        # person's erased data is not left readable in the file (issue 13, "Slett mine data").
        conn.execute("PRAGMA secure_delete=ON")
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        conn.executescript(_SCHEMA)
        if int(found) < SCHEMA_VERSION:
            _migrate(conn, int(found))
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        _date_old_usage(conn)
        return conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the database thread and return its result."""
        executor, conn = self._executor, self._conn
        if executor is None or conn is None:
            raise StorageUnavailableError("database is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, work, conn)
        except sqlite3.OperationalError as exc:
            raise StorageUnavailableError(f"sqlite: {exc}") from exc

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside BEGIN IMMEDIATE … COMMIT (rolled back if it raises)."""

        def wrapped(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.run(wrapped)

    async def ping(self) -> None:
        await self.run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database file and truncate it to nothing, so page
        images from before an erasure no longer exist in the -wal file. Waits (busy timeout) for
        readers in other processes; False if one still held an old snapshot."""
        row = await self.run(
            lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        )
        return row is None or int(row[0]) == 0

    async def journal_mode(self) -> str:
        row = await self.run(lambda conn: conn.execute("PRAGMA journal_mode").fetchone())
        return str(row[0])

    async def close(self) -> None:
        executor, conn = self._executor, self._conn
        self._executor, self._conn = None, None
        if executor is None or conn is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)

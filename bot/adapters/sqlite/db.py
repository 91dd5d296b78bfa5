"""One SQLite database file, used from one worker thread.

Every operation is a plain function run on a single dedicated thread, so a whole transaction
(read e_tag, compare, write) runs without interleaving, and the event loop never blocks on disk.
We considered aiosqlite; it also uses one thread per connection, but a transaction spanning several
awaits on a shared connection can interleave with other coroutines. Running each transaction as
one function is simpler and cannot interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.ports import StorageUnavailableError

T = TypeVar("T")

# -- what went wrong, in words /readyz and an operator can use ------------------------------------

CORRUPT = "corrupt"
FULL = "full"
READ_ONLY = "read-only"
IO_ERROR = "io-error"
BUSY = "busy"
UNREACHABLE = "unreachable"
REASONS = frozenset({CORRUPT, FULL, READ_ONLY, IO_ERROR, BUSY, UNREACHABLE})
"""The short reasons `StorageUnavailableError` carries from this adapter (its whole message)."""

_REASON_OF_CODE = {
    3: READ_ONLY,  # SQLITE_PERM
    5: BUSY,  # SQLITE_BUSY
    6: BUSY,  # SQLITE_LOCKED
    8: READ_ONLY,  # SQLITE_READONLY (and its extended codes)
    10: IO_ERROR,  # SQLITE_IOERR
    11: CORRUPT,  # SQLITE_CORRUPT
    13: FULL,  # SQLITE_FULL
    14: UNREACHABLE,  # SQLITE_CANTOPEN
    15: BUSY,  # SQLITE_PROTOCOL (a lock race)
    26: CORRUPT,  # SQLITE_NOTADB
}

_WHAT_TO_DO = {
    CORRUPT: "the file is damaged or is not a KI-vett database; restore it from a backup, "
    "or move it aside to start with an empty store",
    FULL: "the disk is full; free some space on it",
    READ_ONLY: "the file or its folder is read-only; give the user that runs kivett write access",
    IO_ERROR: "the disk reported an input/output error; check the disk, and restore the file "
    "from a backup if it is damaged",
    BUSY: "another process holds a lock on the file; stop it (two bots must not share one "
    "file) and start again",
    UNREACHABLE: "the file or its folder cannot be opened; check that the folder exists "
    "(KIVETT_DATA_DIR) and that the user that runs kivett may read and write it",
}


class StoreOpenError(StorageUnavailableError):
    """The database could not be opened at start. The message is one line for the operator:
    the file, what is wrong and what to do; `reason` is one of REASONS."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot open the database {path}: {_WHAT_TO_DO[reason]}")
        self.reason = reason


def reason_of(exc: sqlite3.Error) -> str | None:
    """The short reason for a storage failure, or None when `exc` is not one (a constraint or a
    programming error is a bug, not an unavailable store)."""
    if isinstance(
        exc,
        sqlite3.IntegrityError
        | sqlite3.ProgrammingError
        | sqlite3.DataError
        | sqlite3.NotSupportedError
        | sqlite3.InterfaceError,
    ):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _REASON_OF_CODE:
        return _REASON_OF_CODE[code & 0xFF]
    text = str(exc).lower()
    for words, reason in (
        (("malformed", "not a database"), CORRUPT),
        (("disk is full",), FULL),
        (("readonly", "read-only"), READ_ONLY),
        (("disk i/o",), IO_ERROR),
        (("locked",), BUSY),
    ):
        if any(word in text for word in words):
            return reason
    if isinstance(exc, sqlite3.OperationalError | sqlite3.InternalError) or type(exc) in (
        sqlite3.DatabaseError,
        sqlite3.Error,
    ):
        return UNREACHABLE
    return None


def unavailable(exc: sqlite3.Error) -> StorageUnavailableError | None:
    """The StorageUnavailableError (its message the reason) a storage failure becomes."""
    reason = reason_of(exc)
    return None if reason is None else StorageUnavailableError(reason)


SCHEMA_VERSION = 3
# 2: references no longer hold the display name (personal chats) or the last speaker (others)
# 3: trials.unreached (participants a trial's reminder could not reach)

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
CREATE TABLE IF NOT EXISTS trials (
    trial_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    owner TEXT NOT NULL,
    language TEXT NOT NULL,
    draft TEXT NOT NULL,
    verdict TEXT NOT NULL,
    risk_level TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    item_id TEXT NOT NULL DEFAULT '',
    reminded INTEGER NOT NULL DEFAULT 0,
    unreached INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS trials_outbox ON trials(state, next_attempt);
CREATE TABLE IF NOT EXISTS trial_reminder_mutes (
    user_key TEXT PRIMARY KEY,
    muted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS trial_participants (
    trial_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    PRIMARY KEY (trial_id, user_key)
);
CREATE INDEX IF NOT EXISTS trial_participants_person ON trial_participants(user_key);
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
    if version < 3:
        # a trials table made before the reminders counted whom they could not reach
        columns = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
        if "unreached" not in columns:
            conn.execute("ALTER TABLE trials ADD COLUMN unreached INTEGER NOT NULL DEFAULT 0")


def _roll_back(conn: sqlite3.Connection) -> None:
    """End a failed transaction. SQLite may have rolled it back already (a full disk, an I/O
    error); a failing ROLLBACK must not hide the error that caused it."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _no_room(conn: sqlite3.Connection) -> bool:
    """True when the database may not grow by another page and has no free page to reuse (its
    page limit reached: the next insert would fail with 'database or disk is full')."""
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    (limit,) = conn.execute("PRAGMA max_page_count").fetchone()
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    return int(pages) >= int(limit) and int(free) == 0


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


PROBE_KEY = "kivett:ready-probe"
"""The state row /readyz rewrites to prove the file writable (no person's data; never read
elsewhere)."""
WRITE_PROBE_SECONDS = 5.0
"""At most one write probe per this many seconds while writes succeed (a failure clears it)."""


class SqliteDatabase:
    """Owns the connection and the thread it lives on.

    Every SQLite failure that means the store cannot be used (corrupt file, full disk, read-only
    file, I/O error, lock, cannot open) reaches callers as StorageUnavailableError whose message is
    the short reason (`REASONS`), with the SQLite error chained for the logs; a failure at `open()`
    is a `StoreOpenError` naming the file and what to do."""

    def __init__(
        self,
        path: Path,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        write_probe_seconds: float = WRITE_PROBE_SECONDS,
    ) -> None:
        self._path = path
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._monotonic = monotonic
        self._write_probe_seconds = write_probe_seconds
        self._last_write_ok: float | None = None
        self._corruption_seen = False

    @property
    def path(self) -> Path:
        return self._path

    async def open(self) -> None:
        """Open (creating if missing) the file and bring its tables up to date. Raises
        StoreOpenError when the folder or the file cannot be used."""
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreOpenError(self._path, UNREACHABLE) from exc
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kivett-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, self._connect)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise StoreOpenError(self._path, reason_of(exc) or UNREACHABLE) from exc
        self._executor, self._conn = executor, conn
        self._last_write_ok = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=30.0)
        try:
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
        except BaseException:
            conn.close()
            raise
        return conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the database thread and return its result."""
        executor, conn = self._executor, self._conn
        if executor is None or conn is None:
            raise StorageUnavailableError(UNREACHABLE)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, work, conn)
        except sqlite3.Error as exc:
            mapped = unavailable(exc)
            if mapped is None:
                raise
            self._last_write_ok = None  # the next readiness probe writes again
            if str(mapped) == CORRUPT:
                self._corruption_seen = True  # and checks the whole file
            raise mapped from exc

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside BEGIN IMMEDIATE … COMMIT (rolled back if it raises)."""

        def wrapped(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                _roll_back(conn)
                raise
            return result

        return await self.run(wrapped)

    async def ping(self) -> None:
        """Raise StorageUnavailableError (the reason as its message) unless the file can be read
        and written now. Reads from the disk every time, through a fresh connection (the bot's
        own connection may answer from its page cache over a file damaged since); writes a probe
        row at most once per `write_probe_seconds` while writes succeed, and checks every time
        that the database has room for another page. After any operation met a damaged page, it
        checks the whole file (`PRAGMA quick_check`) until that finds it sound again."""
        now = self._monotonic()
        last = self._last_write_ok
        write = last is None or now - last >= self._write_probe_seconds
        whole = self._corruption_seen
        await self.run(lambda conn: self._probe(conn, write=write, whole=whole, stamp=now))
        if write:
            self._last_write_ok = now
        if whole:
            self._corruption_seen = False

    def _probe(self, conn: sqlite3.Connection, *, write: bool, whole: bool, stamp: float) -> None:
        fresh = sqlite3.connect(
            f"{self._path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None
        )
        try:
            fresh.execute("PRAGMA query_only=1")
            fresh.execute("SELECT count(*) FROM sqlite_master").fetchone()
            fresh.execute("SELECT e_tag FROM state WHERE key = ?", (PROBE_KEY,)).fetchone()
            if whole:
                (verdict,) = fresh.execute("PRAGMA quick_check(1)").fetchone()
                if verdict != "ok":
                    raise sqlite3.DatabaseError("database disk image is malformed")
        finally:
            fresh.close()
        (query_only,) = conn.execute("PRAGMA query_only").fetchone()
        if int(query_only):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        if _no_room(conn):
            raise sqlite3.OperationalError("database or disk is full")
        if write:
            conn.execute(
                "INSERT INTO state(key, e_tag, data) VALUES (?, ?, '{}') "
                "ON CONFLICT(key) DO UPDATE SET e_tag = excluded.e_tag, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (PROBE_KEY, repr(stamp)),
            )

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

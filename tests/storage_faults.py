"""Storage faults made on purpose, for the tests of what the bot says when its store breaks: a
damaged page, garbage over the whole file, a database that cannot grow, writes refused.

The tests may run as root, where a read-only file mode stops nothing; SQLite's own `query_only`
switch refuses every write the way a read-only file does, so it stands in for one. A database
that may not grow by another page stands in for a full disk (SQLite answers both the same way).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.adapters.sqlite.db import SqliteDatabase


async def damage_table(db: SqliteDatabase, table: str) -> None:
    """Overwrite the first page of `table` and of each of its indexes on disk with garbage, as a
    bad sector would, and reopen the database (the bot's connection must not answer from its page
    cache). The rest of the file, the schema included, stays sound: the bot starts, and meets the
    damage when it reads that table."""
    await db.checkpoint()
    await db.close()
    path = db.path
    with sqlite3.connect(path) as conn:
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        roots = [
            int(root)
            for (root,) in conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE tbl_name = ? AND rootpage > 0", (table,)
            )
        ]
    conn.close()
    assert roots, f"no table {table}"
    with path.open("r+b") as handle:
        for root in roots:
            handle.seek((root - 1) * int(page_size))
            handle.write(os.urandom(int(page_size)))
    await db.open()


def garbage_over(path: Path) -> None:
    """Random bytes over the whole database file, its size kept."""
    path.write_bytes(os.urandom(path.stat().st_size))


async def no_room_left(db: SqliteDatabase) -> None:
    """From now on the database may not grow by another page and has no free page to reuse."""

    def limit(conn: sqlite3.Connection) -> None:
        conn.execute("VACUUM")
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count={int(pages)}").fetchone()

    await db.run(limit)


async def room_again(db: SqliteDatabase) -> None:
    await db.run(lambda conn: conn.execute("PRAGMA max_page_count=1073741823").fetchone())


async def refuse_writes(db: SqliteDatabase, refused: bool = True) -> None:
    """Every write is refused as from a read-only file (or accepted again)."""
    await db.run(lambda conn: conn.execute(f"PRAGMA query_only={int(refused)}"))

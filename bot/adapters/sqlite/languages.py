"""Each person's language choice (`språk`) on SQLite (implements bot.ports.LanguageChoices).

One row per person in `language_choices`: the language they chose (NULL until they choose) and
whether the offer to choose has been shown. Read on every turn: one lookup by primary key.
"""

from __future__ import annotations

import sqlite3

from bot.adapters.sqlite.db import SqliteDatabase
from bot.core.records import LanguageChoice
from bot.core.state_keys import require_user_key
from content import LANGUAGES

LANGUAGE_COLUMNS = "language, offered"


def language_choice(row: tuple[str | None, int]) -> LanguageChoice:
    return LanguageChoice(language=None if row[0] is None else str(row[0]), offered=bool(row[1]))


def require_language(language: str) -> str:
    """The language, refused unless it is one the bot speaks."""
    if language not in LANGUAGES:
        raise ValueError(f"not a language the bot speaks: {language!r}")
    return language


class SqliteLanguageChoices:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_key: str) -> LanguageChoice | None:
        require_user_key(user_key)
        row = await self._db.run(
            lambda conn: conn.execute(
                f"SELECT {LANGUAGE_COLUMNS} FROM language_choices WHERE user_key = ?",  # noqa: S608
                (user_key,),
            ).fetchone()
        )
        return None if row is None else language_choice(row)

    async def choose(self, user_key: str, language: str) -> None:
        require_user_key(user_key)
        require_language(language)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO language_choices(user_key, language, offered) VALUES (?, ?, 1) "
                "ON CONFLICT(user_key) DO UPDATE SET language = excluded.language, offered = 1, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (user_key, language),
            )

        await self._db.transaction(work)

    async def mark_offered(self, user_key: str) -> None:
        require_user_key(user_key)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO language_choices(user_key, offered) VALUES (?, 1) "
                "ON CONFLICT(user_key) DO UPDATE SET offered = 1, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (user_key,),
            )

        await self._db.transaction(work)

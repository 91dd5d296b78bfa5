"""Everything stored about one person on SQLite (implements bot.ports.PersonalData): shown, erased,
and the retention limit for conversations nobody uses any more.

An erasure is one transaction over every table, then a WAL checkpoint that truncates the log. The
connection runs with `secure_delete` (see db.py), so deleted rows and the old versions of updated
ones are zeroed in the database file rather than left in free space, and after the checkpoint no
page image from before the erasure is left in the -wal file either.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.adapters.sqlite.broadcast import JOB_COLUMNS, job_record
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.languages import LANGUAGE_COLUMNS, language_choice
from bot.adapters.sqlite.learning import CARD_COLUMNS, stored_card
from bot.adapters.sqlite.lessons import SUBSCRIPTION_COLUMNS, subscription_record
from bot.adapters.sqlite.state import iso_moment, stored_reference, utc_now
from bot.adapters.sqlite.trials import TRIAL_COLUMNS, forget_person_in, stored_trial
from bot.core.caller import PERSONAL
from bot.core.records import Erasure, PersonRecord, StoredReference
from bot.core.state_keys import conversation_state_keys, require_user_key
from bot.logs import get_logger

_REF_COLUMNS = "conversation_id, conversation_type, tenant_id, reference, updated_at"
# A stored reference names the person who last wrote in the conversation (`user`), by Entra
# object id, or by Teams id where Teams sends none.
_NAMES_PERSON = (
    "(json_extract(reference, '$.user.aadObjectId') = :user "
    "OR json_extract(reference, '$.user.id') = :user)"
)
_CHECKPOINT_ATTEMPTS = 3
_log = get_logger("sqlite_personal")


def without_user(reference: Mapping[str, Any]) -> dict[str, Any]:
    """A reference still usable for writing to its conversation, without the person in it."""
    return {key: value for key, value in reference.items() if key != "user"}


class SqlitePersonalData:
    def __init__(self, db: SqliteDatabase, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def person(self, user_key: str) -> PersonRecord:
        require_user_key(user_key)

        def work(conn: sqlite3.Connection) -> PersonRecord:
            who = {"user": user_key}
            references = conn.execute(
                f"SELECT {_REF_COLUMNS} FROM conversation_refs "  # noqa: S608
                f"WHERE {_NAMES_PERSON} ORDER BY conversation_id",
                who,
            ).fetchall()
            lessons = conn.execute(
                "SELECT lesson_id FROM lesson_progress WHERE user_key = :user", who
            ).fetchall()
            subscription = conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE user_key = :user",  # noqa: S608
                who,
            ).fetchone()
            cards = conn.execute(
                f"SELECT {CARD_COLUMNS} FROM learning_cards WHERE author = :user "  # noqa: S608
                "ORDER BY submitted_at, card_id",
                who,
            ).fetchall()
            jobs = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM broadcast_jobs WHERE created_by = :user "  # noqa: S608
                "ORDER BY due, id",
                who,
            ).fetchall()
            language = conn.execute(
                f"SELECT {LANGUAGE_COLUMNS} FROM language_choices WHERE user_key = :user",  # noqa: S608
                who,
            ).fetchone()
            trials = conn.execute(
                f"SELECT {TRIAL_COLUMNS} FROM trials WHERE owner = :user OR trial_id IN "  # noqa: S608
                "(SELECT trial_id FROM trial_participants WHERE user_key = :user) "
                "ORDER BY created_at, trial_id",
                who,
            ).fetchall()
            muted = conn.execute(
                "SELECT 1 FROM trial_reminder_mutes WHERE user_key = :user", who
            ).fetchone()
            return PersonRecord(
                user_key=user_key,
                conversations=tuple(stored_reference(row) for row in references),
                lessons_completed=frozenset(int(row[0]) for row in lessons),
                subscription=None if subscription is None else subscription_record(subscription),
                learning_cards=tuple(stored_card(row) for row in cards),
                broadcasts=tuple(job_record(row) for row in jobs),
                language=None if language is None else language_choice(language),
                trials=tuple(stored_trial(row) for row in trials),
                trial_reminders_muted=muted is not None,
            )

        return await self._db.run(work)

    async def conversations(self, user_key: str) -> list[StoredReference]:
        require_user_key(user_key)

        def work(conn: sqlite3.Connection) -> list[StoredReference]:
            rows = conn.execute(
                f"SELECT {_REF_COLUMNS} FROM conversation_refs "  # noqa: S608
                f"WHERE {_NAMES_PERSON} ORDER BY conversation_id",
                {"user": user_key},
            ).fetchall()
            return [stored_reference(row) for row in rows]

        return await self._db.run(work)

    async def erase(self, user_key: str) -> Erasure:
        require_user_key(user_key)
        now = self._clock().timestamp()

        def work(conn: sqlite3.Connection) -> Erasure:
            who = {"user": user_key}
            named = conn.execute(
                "SELECT conversation_id, conversation_type, reference FROM conversation_refs "  # noqa: S608
                f"WHERE {_NAMES_PERSON}",
                who,
            ).fetchall()
            subscribed = conn.execute(
                "SELECT r.conversation_id, r.conversation_type, r.reference "
                "FROM subscriptions s JOIN conversation_refs r "
                "ON r.conversation_id = s.conversation_id "
                "WHERE s.user_key = :user AND r.conversation_type = :personal",
                {"user": user_key, "personal": PERSONAL},
            ).fetchall()
            conversations = 0
            for conversation_id, kind, text in {row[0]: row for row in named + subscribed}.values():
                reference = json.loads(text)
                if kind == PERSONAL:  # the person's own chat with the bot: forget it
                    conn.executemany(
                        "DELETE FROM state WHERE key = ?",
                        [(key,) for key in conversation_state_keys(conversation_id, reference)],
                    )
                    conn.execute(
                        "DELETE FROM conversation_refs WHERE conversation_id = ?",
                        (conversation_id,),
                    )
                    # tips sent to the chat keep their counts under an id that names no one
                    # (one still waiting is then "not found": the chat is forgotten)
                    conn.execute(
                        "UPDATE broadcast_recipients "
                        "SET conversation_id = 'erased:' || lower(hex(randomblob(12))) "
                        "WHERE conversation_id = ?",
                        (conversation_id,),
                    )
                    conversations += 1
                elif "user" in reference:  # a shared chat or channel: keep it, without them
                    conn.execute(
                        "UPDATE conversation_refs SET reference = ? WHERE conversation_id = ?",
                        (
                            json.dumps(without_user(reference), ensure_ascii=False, sort_keys=True),
                            conversation_id,
                        ),
                    )
                    conversations += 1
            conn.execute("DELETE FROM language_choices WHERE user_key = :user", who)
            lessons = conn.execute("DELETE FROM lesson_progress WHERE user_key = :user", who)
            subscription = conn.execute("DELETE FROM subscriptions WHERE user_key = :user", who)
            # Cards keep their content for the organisation. One already in SharePoint goes back
            # to the outbox, to have the sender removed from its item too.
            cards = conn.execute(
                "UPDATE learning_cards SET author = '', "
                "next_attempt = CASE WHEN state = 'delivered' AND item_id <> '' "
                "THEN :now ELSE next_attempt END, "
                "state = CASE WHEN state = 'delivered' AND item_id <> '' "
                "THEN 'redact' ELSE state END "
                "WHERE author = :user",
                {"user": user_key, "now": now},
            )
            # their tips stay, without them and without the progress card in their chat
            jobs = conn.execute(
                "UPDATE broadcast_jobs SET created_by = '', progress_conversation = '', "
                "progress_activity = '', progress_service_url = '' WHERE created_by = :user",
                who,
            )
            # their trials stay with the unit, without them; their reminder choice goes
            trials = forget_person_in(conn, user_key)
            unmuted = conn.execute("DELETE FROM trial_reminder_mutes WHERE user_key = :user", who)
            return Erasure(
                conversations=conversations,
                lessons=lessons.rowcount,
                subscription=subscription.rowcount > 0,
                learning_cards=cards.rowcount,
                broadcasts=jobs.rowcount,
                trials=trials,
                trial_reminders=unmuted.rowcount > 0,
            )

        erasure = await self._db.transaction(work)
        await self._truncate_log()
        return erasure

    async def prune(self, last_seen_before: datetime) -> int:
        cutoff = iso_moment(last_seen_before)

        def work(conn: sqlite3.Connection) -> int:
            # a subscriber gets a lesson every week without writing: not gone (when they leave,
            # Teams refuses the delivery and the lesson worker drops the subscription)
            old = conn.execute(
                "SELECT conversation_id, reference FROM conversation_refs WHERE updated_at < ? "
                "AND conversation_id NOT IN (SELECT conversation_id FROM subscriptions)",
                (cutoff,),
            ).fetchall()
            for conversation_id, text in old:
                keys = conversation_state_keys(conversation_id, json.loads(text))
                conn.executemany("DELETE FROM state WHERE key = ?", [(key,) for key in keys])
                conn.execute(
                    "DELETE FROM conversation_refs WHERE conversation_id = ?", (conversation_id,)
                )
            return len(old)

        forgotten = await self._db.transaction(work)
        if forgotten:
            await self._truncate_log()
        return forgotten

    async def _truncate_log(self) -> None:
        for _ in range(_CHECKPOINT_ATTEMPTS):
            if await self._db.checkpoint():
                return
        # another process kept reading all along: the log is written again from its start after
        # the next complete checkpoint, which overwrites the old page images
        _log.warning("erasure_wal_not_truncated", extra={"fields": {}})

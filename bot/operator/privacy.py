"""For the personvernombud: `kivett privacy export|erase|prune` on the store the settings choose.

- export: everything stored about one person, as JSON (an access request, GDPR art. 15);
- erase: what "Slett mine data" does in Teams (art. 17); the SharePoint items lose their sender
  when the bot's outbox next runs (the erasure queues that in the store);
- prune: apply the retention limit now (the running bot does it once a day).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.bootstrap import open_stores
from bot.core.records import Erasure, PersonRecord
from bot.core.trials import Trial
from bot.ports import Stores
from bot.settings import Settings

FORMAT_VERSION = 1


@asynccontextmanager
async def _stores(settings: Settings) -> AsyncIterator[Stores]:
    stores = await open_stores(settings)
    try:
        yield stores
    finally:
        await stores.backend.close()


def _plain(value: Any) -> Any:
    """Dataclass output → JSON-ready values (times as ISO 8601, sets as sorted lists)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def record_document(record: PersonRecord, *, exported_at: datetime) -> dict[str, Any]:
    """The export file's content: what is stored, grouped as the "mine data" card groups it."""
    subscription, language = record.subscription, record.language
    return {
        "format": "kivett-personal-data",
        "version": FORMAT_VERSION,
        "exported_at": exported_at.isoformat(),
        "user": record.user_key,
        "language": None if language is None else _plain(asdict(language)),
        "conversations": [_plain(asdict(ref)) for ref in record.conversations],
        "lessons_completed": sorted(record.lessons_completed),
        "subscription": None if subscription is None else _plain(asdict(subscription)),
        "learning_cards": [_plain(asdict(card)) for card in record.learning_cards],
        "tips_created": [
            {"id": job.id, "due": job.due, "state": job.state} for job in record.broadcasts
        ],
        # the trials themselves, and the person's part in them; not who else takes part
        "trials": [trial_document(stored.trial, record.user_key) for stored in record.trials],
        "trial_reminders_off": record.trial_reminders_muted,
    }


def trial_document(trial: Trial, user_key: str) -> dict[str, Any]:
    draft = trial.draft
    return {
        "id": trial.trial_id,
        "registered_at": trial.created_at.isoformat(),
        "role": "owner" if trial.owner == user_key else "participant",
        "title": draft.title,
        "unit": draft.unit,
        "starts": draft.starts.isoformat(),
        "ends": draft.ends.isoformat(),
        "verdict": trial.verdict,
    }


async def export_person(settings: Settings, user_key: str, *, now: datetime) -> str:
    """The person's data as an indented JSON document. Raises StorageUnavailableError."""
    async with _stores(settings) as stores:
        record = await stores.personal.person(user_key)
    return json.dumps(record_document(record, exported_at=now), ensure_ascii=False, indent=2)


async def person(settings: Settings, user_key: str) -> PersonRecord:
    async with _stores(settings) as stores:
        return await stores.personal.person(user_key)


async def erase_person(settings: Settings, user_key: str) -> Erasure:
    async with _stores(settings) as stores:
        return await stores.personal.erase(user_key)


async def prune(settings: Settings, *, now: datetime) -> tuple[int, int]:
    """(conversations forgotten, usage counters removed) under KIVETT_RETENTION_DAYS."""
    cutoff = now - timedelta(days=settings.retention_days)
    async with _stores(settings) as stores:
        conversations = await stores.personal.prune(cutoff)
        counters = await stores.usage.prune(cutoff)
    return conversations, counters


def erasure_lines(erasure: Erasure) -> list[str]:
    return [
        f"conversation references removed or stripped: {erasure.conversations}",
        f"completed lessons forgotten: {erasure.lessons}",
        f"weekly subscription ended: {'yes' if erasure.subscription else 'no'}",
        f"learning cards without their sender now: {erasure.learning_cards}",
        f"tips without their creator now: {erasure.broadcasts}",
        f"trials the person was removed from: {erasure.trials}",
        f"choice about trial reminders forgotten: {'yes' if erasure.trial_reminders else 'no'}",
    ]

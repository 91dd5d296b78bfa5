"""Flow tests: the real handler, dialogs, cards and SQLite store, over botbuilder's TestAdapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
)

from bot.adapters.sqlite.broadcast import SqliteBroadcastStore
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.lessons import SqliteLessonStore
from bot.adapters.sqlite.state import SqliteConversationReferences, SqliteStorage
from bot.adapters.sqlite.usage import SqliteUsageStats
from bot.content_loader import load_content
from bot.teams.router import KiVettBot
from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks
from cards.renderer import CardRenderer
from dialogs.learning_card import LearningCardDialog, LearningCards

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
BOT = ChannelAccount(id="28:bot-id", name="KI-vett")
CHAMPION = ChannelAccount(id="29:champion", name="Per Pådriver", aad_object_id="aad-champion")
USER = ChannelAccount(id="29:user-id", name="Kari Nordmann", aad_object_id="aad-user")
LEAD = ChannelAccount(id="29:lead", name="Lise Leder", aad_object_id="aad-lead")


@dataclass
class Harness:
    bot: KiVettBot
    storage: SqliteStorage
    references: SqliteConversationReferences
    db: SqliteDatabase
    learning_store: SqliteLearningCardStore
    stored_signals: list[int]
    sharepoint_delayed: list[bool]

    def adapter(
        self,
        conversation_id: str = "a:personal-1",
        conversation_type: str = "personal",
        locks: KeyedLocks | None = None,
        user: ChannelAccount | None = None,
    ) -> TestAdapter:
        template = Activity(
            channel_id="msteams",
            service_url="https://smba.example.test/emea/",
            from_property=user or USER,
            recipient=BOT,
            conversation=ConversationAccount(
                id=conversation_id, conversation_type=conversation_type, tenant_id="tenant-1"
            ),
        )
        adapter = TestAdapter(self.bot.on_turn, template)
        adapter.use(ConversationLockMiddleware(locks or KeyedLocks()))
        adapter.on_turn_error = self.bot.on_turn_error
        return adapter


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    db = SqliteDatabase(tmp_path / "kivett.sqlite3")
    await db.open()
    storage = SqliteStorage(db)
    references = SqliteConversationReferences(db)
    content = load_content()
    usage = SqliteUsageStats(db)
    learning_store = SqliteLearningCardStore(db)
    stored_signals: list[int] = []
    sharepoint_delayed: list[bool] = []
    learning = LearningCards(
        dialog=LearningCardDialog(content.policy, content.service_areas),
        policy=content.policy,
        store=learning_store,
        usage=usage,
        clock=lambda: NOW,
        leads=frozenset({str(LEAD.aad_object_id)}),
        to_sharepoint=True,
        list_url=lambda: "https://contoso.sharepoint.com/sites/ki/_layouts/15/viewlsts.aspx",
        on_stored=lambda: stored_signals.append(1),
        sharepoint_delayed=lambda: bool(sharepoint_delayed),
    )
    bot = KiVettBot(
        conversation_state=ConversationState(storage),
        references=references,
        renderer=CardRenderer(),
        catalog=content.catalog,
        default_language="nb",
        policy=content.policy,
        lexicon=content.lexicon,
        usage=usage,
        lessons=content.lessons,
        lesson_store=SqliteLessonStore(db),
        clock=lambda: NOW,
        champions=frozenset({CHAMPION.aad_object_id}),
        broadcasts=SqliteBroadcastStore(db),
        learning=learning,
    )
    yield Harness(
        bot=bot,
        storage=storage,
        references=references,
        db=db,
        learning_store=learning_store,
        stored_signals=stored_signals,
        sharepoint_delayed=sharepoint_delayed,
    )
    await db.close()


async def say(adapter: TestAdapter, text: str, locale: str = "nb-NO", **extra: Any) -> None:
    activity = Activity(type=ActivityTypes.message, text=text, locale=locale, **extra)
    await adapter.process_activity(activity, adapter.logic)


async def invoke(
    adapter: TestAdapter, value: Any, name: str = "adaptiveCard/action", locale: str = "nb-NO"
) -> Any:
    """Send an invoke; return the InvokeResponse the bot answered with (None if it gave none)."""
    activity = Activity(type=ActivityTypes.invoke, name=name, value=value, locale=locale)
    await adapter.process_activity(activity, adapter.logic)
    responses = [a for a in adapter.activity_buffer if a.type == ActivityTypes.invoke_response]
    for response in responses:
        adapter.activity_buffer.remove(response)
    return responses[-1].value if responses else None


def cards_sent(adapter: TestAdapter) -> list[dict[str, Any]]:
    found = []
    while adapter.activity_buffer:
        activity = adapter.activity_buffer.pop(0)
        for attachment in activity.attachments or []:
            if attachment.content_type == "application/vnd.microsoft.card.adaptive":
                found.append(attachment.content)
    return found


def title_of(card: dict[str, Any]) -> str:
    return str(card["body"][0]["text"])

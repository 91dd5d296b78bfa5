"""Flow tests: the real router, flows, cards and SQLite store, over botbuilder's TestAdapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
)

from bot.adapters.language_cache import CachedLanguageChoices
from bot.adapters.sqlite.db import SqliteDatabase
from bot.bootstrap import Flows, build_flows, sqlite_stores
from bot.content_loader import load_content
from bot.core.lessons import LessonBook
from bot.ports import (
    BroadcastJobStore,
    ConversationReferenceStore,
    LearningCardStore,
    LessonStore,
    StateStore,
    Stores,
    UsageStats,
)
from bot.settings import Settings
from bot.teams.router import Router
from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks
from bot.teams.wiring import Screens, build_router
from cards.renderer import CardRenderer
from cards.views import CardView
from content import Language
from dialogs import home
from tests.fakes.learning_sink import FakeSink

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
BOT = ChannelAccount(id="28:bot-id", name="KI-vett")
CHAMPION = ChannelAccount(id="29:champion", name="Per Pådriver", aad_object_id="aad-champion")
USER = ChannelAccount(id="29:user-id", name="Kari Nordmann", aad_object_id="aad-user")
LEAD = ChannelAccount(id="29:lead", name="Lise Leder", aad_object_id="aad-lead")
LIST_URL = "https://contoso.sharepoint.com/sites/ki/_layouts/15/viewlsts.aspx"

StoreSwap = Callable[[Stores], Stores]
"""Replaces some stores (with a failing fake, say) before the flows are built."""


@dataclass
class Harness:
    """The real router, flows, cards and SQLite stores, over botbuilder's TestAdapter."""

    router: Router
    stores: Stores
    db: SqliteDatabase
    flows: Flows
    stored_signals: list[int]
    sharepoint_delayed: list[bool]

    @property
    def storage(self) -> StateStore:
        return self.stores.state

    @property
    def references(self) -> ConversationReferenceStore:
        return self.stores.references

    @property
    def learning_store(self) -> LearningCardStore:
        return self.stores.learning_cards

    @property
    def broadcasts(self) -> BroadcastJobStore:
        return self.stores.broadcasts

    @property
    def lessons(self) -> LessonStore:
        return self.stores.lessons

    @property
    def usage(self) -> UsageStats:
        return self.stores.usage

    def book(self, language: Language) -> LessonBook:
        return load_content().lessons[language]

    def adapter(
        self,
        conversation_id: str = "a:personal-1",
        conversation_type: str = "personal",
        locks: KeyedLocks | None = None,
        user: ChannelAccount | None = None,
        *,
        lock_turns: bool = True,
    ) -> TestAdapter:
        """A Teams client in one conversation. `lock_turns=False` leaves out the per-conversation
        turn lock, as if two instances served the conversation."""
        template = Activity(
            channel_id="msteams",
            service_url="https://smba.example.test/emea/",
            from_property=user or USER,
            recipient=BOT,
            conversation=ConversationAccount(
                id=conversation_id, conversation_type=conversation_type, tenant_id="tenant-1"
            ),
        )
        adapter = TestAdapter(self.router.on_turn, template)
        if lock_turns:
            adapter.use(ConversationLockMiddleware(locks or KeyedLocks()))
        adapter.on_turn_error = self.router.on_turn_error
        return adapter


async def make_harness(
    tmp_path: Path, swap: StoreSwap | None = None, **environment: str
) -> Harness:
    """`environment` adds or overrides settings by their variable name (KIVETT_DEFAULT_LANGUAGE)."""
    settings = Settings.model_validate(
        {
            "KIVETT_DATA_DIR": str(tmp_path),
            "KIVETT_CHAMPIONS": str(CHAMPION.aad_object_id),
            "KIVETT_LEADS": str(LEAD.aad_object_id),
        }
        | environment
    )
    sqlite = await sqlite_stores(settings)
    assert isinstance(sqlite.backend, SqliteDatabase)
    stores = swap(sqlite) if swap is not None else sqlite
    content = load_content()
    renderer = CardRenderer()
    stored_signals: list[int] = []
    sharepoint_delayed: list[bool] = []

    def render_card(view: CardView, language: Language) -> dict[str, Any]:
        return renderer.render(view, content.catalog.texts(language))

    # a clock that stands still: a remembered choice never expires within a test
    languages = CachedLanguageChoices(stores.languages, lambda: 0.0)
    flows = build_flows(
        content,
        stores,
        settings=settings,
        clock=lambda: NOW,
        render_card=render_card,
        sink=FakeSink(),
        list_url=lambda: LIST_URL,
        on_stored=lambda: stored_signals.append(1),
        sharepoint_delayed=lambda: bool(sharepoint_delayed),
        languages=languages,
    )
    router = build_router(
        settings,
        routes=flows.routes(),
        screens=Screens(
            welcome=home.WELCOME, rejected=home.REJECTED, unknown_verb=home.UNKNOWN_VERB
        ),
        state=stores.state,
        references=stores.references,
        renderer=renderer,
        catalog=content.catalog,
        languages=languages,
    )
    return Harness(
        router=router,
        stores=stores,
        db=sqlite.backend,
        flows=flows,
        stored_signals=stored_signals,
        sharepoint_delayed=sharepoint_delayed,
    )


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    made = await make_harness(tmp_path)
    yield made
    await made.db.close()


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

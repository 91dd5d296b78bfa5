"""The composition root: builds every part of the running bot from settings. Nothing else wires."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from botbuilder.core import ConversationState
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.adapters.sqlite.broadcast import SqliteBroadcastStore
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.lessons import SqliteLessonStore
from bot.adapters.sqlite.state import SqliteConversationReferences, SqliteStorage
from bot.adapters.sqlite.usage import SqliteUsageStats
from bot.content_loader import Content, load_content
from bot.core.broadcast import Progress
from bot.core.rate_limit import RateLimiter
from bot.core.records import Job
from bot.ports import (
    BroadcastJobStore,
    ConversationReferenceStore,
    LearningCardSink,
    LearningCardStore,
    LessonStore,
    StateStore,
    StoreBackend,
    Stores,
    UsageStats,
)
from bot.settings import Settings
from bot.teams.auth import ChannelAuthEndpoints, build_authentication, credentials_factory
from bot.teams.connector import BotConnector, KiVettCloudAdapter, TokenCache
from bot.teams.connector_cache import CachingBotFrameworkAuthentication
from bot.teams.guard import MessagesEndpoint
from bot.teams.router import KiVettBot
from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks
from bot.workers.broadcast import BroadcastWorker
from bot.workers.lessons import LessonScheduler
from bot.workers.outbox import OutboxWorker
from cards.renderer import CardRenderer
from dialogs.champion import ChampionDialog
from dialogs.learning_card import LearningCardDialog, LearningCards

DATABASE_FILE = "kivett.sqlite3"
BROADCAST_SAFETY = 0.04
"""Send at 48 of the 50 per second Teams allows: our clock and Teams' clock never agree exactly, and
each 429 costs a full Retry-After pause for the whole tenant (bench/broadcast measures both)."""


@dataclass(frozen=True)
class Overrides:
    """Replacements for tests and local tools; production passes none."""

    auth_endpoints: ChannelAuthEndpoints | None = None
    credentials: ServiceClientCredentialsFactory | None = None
    clock: Callable[[], datetime] | None = None
    run_scheduler: bool = True
    run_broadcaster: bool = True
    run_outbox: bool = True
    sink: LearningCardSink | None = None
    """A learning-card sink to use instead of the SharePoint list from settings."""


async def sqlite_stores(settings: Settings) -> Stores:
    db = SqliteDatabase(settings.data_dir / DATABASE_FILE)
    await db.open()
    return Stores(
        backend=db,
        state=SqliteStorage(db),
        references=SqliteConversationReferences(db),
        usage=SqliteUsageStats(db),
        lessons=SqliteLessonStore(db),
        broadcasts=SqliteBroadcastStore(db),
        learning_cards=SqliteLearningCardStore(db),
    )


async def open_stores(settings: Settings) -> Stores:
    if settings.storage == "azure":
        # imported here: only a bot configured for Azure Storage loads its SDK
        from bot.adapters.azure_storage.backend import azure_stores

        return await azure_stores(settings)
    return await sqlite_stores(settings)


@dataclass
class Services:
    settings: Settings
    dev: bool
    content: Content
    db: StoreBackend
    storage: StateStore
    references: ConversationReferenceStore
    usage: UsageStats
    lesson_store: LessonStore
    scheduler: LessonScheduler
    broadcasts: BroadcastJobStore
    broadcaster: BroadcastWorker
    auth: CachingBotFrameworkAuthentication
    adapter: KiVettCloudAdapter
    http: aiohttp.ClientSession
    bot: KiVettBot
    endpoint: MessagesEndpoint
    learning_store: LearningCardStore
    learning: LearningCards
    sink: LearningCardSink | None = None
    outbox: OutboxWorker | None = None
    locks: KeyedLocks = field(default_factory=KeyedLocks)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InsecureConfigurationError(Exception):
    """Refusing to run without authentication outside dev mode."""


async def build_services(settings: Settings, *, dev: bool, overrides: Overrides) -> Services:
    if not dev and not settings.has_credentials and overrides.credentials is None:
        # An empty app id switches botbuilder's authentication off; only --dev may do that.
        raise InsecureConfigurationError("MicrosoftAppId is empty and dev mode is off")
    content = load_content()
    stores = await open_stores(settings)
    db, storage, references, usage = stores.backend, stores.state, stores.references, stores.usage
    lesson_store, broadcasts = stores.lessons, stores.broadcasts
    clock = overrides.clock or _utc_now
    credentials = overrides.credentials or credentials_factory(settings, dev=dev)
    auth = build_authentication(credentials, overrides.auth_endpoints)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=50),
        raise_for_status=False,
    )
    adapter = KiVettCloudAdapter(auth, BotConnector(http, TokenCache(time.monotonic)))
    learning_store = stores.learning_cards
    learning_dialog = LearningCardDialog(content.policy, content.service_areas)
    sink = overrides.sink or await _sharepoint_sink(settings, dev=dev)
    outbox = (
        OutboxWorker(
            store=learning_store,
            sink=sink,
            labels=learning_dialog.labels(content.catalog.texts("nb")),
            clock=lambda: clock().timestamp(),
        )
        if sink is not None
        else None
    )
    learning = LearningCards(
        dialog=learning_dialog,
        policy=content.policy,
        store=learning_store,
        usage=usage,
        clock=clock,
        leads=settings.leads,
        to_sharepoint=sink is not None,
        list_url=_list_url(settings, sink),
        on_stored=outbox.wake if outbox is not None else _nothing,
        sharepoint_delayed=outbox.delayed if outbox is not None else _never,
    )
    locks = KeyedLocks()
    adapter.use(ConversationLockMiddleware(locks))
    bot = KiVettBot(
        conversation_state=ConversationState(storage),
        references=references,
        renderer=CardRenderer(),
        catalog=content.catalog,
        default_language=settings.default_language,
        policy=content.policy,
        lexicon=content.lexicon,
        usage=usage,
        lessons=content.lessons,
        lesson_store=lesson_store,
        clock=clock,
        champions=settings.champions,
        broadcasts=broadcasts,
        learning=learning,
    )
    adapter.on_turn_error = bot.on_turn_error
    scheduler = LessonScheduler(
        store=lesson_store,
        references=references,
        adapter=adapter,
        bot=bot,
        bot_app_id=settings.app_id,
        clock=clock,
    )
    renderer = CardRenderer()
    champion_dialog = ChampionDialog()

    def progress_card(job: Job, progress: Progress, now: float) -> dict[str, object]:
        texts = content.catalog.texts(
            job.progress_language if job.progress_language in ("nb", "nn", "en") else "nb"  # type: ignore[arg-type]
        )
        view = champion_dialog.progress(texts, progress, progress.seconds_left(50.0))
        return renderer.render(view, texts)

    broadcaster = BroadcastWorker(
        store=broadcasts,
        references=references,
        adapter=adapter,
        limiter=RateLimiter(safety=BROADCAST_SAFETY),
        bot_app_id=settings.app_id,
        progress_card=progress_card,
        clock=lambda: clock().timestamp(),
    )
    endpoint = MessagesEndpoint(
        adapter=adapter, auth=auth, bot=bot, max_body_bytes=settings.max_body_bytes
    )
    return Services(
        settings=settings,
        dev=dev,
        content=content,
        db=db,
        storage=storage,
        references=references,
        usage=usage,
        lesson_store=lesson_store,
        scheduler=scheduler,
        broadcasts=broadcasts,
        broadcaster=broadcaster,
        auth=auth,
        adapter=adapter,
        http=http,
        bot=bot,
        endpoint=endpoint,
        learning_store=learning_store,
        learning=learning,
        sink=sink,
        outbox=outbox,
        locks=locks,
    )


def _nothing() -> None:
    return None


def _never() -> bool:
    return False


def _list_url(settings: Settings, sink: LearningCardSink | None) -> Callable[[], str]:
    """Where leads open the list: its own address once the sink has found it, until then the
    site's contents page."""
    site = settings.sharepoint_site
    fallback = (
        site.rstrip("/") + "/_layouts/15/viewlsts.aspx" if site.startswith("https://") else ""
    )

    def url() -> str:
        return (sink.list_url() if sink is not None else "") or (fallback if sink else "")

    return url


async def _sharepoint_sink(settings: Settings, *, dev: bool) -> LearningCardSink | None:
    """The SharePoint list from settings, or None: cards then stay in the embedded store."""
    if not settings.sharepoint_site:
        return None
    # imported here: the Graph SDK is large, and only a bot with a SharePoint list needs it
    from bot.adapters.sharepoint.factory import build_sharepoint_sink

    return await build_sharepoint_sink(settings, dev=dev)


async def close_services(services: Services) -> None:
    if services.sink is not None:
        await services.sink.close()
    await services.http.close()
    await services.db.close()

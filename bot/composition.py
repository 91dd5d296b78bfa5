"""The composition root: builds every part of the running bot from settings. Nothing else wires."""

from __future__ import annotations

from dataclasses import dataclass, field

from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import BotFrameworkAuthentication, ServiceClientCredentialsFactory

from bot.adapters.sqlite_db import SqliteDatabase
from bot.adapters.sqlite_storage import SqliteConversationReferences, SqliteStorage
from bot.auth import ChannelAuthEndpoints, build_authentication, credentials_factory
from bot.guard import MessagesEndpoint
from bot.handler import KiVettBot
from bot.settings import Settings
from bot.turn_lock import ConversationLockMiddleware, KeyedLocks
from cards.renderer import CardRenderer
from content import Catalog, load_catalog

DATABASE_FILE = "kivett.sqlite3"


@dataclass(frozen=True)
class Overrides:
    """Replacements for tests and local tools; production passes none."""

    auth_endpoints: ChannelAuthEndpoints | None = None
    credentials: ServiceClientCredentialsFactory | None = None


@dataclass
class Services:
    settings: Settings
    dev: bool
    catalog: Catalog
    db: SqliteDatabase
    storage: SqliteStorage
    references: SqliteConversationReferences
    auth: BotFrameworkAuthentication
    adapter: CloudAdapter
    bot: KiVettBot
    endpoint: MessagesEndpoint
    locks: KeyedLocks = field(default_factory=KeyedLocks)


class InsecureConfigurationError(Exception):
    """Refusing to run without authentication outside dev mode."""


async def build_services(settings: Settings, *, dev: bool, overrides: Overrides) -> Services:
    if not dev and not settings.has_credentials and overrides.credentials is None:
        # An empty app id switches botbuilder's authentication off; only --dev may do that.
        raise InsecureConfigurationError("MicrosoftAppId is empty and dev mode is off")
    catalog = load_catalog()
    db = SqliteDatabase(settings.data_dir / DATABASE_FILE)
    await db.open()
    storage = SqliteStorage(db)
    references = SqliteConversationReferences(db)
    credentials = overrides.credentials or credentials_factory(settings, dev=dev)
    auth = build_authentication(credentials, overrides.auth_endpoints)
    adapter = CloudAdapter(auth)
    locks = KeyedLocks()
    adapter.use(ConversationLockMiddleware(locks))
    bot = KiVettBot(
        conversation_state=ConversationState(storage),
        references=references,
        renderer=CardRenderer(),
        catalog=catalog,
        default_language=settings.default_language,
    )
    adapter.on_turn_error = bot.on_turn_error
    endpoint = MessagesEndpoint(
        adapter=adapter, auth=auth, bot=bot, max_body_bytes=settings.max_body_bytes
    )
    return Services(
        settings=settings,
        dev=dev,
        catalog=catalog,
        db=db,
        storage=storage,
        references=references,
        auth=auth,
        adapter=adapter,
        bot=bot,
        endpoint=endpoint,
        locks=locks,
    )


async def close_services(services: Services) -> None:
    await services.db.close()

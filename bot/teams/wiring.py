"""The Teams side of the composition root: authentication, the adapter, the router and the
endpoint, built from settings and the flows' routing table. `bot.bootstrap` calls this; nothing
else builds botbuilder objects."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from botbuilder.core import ConversationState

from bot.logs import get_logger
from bot.ports import ConversationReferenceStore, StateStore
from bot.settings import Settings
from bot.teams.activity import TurnFacts
from bot.teams.auth import (
    ChannelAuthEndpoints,
    build_authentication,
    credentials_factory,
    signing_keys,
)
from bot.teams.connector import BotConnector, KiVettCloudAdapter, TokenCache
from bot.teams.connector_cache import CachingBotFrameworkAuthentication
from bot.teams.guard import MessagesEndpoint, RequestLimits
from bot.teams.proactive import TeamsProactiveSender
from bot.teams.references import ReferenceKeeper
from bot.teams.router import Languages, Router
from bot.teams.signing_keys import KeyPolicy, OpenIdKeys, uninstall
from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks
from cards.renderer import CardRenderer
from cards.views import CardView
from content import Catalog
from dialogs.flow import Routes

_log = get_logger("teams")


@dataclass
class Teams:
    """Everything that speaks the Bot Framework protocol, ready to serve."""

    auth: CachingBotFrameworkAuthentication
    adapter: KiVettCloudAdapter
    http: aiohttp.ClientSession
    router: Router
    endpoint: MessagesEndpoint
    sender: TeamsProactiveSender
    locks: KeyedLocks
    keys: tuple[OpenIdKeys, ...] = ()
    """The token signing key caches botbuilder asks (bot/teams/signing_keys.py)."""

    async def close(self) -> None:
        for source in self.keys:
            await source.close()
        uninstall(self.keys)
        await self.http.close()


@dataclass(frozen=True)
class Screens:
    """The cards the router shows on its own: welcome, a refused payload, an unknown verb."""

    welcome: CardView
    rejected: CardView
    unknown_verb: CardView


def build_teams(
    settings: Settings,
    *,
    dev: bool,
    routes: Routes,
    screens: Screens,
    state: StateStore,
    references: ConversationReferenceStore,
    renderer: CardRenderer,
    catalog: Catalog,
    languages: Languages,
    credentials: Any = None,
    auth_endpoints: ChannelAuthEndpoints | None = None,
) -> Teams:
    factory = credentials or credentials_factory(settings, dev=dev)
    auth = build_authentication(factory, auth_endpoints)
    keys = signing_keys(
        auth_endpoints, KeyPolicy(timeout_seconds=settings.key_fetch_timeout_seconds)
    )
    allow_other_channels = dev and settings.dangerous_allow_other_channels
    if settings.dangerous_allow_other_channels and not dev:
        _log.warning(
            "ignored_setting",
            extra={
                "fields": {"setting": "KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS", "why": "not dev"}
            },
        )
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=50), raise_for_status=False
    )
    adapter = KiVettCloudAdapter(auth, BotConnector(http, TokenCache(time.monotonic)))
    locks = KeyedLocks()
    adapter.use(ConversationLockMiddleware(locks))
    router = build_router(
        settings,
        routes=routes,
        screens=screens,
        state=state,
        references=references,
        renderer=renderer,
        catalog=catalog,
        languages=languages,
    )
    adapter.on_turn_error = router.on_turn_error
    endpoint = MessagesEndpoint(
        adapter=adapter,
        auth=auth,
        bot=router,
        limits=RequestLimits(
            max_body_bytes=settings.max_body_bytes,
            body_timeout_seconds=settings.body_timeout_seconds,
            max_unauthenticated_reads=settings.max_unauthenticated_reads,
        ),
        authentication_disabled=factory.is_authentication_disabled,
        allow_other_channels=allow_other_channels,
    )
    return Teams(
        auth=auth,
        adapter=adapter,
        http=http,
        router=router,
        endpoint=endpoint,
        sender=TeamsProactiveSender(adapter, settings.app_id),
        locks=locks,
        keys=keys,
    )


def build_router(
    settings: Settings,
    *,
    routes: Routes,
    screens: Screens,
    state: StateStore,
    references: ConversationReferenceStore,
    renderer: CardRenderer,
    catalog: Catalog,
    languages: Languages,
) -> Router:
    """The router over the flows' table; roles and the default language come from settings."""
    return Router(
        routes=routes,
        facts=TurnFacts(
            default_language=settings.default_language,
            champions=settings.champions,
            leads=settings.leads,
        ),
        references=ReferenceKeeper(references),
        conversation_state=ConversationState(state),
        renderer=renderer,
        catalog=catalog,
        welcome=screens.welcome,
        unknown_verb=screens.unknown_verb,
        rejected=screens.rejected,
        languages=languages,
    )

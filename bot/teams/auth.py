"""How the bot proves who it is to Teams, and how it checks that a request comes from Teams."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ManagedIdentityServiceClientCredentialsFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)

from bot.settings import AppType, Settings
from bot.teams.connector_cache import CachingBotFrameworkAuthentication
from bot.teams.signing_keys import KeyPolicy, OpenIdKeys, install


@dataclass(frozen=True)
class ChannelAuthEndpoints:
    """Where incoming tokens are checked. Production uses the Bot Framework public cloud; tests
    point this at a local OpenID metadata + JWKS server with keys they made themselves."""

    openid_metadata_url: str
    token_issuer: str
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    """The monotonic clock the key cache's refresh and back-off run on (tests pass a fake)."""


def metadata_urls(endpoints: ChannelAuthEndpoints | None) -> tuple[str, ...]:
    """Every OpenID metadata URL botbuilder can fetch keys from with our authentication: the
    Bot Framework channel's, and Entra's (emulator and skill tokens, which we refuse, but only
    after looking at their key)."""
    if endpoints is not None:
        return (endpoints.openid_metadata_url,)
    return (
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    )


def signing_keys(
    endpoints: ChannelAuthEndpoints | None, policy: KeyPolicy
) -> tuple[OpenIdKeys, ...]:
    """Our key caches for those URLs, registered with botbuilder (see bot/teams/signing_keys.py),
    so no token check ever fetches keys with botbuilder's blocking client."""
    clock = endpoints.clock if endpoints is not None else time.monotonic
    sources = tuple(OpenIdKeys(url, policy=policy, clock=clock) for url in metadata_urls(endpoints))
    install(sources)
    return sources


def credentials_factory(settings: Settings, *, dev: bool) -> ServiceClientCredentialsFactory:
    """The factory for the bot's own credentials; an empty app id turns authentication off."""
    if dev or not settings.app_id:
        return PasswordServiceClientCredentialFactory(app_id="", password="", tenant_id=None)
    if settings.app_type is AppType.USER_ASSIGNED_MSI:
        return ManagedIdentityServiceClientCredentialsFactory(settings.app_id)
    tenant = settings.app_tenant_id if settings.app_type is AppType.SINGLE_TENANT else None
    return PasswordServiceClientCredentialFactory(
        app_id=settings.app_id,
        password=settings.app_password.get_secret_value(),
        tenant_id=tenant,
    )


def build_authentication(
    credentials: ServiceClientCredentialsFactory,
    endpoints: ChannelAuthEndpoints | None = None,
) -> CachingBotFrameworkAuthentication:
    """Bot Framework authentication for the public cloud, or for the given token endpoints,
    with connector and user-token clients reused across turns (see bot/teams/connector_cache.py)."""
    return CachingBotFrameworkAuthentication(_sdk_authentication(credentials, endpoints))


def _sdk_authentication(
    credentials: ServiceClientCredentialsFactory, endpoints: ChannelAuthEndpoints | None
) -> BotFrameworkAuthentication:
    if endpoints is None:
        return BotFrameworkAuthenticationFactory.create(credential_factory=credentials)
    return BotFrameworkAuthenticationFactory.create(
        validate_authority=True,
        to_channel_from_bot_login_url=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
        to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        to_bot_from_channel_token_issuer=endpoints.token_issuer,
        oauth_url=AuthenticationConstants.OAUTH_URL,
        to_bot_from_channel_open_id_metadata_url=endpoints.openid_metadata_url,
        to_bot_from_emulator_open_id_metadata_url=endpoints.openid_metadata_url,
        credential_factory=credentials,
    )

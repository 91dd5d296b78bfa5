"""Build the Microsoft Graph client (msgraph-sdk) the SharePoint adapters use.

Only adapters import this module, and the composition root imports it inside a function when a
SharePoint site is configured: msgraph-sdk is large, and a bot without a site never loads it.

The bot signs in with an async azure-identity credential chosen by `graph_credential`
(client secret, certificate or managed identity) for the scope `https://graph.microsoft.com/.default`,
and talks to `graph_base_url` (tests point it at Prism or at a local fake Graph).
`kivett sharepoint setup --device-code` signs in as a person instead: a synchronous azure-identity
credential (`DeviceCodeCredential`) wrapped by `InThreadCredential`, for the delegated scope
`SITES_MANAGE_SCOPE`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.credentials_async import AsyncTokenCredential
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from bot.settings import Settings

__all__ = [
    "GRAPH_SCOPE",
    "SITES_MANAGE_SCOPE",
    "GraphConnection",
    "GraphSetupError",
    "InThreadCredential",
    "connect",
    "connect_with_credential",
    "credential_from_settings",
]

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# Delegated: the least privileged permission that may create a list and add columns to it
# (Graph "Create list" and "Create columnDefinition"; it includes reading sites and lists).
SITES_MANAGE_SCOPE = "https://graph.microsoft.com/Sites.Manage.All"
DEFAULT_TIMEOUT_SECONDS = 30.0


class GraphSetupError(Exception):
    """The settings cannot make a Graph client (a missing tenant id, for example)."""


@dataclass(frozen=True)
class GraphConnection:
    """A Graph client and what it holds open. `aclose()` releases the HTTP connections, and the
    credential too when the connection created it."""

    client: GraphServiceClient
    http: httpx.AsyncClient
    credential: AsyncTokenCredential
    owns_credential: bool

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.owns_credential:
            await self.credential.close()


class InThreadCredential:
    """An async credential around a synchronous azure-identity one (`DeviceCodeCredential` has no
    async form). `get_token` runs in a worker thread, so waiting for a person to sign in never
    blocks the event loop; one call at a time, so a person is asked once, and later calls get the
    token the wrapped credential keeps."""

    def __init__(self, credential: TokenCredential) -> None:
        self._credential = credential
        self._lock = asyncio.Lock()

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        async with self._lock:
            return await asyncio.to_thread(
                self._credential.get_token,
                *scopes,
                claims=claims,
                tenant_id=tenant_id,
                enable_cae=enable_cae,
                **kwargs,
            )

    async def close(self) -> None:
        close = getattr(self._credential, "close", None)
        if callable(close):
            close()

    async def __aenter__(self) -> InThreadCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def credential_from_settings(settings: Settings) -> AsyncTokenCredential:
    """The async azure-identity credential for `settings.graph_credential`.

    `certificate` reads the PEM file named by KIVETT_GRAPH_CERTIFICATE_PATH (once, here)."""
    from azure.identity.aio import (
        CertificateCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )

    if not settings.app_id:
        raise GraphSetupError("MicrosoftAppId: required to sign in to Microsoft Graph")
    if settings.graph_credential == "managed_identity":
        return ManagedIdentityCredential(client_id=settings.app_id)
    if not settings.app_tenant_id:
        raise GraphSetupError(
            "MicrosoftAppTenantId: required to sign in to Microsoft Graph with a "
            f"{settings.graph_credential} (the municipality's Entra tenant id)"
        )
    if settings.graph_credential == "certificate":
        if settings.graph_certificate_path is None:
            raise GraphSetupError("KIVETT_GRAPH_CERTIFICATE_PATH: required for a certificate")
        return CertificateCredential(
            settings.app_tenant_id,
            settings.app_id,
            certificate_path=str(settings.graph_certificate_path),
        )
    secret = settings.app_password.get_secret_value()
    if not secret:
        raise GraphSetupError("MicrosoftAppPassword: required for KIVETT_GRAPH_CREDENTIAL=secret")
    return ClientSecretCredential(settings.app_tenant_id, settings.app_id, secret)


def connect(
    settings: Settings,
    *,
    retries: int = 0,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> GraphConnection:
    """A Graph client for the settings' credential and base URL; it owns the credential."""
    credential = credential_from_settings(settings)
    connection = connect_with_credential(
        credential,
        settings.graph_base_url,
        retries=retries,
        timeout_seconds=timeout_seconds,
    )
    return GraphConnection(connection.client, connection.http, credential, owns_credential=True)


def connect_with_credential(
    credential: AsyncTokenCredential,
    base_url: str,
    *,
    retries: int = 0,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    scopes: Sequence[str] = (GRAPH_SCOPE,),
) -> GraphConnection:
    """A Graph client for any async credential (tests pass one that returns a static token).
    The caller keeps owning the credential.

    `scopes` are asked for with every token: the app's own permissions (`.default`) for the bot,
    one delegated permission (`SITES_MANAGE_SCOPE`) for a person signed in by device code.

    `retries` is how often the SDK's own retry handler repeats a 429/503/504 (honouring
    Retry-After) before the error reaches us. The learning-card sink uses 0: its outbox owns
    retries and must see Retry-After itself, and a silent re-POST after a 504 would race the
    duplicate check. The one-off `sharepoint setup` command may use a few.
    """
    host = urlsplit(base_url).hostname
    if not host:
        raise GraphSetupError("KIVETT_GRAPH_BASE_URL: not an absolute address")
    auth = AzureIdentityAuthenticationProvider(
        credential,
        scopes=list(scopes),
        # The token goes to this host only, never to a host named in a nextLink elsewhere.
        allowed_hosts=[host],
    )
    retry = RetryHandlerOption(max_retries=retries, should_retry=retries > 0)
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds)),
        options={RetryHandlerOption.get_key(): retry},
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = base_url.rstrip("/")
    return GraphConnection(GraphServiceClient(request_adapter=adapter), http, credential, False)

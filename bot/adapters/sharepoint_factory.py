"""The learning-card sink from settings: the SharePoint list through Microsoft Graph.

Imported by the composition root only when a site is configured (the Graph SDK is large).
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken

from bot.adapters.graph_client import connect_with_credential
from bot.adapters.sharepoint import SharePointSink, sink_from_settings
from bot.ports import LearningCardSink
from bot.settings import Settings

LOCAL_DEV_TOKEN = "kivett-local-dev"  # noqa: S105 - not a secret: only ever sent to loopback
LOCAL_TOKEN_EXPIRES = 4_102_444_800  # 2100-01-01


class LocalDevCredential:
    """Signs in to a Graph stand-in on this machine (a local trial in dev mode). It hands out a
    fixed, worthless token; `build_sharepoint_sink` allows it only in dev mode and only when Graph
    is on loopback, so it can never reach Microsoft."""

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        return AccessToken(LOCAL_DEV_TOKEN, LOCAL_TOKEN_EXPIRES)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> LocalDevCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


async def build_sharepoint_sink(settings: Settings, *, dev: bool) -> LearningCardSink:
    if dev and settings.graph_is_local and not settings.app_id:
        connection = connect_with_credential(LocalDevCredential(), settings.graph_base_url)
        return SharePointSink.from_connection(
            connection, settings.sharepoint_site, settings.sharepoint_list
        )
    return sink_from_settings(settings)

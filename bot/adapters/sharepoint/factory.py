"""The learning-card sink from settings: the SharePoint list through Microsoft Graph.

Imported by the composition root only when a site is configured (the Graph SDK is large).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

from azure.core.credentials import AccessToken

from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.sink import SharePointSink, sink_from_settings
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


# What the sink parses: a site, a page of lists, a page of items, an item, an item's fields, an
# error.
SAMPLES: tuple[tuple[str, str], ...] = (
    ("msgraph.generated.models.site", "Site"),
    ("msgraph.generated.models.list_collection_response", "ListCollectionResponse"),
    ("msgraph.generated.models.list_item_collection_response", "ListItemCollectionResponse"),
    ("msgraph.generated.models.list_item", "ListItem"),
    ("msgraph.generated.models.field_value_set", "FieldValueSet"),
    ("msgraph.generated.models.o_data_errors.o_data_error", "ODataError"),
)
SAMPLE_JSON = (
    '{"id": "1", "displayName": "x", "webUrl": "https://x", "fields": {"KortId": "x"},'
    ' "value": [{"id": "1", "fields": {"KortId": "x"}}], "error": {"code": "x"}}'
)


def warm_up_models() -> int:
    """Parse one sample of each answer the sink reads, so msgraph-sdk imports its models now.

    The SDK imports its model modules lazily, the first time an answer is parsed: about a thousand
    of them, which takes a second or more and would block the event loop (every turn would wait).
    Run this on a thread at start-up instead. Returns how many Graph model modules are loaded."""
    import importlib
    import json

    from kiota_serialization_json.json_parse_node import JsonParseNode

    for module, name in SAMPLES:
        model = getattr(importlib.import_module(module), name)
        JsonParseNode(json.loads(SAMPLE_JSON)).get_object_value(model)
    return sum(1 for name in sys.modules if name.startswith("msgraph.generated.models"))


class WarmSink:
    """A sink that lets the Graph models load on a thread before its first call."""

    def __init__(self, sink: LearningCardSink) -> None:
        self._sink = sink
        self._warm = asyncio.ensure_future(asyncio.to_thread(warm_up_models))

    async def deliver(self, card_id: str, fields: Mapping[str, object]) -> str:
        await asyncio.shield(self._warm)
        return await self._sink.deliver(card_id, fields)

    async def update(self, item_id: str, fields: Mapping[str, object]) -> None:
        await asyncio.shield(self._warm)
        await self._sink.update(item_id, fields)

    async def statuses(self) -> dict[str, str]:
        await asyncio.shield(self._warm)
        return await self._sink.statuses()

    def list_url(self) -> str:
        return self._sink.list_url()

    async def close(self) -> None:
        if not self._warm.done():
            self._warm.cancel()
        await self._sink.close()


async def build_sharepoint_sink(settings: Settings, *, dev: bool) -> LearningCardSink:
    if dev and settings.graph_is_local and not settings.app_id:
        connection = connect_with_credential(LocalDevCredential(), settings.graph_base_url)
        sink: LearningCardSink = SharePointSink.from_connection(
            connection, settings.sharepoint_site, settings.sharepoint_list
        )
    else:
        sink = sink_from_settings(settings)
    return WarmSink(sink)

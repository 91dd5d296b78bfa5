"""The sinks from settings: the learning-card and trials lists in SharePoint, through Microsoft
Graph, on one Graph client and one thread of their own.

Imported by the composition root only when a site is configured (the Graph SDK is large).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import sys
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from azure.core.credentials import AccessToken

from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.sink import SharePointSink, sink_from_settings
from bot.core.sharepoint_schema import TRIAL_ID_COLUMN
from bot.logs import get_logger
from bot.ports import LearningCardSink
from bot.settings import Settings

T = TypeVar("T")
_log = get_logger("sharepoint")

LOCAL_DEV_TOKEN = "kivett-local-dev"  # noqa: S105 - not a secret: only ever sent to loopback
LOCAL_TOKEN_EXPIRES = 4_102_444_800  # 2100-01-01


class LocalDevCredential:
    """Signs in to a Graph stand-in on this machine (a local trial in dev mode). It hands out a
    fixed, worthless token; `build_sharepoint_sinks` allows it only in dev mode and only when Graph
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


class _OnLoop:
    """A sink whose calls run on an event loop of another thread (`LoopThreadSink`'s)."""

    _loop: asyncio.AbstractEventLoop

    async def _sink(self) -> LearningCardSink:
        raise NotImplementedError

    async def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def deliver(self, key: str, fields: Mapping[str, object]) -> str:
        sink = await self._sink()
        return await self._call(sink.deliver(key, dict(fields)))

    async def update(self, item_id: str, fields: Mapping[str, object]) -> None:
        sink = await self._sink()
        await self._call(sink.update(item_id, dict(fields)))

    async def statuses(self) -> dict[str, str]:
        sink = await self._sink()
        return await self._call(sink.statuses())


class LoopThreadSink(_OnLoop):
    """A sink that works on an event loop of its own, in a thread of its own.

    msgraph-sdk spends CPU on every call (building the request through its model layer, parsing
    the answer: tens of milliseconds a create). On the bot's event loop that time is taken from
    the turns: an employee's "saved" waited behind it. Here the Graph calls run on the sink's own
    loop; the bot's loop only awaits their results, and the interpreter switches between the two
    threads every few milliseconds. The thread first imports msgraph-sdk's models
    (`warm_up_models`); calls made meanwhile wait for it. It then moves every object alive to the
    garbage collector's permanent generation (`gc.freeze`): the SDK's modules, classes and
    functions live as long as the process, and a full collection walking them stopped the whole
    process for 200 ms and more (measured in bench.outbox: "saved" p99 ×7 with the list).

    `sink` must not have been used yet: its Graph client, HTTP connections and credential bind to
    the loop that first uses them, which is then the sink's own."""

    def __init__(self, sink: LearningCardSink, *, warm_up: bool = True) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready: concurrent.futures.Future[LearningCardSink] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(sink, warm_up), name="sharepoint-sink", daemon=True
        )
        self._thread.start()
        self._closed = False

    def _run(self, sink: LearningCardSink, warm_up: bool) -> None:
        asyncio.set_event_loop(self._loop)
        if warm_up:
            try:
                warm_up_models()
            except Exception:  # the models then load on the sink's first answer, here as well
                _log.warning("graph_models_warm_up_failed")
            gc.freeze()
        self._ready.set_result(sink)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _sink(self) -> LearningCardSink:
        return await asyncio.wrap_future(self._ready)

    def companion(self, sink: LearningCardSink) -> LearningCardSink:
        """`sink` (another list, on this sink's Graph client: `SharePointSink.sibling`), working
        on this sink's loop and thread. Close it before this one."""
        return _Companion(self, sink)

    def list_url(self) -> str:
        if not self._ready.done() or self._ready.exception() is not None:
            return ""
        return self._ready.result().list_url()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            sink = await self._sink()
            await self._call(sink.close())
        except Exception:
            _log.warning("sharepoint_sink_close_failed")
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)


class _Companion(_OnLoop):
    def __init__(self, owner: LoopThreadSink, sink: LearningCardSink) -> None:
        self._owner = owner
        self._loop = owner._loop
        self._inner = sink

    async def _sink(self) -> LearningCardSink:
        await self._owner._sink()  # the thread has warmed up and runs its loop
        return self._inner

    def list_url(self) -> str:
        return self._inner.list_url() if self._owner._ready.done() else ""

    async def close(self) -> None:
        try:
            sink = await self._sink()
            await self._call(sink.close())
        except Exception:
            _log.warning("sharepoint_sink_close_failed")


async def build_sharepoint_sink(settings: Settings, *, dev: bool) -> LearningCardSink:
    """The learning-card list's sink alone."""
    cards, _ = _sharepoint_sinks(settings, dev=dev)
    return LoopThreadSink(cards)


async def build_sharepoint_sinks(
    settings: Settings, *, dev: bool
) -> tuple[LearningCardSink, LearningCardSink]:
    """The learning-card list's sink and the trials list's, on one Graph client and one thread.
    Close the trials sink first."""
    cards, trials = _sharepoint_sinks(settings, dev=dev)
    thread = LoopThreadSink(cards)
    return thread, thread.companion(trials)


def _sharepoint_sinks(settings: Settings, *, dev: bool) -> tuple[SharePointSink, SharePointSink]:
    if dev and settings.graph_is_local and not settings.app_id:
        connection = connect_with_credential(LocalDevCredential(), settings.graph_base_url)
        cards = SharePointSink.from_connection(
            connection, settings.sharepoint_site, settings.sharepoint_list
        )
    else:
        cards = sink_from_settings(settings)
    return cards, cards.sibling(settings.sharepoint_trials_list, TRIAL_ID_COLUMN)

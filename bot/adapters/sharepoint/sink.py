"""Learning cards and trials to their SharePoint lists, through Microsoft Graph (msgraph-sdk).

`SharePointSink` implements `bot.ports.LearningCardSink` for one list whose items are keyed by a
unique id column (`KortId` on the learning-card list, `UtprovingId` on the trials list). Each card
or trial becomes one list item; the id column is unique, so a retry never makes a second item: a
create that the list refuses as a duplicate, or a retry after an ambiguous failure (timeout, 5xx,
lost connection), looks the item up by its id and returns the item's id. `update` changes some
columns of an item it made (PATCH of the item's fields: the sender column, emptied after an
erasure); an item a lead has deleted counts as updated.

The helpers here (site and list lookup, error mapping) are shared with `sharepoint_setup`.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import httpx
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.field_value_set import FieldValueSet
from msgraph.generated.models.list_item import ListItem
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.sites.item.lists.item.items.items_request_builder import (
    ItemsRequestBuilder,
)
from msgraph.generated.sites.item.lists.item.list_item_request_builder import (
    ListItemRequestBuilder,
)
from msgraph.generated.sites.item.lists.lists_request_builder import ListsRequestBuilder

from bot.core.sharepoint_schema import CARD_ID_COLUMN, STATUS_COLUMN
from bot.logs import get_logger
from bot.ports import SinkPermanentError, SinkTransientError

if TYPE_CHECKING:
    from msgraph.graph_service_client import GraphServiceClient

    from bot.adapters.sharepoint.graph_client import GraphConnection
    from bot.settings import Settings

__all__ = [
    "SharePointSink",
    "SinkThrottledError",
    "allowed_rate",
    "find_list_id",
    "is_duplicate",
    "resolve_site_id",
    "sink_error",
    "sink_from_settings",
]

_log = get_logger(__name__)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Lets $filter use a column that is not indexed (a list someone made by hand). Harmless on the
# indexed id columns that `kivett sharepoint setup` creates, and it keeps the duplicate check
# working on lists we did not provision.
PREFER_NON_INDEXED = "HonorNonIndexedQueriesWarningMayFailRandomly"
MAX_PAGES = 10_000


class SinkThrottledError(SinkTransientError):
    """Graph throttled the app (429/503 with headers). `allowed_rate`: the requests per second
    SharePoint's RateLimit-Limit quota policy allows (`RateLimit-Limit: 10, 10;w=2` is 5 a
    second), when it sent one; the outbox paces itself below it."""

    def __init__(self, reason: str, retry_after: float | None, allowed_rate: float | None) -> None:
        super().__init__(reason, retry_after, allowed_rate)


class SharePointSink:
    """Writes items of one SharePoint list, each keyed by `key_column` (default: the learning-card
    list's `KortId`). Site and list are looked up on first use and remembered. `status_column`:
    the column leads set (`statuses` reads it); None for a list without one.

    `client` is a `GraphServiceClient` built by `bot.adapters.sharepoint.graph_client` (with the
    SDK's retry handler off: the outbox owns retries and needs Retry-After). `site` is a site URL
    (https://contoso.sharepoint.com/sites/ki) or a Graph site id; `list_name` the list's display
    name. `on_close` releases what the client holds (`GraphConnection.aclose`).
    """

    def __init__(
        self,
        client: GraphServiceClient,
        site: str,
        list_name: str,
        *,
        page_size: int = 200,
        on_close: Callable[[], Awaitable[None]] | None = None,
        key_column: str = CARD_ID_COLUMN,
        status_column: str | None = STATUS_COLUMN,
    ) -> None:
        if not 1 <= page_size <= 5000:
            raise ValueError("page_size: from 1 to 5000")
        self._client = client
        self._site = site
        self._list_name = list_name
        self._key = key_column
        self._status = status_column
        self._page_size = page_size
        self._on_close = on_close
        self._target: tuple[str, str] | None = None
        self._web_url = ""
        self._resolving = asyncio.Lock()
        # Keys whose last create may or may not have reached the list: look before posting.
        self._uncertain: set[str] = set()

    @classmethod
    def from_connection(
        cls, connection: GraphConnection, site: str, list_name: str, *, page_size: int = 200
    ) -> SharePointSink:
        """A sink that closes `connection` when it is closed."""
        return cls(
            connection.client, site, list_name, page_size=page_size, on_close=connection.aclose
        )

    def sibling(
        self, list_name: str, key_column: str, status_column: str | None = None
    ) -> SharePointSink:
        """A sink for another list of the same site, on this sink's Graph client (closing it
        leaves the client to this sink)."""
        return SharePointSink(
            self._client,
            self._site,
            list_name,
            page_size=self._page_size,
            key_column=key_column,
            status_column=status_column,
        )

    async def deliver(self, key: str, fields: Mapping[str, object]) -> str:
        if fields.get(self._key, key) != key:
            raise ValueError(f"fields[{self._key!r}] differs from the item's key")
        items = await self._items()
        if key in self._uncertain:
            existing = await self._find(items, key)
            if existing is not None:
                self._uncertain.discard(key)
                return existing
        body = ListItem(fields=FieldValueSet(additional_data={**fields, self._key: key}))
        try:
            created_id = await _create(items, body)
        except Exception as exc:
            error = sink_error(exc, "create item")
            if error is None:
                raise
            if is_duplicate(exc):
                existing = await self._find(items, key)
                if existing is not None:
                    self._uncertain.discard(key)
                    return existing
                raise SinkTransientError(
                    "create item: duplicate reported, item not found yet"
                ) from exc
            if _ambiguous(exc):
                self._uncertain.add(key)
            _log.warning("SharePoint refused an item: %s", error.reason)
            raise error from exc
        if not created_id:
            self._uncertain.add(key)
            raise SinkTransientError("create item: the answer carried no item id")
        self._uncertain.discard(key)
        return created_id

    async def update(self, item_id: str, fields: Mapping[str, object]) -> None:
        """PATCH the item's fields. Only the given columns change; a 404 (the item was deleted in
        SharePoint) is done, since there is nothing left to change."""
        if not item_id:
            raise ValueError("update: no item id")
        if self._key in fields:
            raise ValueError(f"update: {self._key!r} identifies the item and cannot change")
        items = await self._items()
        body = FieldValueSet(additional_data=dict(fields))
        try:
            await items.by_list_item_id(item_id).fields.patch(body)
        except Exception as exc:
            if isinstance(exc, APIError) and exc.response_status_code == 404:
                _log.info("SharePoint item to update is gone (deleted in the list)")
                return
            error = sink_error(exc, "update item")
            if error is None:
                raise
            _log.warning("SharePoint refused an item update: %s", error.reason)
            raise error from exc

    async def statuses(self) -> dict[str, str]:
        if self._status is None:
            return {}
        items = await self._items()
        query = ItemsRequestBuilder.ItemsRequestBuilderGetQueryParameters(
            expand=[f"fields($select={self._key},{self._status})"], top=self._page_size
        )
        result: dict[str, str] = {}
        try:
            page = await items.get(RequestConfiguration(query_parameters=query))
            for _ in range(MAX_PAGES):
                if page is None:
                    break
                for item in page.value or []:
                    data = item.fields.additional_data if item.fields else {}
                    key, status = data.get(self._key), data.get(self._status)
                    if isinstance(key, str) and isinstance(status, str):
                        result[key] = status
                if not page.odata_next_link:
                    break
                page = await items.with_url(self._same_host(page.odata_next_link)).get()
        except Exception as exc:
            error = sink_error(exc, "read statuses")
            if error is None:
                raise
            raise error from exc
        return result

    def list_url(self) -> str:
        """The list's address for people (its webUrl), once the list has been found."""
        return self._web_url

    async def _list_web_url(self, site_id: str, list_id: str) -> str:
        """Best effort: a list without a webUrl (or a failed read) just gives no link."""
        query = ListItemRequestBuilder.ListItemRequestBuilderGetQueryParameters(
            select=["id", "webUrl"]
        )
        try:
            found = await (
                self._client.sites.by_site_id(site_id)
                .lists.by_list_id(list_id)
                .get(RequestConfiguration(query_parameters=query))
            )
        except Exception:
            return ""
        url = found.web_url if found is not None else None
        return url if isinstance(url, str) and url.startswith("https://") else ""

    async def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            await on_close()

    async def _items(self) -> ItemsRequestBuilder:
        site_id, list_id = await self._resolve()
        return self._client.sites.by_site_id(site_id).lists.by_list_id(list_id).items

    async def _resolve(self) -> tuple[str, str]:
        async with self._resolving:
            if self._target is None:
                try:
                    site_id = await resolve_site_id(self._client, self._site)
                    list_id = await find_list_id(self._client, site_id, self._list_name)
                except Exception as exc:
                    error = sink_error(exc, "find site and list")
                    if error is None:
                        raise
                    raise error from exc
                if list_id is None:
                    raise SinkPermanentError(
                        f"list {self._list_name!r} not found on the site "
                        "(run `kivett sharepoint setup`)"
                    )
                self._target = (site_id, list_id)
                self._web_url = await self._list_web_url(site_id, list_id)
            return self._target

    async def _find(self, items: ItemsRequestBuilder, key: str) -> str | None:
        """The id of the item whose key column holds `key`, if the list has one."""
        literal = key.replace("'", "''")
        query = ItemsRequestBuilder.ItemsRequestBuilderGetQueryParameters(
            filter=f"fields/{self._key} eq '{literal}'",
            expand=[f"fields($select={self._key})"],
            top=2,
        )
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("Prefer", PREFER_NON_INDEXED)
        try:
            page = await items.get(config)
        except Exception as exc:
            error = sink_error(exc, "look up item")
            if error is None:
                raise
            raise error from exc
        for item in (page.value or []) if page else []:
            found = item.fields.additional_data.get(self._key) if item.fields else None
            if item.id and found == key:
                return item.id
        return None

    def _same_host(self, next_link: str) -> str:
        base = self._client.request_adapter.base_url
        if urlsplit(next_link).netloc != urlsplit(base).netloc:
            raise SinkPermanentError("read statuses: a next page on another host")
        return next_link


def sink_from_settings(settings: Settings) -> SharePointSink:
    """The sink for `settings.sharepoint_site` / `sharepoint_list`, owning its Graph client."""
    from bot.adapters.sharepoint.graph_client import connect

    connection = connect(settings, retries=0)
    return SharePointSink.from_connection(
        connection, settings.sharepoint_site, settings.sharepoint_list
    )


async def resolve_site_id(client: GraphServiceClient, site: str) -> str:
    """The Graph site id for a site URL (GET /sites/{hostname}:/{path}); an id is returned as is."""
    if not site.lower().startswith("https://"):
        return site
    url = urlsplit(site)
    path = url.path.rstrip("/")
    address = f"{client.request_adapter.base_url}/sites/{url.hostname}"
    if path:
        address += ":" + quote(path, safe="/")
    found = await client.sites.by_site_id("root").with_url(address).get()
    if found is None or not found.id:
        raise SinkPermanentError("find site: the answer carried no site id")
    return found.id


async def find_list_id(client: GraphServiceClient, site_id: str, display_name: str) -> str | None:
    """The id of the site's list with this display name (compared case-insensitively)."""
    lists = client.sites.by_site_id(site_id).lists
    query = ListsRequestBuilder.ListsRequestBuilderGetQueryParameters(
        select=["id", "displayName", "name"]
    )
    page = await lists.get(RequestConfiguration(query_parameters=query))
    wanted = display_name.casefold()
    for _ in range(MAX_PAGES):
        if page is None:
            return None
        for found in page.value or []:
            if found.id and (found.display_name or "").casefold() == wanted:
                return found.id
        if not page.odata_next_link:
            return None
        page = await lists.with_url(page.odata_next_link).get()
    return None


def is_duplicate(exc: BaseException) -> bool:
    """Did the list refuse a create because the unique column already holds the value?"""
    if not isinstance(exc, APIError):
        return False
    if exc.response_status_code == 409:
        return True
    if exc.response_status_code == 400 and isinstance(exc, ODataError) and exc.error:
        text = f"{exc.error.code or ''} {exc.error.message or ''}".casefold()
        return "duplicate" in text or "unique" in text
    return False


def sink_error(exc: BaseException, action: str) -> SinkTransientError | SinkPermanentError | None:
    """The domain error for a failed Graph call, or None when `exc` is not a Graph/HTTP failure.

    Reasons carry the action, status and Graph error code: never tokens, messages or field values.
    """
    if isinstance(exc, SinkTransientError | SinkPermanentError):
        return exc
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return SinkTransientError(f"{action}: timed out")
    if isinstance(exc, httpx.TransportError | ServiceRequestError):
        return SinkTransientError(f"{action}: network error ({type(exc).__name__})")
    if isinstance(exc, ClientAuthenticationError):
        return SinkPermanentError(f"{action}: sign-in to Microsoft Graph failed")
    if not isinstance(exc, APIError) or exc.response_status_code is None:
        return None
    status = exc.response_status_code
    code = exc.error.code if isinstance(exc, ODataError) and exc.error else None
    reason = f"{action}: HTTP {status}" + (f" {code}" if code else "")
    if status in TRANSIENT_STATUSES or status >= 500:
        headers = exc.response_headers
        rate = allowed_rate(headers)
        if rate is not None:
            return SinkThrottledError(reason, retry_after(headers), rate)
        return SinkTransientError(reason, retry_after(headers))
    return SinkPermanentError(reason)


def retry_after(headers: Mapping[str, str] | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if there is one."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def _create(items: ItemsRequestBuilder, body: ListItem) -> str | None:
    """POST the item through msgraph-sdk's request adapter (its auth, middleware and error
    mapping) and read only the new item's id from the answer.

    `items.post(body)` would parse the whole answer into models, and msgraph-sdk's `Entity` model
    builds its table of field parsers (with a thousand imports) on every parse: about 40 ms of
    CPU a create, twice (the item and its fields), measured. The address is expanded once, not
    each time the adapter reads it."""
    info = items.to_post_request_information(body)
    # its own copy: the request shares the builder's parameters, and setting the address clears
    # them
    info.path_parameters = {**info.path_parameters, "baseurl": items.request_adapter.base_url}
    info.url = info.url
    # typed as returning a type variable it cannot bind; with "bytes" it is the answer's body
    send: Callable[..., Awaitable[object]] = items.request_adapter.send_primitive_async
    raw = await send(info, "bytes", {"XXX": ODataError})
    if not isinstance(raw, bytes | bytearray):
        return None
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    item_id = answer.get("id") if isinstance(answer, dict) else None
    return item_id if isinstance(item_id, str) and item_id else None


def allowed_rate(headers: Mapping[str, str] | None) -> float | None:
    """Requests per second from a RateLimit-Limit header's quota policy (IETF draft-03, which
    SharePoint Online follows): `10, 10;w=2` → 5.0. None without a policy that names a window."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "ratelimit-limit"), None)
    if value is None:
        return None
    for policy in value.split(",")[1:]:
        quota, _, params = policy.strip().partition(";")
        window = next(
            (p.split("=", 1)[1] for p in params.split(";") if p.strip().startswith("w=")), None
        )
        try:
            rate = float(quota) / float(window) if window is not None else None
        except (ValueError, ZeroDivisionError):
            continue
        if rate is not None and math.isfinite(rate) and rate > 0:
            return rate
    return None


def _ambiguous(exc: BaseException) -> bool:
    """Could the create have reached the list although it failed? (Not for a 429: throttled
    requests are not carried out.)"""
    if isinstance(exc, APIError):
        status = exc.response_status_code or 0
        return status >= 500 or status == 408
    return isinstance(exc, httpx.TransportError | TimeoutError | ServiceRequestError)

"""A small stateful fake of Microsoft Graph's SharePoint list API, for tests and benchmarks.

Sites, lists, columns and list items live in memory. Every request (path, query, body) and every
answer is checked against Microsoft's OpenAPI description (`tests/data/graph/…`) with openapi-core;
a request that breaks it gets 400 with an ODataError body and lands in `violations`, so a test can
assert there were none.

Behaviour beyond the description's shapes: list names and column names are unique (409
`nameAlreadyExists`); a column with `enforceUniqueValues` refuses a second item with the same value
(409, like SharePoint's duplicate-value error); an item may only carry fields the list has;
`PATCH …/items/{id}/fields` changes only the fields it names (same checks, system columns other
than Title are read-only, a missing item is 404 `itemNotFound`);
`$filter=fields/<Column> eq '<value>'` and `$expand=fields($select=…)` work; collections come in
pages of `page_size` with `@odata.nextLink` (`$skiptoken`). Requests need a bearer token.
Lookup columns (`lookup: {listId, columnName}`) must point at a list of the same site; an item
sets one with the field `<Column>LookupId`, which must name an item of that list (else 400, as
SharePoint refuses a lookup to nothing); the column's own name is not a writable field.

Faults are scripted with `script(...)`: a queue of answers (429 with Retry-After, 503 storms, a
delay longer than the client's timeout, or `apply=True` to carry the request out and then answer
the error: the ambiguous "created, then 504"). Counters: `items_created`, `items_updated`,
`by_status`, `requests`.

Throttling by rate: `FakeGraph(rate_limit=TokenBucket(rate, burst, clock))` lets writes (item
creates and field updates) through while the bucket holds a token and answers the others 429 with
`Retry-After` (whole seconds until a token is back, at least 1) and SharePoint's RateLimit headers
(IETF draft-03, as SharePoint Online sends them: `RateLimit-Limit: 10, 10;w=2` is 10 writes per 2
seconds, `RateLimit-Remaining`, `RateLimit-Reset`). `throttled_writes` counts those 429s and
`throttle_episodes` the runs of them (429s in a row, with no write let through in between).
The clock may be virtual: the bucket refills only as `clock()` moves.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from aiohttp import web
from azure.core.credentials import AccessToken
from openapi_core import OpenAPI
from openapi_core.contrib.aiohttp import AIOHTTPOpenAPIWebRequest, AIOHTTPOpenAPIWebResponse

__all__ = [
    "FAKE_TOKEN",
    "SPEC_PATH",
    "FakeGraph",
    "FakeList",
    "Scripted",
    "StaticTokenCredential",
    "TokenBucket",
]

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "graph" / "sharepoint-lists.openapi.yaml"
FAKE_TOKEN = "fake-graph-token"  # a test token, meaningless outside the fake
SYSTEM_COLUMNS = ("Title", "ID", "Created", "Modified", "Author", "Editor")
_SITE_BY_PATH = re.compile(r"^/v1\.0/sites/(?P<host>[^/:]+):(?P<path>/.+?):?$")
_ROUTE = re.compile(
    r"^/v1\.0/sites/(?P<site>[^/:]+)"
    r"(?:/lists(?:/(?P<list>[^/]+)(?:/(?P<sub>columns|items)"
    r"(?:/(?P<item>[^/]+)(?P<fields>/fields)?)?)?)?)?$"
)
ALL: Sequence[str] = ("*",)
_FILTER = re.compile(r"^fields/(?P<column>\w+) eq '(?P<value>(?:[^']|'')*)'$")
_EXPAND = re.compile(r"^fields(?:\(\$select=(?P<select>[^)]*)\))?$")


@cache
def graph_spec(path: Path = SPEC_PATH) -> OpenAPI:
    """The OpenAPI description, parsed once per process. Prism ignores `servers`; so do we."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": "/"}]
    return OpenAPI.from_dict(spec)


class StaticTokenCredential:
    """An async azure-identity style credential that hands out one fixed token."""

    def __init__(self, token: str = FAKE_TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, 4_102_444_800)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@dataclass
class Scripted:
    """One scripted answer, used by the first request it matches (then removed)."""

    status: int
    code: str = "serviceNotAvailable"
    retry_after: int | None = None
    delay: float = 0.0
    apply: bool = False  # carry the request out first, then answer `status`
    method: str | None = None  # only requests with this method …
    path_suffix: str | None = None  # … and a path ending like this ("/items")

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or request.method == self.method) and (
            self.path_suffix is None or request.path.endswith(self.path_suffix)
        )


class TokenBucket:
    """`rate` tokens a second, at most `burst` held (full at the start); one token per write."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return self._tokens

    def take(self) -> float | None:
        """None when a token was taken, else the seconds until one is back."""
        if self._refill() >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self.rate

    def headers(self, wait: float) -> dict[str, str]:
        """A 429's headers: Retry-After and the quota policy (writes per whole-second window)."""
        window = max(1, round(self.burst / self.rate))
        quota = round(self.rate * window)
        return {
            "Retry-After": str(max(1, math.ceil(wait))),
            "RateLimit-Limit": f"{quota}, {quota};w={window}",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(max(1, math.ceil(wait))),
        }


def is_write(request: web.Request) -> bool:
    """An item create (POST …/items) or a field update (PATCH …/items/{id}/fields)."""
    return (request.method == "POST" and request.path.endswith("/items")) or (
        request.method == "PATCH" and request.path.endswith("/fields")
    )


@dataclass
class FakeList:
    id: str
    display_name: str
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_item: int = 1


def _error(
    status: int,
    code: str,
    message: str,
    retry_after: int | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"code": code, "message": message, "innerError": {"date": "2024-05-01"}}}
    sent = dict(headers or {})
    if retry_after is not None:
        sent["Retry-After"] = str(retry_after)
    return web.json_response(body, status=status, headers=sent or None)


class FakeGraph:
    """`async with FakeGraph() as graph:` serves on 127.0.0.1 (random port) at `graph.base_url`."""

    def __init__(
        self,
        *,
        page_size: int = 100,
        token: str = FAKE_TOKEN,
        rate_limit: TokenBucket | None = None,
    ) -> None:
        self.page_size = page_size
        self.rate_limit = rate_limit
        self.throttled_writes = 0
        self.throttle_episodes = 0
        self._throttling = False  # the last write was answered 429
        self.token = token
        self.sites: dict[str, str] = {}  # "host:/sites/path" -> site id
        self.lists: dict[str, dict[str, FakeList]] = {}  # site id -> list id -> list
        self.violations: list[str] = []
        self.items_created = 0
        self.items_updated = 0
        self.by_status: Counter[int] = Counter()
        self.requests: list[tuple[str, str]] = []
        self._script: deque[Scripted] = deque()
        self._spec = graph_spec()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeGraph:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1.0"
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- arranging state -------------------------------------------------------------------

    def add_site(self, hostname: str = "contoso.sharepoint.com", path: str = "/sites/ki") -> str:
        site_id = f"{hostname},{uuid.uuid4()},{uuid.uuid4()}"
        self.sites[f"{hostname}:{path}"] = site_id
        self.lists[site_id] = {}
        return site_id

    def add_list(self, site_id: str, name: str, columns: Sequence[dict[str, Any]] = ()) -> FakeList:
        created = FakeList(str(uuid.uuid4()), name)
        for column in [{"name": n} for n in SYSTEM_COLUMNS] + list(columns):
            created.columns[column["name"]] = {"id": str(uuid.uuid4()), **column}
        self.lists[site_id][created.id] = created
        return created

    def script(self, *answers: Scripted) -> None:
        self._script.extend(answers)

    def clear_script(self) -> None:
        """Forget the scripted answers still waiting (the outage is over)."""
        self._script.clear()

    def _list_by_id(self, list_id: object) -> FakeList | None:
        return next((x[list_id] for x in self.lists.values() if list_id in x), None)

    def items(self, site_id: str, list_name: str) -> list[dict[str, Any]]:
        """The fields of every item in the named list."""
        found = [x for x in self.lists[site_id].values() if x.display_name == list_name]
        return [dict(item["fields"]) for item in found[0].items.values()] if found else []

    # --- serving -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.path_qs))
        response = await self._answer(request, body)
        self._check_response(request, body, response)
        self.by_status[response.status] += 1
        return response

    async def _answer(self, request: web.Request, body: bytes) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        try:
            self._spec.validate_request(AIOHTTPOpenAPIWebRequest(request, body=body or None))
        except Exception as exc:
            self.violations.append(f"{request.method} {request.path_qs}: {exc}")
            return _error(400, "invalidRequest", "The request breaks the API description.")
        if self.rate_limit is not None and is_write(request):
            wait = self.rate_limit.take()
            if wait is not None:
                self.throttled_writes += 1
                self.throttle_episodes += 0 if self._throttling else 1
                self._throttling = True
                return _error(
                    429,
                    "TooManyRequests",
                    "Too many requests.",
                    headers=self.rate_limit.headers(wait),
                )
            self._throttling = False
        scripted = next((s for s in self._script if s.matches(request)), None)
        if scripted is None:
            return self._route(request, json.loads(body) if body else None)
        self._script.remove(scripted)
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        if scripted.apply:
            self._route(request, json.loads(body) if body else None)
        return _error(scripted.status, scripted.code, "Scripted failure.", scripted.retry_after)

    def _check_response(self, request: web.Request, body: bytes, response: web.Response) -> None:
        try:
            self._spec.validate_response(
                AIOHTTPOpenAPIWebRequest(request, body=body or None),
                AIOHTTPOpenAPIWebResponse(response),
            )
        except Exception as exc:
            self.violations.append(f"answer to {request.method} {request.path}: {exc}")

    def _route(self, request: web.Request, body: Any) -> web.Response:
        method, path = request.method, request.path
        by_path = _SITE_BY_PATH.match(path)
        if by_path and method == "GET":
            site_id = self.sites.get(f"{by_path['host']}:{by_path['path']}")
            return self._site(site_id)
        match = _ROUTE.match(path)
        if match is None:
            return _error(400, "BadRequest", "Resource not found for the segment.")
        site_id, list_id, sub, item_id = match["site"], match["list"], match["sub"], match["item"]
        if site_id not in self.lists:
            return _error(404, "itemNotFound", "Requested site could not be found")
        lists = self.lists[site_id]
        if list_id is None and method == "GET" and path.endswith("/lists"):
            return self._page(request, [self._list_json(x) for x in lists.values()])
        if list_id is None and method == "POST":
            return self._create_list(site_id, body)
        if list_id is None:
            return self._site(site_id)
        found = lists.get(list_id)
        if found is None:
            return _error(404, "itemNotFound", "The requested list was not found.")
        if sub is None:
            return web.json_response(self._list_json(found))
        if sub == "columns" and method == "GET":
            return self._page(request, list(found.columns.values()))
        if sub == "columns" and method == "POST":
            return self._create_column(found, body)
        if sub == "items" and method == "POST" and item_id is None:
            return self._create_item(found, body)
        if sub == "items" and method == "GET" and item_id is None:
            return self._list_items(request, found)
        if sub == "items" and item_id is not None and match["fields"]:
            if method == "PATCH":
                return self._update_fields(found, item_id, body)
            if method == "GET" and item_id in found.items:
                return web.json_response(dict(found.items[item_id]["fields"]))
        elif item_id is not None and item_id in found.items and method == "GET":
            return web.json_response(self._item_json(found.items[item_id], ALL))
        return _error(404, "itemNotFound", "The resource could not be found.")

    def _site(self, site_id: str | None) -> web.Response:
        if site_id is None or site_id not in self.lists:
            return _error(404, "itemNotFound", "Requested site could not be found")
        return web.json_response({"id": site_id, "displayName": "KI", "name": "ki"})

    def _create_list(self, site_id: str, body: dict[str, Any]) -> web.Response:
        name = body.get("displayName")
        if not name:
            return _error(400, "invalidRequest", "displayName is required.")
        if any(x.display_name.casefold() == name.casefold() for x in self.lists[site_id].values()):
            return _error(409, "nameAlreadyExists", "A list with this name already exists.")
        columns = body.get("columns") or []
        names = [c.get("name") for c in columns]
        if None in names or len(set(names)) != len(names) or set(names) & set(SYSTEM_COLUMNS):
            return _error(400, "invalidRequest", "Every column needs a distinct name.")
        created = self.add_list(site_id, name, columns)
        return web.json_response(self._list_json(created), status=201)

    def _create_column(self, target: FakeList, body: dict[str, Any]) -> web.Response:
        name = body.get("name")
        if not name:
            return _error(400, "invalidRequest", "name is required.")
        if name.casefold() in (n.casefold() for n in target.columns):
            return _error(409, "nameAlreadyExists", "A column with this name already exists.")
        lookup = body.get("lookup")
        if lookup is not None and self._list_by_id(lookup.get("listId")) is None:
            return _error(400, "invalidRequest", "The lookup list does not exist.")
        column = {"id": str(uuid.uuid4()), **body}
        target.columns[name] = column
        return web.json_response(column, status=201)

    def _create_item(self, target: FakeList, body: dict[str, Any]) -> web.Response:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            return _error(400, "invalidRequest", "fields are required.")
        refused = self._refuse_fields(target, fields, None)
        if refused is not None:
            return refused
        item_id = str(target.next_item)
        target.next_item += 1
        defaults = {
            n: c["defaultValue"]["value"]
            for n, c in target.columns.items()
            if isinstance(c.get("defaultValue"), dict) and n not in fields
        }
        target.items[item_id] = {"id": item_id, "fields": {**defaults, **fields, "id": item_id}}
        self.items_created += 1
        return web.json_response(self._item_json(target.items[item_id], ALL), status=201)

    def _update_fields(self, target: FakeList, item_id: str, body: Any) -> web.Response:
        item = target.items.get(item_id)
        if item is None:
            return _error(404, "itemNotFound", "The resource could not be found.")
        if not isinstance(body, dict):
            return _error(400, "invalidRequest", "A fieldValueSet is required.")
        read_only = sorted(set(body) & (set(SYSTEM_COLUMNS) - {"Title"}))
        if read_only:
            return _error(400, "invalidRequest", f"Field '{read_only[0]}' is read-only")
        refused = self._refuse_fields(target, {**item["fields"], **body}, item_id, changed=body)
        if refused is not None:
            return refused
        item["fields"].update(body)
        self.items_updated += 1
        return web.json_response(dict(item["fields"]))

    def _refuse_fields(
        self,
        target: FakeList,
        fields: dict[str, Any],
        item_id: str | None,
        *,
        changed: dict[str, Any] | None = None,
    ) -> web.Response | None:
        """Why the list refuses an item with these fields (None if it takes them). `changed`:
        the fields an update sends (only those are checked for unknown names and uniqueness)."""
        sent = fields if changed is None else changed
        lookups = {
            f"{name}LookupId": column["lookup"]
            for name, column in target.columns.items()
            if isinstance(column.get("lookup"), dict)
        }
        writable = {n for n in target.columns if n not in {k[: -len("LookupId")] for k in lookups}}
        unknown = sorted(set(sent) - writable - set(lookups))
        if unknown:
            return _error(400, "invalidRequest", f"Field '{unknown[0]}' is not recognized")
        for field_name, lookup in lookups.items():
            source = self._list_by_id(lookup.get("listId"))
            if field_name in sent and (source is None or str(sent[field_name]) not in source.items):
                return _error(400, "invalidRequest", f"Field '{field_name}': no such item")
        for name, column in target.columns.items():
            if column.get("required") and fields.get(name) in (None, ""):
                return _error(400, "invalidRequest", f"Field '{name}' is required.")
            taken = (
                other["fields"].get(name) for key, other in target.items.items() if key != item_id
            )
            if column.get("enforceUniqueValues") and name in sent and sent[name] in taken:
                return _error(
                    409,
                    "nameAlreadyExists",
                    "The list item could not be added or updated because duplicate values "
                    f"were found in the following field(s) in the list: [{name}].",
                )
        return None

    def _list_items(self, request: web.Request, target: FakeList) -> web.Response:
        items = list(target.items.values())
        if "$filter" in request.query:
            match = _FILTER.match(request.query["$filter"])
            if match is None or match["column"] not in target.columns:
                return _error(400, "invalidRequest", "Unsupported $filter.")
            value = match["value"].replace("''", "'")
            items = [i for i in items if i["fields"].get(match["column"]) == value]
        expand = request.query.get("$expand")
        select: Sequence[str] | None = None
        if expand is not None:
            parsed = _EXPAND.match(expand)
            if parsed is None:
                return _error(400, "invalidRequest", "Unsupported $expand.")
            select = parsed["select"].split(",") if parsed["select"] else ALL
        return self._page(request, [self._item_json(i, select) for i in items])

    def _page(self, request: web.Request, values: list[dict[str, Any]]) -> web.Response:
        size = min(self.page_size, int(request.query.get("$top", self.page_size)) or 1)
        start = int(request.query.get("$skiptoken", "0"))
        page: dict[str, Any] = {"value": values[start : start + size]}
        if start + size < len(values):
            query = {**request.query, "$skiptoken": str(start + size)}
            url = request.url.with_query(query)
            page["@odata.nextLink"] = f"{self.base_url.removesuffix('/v1.0')}{url.path_qs}"
        return web.json_response(page)

    @staticmethod
    def _list_json(target: FakeList) -> dict[str, Any]:
        return {
            "id": target.id,
            "name": target.display_name,
            "displayName": target.display_name,
            "webUrl": f"https://contoso.sharepoint.com/sites/ki/Lists/{target.id}",
            "list": {"template": "genericList", "hidden": False, "contentTypesEnabled": False},
        }

    @staticmethod
    def _item_json(item: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
        """An item; `fields` only when expanded (`ALL` or the selected names), as in Graph."""
        answer: dict[str, Any] = {"id": item["id"]}
        if select is not None:
            fields = item["fields"]
            answer["fields"] = {k: v for k, v in fields.items() if select is ALL or k in select}
        return answer

"""The real msgraph-sdk code paths of the SharePoint sink and provisioning, checked by Prism
against Microsoft's Graph description: every request must pass without a violation.

Prism is stateless and answers with the description's examples (a site, a list called
"Benefits", an item); behaviour is tested against the stateful fake in tests/integration.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from bot.adapters.sharepoint.graph_client import (
    SITES_MANAGE_SCOPE,
    GraphConnection,
    InThreadCredential,
    connect_with_credential,
)
from bot.adapters.sharepoint.setup import ensure_list
from bot.adapters.sharepoint.sink import SharePointSink
from bot.core.sharepoint_schema import (
    TRIAL_ID_COLUMN,
    TRIAL_LOOKUP,
    TRIAL_LOOKUP_FIELD,
    ColumnSpec,
    ListChoices,
    columns,
    trial_columns,
)
from bot.operator.sharepoint import PersonSignIn, setup
from bot.ports import SinkPermanentError, SinkTransientError
from bot.settings import Settings
from tests.contract.conftest import Prism
from tests.fakes.device_code import USER_CODE, FakeDeviceCode
from tests.fakes.graph import StaticTokenCredential

SITE_URL = "https://contoso.sharepoint.com/sites/team"
EXAMPLE_LIST = "Benefits"  # the list in the description's examples
CHOICES = ListChoices(
    service_areas=("Oppvekst",),
    tools=("Copilot Chat",),
    tasks=("Oppsummere",),
    categories=("Åpen",),
    recommend=("Ja", "Nei"),
)
SPECS = columns(CHOICES)
TRIAL_SPECS = trial_columns(CHOICES)
TRIALS_LIST_ID = "b5fd5c4e-0000-4000-8000-00000000aa01"
SETUP_APP = "7d3f0a52-9c1e-4f4b-8a51-2b6e0c9d1f11"
BOT_APP = "0b5e6c2d-1a2b-4c3d-9e8f-112233445566"
TENANT = "3c9b1e7a-5d4f-4a2b-8c6d-aabbccddeeff"
FIELDS: dict[str, object] = {
    "Title": "Oppsummerte et møtereferat",
    "KortId": "card-1",
    "Nytte": 4,
    "KanDeles": True,
    "Innsendt": "2026-03-02T10:15:00Z",
}
TRIAL_FIELDS: dict[str, object] = {
    "Title": "Referat fra teammøter",
    TRIAL_ID_COLUMN: "trial-1",
    "Oppgave": "Oppsummere",
    "Enhet": "Hjemmetjenesten",
    "PeriodeStart": "2026-03-02",
    "PeriodeSlutt": "2026-04-30",
    "KiSjekk": "Gul",
    "AntallDeltakere": 3,
    "Registrert": "2026-03-02T10:15:00Z",
    "Padriver": "aad-champion",
}
BOTH_KINDS = pytest.mark.parametrize(
    ("key_column", "key", "fields"),
    [("KortId", "card-1", FIELDS), (TRIAL_ID_COLUMN, "trial-1", TRIAL_FIELDS)],
    ids=["card", "trial"],
)


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    violations: str | None


@dataclass
class Recorder:
    """Every request the SDK sent and what Prism said; optionally a `Prefer` header to add."""

    exchanges: list[Exchange] = field(default_factory=list)
    prefer: dict[tuple[str, str], str] = field(default_factory=dict)  # (method, path end) → code

    async def on_request(self, request: httpx.Request) -> None:
        for (method, suffix), code in self.prefer.items():
            if request.method == method and request.url.path.endswith(suffix):
                request.headers["Prefer"] = f"code={code}"

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        violations = response.headers.get("sl-violations")
        self.exchanges.append(
            Exchange(request.method, str(request.url), response.status_code, violations)
        )

    def problems(self) -> list[Exchange]:
        """Requests Prism found fault with (a violation header, or 400/422 we did not ask for)."""
        asked = set(self.prefer.values())
        return [
            e
            for e in self.exchanges
            if e.violations or (e.status in (400, 422) and str(e.status) not in asked)
        ]


@pytest.fixture
async def graph(prism: Prism) -> AsyncIterator[tuple[GraphConnection, Recorder]]:
    recorder = Recorder()
    connection = connect_with_credential(StaticTokenCredential(), prism.base_url)
    connection.http.event_hooks["request"].append(recorder.on_request)
    connection.http.event_hooks["response"].append(recorder.on_response)
    yield connection, recorder
    await connection.aclose()


@BOTH_KINDS
async def test_deliver_sends_requests_that_fit_the_description(
    graph: tuple[GraphConnection, Recorder], key_column: str, key: str, fields: dict[str, object]
) -> None:
    connection, recorder = graph
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST, key_column=key_column)
    item_id = await sink.deliver(key, fields)
    assert item_id
    sent = [(e.method, e.url.split("?")[0].rsplit("/", 1)[-1]) for e in recorder.exchanges]
    # the site, the lists (to find ours by name), our list (its address for the leads), the item
    assert [method for method, _ in sent] == ["GET", "GET", "GET", "POST"]
    assert [sent[0][1], sent[1][1], sent[3][1]] == ["team", "lists", "items"]
    assert recorder.problems() == []


@BOTH_KINDS
async def test_duplicate_lookup_by_the_items_id_fits_the_description(
    graph: tuple[GraphConnection, Recorder], key_column: str, key: str, fields: dict[str, object]
) -> None:
    connection, recorder = graph
    recorder.prefer[("POST", "/items")] = "409"
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST, key_column=key_column)
    # Prism's example item is not ours, so the lookup finds nothing: a transient error.
    with pytest.raises(SinkTransientError, match="duplicate"):
        await sink.deliver(key, fields)
    lookups = [httpx.URL(e.url).params for e in recorder.exchanges if e.method == "GET"]
    filters = [params["$filter"] for params in lookups if "$filter" in params]
    assert filters == [f"fields/{key_column} eq '{key}'"]
    assert recorder.problems() == []


async def test_429_from_graph_is_transient_with_retry_after(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    recorder.prefer[("POST", "/items")] = "429"
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST)
    with pytest.raises(SinkTransientError) as throttled:
        await sink.deliver("card-1", FIELDS)
    assert throttled.value.retry_after == 1.0
    assert sum(1 for e in recorder.exchanges if e.method == "POST") == 1
    assert recorder.problems() == []


async def test_clearing_the_sender_after_an_erasure_fits_the_description(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST)
    await sink.update("1", {"Innsender": ""})
    patches = [e for e in recorder.exchanges if e.method == "PATCH"]
    assert [httpx.URL(e.url).path.split("/")[-2:] for e in patches] == [["1", "fields"]]
    assert [e.status for e in patches] == [200]
    assert recorder.problems() == []


async def test_a_patch_of_a_deleted_item_is_done_and_a_throttled_one_transient(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST)
    recorder.prefer[("PATCH", "/fields")] = "404"
    await sink.update("1", {"Innsender": ""})
    recorder.prefer[("PATCH", "/fields")] = "429"
    with pytest.raises(SinkTransientError) as throttled:
        await sink.update("1", {"Innsender": ""})
    assert throttled.value.retry_after == 1.0
    recorder.prefer[("PATCH", "/fields")] = "403"
    with pytest.raises(SinkPermanentError, match="HTTP 403"):
        await sink.update("1", {"Innsender": ""})
    assert [e.status for e in recorder.exchanges if e.method == "PATCH"] == [404, 429, 403]
    assert recorder.problems() == []


async def test_statuses_query_fits_the_description(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST)
    # The description's example page carries a nextLink to port 4010, not to this Prism: the
    # sink refuses to follow a next page to another host (paging is tested with the fake).
    with pytest.raises(SinkPermanentError, match="another host"):
        await sink.statuses()
    pages = [httpx.URL(e.url) for e in recorder.exchanges if e.url.split("?")[0].endswith("/items")]
    assert [url.params.get("$expand") for url in pages] == ["fields($select=KortId,Status)"]
    assert recorder.problems() == []


BOTH_LISTS = pytest.mark.parametrize(
    ("name", "specs"),
    [("Læringskort", SPECS), ("Utprøvinger", TRIAL_SPECS)],
    ids=["cards", "trials"],
)


@BOTH_LISTS
async def test_provisioning_a_new_list_fits_the_description(
    graph: tuple[GraphConnection, Recorder], name: str, specs: tuple[ColumnSpec, ...]
) -> None:
    connection, recorder = graph
    report = await ensure_list(connection.client, SITE_URL, name, specs)
    assert report.list_created
    assert [e.method for e in recorder.exchanges] == ["GET", "GET", "POST"]
    assert recorder.problems() == []


@BOTH_LISTS
async def test_completing_an_existing_list_fits_the_description(
    graph: tuple[GraphConnection, Recorder], name: str, specs: tuple[ColumnSpec, ...]
) -> None:
    connection, recorder = graph
    report = await ensure_list(connection.client, SITE_URL, EXAMPLE_LIST, specs)
    assert not report.list_created
    # the example list has none of our columns
    assert set(report.columns_added) == {spec.name for spec in specs}
    posts = [e for e in recorder.exchanges if e.method == "POST"]
    assert len(posts) == len(report.columns_added)
    assert all(e.url.endswith("/columns") for e in posts)
    assert recorder.problems() == []


async def test_provisioning_as_a_person_signed_in_by_device_code_fits_the_description(
    prism: Prism,
) -> None:
    recorder = Recorder()
    device_code = FakeDeviceCode()
    signed_in = InThreadCredential(device_code(TENANT, SETUP_APP, lambda *_: None))
    connection = connect_with_credential(signed_in, prism.base_url, scopes=[SITES_MANAGE_SCOPE])
    connection.http.event_hooks["response"].append(recorder.on_response)
    report = await ensure_list(connection.client, SITE_URL, "Læringskort", SPECS)
    await connection.aclose()
    assert report.list_created
    assert [e.method for e in recorder.exchanges] == ["GET", "GET", "POST"]
    assert recorder.problems() == []
    assert set(device_code.credentials[0].scopes) == {(SITES_MANAGE_SCOPE,)}


async def test_the_setup_command_as_a_person_prints_the_prompt_and_the_grant(prism: Prism) -> None:
    out = io.StringIO()
    code = await setup(
        Settings.model_validate({"KIVETT_GRAPH_BASE_URL": prism.base_url}),
        SITE_URL,
        "Læringskort",
        CHOICES,
        out,
        person=PersonSignIn(SETUP_APP, TENANT, make_credential=FakeDeviceCode()),
        bot_app_id=BOT_APP,
    )
    text = out.getvalue()
    assert code == 0, text
    assert f"Skriv inn koden   {USER_CODE}" in text
    assert "Listen ble opprettet" in text
    assert f"POST {prism.base_url}/sites/" in text
    assert f"'{BOT_APP}'; displayName = 'KI-vett'" in text  # the PowerShell line


async def test_a_learning_card_linked_to_its_trial_fits_the_description(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    sink = SharePointSink(connection.client, SITE_URL, EXAMPLE_LIST)
    assert await sink.deliver("card-1", {**FIELDS, TRIAL_LOOKUP_FIELD: "7"})
    assert [e.method for e in recorder.exchanges][-1] == "POST"
    assert recorder.problems() == []


async def test_the_lookup_column_fits_the_description_on_a_new_and_an_existing_list(
    graph: tuple[GraphConnection, Recorder],
) -> None:
    connection, recorder = graph
    specs = (*SPECS, TRIAL_LOOKUP)
    made = await ensure_list(
        connection.client, SITE_URL, "Læringskort", specs, lookup_list_id=TRIALS_LIST_ID
    )
    assert made.list_created
    # the site, the lists, the new list with its plain columns, then the lookup column
    assert [e.method for e in recorder.exchanges] == ["GET", "GET", "POST", "POST"]
    assert recorder.exchanges[-1].url.endswith("/columns")
    completed = await ensure_list(
        connection.client, SITE_URL, EXAMPLE_LIST, specs, lookup_list_id=TRIALS_LIST_ID
    )
    assert TRIAL_LOOKUP.name in completed.columns_added
    assert recorder.problems() == []


async def test_a_request_that_breaks_the_description_is_caught(
    graph: tuple[GraphConnection, Recorder], prism: Prism
) -> None:
    # Guards the guard: a malformed item body must show up as a problem.
    connection, recorder = graph
    response = await connection.http.post(
        f"{prism.base_url}/sites/s/lists/l/items",
        content=json.dumps({"fields": "not an object"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert [e.status for e in recorder.problems()] == [response.status_code]


async def test_a_patch_that_breaks_the_description_is_caught(
    graph: tuple[GraphConnection, Recorder], prism: Prism
) -> None:
    # The PATCH test above means something only if Prism checks a PATCH body at all.
    connection, recorder = graph
    response = await connection.http.patch(
        f"{prism.base_url}/sites/s/lists/l/items/1/fields",
        content=json.dumps(["Innsender", ""]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert [e.status for e in recorder.problems()] == [response.status_code]

"""The real SharePointSink and provisioning (msgraph-sdk) against the stateful fake Graph."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from bot.adapters.sharepoint.graph_client import GRAPH_SCOPE, connect_with_credential
from bot.adapters.sharepoint.setup import ensure_list
from bot.adapters.sharepoint.sink import SharePointSink, retry_after
from bot.core.sharepoint_schema import CARD_ID_COLUMN, STATUS_COLUMN, ListChoices, columns
from bot.operator.sharepoint import setup
from bot.ports import SinkPermanentError, SinkTransientError
from bot.settings import Settings
from tests.fakes.graph import FAKE_TOKEN, FakeGraph, Scripted, StaticTokenCredential

SITE_URL = "https://contoso.sharepoint.com/sites/ki"
LIST = "Læringskort"
CHOICES = ListChoices(
    service_areas=("Helse og omsorg", "Oppvekst"),
    tools=("Copilot Chat", "Annet"),
    tasks=("Skrive tekst", "Oppsummere"),
    categories=("Åpen", "Begrenset"),
    recommend=("Ja", "Nei", "Kanskje"),
)
SPECS = columns(CHOICES)
TIMEOUT = 0.5

MakeSink = Callable[..., Awaitable[SharePointSink]]


def card_fields(card_id: str) -> dict[str, object]:
    return {
        "Title": "Oppsummerte et møtereferat",
        CARD_ID_COLUMN: card_id,
        "Tjenesteomrade": "Oppvekst",
        "Verktoy": "Copilot Chat",
        "HvaGjort": "Lot Copilot lage et utkast",
        "Nytte": 4,
        "MinutterSpart": 30,
        "KanDeles": True,
        "Innsendt": "2026-03-02T10:15:00Z",
    }


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph(page_size=3) as fake:
        fake.add_site("contoso.sharepoint.com", "/sites/ki")
        yield fake


@pytest.fixture
async def credential() -> StaticTokenCredential:
    return StaticTokenCredential(FAKE_TOKEN)


@pytest.fixture
async def make_sink(graph: FakeGraph, credential: StaticTokenCredential) -> AsyncIterator[MakeSink]:
    sinks: list[SharePointSink] = []

    async def make(*, provision: bool = True, list_name: str = LIST) -> SharePointSink:
        connection = connect_with_credential(credential, graph.base_url, timeout_seconds=TIMEOUT)
        if provision:
            await ensure_list(connection.client, SITE_URL, LIST, SPECS)
        sink = SharePointSink.from_connection(connection, SITE_URL, list_name)
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        await sink.close()


def item_posts(graph: FakeGraph) -> int:
    return sum(1 for method, path in graph.requests if method == "POST" and path.endswith("/items"))


def only_item(graph: FakeGraph, site_id: str) -> dict[str, Any]:
    items = graph.items(site_id, LIST)
    assert len(items) == 1
    return items[0]


def site_id(graph: FakeGraph) -> str:
    return next(iter(graph.sites.values()))


async def test_deliver_creates_one_item_with_the_fields_and_returns_its_id(
    graph: FakeGraph, make_sink: MakeSink, credential: StaticTokenCredential
) -> None:
    sink = await make_sink()
    item_id = await sink.deliver("card-1", card_fields("card-1"))
    stored = only_item(graph, site_id(graph))
    assert stored["id"] == item_id
    assert stored[CARD_ID_COLUMN] == "card-1"
    assert stored["Nytte"] == 4
    assert stored["KanDeles"] is True
    assert stored[STATUS_COLUMN] == "Ny"  # the column's default
    assert set(credential.scopes) == {(GRAPH_SCOPE,)}
    assert graph.violations == []


async def test_the_sink_knows_the_lists_address_for_the_leads_once_it_found_the_list(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    assert sink.list_url() == ""
    await sink.deliver("card-1", card_fields("card-1"))
    assert sink.list_url().startswith("https://contoso.sharepoint.com/sites/ki/Lists/")
    assert graph.violations == []


async def test_delivering_the_same_card_again_returns_the_existing_item(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    first = await sink.deliver("card-1", card_fields("card-1"))
    again = await sink.deliver("card-1", card_fields("card-1"))
    assert again == first
    assert graph.items_created == 1
    assert graph.by_status[409] == 1  # the list refused the duplicate; the sink looked it up
    assert graph.violations == []


async def test_created_then_504_is_transient_and_the_retry_finds_the_item_without_posting(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    graph.script(Scripted(504, "gatewayTimeout", apply=True, method="POST", path_suffix="/items"))
    with pytest.raises(SinkTransientError) as failed:
        await sink.deliver("card-1", card_fields("card-1"))
    assert "504" in failed.value.reason
    item_id = await sink.deliver("card-1", card_fields("card-1"))
    assert item_id == only_item(graph, site_id(graph))["id"]
    assert graph.items_created == 1
    assert item_posts(graph) == 1  # looked up first, did not post again
    assert graph.violations == []


async def test_timeout_after_the_item_was_made_never_leads_to_a_second_item(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    graph.script(Scripted(201, delay=TIMEOUT * 2, apply=True, method="POST"))
    with pytest.raises(SinkTransientError, match="timed out"):
        await sink.deliver("card-1", card_fields("card-1"))
    await asyncio.sleep(TIMEOUT * 2)  # the server finishes its slow create
    item_id = await sink.deliver("card-1", card_fields("card-1"))
    assert item_id == only_item(graph, site_id(graph))["id"]
    assert graph.items_created == 1


async def test_a_fresh_sink_after_an_ambiguous_failure_still_finds_the_item(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    # A restart forgets what was uncertain; KortId's uniqueness still prevents a second item.
    graph.script(Scripted(502, "badGateway", apply=True, method="POST", path_suffix="/items"))
    with pytest.raises(SinkTransientError):
        await (await make_sink()).deliver("card-1", card_fields("card-1"))
    restarted = await make_sink(provision=False)
    item_id = await restarted.deliver("card-1", card_fields("card-1"))
    assert item_id == only_item(graph, site_id(graph))["id"]
    assert graph.items_created == 1


async def test_429_is_transient_with_the_servers_retry_after_and_no_sdk_retry(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    graph.script(Scripted(429, "TooManyRequests", retry_after=7, method="POST"))
    with pytest.raises(SinkTransientError) as throttled:
        await sink.deliver("card-1", card_fields("card-1"))
    assert throttled.value.retry_after == 7.0
    assert "429" in throttled.value.reason
    assert item_posts(graph) == 1
    assert graph.items_created == 0
    assert graph.violations == []


async def test_a_503_storm_is_transient_each_time_then_the_card_goes_through(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    graph.script(*[Scripted(503, retry_after=2, method="POST") for _ in range(3)])
    for _ in range(3):
        with pytest.raises(SinkTransientError) as unavailable:
            await sink.deliver("card-1", card_fields("card-1"))
        assert unavailable.value.retry_after == 2.0
    await sink.deliver("card-1", card_fields("card-1"))
    assert graph.items_created == 1


@pytest.mark.parametrize(("status", "code"), [(403, "accessDenied"), (404, "itemNotFound")])
async def test_refusals_are_permanent_with_status_and_code_but_no_content(
    graph: FakeGraph, make_sink: MakeSink, status: int, code: str
) -> None:
    sink = await make_sink()
    graph.script(Scripted(status, code, method="POST"))
    with pytest.raises(SinkPermanentError) as refused:
        await sink.deliver("card-1", card_fields("card-1"))
    assert refused.value.reason == f"create item: HTTP {status} {code}"
    assert FAKE_TOKEN not in str(refused.value)
    assert "Copilot" not in str(refused.value)


async def test_a_field_the_list_lacks_is_a_permanent_error(
    graph: FakeGraph, make_sink: MakeSink
) -> None:
    sink = await make_sink()
    with pytest.raises(SinkPermanentError, match="HTTP 400"):
        await sink.deliver("card-1", {**card_fields("card-1"), "Ukjent": "x"})
    assert graph.items_created == 0


async def test_a_missing_list_is_permanent(make_sink: MakeSink) -> None:
    sink = await make_sink(provision=False)
    with pytest.raises(SinkPermanentError, match="not found"):
        await sink.deliver("card-1", card_fields("card-1"))


async def test_an_unreachable_graph_is_transient(credential: StaticTokenCredential) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connection = connect_with_credential(credential, f"http://127.0.0.1:{port}/v1.0")
    sink = SharePointSink.from_connection(connection, SITE_URL, LIST)
    try:
        with pytest.raises(SinkTransientError, match="network error"):
            await sink.deliver("card-1", card_fields("card-1"))
    finally:
        await sink.close()


async def test_statuses_reads_every_page(graph: FakeGraph, make_sink: MakeSink) -> None:
    sink = await make_sink()
    for n in range(7):
        await sink.deliver(f"card-{n}", card_fields(f"card-{n}"))
    lists = graph.lists[site_id(graph)]
    target = next(x for x in lists.values() if x.display_name == LIST)
    target.items["3"]["fields"][STATUS_COLUMN] = "Vurdert"
    before = len(graph.requests)
    statuses = await sink.statuses()
    assert statuses == {f"card-{n}": ("Vurdert" if n == 2 else "Ny") for n in range(7)}
    assert len(graph.requests) - before == 3  # pages of 3: 3 + 3 + 1
    assert graph.violations == []


async def test_setup_creates_the_list_with_typed_columns(
    graph: FakeGraph, credential: StaticTokenCredential
) -> None:
    connection = connect_with_credential(credential, graph.base_url)
    report = await ensure_list(connection.client, SITE_URL, LIST, SPECS)
    await connection.aclose()
    assert report.list_created
    assert report.site_id == site_id(graph)
    assert report.columns_added == tuple(spec.name for spec in SPECS)
    made = graph.lists[report.site_id][report.list_id].columns
    assert made[CARD_ID_COLUMN]["enforceUniqueValues"] is True
    assert made[CARD_ID_COLUMN]["indexed"] is True
    assert made[CARD_ID_COLUMN]["required"] is True
    assert made["HvaGjort"]["text"]["allowMultipleLines"] is True
    assert made["Nytte"]["number"] == {"minimum": 1, "maximum": 5}
    assert made["Verktoy"]["choice"]["choices"] == ["Copilot Chat", "Annet"]
    assert made["Verktoy"]["choice"]["displayAs"] == "dropDownMenu"
    assert made["KanDeles"]["boolean"] == {}
    assert made["Innsendt"]["dateTime"]["format"] == "dateTime"
    assert made[STATUS_COLUMN]["defaultValue"] == {"value": "Ny"}
    assert made["Oppgave"]["displayName"] == "Oppgave"
    assert graph.violations == []


async def test_setup_twice_changes_nothing_the_second_time(
    graph: FakeGraph, credential: StaticTokenCredential
) -> None:
    connection = connect_with_credential(credential, graph.base_url)
    await ensure_list(connection.client, SITE_URL, LIST, SPECS)
    posts_before = sum(1 for method, _ in graph.requests if method == "POST")
    second = await ensure_list(connection.client, SITE_URL, LIST, SPECS)
    await connection.aclose()
    assert not second.list_created
    assert second.columns_added == ()
    assert second.columns_present == tuple(spec.name for spec in SPECS)
    assert sum(1 for method, _ in graph.requests if method == "POST") == posts_before


async def test_setup_adds_only_missing_columns_and_leaves_the_others_alone(
    graph: FakeGraph, credential: StaticTokenCredential
) -> None:
    own_card_id = {"name": CARD_ID_COLUMN, "displayName": "Egen id", "text": {}}
    own_extra = {"name": "Kommentar", "displayName": "Kommentar", "text": {"maxLength": 50}}
    existing = graph.add_list(site_id(graph), LIST, [own_card_id, own_extra])
    before = {name: dict(column) for name, column in existing.columns.items()}
    connection = connect_with_credential(credential, graph.base_url)
    report = await ensure_list(connection.client, SITE_URL, LIST, SPECS)
    await connection.aclose()
    assert not report.list_created
    assert report.list_id == existing.id
    assert report.columns_present == (CARD_ID_COLUMN,)
    assert report.columns_added == tuple(s.name for s in SPECS if s.name != CARD_ID_COLUMN)
    for name, column in before.items():
        assert existing.columns[name] == column
    assert len(existing.columns) == len(before) + len(SPECS) - 1
    assert graph.violations == []


async def test_setup_command_reports_and_prints_the_grant(
    graph: FakeGraph, credential: StaticTokenCredential
) -> None:
    settings = Settings.model_validate(
        {"KIVETT_GRAPH_BASE_URL": graph.base_url, "MicrosoftAppId": "app-123"}
        | {"MicrosoftAppPassword": "x", "MicrosoftAppTenantId": "t"}
    )
    out = io.StringIO()
    code = await setup(settings, SITE_URL, LIST, CHOICES, out, credential=credential)
    text = out.getvalue()
    assert code == 0
    assert "Listen ble opprettet" in text
    assert site_id(graph) in text
    assert '"id": "app-123"' in text
    assert "Sites.Selected" in text
    assert not credential.closed  # the caller's credential stays the caller's


async def test_setup_command_fails_with_a_short_reason(
    graph: FakeGraph, credential: StaticTokenCredential
) -> None:
    settings = Settings.model_validate({"KIVETT_GRAPH_BASE_URL": graph.base_url})
    graph.script(Scripted(403, "accessDenied"))
    out = io.StringIO()
    code = await setup(settings, SITE_URL, LIST, CHOICES, out, credential=credential)
    assert code == 1
    assert out.getvalue() == "Oppsettet feilet: sharepoint setup: HTTP 403 accessDenied\n"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after({"Retry-After": "5"}) == 5.0
    assert retry_after({"retry-after": later}, now) == 90.0
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({"Retry-After": "inf"}) is None
    assert retry_after({}) is None

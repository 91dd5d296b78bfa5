"""`kivett sharepoint setup --device-code`: a person signs in (device code) and creates the lists
(trials, then learning cards with their link to a trial), against the stateful fake Graph. The
device code itself is a fake credential that calls azure-identity's prompt callback the way
`DeviceCodeCredential` does."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest

from bot.adapters.sharepoint.graph_client import SITES_MANAGE_SCOPE
from bot.core.sharepoint_schema import (
    TRIAL_LOOKUP_COLUMN,
    TRIALS_LIST_DEFAULT,
    ListChoices,
    columns,
    trial_columns,
)
from bot.operator.sharepoint import PersonSignIn, setup
from bot.settings import Settings
from tests.fakes.device_code import DEVICE_LOGIN, USER_CODE, FakeDeviceCode
from tests.fakes.graph import FAKE_TOKEN, FakeGraph, Scripted

SITE_URL = "https://contoso.sharepoint.com/sites/ki"
LIST = "Læringskort"
SETUP_APP = "7d3f0a52-9c1e-4f4b-8a51-2b6e0c9d1f11"  # the "KI-vett setup" registration
BOT_APP = "0b5e6c2d-1a2b-4c3d-9e8f-112233445566"
TENANT = "3c9b1e7a-5d4f-4a2b-8c6d-aabbccddeeff"
CHOICES = ListChoices(
    service_areas=("Helse og omsorg", "Oppvekst"),
    tools=("Copilot Chat", "Annet"),
    tasks=("Skrive tekst",),
    categories=("Åpen", "Begrenset"),
    recommend=("Ja", "Nei"),
)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        fake.add_site("contoso.sharepoint.com", "/sites/ki")
        yield fake


def laptop_settings(graph: FakeGraph) -> Settings:
    """An admin's machine: no bot credentials at all, only where Graph is."""
    return Settings.model_validate({"KIVETT_GRAPH_BASE_URL": graph.base_url})


async def test_a_person_signs_in_by_device_code_creates_the_list_and_gets_the_grant_to_run(
    graph: FakeGraph,
) -> None:
    device_code = FakeDeviceCode()
    out = io.StringIO()
    code = await setup(
        laptop_settings(graph),
        SITE_URL,
        LIST,
        CHOICES,
        out,
        person=PersonSignIn(SETUP_APP, TENANT, make_credential=device_code),
        bot_app_id=BOT_APP,
    )
    text = out.getvalue()
    assert code == 0, text
    # the person signed in to the setup app in the municipality's tenant, was asked once …
    assert device_code.made == [(TENANT, SETUP_APP)]
    credential = device_code.credentials[0]
    assert credential.prompts == 1
    # … for the one delegated permission creating a list needs, on every request
    assert set(credential.scopes) == {(SITES_MANAGE_SCOPE,)}
    assert len(credential.scopes) == len(graph.requests)
    assert credential.closed
    # the prompt from azure-identity's callback: where to go and the code
    assert f"Åpne {DEVICE_LOGIN}" in text
    assert f"Skriv inn koden   {USER_CODE}" in text
    # both lists exist, with every column, and a learning card's item can link to a trial's
    site_id = next(iter(graph.lists))
    trials, made = graph.lists[site_id].values()
    assert (trials.display_name, made.display_name) == (TRIALS_LIST_DEFAULT, LIST)
    assert {spec.name for spec in trial_columns(CHOICES)} <= set(trials.columns)
    assert trials.columns["UtprovingId"]["enforceUniqueValues"] is True
    assert trials.columns["PeriodeStart"]["dateTime"]["format"] == "dateOnly"
    assert {spec.name for spec in columns(CHOICES)} <= set(made.columns)
    lookup = made.columns[TRIAL_LOOKUP_COLUMN]["lookup"]
    assert lookup == {"listId": trials.id, "columnName": "Title"}
    assert graph.violations == []
    # and then the grant for the bot: the Graph request and the PowerShell line
    prompt_at = text.index(USER_CODE)
    created_at = text.index("Listen ble opprettet")
    grant_at = text.index(f"POST {graph.base_url}/sites/{site_id}/permissions")
    assert prompt_at < created_at < grant_at
    assert f"Connect-MgGraph -TenantId '{TENANT}' -Scopes Sites.FullControl.All" in text
    assert f"New-MgSitePermission -SiteId '{site_id}' -BodyParameter" in text
    body = json.loads(text[text.index("{", grant_at) : text.index("\n\neller")])
    assert body == {
        "roles": ["write"],
        "grantedToIdentities": [{"application": {"id": BOT_APP, "displayName": "KI-vett"}}],
    }
    assert FAKE_TOKEN not in text


async def test_running_it_again_as_a_person_changes_nothing_and_asks_once_again(
    graph: FakeGraph,
) -> None:
    settings = laptop_settings(graph)
    for _ in range(2):
        device_code = FakeDeviceCode()
        out = io.StringIO()
        person = PersonSignIn(SETUP_APP, TENANT, make_credential=device_code)
        assert await setup(settings, SITE_URL, LIST, CHOICES, out, person=person) == 0
        assert device_code.credentials[0].prompts == 1
    assert out.getvalue().count("Ingenting ble endret") == 2  # neither list changed
    assert sum(len(lists) for lists in graph.lists.values()) == 2


async def test_a_person_without_rights_on_the_site_is_told_what_they_need(
    graph: FakeGraph,
) -> None:
    graph.script(Scripted(403, "accessDenied"))
    out = io.StringIO()
    person = PersonSignIn(SETUP_APP, TENANT, make_credential=FakeDeviceCode())
    code = await setup(laptop_settings(graph), SITE_URL, LIST, CHOICES, out, person=person)
    assert code == 1
    lines = out.getvalue().splitlines()
    assert "Oppsettet feilet: sharepoint setup: HTTP 403 accessDenied" in lines
    assert any("Administrer lister" in line for line in lines)
    assert "POST" not in out.getvalue()  # no grant for a list that was not made


async def test_public_client_flows_switched_off_gives_the_entra_code_and_the_fix(
    graph: FakeGraph,
) -> None:
    refused = FakeDeviceCode(
        error="AADSTS7000218: The request body must contain the following parameter: "
        "'client_assertion' or 'client_secret'."
    )
    out = io.StringIO()
    person = PersonSignIn(SETUP_APP, TENANT, make_credential=refused)
    code = await setup(laptop_settings(graph), SITE_URL, LIST, CHOICES, out, person=person)
    assert code == 1
    text = out.getvalue()
    assert "Innloggingen feilet (AADSTS7000218)." in text
    assert "Allow public client flows" in text
    assert graph.requests == []  # nothing reached Graph without a token
    assert refused.credentials[0].closed


async def test_a_sign_in_that_times_out_says_to_try_again(graph: FakeGraph) -> None:
    late = FakeDeviceCode(error="Timed out waiting for user to authenticate")
    out = io.StringIO()
    person = PersonSignIn(SETUP_APP, TENANT, make_credential=late)
    assert await setup(laptop_settings(graph), SITE_URL, LIST, CHOICES, out, person=person) == 1
    assert "prøv igjen" in out.getvalue()
    assert not graph.lists[next(iter(graph.lists))]

"""Provision the lists: `kivett sharepoint setup`.

`ensure_list` creates a list (template genericList) with every column it is given (the trials
list's, `bot.core.sharepoint_schema.trial_columns`, then the learning-card list's, `columns`, and
its lookup column to the trials list) when the site has no list of that name. When it has one, it
adds only the columns the list lacks (matched by internal name) and changes nothing else, so
running it again is safe. A lookup column needs the id of the list it points to, so it is added
after the list itself exists, on its own.

Creating lists and columns needs more than the bot's run-time grant (`Sites.Selected` with
`write`): `Sites.Manage.All`, delegated when a person signs in with `--device-code`. Someone who may
manage the site runs this once; `grant_instructions` then says how to give the bot its grant.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.boolean_column import BooleanColumn
from msgraph.generated.models.choice_column import ChoiceColumn
from msgraph.generated.models.column_definition import ColumnDefinition
from msgraph.generated.models.date_time_column import DateTimeColumn
from msgraph.generated.models.default_column_value import DefaultColumnValue
from msgraph.generated.models.list_ import List_
from msgraph.generated.models.list_info import ListInfo
from msgraph.generated.models.lookup_column import LookupColumn
from msgraph.generated.models.number_column import NumberColumn
from msgraph.generated.models.text_column import TextColumn
from msgraph.generated.sites.item.lists.item.columns.columns_request_builder import (
    ColumnsRequestBuilder,
)

from bot.adapters.sharepoint.sink import MAX_PAGES, find_list_id, resolve_site_id
from bot.core.sharepoint_schema import ColumnKind, ColumnSpec

if TYPE_CHECKING:
    from msgraph.graph_service_client import GraphServiceClient

__all__ = ["SetupReport", "column_definition", "ensure_list", "grant_instructions"]

TEXT_MAX_LENGTH = 255


@dataclass(frozen=True)
class SetupReport:
    """What `ensure_list` found and did."""

    site_id: str
    list_id: str
    list_created: bool
    columns_added: tuple[str, ...]
    columns_present: tuple[str, ...]


def column_definition(spec: ColumnSpec, lookup_list_id: str = "") -> ColumnDefinition:
    """The Graph columnDefinition for one column of the schema; a lookup column points at the
    list `lookup_list_id`."""
    column = ColumnDefinition(name=spec.name, display_name=spec.display_name)
    match spec.kind:
        case ColumnKind.TEXT:
            column.text = TextColumn(allow_multiple_lines=False, max_length=TEXT_MAX_LENGTH)
        case ColumnKind.MULTILINE:
            column.text = TextColumn(allow_multiple_lines=True, text_type="plain")
        case ColumnKind.CHOICE:
            column.choice = ChoiceColumn(
                choices=list(spec.choices), display_as="dropDownMenu", allow_text_entry=False
            )
        case ColumnKind.NUMBER:
            column.number = NumberColumn(minimum=spec.minimum, maximum=spec.maximum)
        case ColumnKind.BOOLEAN:
            column.boolean = BooleanColumn()
        case ColumnKind.DATETIME:
            column.date_time = DateTimeColumn(display_as="default", format="dateTime")
        case ColumnKind.DATE:
            column.date_time = DateTimeColumn(display_as="default", format="dateOnly")
        case ColumnKind.LOOKUP:
            if not lookup_list_id:
                raise ValueError(f"lookup column {spec.name!r}: no list to look up in")
            column.lookup = LookupColumn(
                list_id=lookup_list_id, column_name=spec.lookup_column or "Title"
            )
    if spec.required:
        column.required = True
    if spec.unique:
        # SharePoint enforces unique values only on an indexed column.
        column.enforce_unique_values = True
        column.indexed = True
    if spec.default is not None:
        column.default_value = DefaultColumnValue(value=spec.default)
    return column


async def ensure_list(
    client: GraphServiceClient,
    site: str,
    list_name: str,
    specs: Sequence[ColumnSpec],
    *,
    lookup_list_id: str = "",
) -> SetupReport:
    """Make sure the site has the list with every column in `specs` (lookup columns pointing at
    the list `lookup_list_id`). Raises the SDK's errors (`kiota_abstractions.api_error.APIError`,
    httpx errors); map them with `bot.adapters.sharepoint.sink.sink_error` for a short reason."""
    site_id = await resolve_site_id(client, site)
    list_id = await find_list_id(client, site_id, list_name)
    lookups = [spec for spec in specs if spec.kind is ColumnKind.LOOKUP]
    if lookups and not lookup_list_id:
        raise ValueError("ensure_list: lookup columns need lookup_list_id")
    if list_id is None:
        body = List_(
            display_name=list_name,
            list_=ListInfo(template="genericList"),
            columns=[column_definition(spec) for spec in specs if spec not in lookups],
        )
        created = await client.sites.by_site_id(site_id).lists.post(body)
        if created is None or not created.id:
            raise RuntimeError("create list: the answer carried no list id")
        columns = client.sites.by_site_id(site_id).lists.by_list_id(created.id).columns
        for spec in lookups:
            await columns.post(column_definition(spec, lookup_list_id))
        names = tuple(spec.name for spec in specs)
        return SetupReport(site_id, created.id, True, names, ())

    present = await _column_names(client, site_id, list_id)
    columns = client.sites.by_site_id(site_id).lists.by_list_id(list_id).columns
    added: list[str] = []
    for spec in specs:
        if spec.name.casefold() in present:
            continue
        await columns.post(column_definition(spec, lookup_list_id))
        added.append(spec.name)
    already = tuple(spec.name for spec in specs if spec.name not in added)
    return SetupReport(site_id, list_id, False, tuple(added), already)


async def _column_names(client: GraphServiceClient, site_id: str, list_id: str) -> set[str]:
    """Internal names of the list's columns, case-folded."""
    columns = client.sites.by_site_id(site_id).lists.by_list_id(list_id).columns
    query = ColumnsRequestBuilder.ColumnsRequestBuilderGetQueryParameters(
        select=["name", "displayName"]
    )
    page = await columns.get(RequestConfiguration(query_parameters=query))
    names: set[str] = set()
    for _ in range(MAX_PAGES):
        if page is None:
            break
        names.update(c.name.casefold() for c in page.value or [] if c.name)
        if not page.odata_next_link:
            break
        page = await columns.with_url(page.odata_next_link).get()
    return names


def grant_instructions(
    site_id: str, client_id: str, graph_base_url: str, tenant_id: str = ""
) -> str:
    """How an admin gives the bot write access to this one site (norsk bokmål): the Graph request
    and the same in Microsoft Graph PowerShell, ready to paste."""
    base = graph_base_url.rstrip("/")
    grant = {
        "roles": ["write"],
        "grantedToIdentities": [{"application": {"id": client_id, "displayName": "KI-vett"}}],
    }
    body = textwrap.indent(json.dumps(grant, indent=2, ensure_ascii=False), "   ")
    quoted_site = _powershell_quoted(site_id)
    powershell_body = (
        "@{ roles = @('write'); grantedToIdentities = @(@{ application = @{ id = "
        f"{_powershell_quoted(client_id)}; displayName = 'KI-vett' }} }}) }}"
    )
    tenant = f" -TenantId {_powershell_quoted(tenant_id)}" if tenant_id else ""
    return f"""\
Gi KI-vett skrivetilgang til akkurat dette området (Sites.Selected)

Til vanlig drift trenger boten bare applikasjonstillatelsen Sites.Selected (med
administratorsamtykke i Entra ID) og rollen «write» på dette ene området. Oppsettet av listen
trengte mer (Sites.Manage.All), men bare denne ene gangen.

Rollen gis av en SharePoint-administrator med Sites.FullControl.All, enten som Graph-forespørsel
(for eksempel i Graph Explorer):

   POST {base}/sites/{site_id}/permissions
   Content-Type: application/json

{body}

eller med Microsoft Graph PowerShell:

   Connect-MgGraph{tenant} -Scopes Sites.FullControl.All
   New-MgSitePermission -SiteId {quoted_site} -BodyParameter {powershell_body}

Sjekk tilgangen med GET {base}/sites/{site_id}/permissions
(eller Get-MgSitePermission -SiteId {quoted_site}). Boten kan da legge inn læringskort i listen,
men ikke opprette lister eller lese andre områder.
"""


def _powershell_quoted(value: str) -> str:
    """A PowerShell string literal: single quotes, a quote inside doubled (site ids hold commas)."""
    return "'" + value.replace("'", "''") + "'"

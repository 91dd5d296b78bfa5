"""Pieces of `kivett sharepoint setup` that need no Graph: the grant an admin pastes, and the
credential wrapper that lets a person take their time signing in."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from azure.core.credentials import AccessToken

from bot.adapters.sharepoint.graph_client import InThreadCredential
from bot.adapters.sharepoint.setup import grant_instructions

SITE_ID = (
    "contoso.sharepoint.com,6b1f3c0e-0000-4000-8000-000000000001,"
    "9a2e4d1f-0000-4000-8000-000000000002"
)
BOT_APP = "0b5e6c2d-1a2b-4c3d-9e8f-112233445566"


def test_the_grant_is_a_graph_request_with_a_json_body_for_write_on_this_site() -> None:
    text = grant_instructions(SITE_ID, BOT_APP, "https://graph.microsoft.com/v1.0/")
    request = f"POST https://graph.microsoft.com/v1.0/sites/{SITE_ID}/permissions"
    assert request in text
    start = text.index("{", text.index(request))
    body = json.loads(text[start : text.index("\n\neller", start)])
    assert body == {
        "roles": ["write"],
        "grantedToIdentities": [{"application": {"id": BOT_APP, "displayName": "KI-vett"}}],
    }


def test_the_powershell_line_quotes_the_site_id_so_its_commas_stay_one_argument() -> None:
    text = grant_instructions(SITE_ID, BOT_APP, "https://graph.microsoft.com/v1.0", "tenant-1")
    lines = [line.strip() for line in text.splitlines()]
    assert "Connect-MgGraph -TenantId 'tenant-1' -Scopes Sites.FullControl.All" in lines
    (grant,) = [line for line in lines if line.startswith("New-MgSitePermission")]
    assert grant.startswith(f"New-MgSitePermission -SiteId '{SITE_ID}' -BodyParameter @{{")
    assert f"id = '{BOT_APP}'" in grant
    assert "roles = @('write')" in grant
    assert grant.count("{") == grant.count("}")


def test_without_a_tenant_connect_asks_for_none_and_quotes_are_doubled() -> None:
    text = grant_instructions("it's", "app'1", "https://graph.microsoft.com/v1.0")
    assert "Connect-MgGraph -Scopes Sites.FullControl.All" in text
    assert "-SiteId 'it''s'" in text
    assert "id = 'app''1'" in text


class WaitsForThePerson:
    """A synchronous credential that returns only once the person has signed in, like
    `DeviceCodeCredential` polling Entra."""

    def __init__(self) -> None:
        self.signed_in = threading.Event()
        self.closed = False

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        if not self.signed_in.wait(timeout=30):
            raise AssertionError("the event loop was blocked: nobody could sign in")
        return AccessToken("token", 4_102_444_800)

    def close(self) -> None:
        self.closed = True


async def test_waiting_for_the_sign_in_leaves_the_event_loop_free() -> None:
    person = WaitsForThePerson()
    credential = InThreadCredential(person)
    waiting = asyncio.create_task(credential.get_token("scope"))
    await asyncio.sleep(0)
    # Signing in happens on the loop while get_token waits: it could not if get_token blocked.
    asyncio.get_running_loop().call_soon(person.signed_in.set)
    token = await waiting
    assert token.token == "token"
    await credential.close()
    assert person.closed

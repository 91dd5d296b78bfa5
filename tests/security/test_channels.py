"""Issue 15.3: Teams only, and roles by the Entra object id Teams sends.

The key endpoint here endorses its key for several channels (as Microsoft's does), so a token
is valid for webchat, directline and emulator too: the channel itself must be refused.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.caller import Role, roles_for
from bot.teams.guard import CHANNEL_NOT_ALLOWED
from content import load_catalog
from tests.security.conftest import Guard, GuardFactory, NoTokenCredentials
from tests.security.keyserver import KeyServer
from tests.security.tokens import CHANNEL_ID, mint

OTHER_CHANNELS = ("webchat", "directline", "emulator")
LEAD_OID = "0d6c5a4e-lead-4b07-9d1a-00000000le4d"
LEADS_ONLY = load_catalog().texts("nb")("learning.summary.leads_only")


@pytest.fixture
def endorsed_everywhere(key_server: KeyServer) -> KeyServer:
    key_server.endorsements = (CHANNEL_ID, *OTHER_CHANNELS)
    return key_server


async def production(make_guard: GuardFactory, key_server: KeyServer, **settings: Any) -> Guard:
    return await make_guard(
        credentials=NoTokenCredentials(),
        auth_endpoints=key_server.endpoints(),
        KIVETT_LEADS=LEAD_OID,
        **settings,
    )


def summary_request(guard: Guard, channel: str, sender: dict[str, str]) -> dict[str, Any]:
    return guard.activity("oppsummering", channelId=channel, **{"from": sender})


def sent_text(guard: Guard) -> str:
    return json.dumps(guard.stub.activities, ensure_ascii=False)


@pytest.mark.parametrize("channel", OTHER_CHANNELS)
async def test_other_channels_are_refused_even_with_a_valid_token(
    make_guard: GuardFactory, endorsed_everywhere: KeyServer, channel: str
) -> None:
    guard = await production(make_guard, endorsed_everywhere)

    reply = await guard.post(guard.activity(channelId=channel), token=mint(guard.service_url))

    assert reply.status == 403, reply
    assert json.loads(reply.text) == CHANNEL_NOT_ALLOWED
    await guard.assert_bot_not_reached()
    # the same token on Teams is served: the refusal is the channel's
    teams = await guard.post(guard.activity(), token=mint(guard.service_url))
    assert teams.status == 201


async def test_directline_sender_posing_as_a_lead_by_teams_id_gets_nothing(
    make_guard: GuardFactory, endorsed_everywhere: KeyServer
) -> None:
    guard = await production(make_guard, endorsed_everywhere)

    reply = await guard.post(
        summary_request(guard, "directline", {"id": LEAD_OID, "name": "Ola"}),
        token=mint(guard.service_url),
    )

    assert reply.status == 403, reply
    await guard.assert_bot_not_reached()


async def test_the_dangerous_switch_does_nothing_outside_dev_mode(
    make_guard: GuardFactory, endorsed_everywhere: KeyServer
) -> None:
    guard = await production(
        make_guard, endorsed_everywhere, KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS="true"
    )
    assert guard.services.settings.dangerous_allow_other_channels

    reply = await guard.post(guard.activity(channelId="webchat"), token=mint(guard.service_url))

    assert reply.status == 403, reply
    await guard.assert_bot_not_reached()


async def test_dev_mode_refuses_other_channels_unless_the_dangerous_switch_is_on(
    make_guard: GuardFactory,
) -> None:
    guard = await make_guard(dev=True)
    reply = await guard.post(guard.activity(channelId="webchat"))
    assert reply.status == 403, reply
    await guard.assert_bot_not_reached()

    allowed = await make_guard(dev=True, KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS="true")
    reply = await allowed.post(allowed.activity(channelId="webchat"))
    assert reply.status == 201, reply
    assert len(allowed.stub.activities) == 1


async def test_with_other_channels_allowed_a_teams_id_equal_to_a_leads_object_id_is_no_lead(
    make_guard: GuardFactory,
) -> None:
    guard = await make_guard(
        dev=True, KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS="true", KIVETT_LEADS=LEAD_OID
    )

    posing = await guard.post(summary_request(guard, "directline", {"id": LEAD_OID}))
    assert posing.status == 201, posing
    assert LEADS_ONLY in sent_text(guard)  # told the summary is for leads, nothing more

    guard.stub.activities.clear()
    lead = {"id": "29:lead", "name": "Lea", "aadObjectId": LEAD_OID}
    real = await guard.post(summary_request(guard, CHANNEL_ID, lead))
    assert real.status == 201, real
    assert guard.stub.activities
    assert LEADS_ONLY not in sent_text(guard)


def test_roles_need_the_object_id() -> None:
    everyone = {"champions": {LEAD_OID}, "leads": {LEAD_OID}}
    assert roles_for(object_id=LEAD_OID, **everyone) == {Role.CHAMPION, Role.LEAD}
    assert roles_for(object_id="", **everyone) == frozenset()
    assert roles_for(object_id="someone-else", **everyone) == frozenset()

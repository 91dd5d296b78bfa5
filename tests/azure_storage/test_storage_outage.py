"""Azure Storage away for a while: /readyz says so, a learning card sent meanwhile comes back with
everything written and a plain explanation (never "saved", never a 5xx), and works again after."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bot.bootstrap import Overrides
from bot.settings import Settings
from bot.teams.app import create_app
from content import load_catalog
from tests.azure_storage.test_two_instances import activity
from tests.azurite import start_azurite

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
NB = load_catalog().texts("nb")
CARD = {
    "title": "Utkast til svarbrev",
    "area": "school",
    "task": "write",
    "tool": "copilot_chat",
    "what": "Ba om et utkast.",
    "result": "Godt.",
    "benefit": "4",
    "minutes": "10",
    "per_month": "2",
    "category": "open",
    "recommend": "yes",
    "share": "false",
}


def submit(card_id: str) -> dict[str, Any]:
    data = {"v": "1", "card": card_id, **CARD}
    return activity(
        "http://127.0.0.1:9/connector/",
        "aad-writer",
        "a:writer",
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "laeringskort.submit", "data": data}},
    )


def texts_in(card: dict[str, Any]) -> list[str]:
    return [str(element.get("text", "")) for element in card["body"]]


async def test_an_outage_is_told_plainly_and_loses_nothing(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    with start_azurite(tmp_path / "azurite.log") as azurite:
        settings = Settings.model_validate(
            {
                "KIVETT_STORAGE": "azure",
                "KIVETT_AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
                "KIVETT_AZURE_CONTAINER": f"outage-{uuid.uuid4().hex[:12]}",
                "KIVETT_DATA_DIR": str(tmp_path),
            }
        )
        overrides = Overrides(run_scheduler=False, run_broadcaster=False, run_outbox=False)
        client = await aiohttp_client(create_app(settings, dev=True, overrides=overrides))
        assert (await client.get("/readyz")).status == 200
        response = await client.post("/api/messages", json=submit(uuid.uuid4().hex))
        assert response.status == 200
        saved = (await response.json())["value"]
        assert NB("learning.saved_title") in texts_in(saved)[0]
    # Azurite is gone now
    ready = await client.get("/readyz")
    assert ready.status == 503
    response = await client.post("/api/messages", json=submit(uuid.uuid4().hex))
    assert response.status == 200
    back = (await response.json())["value"]
    assert NB("learning.storage_down") in texts_in(back)
    kept = {
        element["id"]: element.get("value")
        for element in back["body"]
        if str(element.get("type", "")).startswith("Input.")
    }
    assert kept["title"] == CARD["title"]
    assert kept["what"] == CARD["what"]

"""Make the learning-card list on the fake Graph the way an admin does: `kivett sharepoint setup`'s
own code (`ensure_list`), so the list has the real column definitions, the unique card id included.
"""

from __future__ import annotations

from bot.adapters.sharepoint.graph_client import connect_with_credential
from bot.adapters.sharepoint.setup import ensure_list
from bot.content_loader import load_content
from bot.core.sharepoint_schema import columns
from dialogs.learning_card import LearningCardDialog
from tests.fakes.graph import FakeGraph, StaticTokenCredential

SITE_URL = "https://contoso.sharepoint.com/sites/ki"
LIST_NAME = "Læringskort"


async def provision(graph: FakeGraph) -> str:
    """Add the site and the list to `graph`; returns the site id."""
    site_id = graph.add_site("contoso.sharepoint.com", "/sites/ki")
    content = load_content()
    choices = (
        LearningCardDialog(content.policy, content.service_areas)
        .labels(content.catalog.texts("nb"))
        .list_choices()
    )
    connection = connect_with_credential(StaticTokenCredential(graph.token), graph.base_url)
    try:
        await ensure_list(connection.client, SITE_URL, LIST_NAME, columns(choices))
    finally:
        await connection.aclose()
    return site_id

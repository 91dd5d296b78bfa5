"""Everything a KI-vett process remembers per conversation, per person or per service URL has a
bound, so memory stays flat however many people write (bench/soak measures the process; these
tests count what each structure keeps and what its store or factory saw)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ConnectorFactory

from bot.adapters.language_cache import CachedLanguageChoices
from bot.core.records import StoredReference
from bot.teams.connector_cache import (
    MAX_CONNECTOR_CLIENTS,
    CachingConnectorFactory,
    ClientCounts,
)
from bot.teams.references import ReferenceKeeper
from cards.renderer import CardRenderer
from cards.views import AboutView
from content import load_catalog
from tests.fakes.stores import FakeLanguageChoices, FakeReferences


class CountingReferences(FakeReferences):
    def __init__(self) -> None:
        super().__init__()
        self.saved: list[str] = []

    async def save(self, reference: StoredReference) -> bool:
        self.saved.append(reference.conversation_id)
        return await super().save(reference)


def turn(conversation: str) -> TurnContext:
    activity = Activity().deserialize(
        {
            "type": "message",
            "id": "1",
            "channelId": "msteams",
            "serviceUrl": "https://smba.example/",
            "text": "hjelp",
            "from": {"id": "29:x", "aadObjectId": "aad-x"},
            "recipient": {"id": "28:bot"},
            "conversation": {"id": conversation, "conversationType": "personal"},
        }
    )
    return TurnContext(TestAdapter(), activity)


async def test_the_reference_memo_forgets_the_least_recently_seen_conversation() -> None:
    store = CountingReferences()
    day = datetime(2026, 12, 3, 9, tzinfo=UTC)
    keeper = ReferenceKeeper(store, clock=lambda: day, memo_size=3)
    for name in ("a:1", "a:2", "a:3", "a:4"):
        await keeper.remember(turn(name))
    await keeper.remember(turn("a:4"))  # still remembered: no write
    await keeper.remember(turn("a:1"))  # pushed out by a:4: written again
    assert store.saved == ["a:1", "a:2", "a:3", "a:4", "a:1"]


class CountingFactory(ConnectorFactory):  # type: ignore[misc]  # untyped SDK base
    def __init__(self) -> None:
        self.created: list[str] = []

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        self.created.append(service_url)
        return object()


async def test_connector_clients_are_kept_for_at_most_the_bound_of_service_urls() -> None:
    inner = CountingFactory()
    counts = ClientCounts()
    factory = CachingConnectorFactory(inner, counts, "https://api.botframework.com")
    urls = [f"https://smba-{i}.example/" for i in range(MAX_CONNECTOR_CLIENTS + 1)]
    for url in urls:
        await factory.create(url)
    await factory.create(urls[-1])  # kept: not built again
    await factory.create(urls[0])  # the oldest was dropped for the newest: built again
    assert counts.connector_clients == MAX_CONNECTOR_CLIENTS + 2
    assert inner.created == [*urls, urls[0]]


def test_the_card_cache_keeps_at_most_its_size_and_renders_the_same_card() -> None:
    texts = load_catalog().texts("nb")
    renderer = CardRenderer(cache_size=4)
    first = renderer.render(AboutView(retention_days=1), texts)
    for days in range(2, 40):
        renderer.render(AboutView(retention_days=days), texts)
    assert renderer.cached_cards == 4
    assert renderer.render(AboutView(retention_days=1), texts) == first


async def test_the_language_memory_keeps_at_most_its_size_of_people() -> None:
    class CountingChoices(FakeLanguageChoices):
        def __init__(self) -> None:
            super().__init__()
            self.reads: list[str] = []

        async def get(self, user_key: str) -> Any:
            self.reads.append(user_key)
            return await super().get(user_key)

    inner = CountingChoices()
    choices = CachedLanguageChoices(inner, clock=lambda: 0.0, size=3)
    for person in ("u1", "u2", "u3", "u4"):
        await choices.get(person)
    await choices.get("u4")  # remembered
    await choices.get("u1")  # forgotten for u4: read again
    assert inner.reads == ["u1", "u2", "u3", "u4", "u1"]

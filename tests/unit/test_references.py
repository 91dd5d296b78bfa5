"""ReferenceKeeper: what a conversation reference keeps about people, and how often it is written
(once per UTC day while nothing changes, so the retention limit knows who is still around)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot.core.records import StoredReference
from bot.teams.references import ReferenceKeeper
from tests.fakes.stores import FakeReferences

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


class CountingReferences(FakeReferences):
    def __init__(self) -> None:
        super().__init__()
        self.saves: list[StoredReference] = []

    async def save(self, reference: StoredReference) -> bool:
        self.saves.append(reference)
        return await super().save(reference)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _turn(kind: str, conversation: str, *, service_url: str = "https://smba.example/") -> Any:
    activity = Activity().deserialize(
        {
            "type": "message",
            "id": "1",
            "channelId": "msteams",
            "serviceUrl": service_url,
            "text": "hjelp",
            "locale": "nb-NO",
            "from": {"id": "29:kari", "name": "Kari Nordmann", "aadObjectId": "aad-kari"},
            "recipient": {"id": "28:bot", "name": "KI-vett"},
            "conversation": {"id": conversation, "conversationType": kind, "tenantId": TENANT},
        }
    )
    return TurnContext(TestAdapter(), activity)


async def test_a_personal_reference_keeps_the_ids_to_write_to_but_not_the_name() -> None:
    store = CountingReferences()
    await ReferenceKeeper(store).remember(_turn("personal", "a:kari"))
    stored = store.items["a:kari"]
    assert stored.reference["user"] == {"id": "29:kari", "aadObjectId": "aad-kari"}
    assert "Kari Nordmann" not in str(stored.reference)
    assert stored.reference["conversation"]["id"] == "a:kari"
    assert stored.reference["serviceUrl"] == "https://smba.example/"
    assert stored.reference["bot"]["id"] == "28:bot"


async def test_a_channel_or_group_chat_reference_names_nobody() -> None:
    store = CountingReferences()
    keeper = ReferenceKeeper(store)
    await keeper.remember(_turn("channel", "19:c@thread.tacv2"))
    await keeper.remember(_turn("groupChat", "19:g@thread.v2"))
    for conversation in ("19:c@thread.tacv2", "19:g@thread.v2"):
        reference = store.items[conversation].reference
        assert "user" not in reference
        assert "aad-kari" not in str(reference)
        assert "Kari" not in str(reference)
        assert reference["conversation"]["id"] == conversation


async def test_an_unchanged_conversation_is_saved_again_once_per_utc_day() -> None:
    store = CountingReferences()
    clock = Clock(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    keeper = ReferenceKeeper(store, clock=clock)
    for _ in range(3):
        await keeper.remember(_turn("personal", "a:kari"))
    assert len(store.saves) == 1, "one write for a day of messages"
    clock.now = datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    await keeper.remember(_turn("personal", "a:kari"))
    assert len(store.saves) == 1
    clock.now = datetime(2026, 12, 3, 0, 1, tzinfo=UTC)
    await keeper.remember(_turn("personal", "a:kari"))
    await keeper.remember(_turn("personal", "a:kari"))
    assert len(store.saves) == 2, "the next UTC day writes once more"
    assert store.items["a:kari"].last_seen == clock.now
    assert [s.last_seen for s in store.saves] == [
        datetime(2026, 12, 2, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 0, 1, tzinfo=UTC),
    ]


async def test_a_change_install_or_erasure_saves_at_once() -> None:
    store = CountingReferences()
    keeper = ReferenceKeeper(store, clock=Clock(datetime(2026, 12, 2, 8, 0, tzinfo=UTC)))
    await keeper.remember(_turn("personal", "a:kari"))
    await keeper.remember(_turn("personal", "a:kari", service_url="https://smba.other/"))
    assert len(store.saves) == 2, "a new service URL"
    await keeper.remember(
        _turn("personal", "a:kari", service_url="https://smba.other/"), force=True
    )
    assert len(store.saves) == 3, "an install event"
    keeper.forget_memo("a:kari")
    await keeper.remember(_turn("personal", "a:kari", service_url="https://smba.other/"))
    assert len(store.saves) == 4, "after the reference was erased"


async def test_removing_the_bot_forgets_the_conversation() -> None:
    store = CountingReferences()
    keeper = ReferenceKeeper(store, clock=Clock(datetime(2026, 12, 2, 8, 0, tzinfo=UTC)))
    await keeper.remember(_turn("personal", "a:kari"))
    await keeper.forget(_turn("personal", "a:kari"))
    assert "a:kari" not in store.items
    await keeper.remember(_turn("personal", "a:kari"))
    assert "a:kari" in store.items, "installed again the same day: saved again"

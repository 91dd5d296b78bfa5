"""The store contract (bot.ports), once per backend: every test runs on embedded SQLite and on Azure
Storage (Azurite), both built by `open_stores` from settings, and checks what a user of the store
would notice. Behaviour only one backend has (SQLite's one-transaction batches, several Azure
instances sharing work) is tested beside that backend, in tests/integration and tests/azure_storage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.sqlite.actions import SqliteActionLedger
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.usage import SqliteUsageStats
from bot.bootstrap import open_stores
from bot.core.broadcast import Progress, RecipientState
from bot.core.learning_cards import DeliveryState, FollowUp, StoredCard
from bot.core.records import Erasure, LanguageChoice, StoredReference, Subscription
from bot.ports import ActionLedger, ETagConflictError, Stores, UsageStats
from bot.settings import Settings
from tests.contract.conftest import backend_settings
from tests.fakes.stores import (
    FakeBroadcasts,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
)
from tests.integration.test_outbox import card

MONDAY_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
AWKWARD_KEYS = ["msteams/conversations/a:1/", "../x?y#z%2F\\", "Åse ølkopp", "k" * 2000]


@pytest.fixture(params=["sqlite", "azure"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return backend_settings(request, tmp_path)


@pytest.fixture
async def stores(store_settings: Settings) -> AsyncIterator[Stores]:
    opened = await open_stores(store_settings)
    await opened.backend.ping()
    yield opened
    await opened.backend.close()


# -- conversation references ---------------------------------------------------------------------


async def test_a_reference_is_saved_read_updated_and_removed(stores: Stores) -> None:
    refs = stores.references
    ref = StoredReference("a:1", "personal", "tenant", {"serviceUrl": "https://smba", "x": 1})
    assert await refs.get("a:1") is None
    assert await refs.save(ref) is True
    assert await refs.get("a:1") == ref
    assert await refs.save(ref) is False, "an unchanged reference is not written again"
    same = StoredReference("a:1", "personal", "tenant", {"x": 1, "serviceUrl": "https://smba"})
    assert await refs.save(same) is False, "the order of its keys is no change"
    assert await refs.save(StoredReference("a:1", "personal", "tenant", {"x": 2})) is True
    assert await refs.save(StoredReference("a:1", "personal", "other", {"x": 2})) is True
    stored = await refs.get("a:1")
    assert stored == StoredReference("a:1", "personal", "other", {"x": 2})
    assert await refs.count() == 1
    assert await refs.remove("a:1") is True
    assert await refs.remove("a:1") is False
    assert await refs.get("a:1") is None
    assert await refs.count() == 0


async def test_references_round_trip_any_json_and_any_conversation_id(stores: Stores) -> None:
    reference = {"user": {"name": "Åse Ølstad", "roles": ["a", "b"]}, "n": 1.5, "none": None}
    for conversation_id in ["a:1/x?y#z", "19:abc@thread.tacv2;messageid=1", "Åse"]:
        await stores.references.save(StoredReference(conversation_id, "personal", "t", reference))
        stored = await stores.references.get(conversation_id)
        assert stored == StoredReference(conversation_id, "personal", "t", reference)
    assert await stores.references.count() == 3


async def test_references_are_listed_by_conversation_type_in_id_order(stores: Stores) -> None:
    refs = stores.references
    for conversation_id, kind in [
        ("19:b@thread.tacv2", "channel"),
        ("a:2", "personal"),
        ("a:1", "personal"),
        ("19:chat@thread.v2", "groupChat"),
    ]:
        await refs.save(StoredReference(conversation_id, kind, "t", {"id": conversation_id}))
    await refs.save(StoredReference("19:b@thread.tacv2", "personal", "t", {"moved": True}))
    personal = await refs.of_type("personal")
    assert [r.conversation_id for r in personal] == ["19:b@thread.tacv2", "a:1", "a:2"]
    assert personal[0].reference == {"moved": True}
    assert await refs.of_type("channel") == []
    assert [r.conversation_id for r in await refs.of_type("groupChat")] == ["19:chat@thread.v2"]
    assert await refs.count() == 4


# -- usage ---------------------------------------------------------------------------------------


async def test_usage_counts_verdicts_and_feedback_exactly(stores: Stores) -> None:
    usage = stores.usage
    empty = await usage.snapshot()
    assert (dict(empty.verdicts), dict(empty.feedback)) == ({}, {True: 0, False: 0})
    verdict = ("yellow", "skrive_saksframlegg", "copilot", "begrenset")
    await asyncio.gather(*(usage.record_verdict(*verdict) for _ in range(12)))
    await usage.record_verdict("green", "oversette", "tøøl", "åpen")
    await usage.record_verdict("red", "task|with", "separator", "unntatt")
    for useful in (True, True, False):
        await usage.record_feedback(useful)
    snapshot = await usage.snapshot()
    assert dict(snapshot.verdicts) == {verdict: 12, ("green", "oversette", "tøøl", "åpen"): 1}
    assert dict(snapshot.feedback) == {True: 2, False: 1}


# -- lessons -------------------------------------------------------------------------------------


def _subscription(user: str, due: datetime, language: str = "nb") -> Subscription:
    return Subscription(user, f"a:{user}", 0, "09:00", "Europe/Oslo", language, due)


async def _due(stores: Stores, now: datetime, limit: int = 10) -> list[str]:
    return [s.user_key for s in await stores.lessons.due(now, limit)]


async def test_lesson_progress_is_kept_per_user_and_counted_once(stores: Stores) -> None:
    lessons = stores.lessons
    await lessons.complete("aad-kari", 1)
    await lessons.complete("aad-kari", 1)
    await lessons.complete("aad-kari", 10)
    await lessons.complete("aad-kari-2", 3)
    assert await lessons.completed("aad-kari") == frozenset({1, 10})
    assert await lessons.completed("aad-kari-2") == frozenset({3})
    assert await lessons.completed("nobody") == frozenset()


async def test_a_subscription_is_saved_replaced_listed_and_removed(stores: Stores) -> None:
    lessons = stores.lessons
    exact = MONDAY_9 + timedelta(microseconds=5)
    await lessons.subscribe(_subscription("u2", exact, "nn"))
    await lessons.subscribe(_subscription("u1", MONDAY_9))
    await lessons.subscribe(replace(_subscription("u1", MONDAY_9), at="10:30", language="en"))
    assert await lessons.subscription("u2") == _subscription("u2", exact, "nn")
    assert await lessons.subscription("u1") == replace(
        _subscription("u1", MONDAY_9), at="10:30", language="en"
    )
    assert await lessons.subscription("nobody") is None
    assert await lessons.subscribers() == [("a:u1", "en"), ("a:u2", "nn")]
    assert await lessons.subscriber_count() == 2
    assert await lessons.unsubscribe("u2") is True
    assert await lessons.unsubscribe("u2") is False
    assert await lessons.subscription("u2") is None
    assert await lessons.subscribers() == [("a:u1", "en")]
    assert await lessons.subscriber_count() == 1


async def test_due_subscriptions_come_earliest_first_up_to_the_limit(stores: Stores) -> None:
    lessons = stores.lessons
    await lessons.subscribe(_subscription("u2", MONDAY_9 + timedelta(microseconds=5)))
    await lessons.subscribe(_subscription("u1", MONDAY_9 - timedelta(days=1)))
    await lessons.subscribe(_subscription("u3", MONDAY_9 + timedelta(days=7)))
    assert await _due(stores, MONDAY_9 - timedelta(days=2)) == []
    assert await _due(stores, MONDAY_9) == ["u1"]
    assert await _due(stores, MONDAY_9 + timedelta(seconds=1)) == ["u1", "u2"]
    assert await _due(stores, MONDAY_9 + timedelta(days=30), 2) == ["u1", "u2"]
    assert await _due(stores, MONDAY_9 + timedelta(days=30), 0) == []
    [due] = await lessons.due(MONDAY_9, 10)
    assert due == _subscription("u1", MONDAY_9 - timedelta(days=1))


async def test_a_claimed_week_is_not_claimed_twice(stores: Stores) -> None:
    lessons = stores.lessons
    await lessons.subscribe(_subscription("u1", MONDAY_9))
    next_week = MONDAY_9 + timedelta(days=7)
    assert await lessons.claim("u1", MONDAY_9, next_week) is True
    assert await lessons.claim("u1", MONDAY_9, next_week) is False, "the same week twice"
    assert await lessons.claim("nobody", MONDAY_9, next_week) is False
    assert await lessons.subscription("u1") == _subscription("u1", next_week)
    assert await _due(stores, MONDAY_9 + timedelta(days=1)) == []


async def test_of_claims_racing_for_the_same_week_exactly_one_wins(stores: Stores) -> None:
    lessons = stores.lessons
    await lessons.subscribe(_subscription("u1", MONDAY_9))
    next_week = MONDAY_9 + timedelta(days=7)
    results = await asyncio.gather(*(lessons.claim("u1", MONDAY_9, next_week) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_reschedule_moves_the_due_time_of_a_subscriber_only(stores: Stores) -> None:
    lessons = stores.lessons
    await lessons.subscribe(_subscription("u1", MONDAY_9))
    later = MONDAY_9 + timedelta(hours=1)
    await lessons.reschedule("u1", later)
    await lessons.reschedule("nobody", MONDAY_9)
    assert await lessons.subscription("u1") == _subscription("u1", later)
    assert await lessons.subscription("nobody") is None
    assert await _due(stores, MONDAY_9) == []
    assert await lessons.claim("u1", later, later + timedelta(days=7)) is True


# -- language choices (`språk`) ------------------------------------------------------------------


async def test_a_language_choice_is_stored_per_person_and_offered_once(stores: Stores) -> None:
    languages = stores.languages
    assert await languages.get("aad-kari") is None, "nothing stored before the first turn"
    await languages.mark_offered("aad-kari")
    assert await languages.get("aad-kari") == LanguageChoice(language=None, offered=True)
    await languages.mark_offered("aad-kari")
    assert await languages.get("aad-kari") == LanguageChoice(language=None, offered=True)
    await languages.choose("aad-kari", "nn")
    assert await languages.get("aad-kari") == LanguageChoice(language="nn", offered=True)
    await languages.mark_offered("aad-kari")
    assert await languages.get("aad-kari") == LanguageChoice("nn", True), "the choice is kept"
    await languages.choose("aad-kari", "en")
    assert await languages.get("aad-kari") == LanguageChoice("en", True)
    await languages.choose("aad-ola", "nb")
    assert await languages.get("aad-ola") == LanguageChoice("nb", True), "chosen, so offered"
    assert await languages.get("aad-kari") == LanguageChoice("en", True), "each their own"
    assert await languages.get("aad-per") is None


async def test_only_the_bots_languages_are_stored_and_a_person_needs_a_key(
    stores: Stores,
) -> None:
    languages = stores.languages
    await languages.choose("aad-kari", "nb")
    for wrong in ("de", "NB", "nb-NO", "", "no"):
        with pytest.raises(ValueError, match="language"):
            await languages.choose("aad-kari", wrong)
    assert await languages.get("aad-kari") == LanguageChoice("nb", True), "nothing changed"
    for blank in ("", "  "):
        with pytest.raises(ValueError, match="empty"):
            await languages.get(blank)
        with pytest.raises(ValueError, match="empty"):
            await languages.choose(blank, "nn")
        with pytest.raises(ValueError, match="empty"):
            await languages.mark_offered(blank)


async def test_language_choices_under_awkward_keys_stay_apart(stores: Stores) -> None:
    chosen = ["nb", "nn", "en", "nn"]
    for key, language in zip(AWKWARD_KEYS, chosen, strict=True):
        await stores.languages.choose(key, language)
    for key, language in zip(AWKWARD_KEYS, chosen, strict=True):
        assert await stores.languages.get(key) == LanguageChoice(language, True)
        assert (await stores.personal.person(key)).language == LanguageChoice(language, True)
    assert await stores.languages.get("k" * 1999) is None, "a long key is not its neighbour's"
    await stores.personal.erase(AWKWARD_KEYS[0])
    assert await stores.languages.get(AWKWARD_KEYS[0]) is None
    assert await stores.languages.get(AWKWARD_KEYS[1]) == LanguageChoice("nn", True)


async def test_a_language_choice_holds_after_a_restart(store_settings: Settings) -> None:
    stores = await open_stores(store_settings)
    try:
        await stores.languages.choose("aad-kari", "nn")
        await stores.languages.mark_offered("aad-ola")
    finally:
        await stores.backend.close()
    stores = await open_stores(store_settings)
    try:
        assert await stores.languages.get("aad-kari") == LanguageChoice("nn", True)
        assert await stores.languages.get("aad-ola") == LanguageChoice(None, True)
    finally:
        await stores.backend.close()


# -- broadcasts ----------------------------------------------------------------------------------


async def _job(stores: Stores, due: datetime, recipients: list[tuple[str, str]]) -> Progress:
    return await stores.broadcasts.create_job(
        created_by="aad-champion",
        due=due,
        cards={"nb": {"type": "AdaptiveCard", "body": []}, "en": {"type": "AdaptiveCard"}},
        recipients=recipients,
        progress_service_url="https://smba.example/",
        progress_conversation="a:champion",
        progress_activity="activity-1",
        progress_language="nn",
    )


async def test_a_job_not_yet_due_is_not_runnable(stores: Stores) -> None:
    now = time.time()
    await _job(stores, datetime.fromtimestamp(now + 3600, UTC), [("a:1", "nb")])
    assert await stores.broadcasts.runnable(now) == []


async def test_a_broadcast_is_run_recipient_by_recipient_until_it_is_done(stores: Stores) -> None:
    jobs, started = stores.broadcasts, datetime.now(UTC)
    now = started.timestamp()  # exactly the job's due time (a float has more digits)
    for cid in ("a:1", "a:2", "a:3", "a:4"):
        await stores.references.save(StoredReference(cid, "personal", "t", {"id": cid}))
    recipients = [("a:1", "nb"), ("a:2", "en"), ("a:3", "nn"), ("a:4", "nb"), ("a:gone", "nb")]
    first = await _job(stores, started, [*recipients, ("a:1", "en")])
    assert first == Progress(5, 0, 0, 0, 0, 0.0), "a conversation listed twice counts once"

    [job] = await jobs.runnable(now)
    assert (job.created_by, job.progress_conversation, job.progress_language) == (
        "aad-champion",
        "a:champion",
        "nn",
    )
    assert job.cards["nb"] == {"type": "AdaptiveCard", "body": []}
    await jobs.start(job.id, now)
    pending = await jobs.pending(job.id, now, 100)
    assert sorted((p.conversation_id, p.language, p.attempts) for p in pending) == sorted(
        (cid, language, 0) for cid, language in recipients
    ), "the first language of a conversation listed twice"
    references = {p.conversation_id: p.reference for p in pending}
    assert references["a:2"] == {"id": "a:2"}
    assert references["a:gone"] is None, "a conversation no longer known"
    assert len(await jobs.pending(job.id, now, 2)) == 2

    await jobs.record(
        job.id,
        [
            ("a:1", RecipientState.SENT, 1, now, 201),
            ("a:2", RecipientState.BLOCKED, 1, now, 403),
            ("a:gone", RecipientState.NOT_FOUND, 0, now, 0),
            ("a:3", RecipientState.PENDING, 1, now + 60, 429),
        ],
    )
    assert [p.conversation_id for p in await jobs.pending(job.id, now, 100)] == ["a:4"]
    next_retry = await jobs.next_retry(job.id)
    assert next_retry is not None
    assert next_retry <= now, "a:4 is still due now"
    assert await jobs.progress(job.id, now + 10) == Progress(5, 1, 0, 1, 1, 10.0)

    await jobs.record(job.id, [("a:4", RecipientState.FAILED, 3, now, 500)])
    assert await jobs.next_retry(job.id) == now + 60
    [retry] = await jobs.pending(job.id, now + 60, 100)
    assert (retry.conversation_id, retry.attempts) == ("a:3", 1)
    await jobs.record(job.id, [("a:3", RecipientState.SENT, 2, now + 60, 201)])
    assert await jobs.pending(job.id, now + 60, 100) == []
    assert await jobs.next_retry(job.id) is None
    await jobs.finish(job.id, now + 61)
    assert await jobs.progress(job.id, now + 61) == Progress(5, 2, 1, 1, 1, 61.0)
    assert await jobs.runnable(now + 3600) == []


# -- learning cards ------------------------------------------------------------------------------


async def test_a_card_is_stored_once_and_read_back_as_it_was(stores: Stores) -> None:
    cards = stores.learning_cards
    flagged = replace(card("c1"), follow_up=(FollowUp.SENSITIVE_IN_OPEN_TOOL,), language="nn")
    assert await cards.add(flagged) is True
    again = replace(card("c1"), draft=replace(flagged.draft, title="Et annet kort"))
    assert await cards.add(again) is False, "the same card id again (a repeated submit)"
    assert await cards.get("c1") == StoredCard(flagged, DeliveryState.PENDING)
    assert await cards.get("c2") is None


async def test_every_card_is_listed_oldest_first(stores: Stores) -> None:
    cards = stores.learning_cards
    early = replace(card("z"), submitted_at=datetime(2026, 1, 1, tzinfo=UTC))
    for item in (card("b"), card("a"), early):
        await cards.add(item)
    assert [s.card.card_id for s in await cards.all()] == ["z", "a", "b"]


async def test_a_card_is_due_until_delivered_and_a_retry_waits_for_its_time(
    stores: Stores,
) -> None:
    cards, now = stores.learning_cards, time.time()
    await cards.add(card("c1"))
    await cards.add(card("c2"))
    assert {s.card.card_id for s in await cards.due(now, 10)} == {"c1", "c2"}
    await cards.delivered("c1", "item-1")
    await cards.retry("c2", now + 3600, "503 serviceNotAvailable")
    assert await cards.due(now, 10) == []
    assert await cards.get("c1") == StoredCard(
        card("c1"), DeliveryState.DELIVERED, attempts=1, item_id="item-1"
    )
    assert await cards.get("c2") == StoredCard(
        card("c2"), DeliveryState.PENDING, attempts=1, reason="503 serviceNotAvailable"
    )


async def test_a_parked_card_waits_until_the_operator_requeues_it(stores: Stores) -> None:
    cards, now = stores.learning_cards, time.time()
    await cards.add(card("c1"))
    await cards.add(card("c2"))
    assert {s.card.card_id for s in await cards.due(now, 10)} == {"c1", "c2"}
    await cards.park("c1", "403 accessDenied")
    await cards.delivered("c2", "item-2")
    assert await cards.get("c1") == StoredCard(
        card("c1"), DeliveryState.PARKED, attempts=1, reason="403 accessDenied"
    )
    assert await cards.due(now, 10) == []

    assert await cards.requeue_parked() == 1
    again = await cards.get("c1")
    assert again is not None
    assert again.state is DeliveryState.PENDING
    assert [s.card.card_id for s in await cards.due(now, 10)] == ["c1"]
    assert await cards.requeue_parked() == 0
    assert [s.state for s in await cards.all()] == [DeliveryState.PENDING, DeliveryState.DELIVERED]


async def test_lead_statuses_are_set_and_only_changes_are_counted(stores: Stores) -> None:
    cards = stores.learning_cards
    await cards.add(card("c1"))
    await cards.add(card("c2"))
    statuses = {"c1": "Til gevinstverksted", "c2": "Vurdert", "unknown": "Vurdert"}
    assert await cards.set_lead_statuses(statuses) == 2
    assert await cards.set_lead_statuses(statuses) == 0
    assert await cards.set_lead_statuses({"c1": "Til gevinstverksted", "c2": "Ny"}) == 1
    assert [s.lead_status for s in await cards.all()] == ["Til gevinstverksted", "Ny"]


# -- conversation state --------------------------------------------------------------------------


async def test_state_round_trips_with_an_etag_under_awkward_keys(stores: Stores) -> None:
    state = stores.state
    await state.write(
        {key: {"name": key, "n": i, "å": [1, None]} for i, key in enumerate(AWKWARD_KEYS)}
    )
    found = await state.read([*AWKWARD_KEYS, "missing"])
    assert sorted(found) == sorted(AWKWARD_KEYS)
    for i, key in enumerate(AWKWARD_KEYS):
        assert found[key].pop("e_tag")
        assert found[key] == {"name": key, "n": i, "å": [1, None]}
    assert await state.read(["missing"]) == {}
    assert await state.read([]) == {}


async def test_a_write_with_a_stale_etag_is_refused_and_changes_nothing(stores: Stores) -> None:
    state = stores.state
    await state.write({"k": {"n": 1}})
    first = (await state.read(["k"]))["k"]
    second = (await state.read(["k"]))["k"]
    first["n"] = 2
    await state.write({"k": first})
    second["n"] = 3
    with pytest.raises(ETagConflictError):
        await state.write({"k": second})
    assert (await state.read(["k"]))["k"]["n"] == 2


async def test_a_stale_etag_in_a_batch_changes_nothing(stores: Stores) -> None:
    state = stores.state
    await state.write({"a": {"n": 1}, "b": {"n": 1}})
    a, b = (await state.read(["a"]))["a"], (await state.read(["b"]))["b"]
    await state.write({"b": dict(b, n=5)})
    with pytest.raises(ETagConflictError):
        await state.write({"a": dict(a, n=2), "b": dict(b, n=2)})
    current = await state.read(["a", "b"])
    assert (current["a"]["n"], current["b"]["n"]) == (1, 5)


async def test_a_star_etag_or_none_overwrites_and_a_new_item_may_carry_one(stores: Stores) -> None:
    state = stores.state
    await state.write({"k": {"n": 1}})
    await state.write({"k": {"n": 2, "e_tag": "*"}})
    await state.write({"k": {"n": 3}})
    assert (await state.read(["k"]))["k"]["n"] == 3
    await state.write({"fresh": {"n": 1, "e_tag": "from-elsewhere"}})
    assert (await state.read(["fresh"]))["fresh"]["n"] == 1


async def test_a_second_save_of_the_same_object_is_not_a_conflict(stores: Stores) -> None:
    item: dict[str, object] = {"n": 1}
    await stores.state.write({"k": item})
    item["n"] = 2
    await stores.state.write({"k": item})
    assert (await stores.state.read(["k"]))["k"]["n"] == 2


async def test_of_concurrent_read_modify_writes_every_win_counts(stores: Stores) -> None:
    state = stores.state
    await state.write({"counter": {"n": 0}})

    async def increment() -> bool:
        item = (await state.read(["counter"]))["counter"]
        item["n"] += 1
        try:
            await state.write({"counter": item})
        except ETagConflictError:
            return False
        return True

    results = await asyncio.gather(*(increment() for _ in range(20)))
    assert (await state.read(["counter"]))["counter"]["n"] == sum(results)
    assert any(results)


async def test_delete_removes_state_and_ignores_missing_keys(stores: Stores) -> None:
    await stores.state.write({"k": {"n": 1}, "kept": {"n": 2}})
    await stores.state.delete(["k", "never-written"])
    assert list(await stores.state.read(["k", "kept"])) == ["kept"]


async def test_non_json_state_is_refused_with_a_clear_error(stores: Stores) -> None:
    with pytest.raises(TypeError, match="JSON values only"):
        await stores.state.write({"k": {"when": object()}})
    assert await stores.state.read(["k"]) == {}


# -- personal data (mine data, kivett privacy, retention) ----------------------------------------

KARI, OLA = "aad-kari", "aad-ola"


def _personal_reference(user: str, conversation_id: str) -> StoredReference:
    reference = {
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "conversation": {"id": conversation_id, "conversationType": "personal"},
        "user": {"id": f"29:{user}", "aadObjectId": user},
    }
    return StoredReference(conversation_id, "personal", "t", reference)


def _channel_reference(conversation_id: str, user: str | None) -> StoredReference:
    reference: dict[str, object] = {
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "conversation": {"id": conversation_id, "conversationType": "channel"},
    }
    if user is not None:
        reference["user"] = {"id": f"29:{user}", "aadObjectId": user}
    return StoredReference(conversation_id, "channel", "t", reference)


async def _someone_with_everything(stores: Stores, user: str) -> None:
    chat = f"a:{user}"
    await stores.references.save(_personal_reference(user, chat))
    await stores.state.write({f"msteams/conversations/{chat}": {"kivett": {"welcomed": True}}})
    await stores.languages.choose(user, "en")
    await stores.lessons.complete(user, 1)
    await stores.lessons.complete(user, 3)
    await stores.lessons.subscribe(
        Subscription(user, chat, 0, "09:00", "Europe/Oslo", "nn", MONDAY_9)
    )
    await stores.learning_cards.add(replace(card(f"{user}-sent"), author=user))
    await stores.learning_cards.add(replace(card(f"{user}-pending"), author=user))
    await stores.learning_cards.delivered(f"{user}-sent", f"item-{user}")
    await stores.broadcasts.create_job(
        created_by=user,
        due=datetime.now(UTC) + timedelta(days=1),
        cards={"nb": {"type": "AdaptiveCard"}},
        recipients=[("a:x", "nb")],
        progress_service_url="https://smba.example/",
        progress_conversation=chat,
        progress_activity="activity-1",
        progress_language="nb",
    )


async def test_mine_data_shows_everything_stored_about_the_person_and_no_one_else(
    stores: Stores,
) -> None:
    await _someone_with_everything(stores, KARI)
    await _someone_with_everything(stores, OLA)
    await stores.references.save(_channel_reference("19:team@thread.tacv2", KARI))
    playground = _personal_reference("x", "a:pg")
    await stores.references.save(
        replace(playground, reference={**playground.reference, "user": {"id": "29:pg"}})
    )

    kari = await stores.personal.person(KARI)
    assert [r.conversation_id for r in kari.conversations] == [
        "19:team@thread.tacv2",
        f"a:{KARI}",
    ]
    assert all(r.last_seen is not None for r in kari.conversations)
    assert kari.lessons_completed == frozenset({1, 3})
    assert kari.subscription is not None
    assert kari.subscription.language == "nn"
    assert sorted(c.card.card_id for c in kari.learning_cards) == [
        f"{KARI}-pending",
        f"{KARI}-sent",
    ]
    assert [job.created_by for job in kari.broadcasts] == [KARI]
    assert kari.language == LanguageChoice("en", True)
    assert not kari.empty

    by_teams_id = await stores.personal.person("29:pg")
    assert [r.conversation_id for r in by_teams_id.conversations] == ["a:pg"]
    assert by_teams_id.language is None
    assert (await stores.personal.person("aad-nobody")).empty
    await stores.languages.mark_offered("aad-offered")
    only_offered = await stores.personal.person("aad-offered")
    assert only_offered.language == LanguageChoice(None, True)
    assert not only_offered.empty, "that the offer was shown is stored about them too"


async def test_erasing_removes_the_person_and_keeps_the_organisations_content(
    stores: Stores,
) -> None:
    await _someone_with_everything(stores, KARI)
    await _someone_with_everything(stores, OLA)
    channel = "19:team@thread.tacv2"
    await stores.references.save(_channel_reference(channel, KARI))
    await stores.references.save(_channel_reference("19:other@thread.tacv2", OLA))

    erased = await stores.personal.erase(KARI)

    assert erased == Erasure(
        conversations=2, lessons=2, subscription=True, learning_cards=2, broadcasts=1
    )
    assert (await stores.personal.person(KARI)).empty
    assert await stores.references.get(f"a:{KARI}") is None, "their own chat is forgotten"
    assert await stores.state.read([f"msteams/conversations/a:{KARI}"]) == {}
    kept = await stores.references.get(channel)
    assert kept is not None, "the channel can still be written to"
    assert "user" not in kept.reference
    assert kept.reference["conversation"] == {"id": channel, "conversationType": "channel"}
    assert await stores.lessons.completed(KARI) == frozenset()
    assert await stores.lessons.subscription(KARI) is None
    assert await stores.languages.get(KARI) is None, "their language choice is forgotten"

    cards = {s.card.card_id: s for s in await stores.learning_cards.all()}
    assert len(cards) == 4, "the cards' content stays for the organisation"
    sent, pending = cards[f"{KARI}-sent"], cards[f"{KARI}-pending"]
    assert (sent.card.author, sent.state, sent.item_id) == (
        "",
        DeliveryState.REDACT,
        f"item-{KARI}",
    )
    assert sent.card.draft == card(f"{KARI}-sent").draft
    assert (pending.card.author, pending.state) == ("", DeliveryState.PENDING)
    due = {s.card.card_id: s.state for s in await stores.learning_cards.due(time.time(), 10)}
    assert due == {
        f"{KARI}-sent": DeliveryState.REDACT,
        f"{KARI}-pending": DeliveryState.PENDING,
        f"{OLA}-pending": DeliveryState.PENDING,
    }, "the delivered card goes back to the outbox to have its sender removed"
    await stores.learning_cards.delivered(f"{KARI}-sent", f"item-{KARI}")
    back = await stores.learning_cards.get(f"{KARI}-sent")
    assert back is not None
    assert back.state is DeliveryState.DELIVERED

    ola = await stores.personal.person(OLA)
    assert [r.conversation_id for r in ola.conversations] == ["19:other@thread.tacv2", f"a:{OLA}"]
    assert ola.lessons_completed == frozenset({1, 3})
    assert ola.subscription is not None
    assert len(ola.learning_cards) == 2
    assert len(ola.broadcasts) == 1
    assert ola.language == LanguageChoice("en", True)
    assert await stores.state.read([f"msteams/conversations/a:{OLA}"]) != {}

    again = await stores.personal.erase(KARI)
    assert again == Erasure(0, 0, False, 0, 0), "a second erasure finds nothing"


async def test_a_parked_redaction_is_requeued_as_a_redaction_not_a_new_item(
    stores: Stores,
) -> None:
    cards = stores.learning_cards
    await cards.add(replace(card("c1"), author=KARI))
    assert [s.card.card_id for s in await cards.due(time.time(), 10)] == ["c1"]
    await cards.delivered("c1", "item-1")
    await stores.personal.erase(KARI)
    assert [s.state for s in await cards.due(time.time(), 10)] == [DeliveryState.REDACT]
    await cards.park("c1", "403 accessDenied")
    assert await cards.due(time.time(), 10) == []
    assert await cards.requeue_parked() == 1
    [again] = await cards.due(time.time(), 10)
    assert (again.state, again.item_id) == (DeliveryState.REDACT, "item-1")


async def test_conversations_not_seen_since_the_limit_are_forgotten(stores: Stores) -> None:
    old, recent = MONDAY_9 - timedelta(days=400), MONDAY_9 - timedelta(days=3)
    per = "aad-per"
    await stores.references.save(replace(_personal_reference(KARI, "a:kari"), last_seen=old))
    await stores.references.save(replace(_personal_reference(OLA, "a:ola"), last_seen=recent))
    await stores.references.save(replace(_personal_reference(per, "a:per"), last_seen=old))
    await stores.references.save(
        replace(_channel_reference("19:c@thread.tacv2", None), last_seen=old)
    )
    for user in (KARI, OLA, per):
        chat = f"a:{user.removeprefix('aad-')}"
        await stores.state.write({f"msteams/conversations/{chat}": {"n": 1}})
    # Per gets his lesson every week without writing: a subscriber is not gone
    await stores.lessons.subscribe(replace(_subscription(per, MONDAY_9), conversation_id="a:per"))
    await stores.lessons.subscribe(replace(_subscription(OLA, MONDAY_9), conversation_id="a:ola"))
    await stores.lessons.complete(KARI, 2)
    stored = await stores.references.get("a:kari")
    assert stored is not None
    assert stored.last_seen == old

    assert await stores.personal.prune(MONDAY_9 - timedelta(days=365)) == 2

    assert await stores.references.get("a:kari") is None
    assert await stores.references.get("19:c@thread.tacv2") is None
    assert await stores.references.get("a:ola") is not None
    assert await stores.references.get("a:per") is not None
    assert await stores.lessons.subscription(per) is not None
    assert await stores.lessons.subscription(OLA) is not None
    assert list(await stores.state.read(["msteams/conversations/a:kari"])) == []
    assert list(await stores.state.read(["msteams/conversations/a:per"])) == [
        "msteams/conversations/a:per"
    ]
    assert await stores.lessons.completed(KARI) == frozenset({2}), "progress is the person's"
    assert await stores.personal.prune(MONDAY_9 - timedelta(days=365)) == 0


async def test_saving_an_unchanged_reference_moves_its_last_seen_time(stores: Stores) -> None:
    first, later = MONDAY_9 - timedelta(days=40), MONDAY_9
    ref = _personal_reference(KARI, "a:kari")
    assert await stores.references.save(replace(ref, last_seen=first)) is True
    assert await stores.references.save(replace(ref, last_seen=later)) is False
    stored = await stores.references.get("a:kari")
    assert stored is not None
    assert stored.last_seen == later
    assert await stores.personal.prune(MONDAY_9 - timedelta(days=30)) == 0
    [listed] = await stores.references.of_type("personal")
    assert listed.last_seen == later


def _usage_at(stores: Stores, clock: Callable[[], datetime]) -> UsageStats:
    """The backend's usage counters with a clock, for counts in several months."""
    backend = stores.backend
    if isinstance(backend, SqliteDatabase):
        return SqliteUsageStats(backend, clock=clock)
    from bot.adapters.azure_storage.backend import AzureBackend
    from bot.adapters.azure_storage.usage import AzureBlobUsageStats

    assert isinstance(backend, AzureBackend)
    return AzureBlobUsageStats(backend.blobs, clock=clock)


async def _legacy_feedback_count(stores: Stores, count: int) -> None:
    """A counter as written before counts were kept per month."""
    backend = stores.backend
    if isinstance(backend, SqliteDatabase):
        await backend.transaction(
            lambda conn: conn.execute(
                "INSERT INTO usage_counts(metric, key, count) VALUES ('feedback', 'yes', ?)",
                (count,),
            )
        )
        return
    from bot.adapters.azure_storage.backend import AzureBackend
    from bot.adapters.azure_storage.blob import encode_meta, key_segment

    assert isinstance(backend, AzureBackend)
    await backend.blobs.container.upload_blob(
        "usage/feedback/" + key_segment("yes"),
        b"",
        metadata={"key": encode_meta("yes"), "count": str(count)},
    )


async def test_usage_is_kept_per_month_and_old_months_are_dropped(stores: Stores) -> None:
    moments = iter(
        [datetime(2026, 10, 31, 23, 59, tzinfo=UTC)] * 3
        + [datetime(2026, 11, 1, 0, 0, tzinfo=UTC)] * 2
        + [datetime(2026, 12, 3, 9, 0, tzinfo=UTC)] * 2
    )
    usage = _usage_at(stores, lambda: next(moments))
    verdict = ("yellow", "skrive_saksframlegg", "copilot", "begrenset")
    await usage.record_verdict(*verdict)  # October
    await usage.record_verdict(*verdict)
    await usage.record_feedback(True)
    await usage.record_verdict(*verdict)  # November
    await usage.record_feedback(False)
    await usage.record_verdict(*verdict)  # December
    await usage.record_feedback(True)
    await _legacy_feedback_count(stores, 5)

    snapshot = await stores.usage.snapshot()
    assert dict(snapshot.verdicts) == {verdict: 4}, "the totals of every month kept"
    assert dict(snapshot.feedback) == {True: 7, False: 1}

    assert await stores.usage.prune(datetime(2026, 10, 15, tzinfo=UTC)) == 1, (
        "the counter without a month is the oldest"
    )
    assert dict((await stores.usage.snapshot()).feedback) == {True: 2, False: 1}
    assert await stores.usage.prune(datetime(2026, 11, 30, tzinfo=UTC)) == 2, "October ended"
    snapshot = await stores.usage.snapshot()
    assert dict(snapshot.verdicts) == {verdict: 2}
    assert dict(snapshot.feedback) == {True: 1, False: 1}
    assert await stores.usage.prune(datetime(2026, 12, 1, tzinfo=UTC)) == 2, "November ended"
    snapshot = await stores.usage.snapshot()
    assert (dict(snapshot.verdicts), dict(snapshot.feedback)) == ({verdict: 1}, {True: 1, False: 0})
    assert await stores.usage.prune(datetime(2026, 12, 1, tzinfo=UTC)) == 0


async def test_counts_from_before_the_upgrade_survive_the_first_retention_round(
    store_settings: Settings,
) -> None:
    """The retention worker prunes right at start: counters written before months were kept
    are this month's once the store has opened, not the oldest month."""
    stores = await open_stores(store_settings)
    try:
        await stores.usage.record_feedback(True)
        await _legacy_feedback_count(stores, 5)
    finally:
        await stores.backend.close()
    stores = await open_stores(store_settings)
    try:
        # (a day back: the month the store opened in, even if the clock just passed midnight)
        assert await stores.usage.prune(datetime.now(UTC) - timedelta(days=1)) == 0
        assert dict((await stores.usage.snapshot()).feedback) == {True: 6, False: 0}
        assert await stores.usage.prune(datetime.now(UTC) + timedelta(days=32)) == 1, (
            "one counter for the month, the old count added to it"
        )
        assert dict((await stores.usage.snapshot()).feedback) == {True: 0, False: 0}
    finally:
        await stores.backend.close()


async def test_todays_counts_survive_a_prune_until_the_month_has_ended(stores: Stores) -> None:
    await stores.usage.record_feedback(True)
    assert await stores.usage.prune(datetime.now(UTC)) == 0
    assert (await stores.usage.snapshot()).feedback[True] == 1
    assert await stores.usage.prune(datetime.now(UTC) + timedelta(days=32)) == 1
    assert (await stores.usage.snapshot()).feedback[True] == 0


async def test_a_card_erased_while_its_item_was_created_has_its_sender_removed_after(
    stores: Stores,
) -> None:
    cards = stores.learning_cards
    await cards.add(replace(card("c1"), author=KARI))
    await cards.add(replace(card("c2"), author=OLA))
    assert {s.card.card_id for s in await cards.due(time.time(), 10)} == {"c1", "c2"}
    await stores.personal.erase(KARI)  # pressed while the outbox creates c1's item, with Kari
    await cards.delivered("c1", "item-1")
    await cards.delivered("c2", "item-2")
    [again] = await cards.due(time.time(), 10)
    assert (again.card.card_id, again.state, again.item_id, again.card.author) == (
        "c1",
        DeliveryState.REDACT,
        "item-1",
        "",
    )
    await cards.delivered("c1", "item-1")
    assert [(s.card.card_id, s.state) for s in await cards.all()] == [
        ("c1", DeliveryState.DELIVERED),
        ("c2", DeliveryState.DELIVERED),
    ]
    assert await cards.due(time.time(), 10) == []


@pytest.mark.parametrize("blank", ["", "  "])
async def test_an_empty_person_key_is_refused_not_matched_to_every_erased_card(
    stores: Stores, blank: str
) -> None:
    """An erased card's sender and a tip without creator are "": an empty key would show and
    erase them all as one person's."""
    await _someone_with_everything(stores, KARI)
    await stores.personal.erase(KARI)
    fake = FakePersonalData(
        references=FakeReferences(),
        lessons=FakeLessons(),
        broadcasts=FakeBroadcasts(),
        learning_cards=FakeLearningCards(),
    )
    for personal in (stores.personal, fake):
        with pytest.raises(ValueError, match="empty"):
            await personal.person(blank)
        with pytest.raises(ValueError, match="empty"):
            await personal.erase(blank)
    cards = await stores.learning_cards.all()
    assert [s.state for s in cards if s.card.card_id == f"{KARI}-sent"] == [DeliveryState.REDACT]


# -- card actions (a tip send, a subscription, a feedback vote apply once) -------------------------


def _ledger_at(stores: Stores, clock: Callable[[], datetime]) -> ActionLedger:
    """The backend's action ledger with a clock, for claims made at different times."""
    backend = stores.backend
    if isinstance(backend, SqliteDatabase):
        return SqliteActionLedger(backend, clock=clock)
    from bot.adapters.azure_storage.actions import AzureActionLedger
    from bot.adapters.azure_storage.backend import AzureBackend

    assert isinstance(backend, AzureBackend)
    return AzureActionLedger(backend.blobs, clock=clock)


async def test_an_action_is_claimed_once_and_replays_get_its_outcome(stores: Stores) -> None:
    actions = stores.actions
    assert await actions.claim("Xq3-action_id_0000001", "tip_send") is None
    assert await actions.claim("Xq3-action_id_0000001", "tip_send") == "", "still under way"
    await actions.settle("Xq3-action_id_0000001", "job:3:1795000000")
    assert await actions.claim("Xq3-action_id_0000001", "tip_send") == "job:3:1795000000"
    assert await actions.claim("Xq3-action_id_0000002", "feedback") is None, "ids stay apart"


async def test_of_two_instances_claiming_the_same_action_at_once_exactly_one_wins(
    stores: Stores, store_settings: Settings
) -> None:
    other = await open_stores(store_settings)  # a second instance on the same store
    try:
        claims = [
            (stores if index % 2 else other).actions.claim("race-action-id-000001", "subscribe")
            for index in range(10)
        ]
        results = await asyncio.gather(*claims)
    finally:
        await other.backend.close()
    assert results.count(None) == 1
    assert sorted(r for r in results if r is not None) == [""] * 9


async def test_actions_under_awkward_ids_stay_apart(stores: Stores) -> None:
    actions = stores.actions
    awkward = ["actions/../x", "../x?y#z%2F\\", "Åse ølkopp", "a" * 256, "ÅSE ØLKOPP"]
    for index, action_id in enumerate(awkward):
        assert await actions.claim(action_id, "feedback") is None, action_id
        await actions.settle(action_id, f"outcome-{index}")
    for index, action_id in enumerate(awkward):
        assert await actions.claim(action_id, "feedback") == f"outcome-{index}", action_id
    for bad in ["", "a" * 257]:
        with pytest.raises(ValueError, match="action id"):
            await actions.claim(bad, "feedback")


async def test_claims_older_than_the_limit_are_pruned_and_newer_ones_kept(stores: Stores) -> None:
    now = [MONDAY_9 - timedelta(days=400)]
    actions = _ledger_at(stores, lambda: now[0])
    assert await actions.claim("old-action-id-000001", "tip_send") is None
    await actions.settle("old-action-id-000001", "done")
    now[0] = MONDAY_9
    assert await actions.claim("new-action-id-000001", "tip_send") is None
    assert await actions.prune(MONDAY_9 - timedelta(days=365)) == 1
    assert await actions.prune(MONDAY_9 - timedelta(days=365)) == 0
    assert await actions.claim("new-action-id-000001", "tip_send") == "", "kept"
    assert await actions.claim("old-action-id-000001", "tip_send") is None, "forgotten"

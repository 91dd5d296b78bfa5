"""The trial store contract (bot.ports.TrialStore), on embedded SQLite, Azure Storage (Azurite)
and the in-memory fake the flow tests use: what a champion, a participant and the outbox notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import open_stores
from bot.core.learning_cards import DeliveryState
from bot.core.records import StoredReference
from bot.core.trials import Trial
from bot.ports import ConversationReferenceStore, PersonalData, TrialStore
from tests.contract.conftest import backend_settings
from tests.fakes.stores import (
    FakeBroadcasts,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
)
from tests.fakes.trials import FakeTrials, sample_trial

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(params=["sqlite", "azure", "fake"])
async def trials(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TrialStore]:
    if request.param == "fake":
        yield FakeTrials()
        return
    opened = await open_stores(backend_settings(request, tmp_path))
    yield opened.trials
    await opened.backend.close()


def trial(
    trial_id: str = "t1",
    *,
    owner: str = "aad-champion",
    participants: tuple[str, ...] = ("aad-champion", "aad-kari", "aad-ola"),
    at: datetime = NOW,
) -> Trial:
    return sample_trial(
        trial_id,
        owner=owner,
        participants=participants,
        title="Referat fra teammøter med Copilot",
        unit="Hjemmetjenesten sone nord",
        created_at=at,
        starts=date(2026, 12, 1),
        ends=date(2027, 2, 28),
        success="Referatet er klart samme dag, og deltakerne kjenner seg igjen i det.",
    )


async def test_a_trial_is_stored_once_and_read_back_whole(trials: TrialStore) -> None:
    assert await trials.add(trial()) is True
    assert await trials.add(trial()) is False, "a repeated registration stores nothing twice"
    stored = await trials.get("t1")
    assert stored is not None
    assert stored.trial == trial()
    assert stored.state is DeliveryState.PENDING
    assert not stored.reminded
    assert await trials.get("nope") is None


async def test_the_trials_a_person_takes_part_in(trials: TrialStore) -> None:
    await trials.add(trial("t1"))
    await trials.add(trial("t2", participants=("aad-other",), at=NOW + timedelta(hours=1)))
    await trials.add(trial("t3", owner="aad-kari", participants=(), at=NOW + timedelta(hours=2)))
    assert [s.trial.trial_id for s in await trials.of_person("aad-kari")] == ["t1", "t3"]
    assert [s.trial.trial_id for s in await trials.of_person("aad-champion")] == ["t1", "t2"]
    assert await trials.of_person("aad-nobody") == []
    assert [s.trial.trial_id for s in await trials.all()] == ["t1", "t2", "t3"]


async def test_the_outbox_delivers_retries_and_parks_a_trial(trials: TrialStore) -> None:
    await trials.add(trial("t1"))
    await trials.add(trial("t2", at=NOW + timedelta(minutes=1)))
    assert [s.trial.trial_id for s in await trials.due(100.0, 10)] == ["t1", "t2"]
    await trials.retry("t1", 500.0, "throttled")
    assert [s.trial.trial_id for s in await trials.due(100.0, 10)] == ["t2"]
    assert await trials.next_attempt() is not None
    await trials.delivered("t2", "42")
    stored = await trials.get("t2")
    assert stored is not None
    assert (stored.state, stored.item_id) == (DeliveryState.DELIVERED, "42")
    assert [s.trial.trial_id for s in await trials.due(600.0, 10)] == ["t1"]
    await trials.park("t1", "forbidden")
    assert await trials.due(600.0, 10) == []
    parked = await trials.get("t1")
    assert parked is not None
    assert (parked.state, parked.reason) == (DeliveryState.PARKED, "forbidden")
    assert await trials.requeue_parked() == 1
    assert [s.trial.trial_id for s in await trials.due(600.0, 10)] == ["t1"]


async def test_participants_are_reminded_once(trials: TrialStore) -> None:
    await trials.add(trial())
    assert await trials.mark_reminded("t1") is True
    assert await trials.mark_reminded("t1") is False
    stored = await trials.get("t1")
    assert stored is not None
    assert stored.reminded


async def test_erasure_removes_the_person_and_keeps_the_trial(trials: TrialStore) -> None:
    await trials.add(trial("t1"))
    await trials.add(trial("t2", owner="aad-kari", participants=("aad-ola",)))
    assert await trials.forget_person("aad-kari") == 2
    assert await trials.of_person("aad-kari") == []
    first, second = await trials.all()
    assert "aad-kari" not in first.trial.draft.participants
    assert first.trial.draft.participants == ("aad-champion", "aad-ola")
    assert second.trial.owner == ""
    assert second.trial.draft == replace(trial("t2").draft, participants=("aad-ola",))
    assert [s.trial.trial_id for s in await trials.of_person("aad-ola")] == ["t1", "t2"]
    assert await trials.forget_person("aad-kari") == 0


async def test_the_reminder_keeps_how_many_it_could_not_reach(trials: TrialStore) -> None:
    await trials.add(trial())
    assert await trials.mark_reminded("t1", unreached=2) is True
    assert await trials.mark_reminded("t1", unreached=5) is False
    stored = await trials.get("t1")
    assert stored is not None
    assert (stored.reminded, stored.unreached) == (True, 2)
    assert [s.unreached for s in await trials.of_person("aad-kari")] == [2]


async def test_a_person_turns_reminders_off_and_on_again(trials: TrialStore) -> None:
    assert await trials.reminders_muted("aad-kari") is False
    await trials.mute_reminders("aad-kari")
    await trials.mute_reminders("aad-kari")  # a second press stores the same choice
    assert await trials.reminders_muted("aad-kari") is True
    assert await trials.reminders_muted("aad-ola") is False, "only the person who chose"
    assert await trials.reminders_muted("") is False
    assert await trials.unmute_reminders("aad-kari") is True
    assert await trials.reminders_muted("aad-kari") is False
    assert await trials.unmute_reminders("aad-kari") is False
    with pytest.raises(ValueError, match="empty"):
        await trials.mute_reminders(" ")


# -- the person's data (mine data, kivett privacy) includes their trials --------------------------


@dataclass
class Backend:
    personal: PersonalData
    trials: TrialStore
    references: ConversationReferenceStore


@pytest.fixture(params=["sqlite", "azure", "fake"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "fake":
        references, fake_trials = FakeReferences(), FakeTrials()
        personal = FakePersonalData(
            references=references,
            lessons=FakeLessons(),
            broadcasts=FakeBroadcasts(),
            learning_cards=FakeLearningCards(),
            trials=fake_trials,
        )
        yield Backend(personal, fake_trials, references)
        return
    opened = await open_stores(backend_settings(request, tmp_path))
    yield Backend(opened.personal, opened.trials, opened.references)
    await opened.backend.close()


def _chat(user: str) -> StoredReference:
    reference = {
        "serviceUrl": "https://smba.example/",
        "conversation": {"id": f"a:{user}", "conversationType": "personal"},
        "user": {"id": f"29:{user}", "aadObjectId": user},
    }
    return StoredReference(f"a:{user}", "personal", "t", reference)


async def test_mine_data_shows_the_trials_and_the_reminder_choice(backend: Backend) -> None:
    await backend.trials.add(trial("t1"))
    await backend.trials.add(trial("t2", owner="aad-kari", participants=(), at=NOW + HOUR))
    await backend.trials.add(trial("t3", participants=("aad-ola",), at=NOW + 2 * HOUR))
    await backend.trials.mute_reminders("aad-kari")
    kari = await backend.personal.person("aad-kari")
    assert [s.trial.trial_id for s in kari.trials] == ["t1", "t2"]
    assert kari.trial_reminders_muted
    assert not kari.empty
    ola = await backend.personal.person("aad-ola")
    assert (len(ola.trials), ola.trial_reminders_muted) == (2, False)
    assert (await backend.personal.person("aad-nobody")).empty


async def test_a_person_is_found_by_their_own_chat(backend: Backend) -> None:
    await backend.references.save(_chat("aad-kari"))
    await backend.references.save(_chat("aad-ola"))
    found = await backend.personal.conversations("aad-kari")
    assert [(r.conversation_id, r.conversation_type) for r in found] == [("a:aad-kari", "personal")]
    assert await backend.personal.conversations("aad-nobody") == []


async def test_erasure_removes_the_person_from_every_trial_and_forgets_the_choice(
    backend: Backend,
) -> None:
    await backend.trials.add(trial("t1"))
    await backend.trials.add(
        trial("t2", owner="aad-kari", participants=("aad-ola",), at=NOW + HOUR)
    )
    await backend.trials.mute_reminders("aad-kari")
    await backend.trials.mute_reminders("aad-ola")
    erasure = await backend.personal.erase("aad-kari")
    assert (erasure.trials, erasure.trial_reminders) == (2, True)
    kari = await backend.personal.person("aad-kari")
    assert (kari.trials, kari.trial_reminders_muted, kari.empty) == ((), False, True)
    assert await backend.trials.reminders_muted("aad-kari") is False
    first, second = await backend.trials.all()
    assert "aad-kari" not in first.trial.draft.participants
    assert second.trial.owner == ""
    assert second.trial.draft.title == trial("t2").draft.title, "the trial stays with the unit"
    ola = await backend.personal.person("aad-ola")
    assert (len(ola.trials), ola.trial_reminders_muted) == (2, True), "nobody else is touched"
    again = await backend.personal.erase("aad-kari")
    assert (again.trials, again.trial_reminders) == (0, False)


async def test_erasing_a_delivered_trials_champion_sends_it_back_to_empty_the_item(
    trials: TrialStore,
) -> None:
    """The champion is named in the trial's SharePoint item (Pådriver): erasing them sends the
    trial back to the outbox in state redact, which empties that column, then it is delivered."""
    await trials.add(trial("t1"))
    await trials.add(trial("t2", owner="aad-other", at=NOW + timedelta(minutes=1)))
    await trials.delivered("t1", "41")
    await trials.delivered("t2", "42")
    assert await trials.due(1e12, 10) == []
    await trials.forget_person("aad-champion")
    [again] = await trials.due(1e12, 10)
    assert (again.trial.trial_id, again.state, again.item_id) == ("t1", DeliveryState.REDACT, "41")
    assert again.trial.owner == ""
    await trials.delivered("t1", "41")
    done = await trials.get("t1")
    assert done is not None
    assert done.state is DeliveryState.DELIVERED
    assert await trials.due(1e12, 10) == []


async def test_a_trial_whose_champion_is_erased_while_it_is_written_is_redacted_after(
    trials: TrialStore,
) -> None:
    await trials.add(trial("t1"))
    assert len(await trials.due(1e12, 10)) == 1  # the outbox writes its item, with the champion
    await trials.forget_person("aad-champion")
    await trials.delivered("t1", "41")
    [again] = await trials.due(1e12, 10)
    assert again.state is DeliveryState.REDACT, "the item was written with the champion's id"
    await trials.park("t1", "403")
    assert await trials.requeue_parked() == 1
    [requeued] = await trials.due(1e12, 10)
    assert requeued.state is DeliveryState.REDACT, "its item exists: only the column is emptied"

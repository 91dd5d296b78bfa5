"""Card action ids (dialogs/once.py): what a press is claimed under, what cards carry, and how long
the claims are kept (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.workers.retention import RetentionWorker
from cards.renderer import CardRenderer
from cards.views import Choice, Fact, SubscribeView, TipPreviewView
from content import load_catalog
from dialogs.once import ACTION_KEY, ledger_key, new_action_id
from tests.card_tree import actions
from tests.fakes.stores import (
    FakeActionLedger,
    FakeBroadcasts,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
    FakeUsage,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NB = load_catalog().texts("nb")


def _execute_data(card: Any) -> list[dict[str, Any]]:
    return [node["data"] for node in actions(card) if node.get("type") == "Action.Execute"]


def test_fresh_action_ids_differ_and_are_claimed_as_they_are() -> None:
    ids = {new_action_id() for _ in range(1000)}
    assert len(ids) == 1000
    for action_id in list(ids)[:20]:
        assert ledger_key({ACTION_KEY: action_id, "tip": "tip01"}, "aad-x", NOW) == action_id


@pytest.mark.parametrize(
    "forged",
    ["", "short", "x" * 65, "../../etc/passwd", "Åse-ølkopp-er-her-nå", "old." + "a" * 40, 12345],
)
def test_a_forged_or_garbage_action_id_gets_no_key(forged: object) -> None:
    assert ledger_key({ACTION_KEY: forged}, "aad-x", NOW) is None


def test_a_card_without_an_id_is_one_action_per_person_button_data_and_day() -> None:
    data = {"v": "1", "tip": "tip01", "audience": "subscribers", "lang": "nb"}
    key = ledger_key(data, "aad-x", NOW)
    assert key is not None
    assert key.startswith("old.")
    assert "aad-x" not in key, "the person's id is not stored in clear"
    assert ledger_key({**data, "lang": "en", "v": 1}, "aad-x", NOW) == key, "same press"
    assert ledger_key(data, "aad-x", NOW + timedelta(hours=2)) == key, "same day"
    assert ledger_key(data, "aad-y", NOW) != key, "another person"
    assert ledger_key({**data, "tip": "tip02"}, "aad-x", NOW) != key, "another tip"
    assert ledger_key(data, "aad-x", NOW + timedelta(days=1)) != key, "another day"


def test_the_action_id_travels_in_the_button_data_of_the_cards_that_change_things() -> None:
    renderer = CardRenderer()
    action_id = new_action_id()
    preview = renderer.render(
        TipPreviewView("Tips", (Fact("Mottakere", "Alle"),), (("tip", "t1"),), action_id), NB
    )
    [send] = [d for d in _execute_data(preview) if d.get("tip") == "t1"]
    assert send[ACTION_KEY] == action_id
    form = renderer.render(
        SubscribeView(
            (Choice("0", "mandag"),), (Choice("09:00", "09:00"),), "0", "09:00", action_id
        ),
        NB,
    )
    assert [d.get(ACTION_KEY) for d in _execute_data(form)] == [action_id, None], "save only"
    unsaved = renderer.render(
        SubscribeView((Choice("0", "mandag"),), (Choice("09:00", "09:00"),), "0", "09:00"), NB
    )
    assert all(ACTION_KEY not in d for d in _execute_data(unsaved))


async def test_the_retention_round_forgets_claims_older_than_the_limit() -> None:
    now = [NOW - timedelta(days=400)]
    actions = FakeActionLedger(clock=lambda: now[0])
    assert await actions.claim("old-action-id-000001", "tip_send") is None
    now[0] = NOW - timedelta(days=10)
    assert await actions.claim("new-action-id-000001", "feedback") is None
    references, lessons = FakeReferences(), FakeLessons()
    personal = FakePersonalData(
        references=references,
        lessons=lessons,
        broadcasts=FakeBroadcasts(),
        learning_cards=FakeLearningCards(),
    )
    worker = RetentionWorker(
        personal=personal, usage=FakeUsage(), actions=actions, days=365, clock=lambda: NOW
    )
    pruned = await worker.run_once()
    assert pruned.card_actions == 1
    assert list(actions.claims) == ["new-action-id-000001"]

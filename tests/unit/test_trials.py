"""Trials (bot.core.trials): a submitted trial is checked field by field, and a trial is offered,
and its participants reminded, at the right time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.core.learning_cards import CardOptions, DeliveryState, FieldError, Problem, validate
from bot.core.trials import (
    FILING_GRACE,
    MAX_PARTICIPANTS,
    REMIND_BEFORE,
    StoredTrial,
    Trial,
    TrialDraft,
    TrialOptions,
    draft_from_json,
    draft_json,
    is_open,
    reminder_due,
    takes_part,
    validate_trial,
)
from tests.unit.test_learning_cards import GOOD
from tests.unit.test_learning_cards import OPTIONS as CARD_OPTIONS

OPTIONS = TrialOptions(
    CardOptions(
        service_areas=("helse", "skole"),
        tasks=("summarize", "write"),
        tools=("copilot_chat", "other"),
        categories=("apen", "begrenset"),
    )
)
TODAY = date(2026, 12, 3)


def form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Referat fra teammøter",
        "task": "summarize",
        "area": "helse",
        "unit": "Hjemmetjenesten sone nord",
        "tool": "copilot_chat",
        "tool_other": "",
        "category": "apen",
        "participants": "aad-kari,aad-ola",
        "starts": "2026-12-01",
        "ends": "2027-02-28",
        "success": "Referatet er klart samme dag.",
        **changes,
    }


def problems(result: TrialDraft | tuple[FieldError, ...]) -> set[tuple[str, Problem]]:
    assert isinstance(result, tuple), "expected the trial to be refused"
    return {(error.field, error.problem) for error in result}


def test_a_complete_trial_is_accepted_with_the_champion_taking_part() -> None:
    draft = validate_trial(form(), OPTIONS, owner="aad-champion", today=TODAY)
    assert isinstance(draft, TrialDraft)
    assert draft.participants == ("aad-champion", "aad-kari", "aad-ola")
    assert (draft.starts, draft.ends) == (date(2026, 12, 1), date(2027, 2, 28))
    assert draft_from_json(draft_json(draft)) == draft


def test_each_missing_or_wrong_field_is_named() -> None:
    result = validate_trial(
        form(title=" ", task="hack", area=None, unit="x" * 500, tool="other", success=""),
        OPTIONS,
        owner="aad-champion",
        today=TODAY,
    )
    assert problems(result) == {
        ("title", Problem.REQUIRED),
        ("task", Problem.UNKNOWN_CHOICE),
        ("area", Problem.REQUIRED),
        ("unit", Problem.TOO_LONG),
        ("tool_other", Problem.REQUIRED),
        ("success", Problem.REQUIRED),
    }


def test_the_period_must_make_sense() -> None:
    def period(starts: str, ends: str) -> set[tuple[str, Problem]]:
        return problems(
            validate_trial(form(starts=starts, ends=ends), OPTIONS, owner="a", today=TODAY)
        )

    assert period("2027-01-10", "2027-01-01") == {("ends", Problem.OUT_OF_RANGE)}
    assert period("2026-12-01", "2028-01-01") == {("ends", Problem.OUT_OF_RANGE)}
    assert period("2026-10-01", "2026-11-30") == {("ends", Problem.IN_THE_PAST)}
    assert period("i morgen", "2027-01-01") == {("starts", Problem.NOT_A_DATE)}


def test_forged_participants_are_refused() -> None:
    for value in ("aad-kari,<script>", "a b", 7, ["aad-kari"]):
        assert problems(
            validate_trial(form(participants=value), OPTIONS, owner="a", today=TODAY)
        ) == {("participants", Problem.UNKNOWN_CHOICE)}
    many = ",".join(f"aad-{n}" for n in range(MAX_PARTICIPANTS + 1))
    assert problems(validate_trial(form(participants=many), OPTIONS, owner="a", today=TODAY)) == {
        ("participants", Problem.OUT_OF_RANGE)
    }


@given(st.dictionaries(st.text(max_size=12), st.none() | st.text(max_size=30) | st.integers()))
def test_any_payload_gives_a_draft_or_named_problems(data: dict[str, Any]) -> None:
    result = validate_trial({**form(), **data}, OPTIONS, owner="aad-champion", today=TODAY)
    if isinstance(result, tuple):
        assert result, "a refusal always says what is wrong"
    else:
        assert result.participants[0] == "aad-champion"


def _stored(**draft_changes: Any) -> StoredTrial:
    draft = validate_trial(form(**draft_changes), OPTIONS, owner="aad-champion", today=TODAY)
    assert isinstance(draft, TrialDraft)
    trial = Trial("t1", datetime(2026, 12, 1, tzinfo=UTC), "aad-champion", "nb", draft, "green", "")
    return StoredTrial(trial, DeliveryState.PENDING)


def test_a_trial_is_offered_from_its_start_until_the_grace_after_its_end() -> None:
    trial = _stored(starts="2026-12-10", ends="2027-01-31").trial
    assert not is_open(trial, date(2026, 12, 9))
    assert is_open(trial, date(2026, 12, 10))
    assert is_open(trial, date(2027, 1, 31) + FILING_GRACE)
    assert not is_open(trial, date(2027, 1, 31) + FILING_GRACE + timedelta(days=1))
    assert takes_part(trial, "aad-kari")
    assert takes_part(trial, "aad-champion")
    assert not takes_part(trial, "aad-nobody")
    assert not takes_part(trial, "")


def test_the_reminder_is_due_near_the_end_and_only_once() -> None:
    stored = _stored(starts="2026-12-01", ends="2027-01-31")
    end = date(2027, 1, 31)
    assert not reminder_due(stored, end - REMIND_BEFORE - timedelta(days=1))
    assert reminder_due(stored, end - REMIND_BEFORE)
    assert reminder_due(stored, end + timedelta(days=2)), "a late start still reminds"
    assert not reminder_due(stored, end + FILING_GRACE + timedelta(days=1))
    assert not reminder_due(replace(stored, reminded=True), end)


def test_a_learning_card_names_only_a_trial_the_person_may_file_under() -> None:
    mine = replace(CARD_OPTIONS, trials=("t-mine",))
    draft = validate({**GOOD, "trial": "t-mine"}, mine)
    assert not isinstance(draft, tuple)
    assert draft.trial == "t-mine"
    plain = validate(GOOD, mine)
    assert not isinstance(plain, tuple)
    assert plain.trial == "", "no trial chosen: the card stands on its own"
    for forged in ("t-other", 7, ["t-mine"]):
        refused = validate({**GOOD, "trial": forged}, mine)
        assert isinstance(refused, tuple)
        assert {(e.field, e.problem) for e in refused} == {("trial", Problem.UNKNOWN_CHOICE)}

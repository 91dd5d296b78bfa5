"""The trials list (utprøvinger) as KI-vett writes it: its columns, a trial's item fields, and the
learning-card list's lookup column to it. Pure: no Graph."""

from __future__ import annotations

import pytest

from bot.adapters.sharepoint.setup import column_definition
from bot.core.sharepoint_schema import (
    TRIAL_ID_COLUMN,
    TRIAL_LOOKUP,
    ColumnKind,
    ListChoices,
    columns,
    trial_columns,
    trial_fields,
)
from bot.workers.outbox import owner_fields
from tests.fakes.outbox_items import LABELS, trial

CHOICES: ListChoices = LABELS.list_choices()


def test_a_trial_item_has_every_column_with_the_learning_card_lists_labels() -> None:
    fields = trial_fields(trial("t-1"), LABELS)
    assert fields == {
        "Title": "Utprøving t-1",
        TRIAL_ID_COLUMN: "t-1",
        "Oppgave": LABELS.tasks["write"],
        "Tjenesteomrade": LABELS.service_areas["school"],
        "Enhet": "Skolekontoret",
        "Verktoy": LABELS.tools["copilot_chat"],
        "VerktoyAnnet": "",
        "Informasjonskategori": LABELS.categories["open"],
        "PeriodeStart": "2026-11-02",
        "PeriodeSlutt": "2026-12-18",
        "Suksesskriterier": "Halvparten av brevene skrives med utkast.",
        "KiSjekk": "Grønn",
        "Risikoniva": "minimal",
        "AntallDeltakere": 2,
        "Registrert": "2026-11-02T09:00:00Z",
        "Padriver": "aad-champion",
    }
    # every field but SharePoint's own Title is a column of the list
    assert set(fields) - {"Title"} == {spec.name for spec in trial_columns(CHOICES)}


def test_who_takes_part_is_never_written_only_how_many() -> None:
    values = [str(v) for v in trial_fields(trial("t-1"), LABELS).values()]
    assert not any("aad-kari" in v for v in values)


def test_after_an_erasure_the_champion_column_is_empty_and_is_the_one_to_patch() -> None:
    assert owner_fields(trial("t-1"), LABELS) == {"Padriver": "aad-champion"}
    erased = trial("t-1", owner="")
    assert trial_fields(erased, LABELS)["Padriver"] == ""
    assert owner_fields(erased, LABELS) == {"Padriver": ""}


def test_the_choice_columns_offer_the_same_labels_as_the_learning_card_list() -> None:
    cards = {spec.name: spec for spec in columns(CHOICES)}
    trials = {spec.name: spec for spec in trial_columns(CHOICES)}
    for name in ("Oppgave", "Tjenesteomrade", "Verktoy", "Informasjonskategori"):
        assert trials[name].kind is ColumnKind.CHOICE
        assert trials[name].choices == cards[name].choices
    assert trials["KiSjekk"].choices == ("Grønn", "Gul", "Rød")


def test_the_trial_id_is_unique_and_indexed_and_the_period_shows_days() -> None:
    unique = column_definition(next(s for s in trial_columns(CHOICES) if s.unique))
    assert (unique.name, unique.enforce_unique_values, unique.indexed) == (
        TRIAL_ID_COLUMN,
        True,
        True,
    )
    start = column_definition(next(s for s in trial_columns(CHOICES) if s.name == "PeriodeStart"))
    assert start.date_time is not None
    assert start.date_time.format == "dateOnly"


def test_the_lookup_column_points_at_the_trials_lists_title() -> None:
    lookup = column_definition(TRIAL_LOOKUP, "list-42")
    assert (lookup.name, lookup.display_name) == ("Utproving", "Utprøving")
    assert lookup.lookup is not None
    assert (lookup.lookup.list_id, lookup.lookup.column_name) == ("list-42", "Title")
    with pytest.raises(ValueError, match="no list"):
        column_definition(TRIAL_LOOKUP)

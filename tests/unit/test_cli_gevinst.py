"""`kivett gevinst export`: the gevinstverksted's material for a trial or a unit, as CSV or Excel,
from the embedded store through the real CLI entry point. The files open (csv module, openpyxl),
hold the counted figures, and a cell that looks like a formula stays text in both formats."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.bootstrap import open_stores
from bot.cli import main
from bot.core.learning_cards import StoredCard
from bot.operator.export import DELIMITER
from bot.operator.gevinst import CARDS_SHEET, HEADER, NOTE, SUMMARY_SHEET
from bot.settings import Settings, load_settings
from tests.unit.test_gevinst import CARDS, TRIALS

HOSTILE = '=HYPERLINK("https://evil.example","klikk")'
FULL_WIDTH = "＝1+1"


def _cards() -> list[StoredCard]:
    """The test cards, with formulas in a challenge, a shared result and a tool name."""
    cards = list(CARDS)
    first = cards[0].card
    cards[0] = replace(
        cards[0], card=replace(first, draft=replace(first.draft, challenges=HOSTILE))
    )
    second = cards[1].card
    cards[1] = replace(
        cards[1],
        card=replace(
            second,
            draft=replace(
                second.draft, share=True, result=FULL_WIDTH, tool="other", tool_other="@SUM(A1)"
            ),
        ),
    )
    return cards


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An operator's embedded store holding the trials and cards (and no .env around)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(env_file=None)

    async def fill() -> None:
        stores = await open_stores(settings)
        try:
            for trial in TRIALS:
                assert await stores.trials.add(trial.trial)
            for card in _cards():
                assert await stores.learning_cards.add(card.card)
        finally:
            await stores.backend.close()

    asyncio.run(fill())
    return settings


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=DELIMITER))


def test_xlsx_of_a_trial_holds_one_typed_row_per_card_and_the_summary(
    stored: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gevinst", "export", "--trial", "t-nord", "--format", "xlsx"]) == 0
    out = tmp_path / "gevinst-t-nord.xlsx"
    said = capsys.readouterr().out
    assert said.startswith("kivett: wrote 2 learning cards (Utprøving: Referat (t-nord))")
    assert "not measured" in said
    book = load_workbook(out)
    assert book.sheetnames == [CARDS_SHEET, SUMMARY_SHEET]
    sheet = book[CARDS_SHEET]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert tuple(rows[0]) == HEADER
    by_card = {
        row[HEADER.index("Kort-ID")]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]
    }
    assert set(by_card) == {"c1", "c2"}
    assert by_card["c1"]["Opplevd nytte (1–5)"] == 5
    assert by_card["c1"]["Timer per måned (rapportert)"] == 2
    assert by_card["c2"]["Minutter spart per gang (rapportert)"] == 15
    assert by_card["c2"]["Ganger per måned (rapportert)"] == 8
    assert by_card["c1"]["Resultat som kan deles"] == "Referatet var klart samme dag."
    assert by_card["c1"]["Anbefaler"] == "Ja"
    # formulas stay text, exactly as typed
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    for hostile in (HOSTILE, FULL_WIDTH):
        assert cells[hostile].data_type == "s"
    assert cells[HOSTILE].quotePrefix
    assert any(str(v).endswith(": @SUM(A1)") and cells[v].data_type == "s" for v in cells)
    assert all(cell.data_type != "f" for cell in cells.values())
    assert sheet.column_dimensions["A"].width > 8  # widths set to the content
    summary = {row[0].value: row[1].value for row in book[SUMMARY_SHEET].iter_rows()}
    assert summary["Merk"] == NOTE
    assert summary["Læringskort"] == 2
    assert summary["Opplevd nytte, snitt (1–5)"] == 4
    assert summary["Opplevd spart tid, rapportert, timer per måned"] == 4
    assert summary["Opplevd nytte 3: antall kort"] == 1
    assert summary["Anbefaler: Ja"] == 1
    assert summary["Anbefaler: Kanskje"] == 1
    assert summary["Resultater som kan deles"] == 2


def test_csv_of_a_unit_quotes_every_cell_and_neutralises_formulas(
    stored: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "ut" / "verksted.csv"
    args = ["gevinst", "export", "--unit", "hjemmetjenesten sone NORD", "--format", "csv"]
    assert main([*args, "--out", str(out)]) == 0
    raw = out.read_text(encoding="utf-8-sig")
    assert all(line.startswith('"') for line in raw.splitlines() if line)  # every cell quoted
    rows = _csv(out)
    assert rows[0] == list(HEADER)
    cards = rows[1 : rows.index([])]
    assert sorted(row[HEADER.index("Kort-ID")] for row in cards) == ["c1", "c2", "c3"]
    assert {row[HEADER.index("Utprøving-ID")] for row in cards} == {"t-nord", "t-nord-2"}
    cells = {cell for row in rows for cell in row}
    assert "'" + HOSTILE in cells
    assert "'" + FULL_WIDTH in cells
    assert HOSTILE not in cells
    assert FULL_WIDTH not in cells
    summary = {row[0]: row[1] for row in rows[rows.index([]) + 2 :]}
    assert summary["Læringskort"] == "3"
    assert summary["Opplevd spart tid, rapportert, timer per måned"] == "7"
    assert summary["Opplevd nytte, snitt (1–5)"] == "4"
    assert not (tmp_path / "ut" / "verksted.csv.partial").exists()


def test_an_unknown_trial_is_one_line_and_no_file(
    stored: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gevinst", "export", "--trial", "t-gone", "--format", "csv"]) == 2
    assert "no trial with the id 't-gone'" in capsys.readouterr().err
    assert not (tmp_path / "gevinst-t-gone.csv").exists()


def test_without_any_data_the_export_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_DATA_DIR", str(tmp_path / "empty"))
    assert main(["gevinst", "export", "--unit", "Skolekontoret", "--format", "xlsx"]) == 2
    assert "nothing to export" in capsys.readouterr().err
    assert not (tmp_path / "empty").exists()


def test_trial_or_unit_and_a_format_are_required() -> None:
    with pytest.raises(SystemExit):
        main(["gevinst", "export", "--format", "csv"])
    with pytest.raises(SystemExit):
        main(["gevinst", "export", "--trial", "t", "--unit", "u", "--format", "csv"])
    with pytest.raises(SystemExit):
        main(["gevinst", "export", "--trial", "t", "--format", "pdf"])

"""`kivett gevinst export`: the material a gevinstverksted needs, for one trial or one unit, as a
spreadsheet file (CSV or Excel).

One row per learning card filed under the trial (or the unit's trials): trial, unit, task, tool,
experienced benefit, minutes saved each time and times a month as reported, the hours a month
that gives, the recommendation, the challenges met and the result where its sender allowed it to
be shared (never who sent it). Then a summary with the figures the Teams card shows
(`bot.core.trials.gevinst`). Time and benefit are what employees experienced and reported, not
measured gains; the file says so.

Formulas never run: in CSV every cell is quoted and neutralised as `kivett export` does
(`bot.core.learning_cards.neutralise`); in Excel every text is written as a text cell (openpyxl
would otherwise store a string starting with "=" as a formula), with Excel's quote prefix on
text that looks like one, and numbers as numbers. The file is written next to its final name and
moved into place.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bot.bootstrap import open_stores
from bot.content_loader import load_content
from bot.core.learning_cards import Labels, StoredCard, neutralise
from bot.core.trials import StoredTrial, Trial
from bot.core.trials.gevinst import (
    Gevinst,
    Scope,
    ScopeKind,
    in_scope,
    summarize_trials,
    unit_name,
)
from bot.operator.export import DELIMITER
from bot.settings import Settings
from dialogs.learning_card import LearningCardDialog

Cell = str | int | float
"""What a spreadsheet cell holds: text, or a number that stays a number."""


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


NOTE = (
    "Tallene er opplevd nytte og tid som de ansatte selv har anslått og rapportert på "
    "læringskortene. De er ikke målte gevinster."
)
HEADER: tuple[str, ...] = (
    "Utprøving",
    "Utprøving-ID",
    "Enhet",
    "Tjenesteområde",
    "Oppgave",
    "Verktøy",
    "Opplevd nytte (1–5)",
    "Minutter spart per gang (rapportert)",
    "Ganger per måned (rapportert)",
    "Timer per måned (rapportert)",
    "Anbefaler",
    "Utfordringer",
    "Til oppfølging",
    "Resultat som kan deles",
    "Kort-ID",
    "Innsendt",
)
CARDS_SHEET = "Læringskort"
SUMMARY_SHEET = "Oppsummering"
MAX_WIDTH = 60


@dataclass(frozen=True)
class Material:
    """What goes into the file: the card rows and the summary rows (label, value[, value])."""

    scope: Scope
    title: str
    rows: tuple[tuple[Cell, ...], ...]
    summary: tuple[tuple[Cell, ...], ...]

    @property
    def cards(self) -> int:
        return len(self.rows)


class NothingFoundError(Exception):
    """No trial has that id, or no trial names that unit."""


def material(
    trials: Sequence[StoredTrial], cards: Sequence[StoredCard], scope: Scope, labels: Labels
) -> Material:
    """The file's content for `scope`. Raises NothingFoundError when it covers no trial."""
    covered = in_scope(trials, scope)
    if not covered:
        raise NothingFoundError(scope.key)
    found = summarize_trials(covered, cards)
    by_id = {t.trial_id: t for t in covered}
    title = (
        f"Utprøving: {covered[0].draft.title} ({covered[0].trial_id})"
        if scope.kind is ScopeKind.TRIAL
        else f"Enhet: {unit_name(scope, covered, labels)}"
    )
    return Material(
        scope=scope,
        title=title,
        rows=tuple(_row(stored, by_id[stored.card.draft.trial], labels) for stored in found.cards),
        summary=_summary(title, found, labels),
    )


def _row(stored: StoredCard, trial: Trial, labels: Labels) -> tuple[Cell, ...]:
    card, draft = stored.card, stored.card.draft
    tool = labels.tools.get(draft.tool, draft.tool)
    if draft.tool_other:
        tool = f"{tool}: {draft.tool_other}"
    return (
        trial.draft.title,
        trial.trial_id,
        trial.draft.unit,
        labels.service_areas.get(trial.draft.service_area, trial.draft.service_area),
        labels.tasks.get(draft.task, draft.task),
        tool,
        draft.benefit,
        draft.minutes_saved,
        draft.times_per_month,
        round(draft.minutes_saved * draft.times_per_month / 60, 2),
        labels.recommend.get(draft.recommend, draft.recommend),
        draft.challenges,
        "ja" if card.follow_up else "nei",
        draft.result if draft.share else "",
        card.card_id,
        card.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _summary(title: str, found: Gevinst, labels: Labels) -> tuple[tuple[Cell, ...], ...]:
    rows: list[tuple[Cell, ...]] = [
        ("Gjelder", title),
        ("Merk", NOTE),
        *(("Utprøving", f"{t.draft.title} ({t.trial_id})") for t in found.trials),
        ("Læringskort", found.total),
        (
            "Opplevd nytte, snitt (1–5)",
            round(found.average_benefit, 2) if found.average_benefit is not None else "",
        ),
        *((f"Opplevd nytte {score}: antall kort", n) for score, n in found.benefit_counts),
        (
            "Opplevd spart tid, rapportert, timer per måned",
            round(found.reported_hours_per_month, 2),
        ),
        *(
            (f"Rapportert tid per måned: {labels.tasks.get(task, task)}", round(hours, 2))
            for task, hours in found.hours_by_task
        ),
        *(
            (f"Anbefaler: {labels.recommend.get(answer, answer)}", n)
            for answer, n in found.recommend
        ),
        *(
            (f"Anbefalt oppgave: {labels.tasks.get(task, task)}", n)
            for task, n in found.recommended_tasks
        ),
        ("Kort med utfordringer eller til oppfølging", len(found.risks)),
        ("Resultater som kan deles", len(found.quotes)),
    ]
    return tuple(rows)


async def load(settings: Settings) -> tuple[list[StoredTrial], list[StoredCard]]:
    """Every trial and every learning card in the store the settings choose.
    Raises StorageUnavailableError."""
    stores = await open_stores(settings)
    try:
        return await stores.trials.all(), await stores.learning_cards.all()
    finally:
        await stores.backend.close()


async def export_gevinst(settings: Settings, scope: Scope, fmt: Format, out: Path) -> Material:
    """Write the material for `scope` to `out`; returns what was written.

    Raises NothingFoundError, StorageUnavailableError (store), OSError (file) or ContentError."""
    content = load_content()
    labels = LearningCardDialog(content.policy, content.service_areas).labels(
        content.catalog.texts("nb")
    )
    trials, cards = await load(settings)
    found = material(trials, cards, scope, labels)
    write(found, fmt, out)
    return found


def default_name(scope: Scope, fmt: Format) -> Path:
    """`gevinst-<trial id or unit>.<format>`, with only safe characters in the name."""
    slug = re.sub(r"[^0-9A-Za-z_-]+", "-", scope.key).strip("-")[:60] or "enhet"
    return Path(f"gevinst-{slug}.{fmt.value}")


def write(found: Material, fmt: Format, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if fmt is Format.CSV:
        _write_csv(found, partial)
    else:
        _write_xlsx(found, partial)
    os.replace(partial, out)


def _csv_cell(value: Cell) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")  # a Norwegian spreadsheet reads a decimal comma
    return neutralise(str(value))


def _write_csv(found: Material, path: Path) -> None:
    # utf-8 with a byte order mark: spreadsheets then read æ, ø and å right
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, quoting=csv.QUOTE_ALL)
        writer.writerow([_csv_cell(cell) for cell in HEADER])
        for row in found.rows:
            writer.writerow([_csv_cell(cell) for cell in row])
        writer.writerow([])
        writer.writerow([_csv_cell(SUMMARY_SHEET)])
        for row in found.summary:
            writer.writerow([_csv_cell(cell) for cell in row])


def _write_xlsx(found: Material, path: Path) -> None:
    from openpyxl import Workbook  # only the export loads it
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    def fill(sheet: Worksheet, rows: Sequence[Sequence[Cell]], header: bool) -> None:
        widths: dict[int, int] = {}
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # text, never a formula, whatever it starts with
                    if neutralise(value) != value:
                        cell.quotePrefix = True  # stays text when someone edits the cell
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if header and r == 1:
                    cell.font = Font(bold=True)
                longest = max((len(line) for line in str(value).splitlines()), default=0)
                widths[c] = max(widths.get(c, 0), longest)
        for c, width in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, width + 2)
        if header:
            sheet.freeze_panes = "A2"

    book = Workbook()
    cards = book.create_sheet(CARDS_SHEET, 0)
    book.remove(book.worksheets[1])  # the empty sheet a new workbook starts with
    fill(cards, [HEADER, *found.rows], header=True)
    summary = book.create_sheet(SUMMARY_SHEET)
    fill(summary, found.summary, header=False)
    book.save(path)

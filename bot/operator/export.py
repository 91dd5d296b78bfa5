"""Learning cards in the embedded store: `kivett export --csv` and `kivett outbox retry-parked`.

The export writes every card to a spreadsheet file. Cells that a spreadsheet would run as formulas
are neutralised (bot.core.learning_cards). The file is written next to its final name first and
moved into place, so a half-written file never replaces a good one.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.bootstrap import DATABASE_FILE
from bot.content_loader import load_content
from bot.core.learning_cards import CSV_HEADER, csv_row
from dialogs.learning_card import LearningCardDialog

DELIMITER = ";"
"""Semicolons: what a spreadsheet set up for Norwegian opens straight into columns."""


async def export_csv(data_dir: Path, out: Path) -> int:
    """Write every stored learning card to `out`; returns how many."""
    content = load_content()
    labels = LearningCardDialog(content.policy, content.service_areas).labels(
        content.catalog.texts("nb")
    )
    db = SqliteDatabase(data_dir / DATABASE_FILE)
    await db.open()
    try:
        cards = await SqliteLearningCardStore(db).all()
    finally:
        await db.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    # utf-8 with a byte order mark: spreadsheets then read æ, ø and å right
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(CSV_HEADER)
        for stored in cards:
            writer.writerow(csv_row(stored, labels))
    os.replace(partial, out)
    return len(cards)


async def retry_parked(data_dir: Path) -> int:
    """Put the cards SharePoint refused back in the outbox; the running bot sends them again."""
    db = SqliteDatabase(data_dir / DATABASE_FILE)
    await db.open()
    try:
        return await SqliteLearningCardStore(db).requeue_parked()
    finally:
        await db.close()

"""Learning cards in the store the settings choose (embedded SQLite or Azure Storage):
`kivett export --csv` and `kivett outbox retry-parked`.

The export writes every card to a spreadsheet file. Cells that a spreadsheet would run as formulas
are neutralised (`bot.core.learning_cards.neutralise`, also the forms a spreadsheet reads as the
same characters: full-width ＝ ＋ － ＠, small ﹦ ﹢ ﹣ ﹫, the minus sign); every cell is quoted,
so a semicolon, a comma or a line break inside a cell stays in that cell whichever separator the
spreadsheet assumes. The file is written next to its final name first and moved into place, so a
half-written file never replaces a good one.
"""

from __future__ import annotations

import csv
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.bootstrap import DATABASE_FILE, open_stores
from bot.content_loader import load_content
from bot.core.learning_cards import CSV_HEADER, csv_row
from bot.ports import LearningCardStore
from bot.settings import Settings
from dialogs.learning_card import LearningCardDialog

DELIMITER = ";"
"""Semicolons: what a spreadsheet set up for Norwegian opens straight into columns."""


def nothing_stored(settings: Settings) -> bool:
    """True when the embedded store has no database file yet (opening it would create an empty
    one). Azure Storage is asked instead: its container may hold cards from any instance."""
    return settings.storage == "sqlite" and not (settings.data_dir / DATABASE_FILE).exists()


def store_name(settings: Settings) -> str:
    """The store the settings choose, for an operator's one-line message."""
    if settings.storage == "azure":
        account = (
            settings.azure_account_url or "the account in KIVETT_AZURE_STORAGE_CONNECTION_STRING"
        )
        return f"Azure Storage (container {settings.azure_container} at {account})"
    return f"the store in {settings.data_dir}"


@asynccontextmanager
async def _learning_cards(settings: Settings) -> AsyncIterator[LearningCardStore]:
    stores = await open_stores(settings)
    try:
        yield stores.learning_cards
    finally:
        await stores.backend.close()


async def export_csv(settings: Settings, out: Path) -> int:
    """Write every stored learning card to `out`; returns how many.

    Raises StorageUnavailableError (store), OSError (file) or ContentError (labels)."""
    content = load_content()
    labels = LearningCardDialog(content.policy, content.service_areas).labels(
        content.catalog.texts("nb")
    )
    async with _learning_cards(settings) as store:
        cards = await store.all()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    # utf-8 with a byte order mark: spreadsheets then read æ, ø and å right
    with partial.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=DELIMITER, quoting=csv.QUOTE_ALL)
        writer.writerow(CSV_HEADER)
        for stored in cards:
            writer.writerow(csv_row(stored, labels))
    os.replace(partial, out)
    return len(cards)


async def retry_parked(settings: Settings) -> tuple[int, int]:
    """Put the learning cards and trials SharePoint refused back in the outbox; a running bot
    sends them again (a parked trial also holds back the cards filed under it). Returns how many
    cards and how many trials. Raises StorageUnavailableError."""
    stores = await open_stores(settings)
    try:
        trials = await stores.trials.requeue_parked()
        return await stores.learning_cards.requeue_parked(), trials
    finally:
        await stores.backend.close()

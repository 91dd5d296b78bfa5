"""`kivett export --csv`: every stored card, readable by a spreadsheet, formulas neutralised."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.bootstrap import DATABASE_FILE
from bot.operator.export import DELIMITER, export_csv
from tests.integration.test_outbox import card


async def test_export_writes_every_card_with_formulas_neutralised(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / DATABASE_FILE)
    await db.open()
    store = SqliteLearningCardStore(db)
    await store.add(card("c1"))
    evil = card("c2")
    await store.add(
        replace(evil, draft=replace(evil.draft, title='=HYPERLINK("http://x","klikk")'))
    )
    await db.close()

    out = tmp_path / "ut" / "kort.csv"
    assert await export_csv(tmp_path, out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read æøå right
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=DELIMITER))
    assert rows[0][:3] == ["kort_id", "innsendt", "tittel"]
    assert [row[0] for row in rows[1:]] == ["c1", "c2"]
    assert rows[2][2] == '\'=HYPERLINK("http://x","klikk")'
    assert rows[1][3] == "Oppvekst og utdanning"
    assert not (tmp_path / "ut" / "kort.csv.partial").exists()

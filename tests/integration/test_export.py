"""`kivett export --csv` and `kivett outbox retry-parked`: every stored card, readable by a
spreadsheet, formulas neutralised; parked cards back in the outbox. Both work on the store the
settings choose, embedded SQLite or Azure Storage (Azurite here), through the real CLI entry point.
"""

from __future__ import annotations

import asyncio
import csv
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.bootstrap import DATABASE_FILE, open_stores
from bot.cli import main
from bot.core.learning_cards import CSV_HEADER, DeliveryState, LearningCard
from bot.operator.export import DELIMITER, export_csv
from bot.settings import Settings, load_settings
from tests.azurite import connection_string, free_port, start_azurite
from tests.fakes.outbox_items import trial
from tests.integration.test_outbox import card

LEVERANSE = CSV_HEADER.index("leveranse")


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


@pytest.fixture(params=["sqlite", "azure"])
def configured(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The operator's environment for one backend (and a working directory without a .env);
    returns the settings the CLI will read from it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_DATA_DIR", str(tmp_path / "data"))
    if request.param == "azure":
        monkeypatch.setenv("KIVETT_STORAGE", "azure")
        monkeypatch.setenv(
            "KIVETT_AZURE_STORAGE_CONNECTION_STRING", request.getfixturevalue("azurite")
        )
        monkeypatch.setenv("KIVETT_AZURE_CONTAINER", f"export-{uuid.uuid4().hex[:12]}")
    return load_settings(env_file=None)


async def _store(settings: Settings, cards: list[LearningCard], park: set[str]) -> None:
    """Store the cards through the configured store, as the bot does; park some as the outbox
    does when SharePoint refuses them for good."""
    stores = await open_stores(settings)
    try:
        for item in cards:
            assert await stores.learning_cards.add(item)
        if park:
            taken = await stores.learning_cards.due(time.time(), len(cards))
            assert park <= {stored.card.card_id for stored in taken}
            for card_id in park:
                await stores.learning_cards.park(card_id, "403 accessDenied")
    finally:
        await stores.backend.close()


async def _pending_again(settings: Settings, card_id: str) -> tuple[DeliveryState, bool]:
    """The card's state, and whether the outbox now hands it out for delivery."""
    stores = await open_stores(settings)
    try:
        stored = await stores.learning_cards.get(card_id)
        due = await stores.learning_cards.due(time.time(), 10)
    finally:
        await stores.backend.close()
    assert stored is not None
    return stored.state, card_id in {s.card.card_id for s in due}


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=DELIMITER))


async def test_export_writes_every_card_with_formulas_neutralised(tmp_path: Path) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    evil = card("c2")
    formula = replace(evil, draft=replace(evil.draft, title='=HYPERLINK("http://x","klikk")'))
    await _store(settings, [card("c1"), formula], park=set())

    out = tmp_path / "ut" / "kort.csv"
    assert await export_csv(settings, out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read æøå right
    rows = _rows(out)
    assert rows[0][:3] == ["kort_id", "innsendt", "tittel"]
    assert [row[0] for row in rows[1:]] == ["c1", "c2"]
    assert rows[2][2] == '\'=HYPERLINK("http://x","klikk")'
    assert rows[1][3] == "Oppvekst og utdanning"
    assert not (tmp_path / "ut" / "kort.csv.partial").exists()


def test_the_cli_exports_the_cards_of_the_configured_store(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_store(configured, [card("c2"), card("c1"), card("c3")], park={"c3"}))

    assert main(["export", "--csv", "kort.csv"]) == 0
    assert capsys.readouterr().out.strip() == "kivett: wrote 3 learning cards to kort.csv"
    rows = _rows(tmp_path / "kort.csv")
    assert rows[0] == list(CSV_HEADER)
    assert [(row[0], row[LEVERANSE]) for row in rows[1:]] == [
        ("c1", "venter på SharePoint"),
        ("c2", "venter på SharePoint"),
        ("c3", "parkert"),
    ]


def test_the_cli_puts_parked_cards_back_in_the_outbox_of_the_configured_store(
    configured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_store(configured, [card("c1"), card("c2")], park={"c1"}))

    assert main(["outbox", "retry-parked"]) == 0
    assert capsys.readouterr().out.strip() == "kivett: 1 parked learning card will be sent again"
    state, handed_out = asyncio.run(_pending_again(configured, "c1"))
    assert state is DeliveryState.PENDING
    assert handed_out, "the outbox delivers it again"

    assert main(["outbox", "retry-parked"]) == 0
    assert capsys.readouterr().out.strip() == "kivett: 0 parked learning cards will be sent again"


@pytest.mark.parametrize("command", [["export", "--csv", "kort.csv"], ["outbox", "retry-parked"]])
def test_without_an_embedded_store_the_cli_says_there_is_no_data_and_creates_none(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_DATA_DIR", str(tmp_path / "data"))
    assert main(command) == 2
    assert capsys.readouterr().err.startswith(f"kivett: no data in {tmp_path / 'data'} ")
    assert not (tmp_path / "data" / DATABASE_FILE).exists()
    assert not (tmp_path / "kort.csv").exists()


@pytest.mark.parametrize(
    ("command", "verb"),
    [(["export", "--csv", "kort.csv"], "read"), (["outbox", "retry-parked"], "use")],
)
def test_unreachable_azure_storage_is_one_line_not_a_traceback(
    command: list[str],
    verb: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nobody = free_port()  # nothing listens here
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_STORAGE", "azure")
    monkeypatch.setenv(
        "KIVETT_AZURE_STORAGE_CONNECTION_STRING", connection_string(nobody, nobody, nobody)
    )
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"kivett: could not {verb} Azure Storage (container kivett at the account in "
        "KIVETT_AZURE_STORAGE_CONNECTION_STRING)"
    ]
    assert not (tmp_path / "kort.csv").exists()


FULL_WIDTH_FORMULAS = [
    '＝HYPERLINK("http://x";"klikk")',  # full-width equals sign
    "﹦1+1",  # small equals sign
    "＋47 99 99 99 99",  # full-width plus
    "﹢1",  # small plus
    "－2+3",  # full-width hyphen-minus
    "﹣2+3",  # small hyphen-minus
    "＠SUM(A1)",  # full-width commercial at
    "﹫SUM(A1)",  # small commercial at
    "\u2212 5",  # minus sign
    "\u3000＝1+1",  # an ideographic space first
    "\u200b=1+1",  # a zero-width space first
    "\t=1+1",  # tab
    "\r=1+1",  # carriage return
]


async def test_full_width_and_small_formula_characters_are_neutralised(tmp_path: Path) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    cards = []
    for number, title in enumerate(FULL_WIDTH_FORMULAS):
        base = card(f"c{number:02}")
        cards.append(replace(base, draft=replace(base.draft, title=title)))
    await _store(settings, cards, park=set())

    out = tmp_path / "kort.csv"
    assert await export_csv(settings, out) == len(FULL_WIDTH_FORMULAS)
    titles = [row[2] for row in _rows(out)[1:]]
    assert titles == ["'" + title for title in FULL_WIDTH_FORMULAS], (
        "every one starts with an apostrophe and keeps the rest as written"
    )


async def test_separators_and_line_breaks_inside_a_cell_stay_in_that_cell(tmp_path: Path) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    base = card("c1")
    what = 'Første linje; med semikolon, komma og "sitat"\nandre linje\r\ntredje'
    tricky = replace(base, draft=replace(base.draft, title="Kort; del 1, del 2", what=what))
    await _store(settings, [tricky, card("c2")], park=set())

    out = tmp_path / "kort.csv"
    assert await export_csv(settings, out) == 2
    rows = _rows(out)
    assert [len(row) for row in rows] == [len(CSV_HEADER)] * 3, "no cell was split"
    first = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert first["tittel"] == "Kort; del 1, del 2"
    assert first["hva_ble_gjort"] == what
    assert rows[2][0] == "c2"
    header = out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == DELIMITER.join(f'"{name}"' for name in CSV_HEADER), (
        "every cell is quoted, so a spreadsheet that assumes commas does not split one either"
    )


def test_the_cli_also_puts_a_parked_trial_back_in_the_outbox(
    configured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async def park_a_trial() -> None:
        stores = await open_stores(configured)
        try:
            assert await stores.trials.add(trial("t1"))
            await stores.trials.park("t1", "403 accessDenied")
        finally:
            await stores.backend.close()

    async def trial_due() -> bool:
        stores = await open_stores(configured)
        try:
            return [s.trial.trial_id for s in await stores.trials.due(time.time(), 10)] == ["t1"]
        finally:
            await stores.backend.close()

    asyncio.run(park_a_trial())
    assert main(["outbox", "retry-parked"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [
        "kivett: 0 parked learning cards will be sent again",
        "kivett: 1 parked trial will be sent again",
    ]
    assert asyncio.run(trial_due()), "the outbox delivers the trial again"

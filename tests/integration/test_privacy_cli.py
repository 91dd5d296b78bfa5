"""`kivett privacy export|erase|prune` for the personvernombud, through the real CLI entry point,
on the store the settings choose: embedded SQLite or Azure Storage (Azurite here)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import open_stores
from bot.cli import main
from bot.core.records import StoredReference, Subscription
from bot.core.trials import Trial
from bot.settings import Settings, load_settings
from tests.azurite import start_azurite
from tests.fakes.trials import sample_trial
from tests.integration.test_outbox import card

KARI = "6f1c2a1e-0000-4000-8000-00000000kari"
OLA = "6f1c2a1e-0000-4000-8000-000000000ola"


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_azurite(tmp_path_factory.mktemp("azurite") / "azurite.log") as running:
        yield running.connection_string


@pytest.fixture(params=["sqlite", "azure"])
def configured(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KIVETT_DATA_DIR", str(tmp_path / "data"))
    if request.param == "azure":
        monkeypatch.setenv("KIVETT_STORAGE", "azure")
        monkeypatch.setenv(
            "KIVETT_AZURE_STORAGE_CONNECTION_STRING", request.getfixturevalue("azurite")
        )
        monkeypatch.setenv("KIVETT_AZURE_CONTAINER", f"privacy-{uuid.uuid4().hex[:12]}")
    return load_settings(env_file=None)


def _reference(user: str) -> StoredReference:
    return StoredReference(
        conversation_id=f"a:chat-{user[-4:]}",
        conversation_type="personal",
        tenant_id="tenant-1",
        reference={
            "conversation": {"id": f"a:chat-{user[-4:]}", "conversationType": "personal"},
            "user": {"id": f"29:{user[-4:]}", "aadObjectId": user},
            "serviceUrl": "https://smba.trafficmanager.net/emea/",
            "channelId": "msteams",
        },
    )


def _trial() -> Trial:
    """A trial Kari registered, with Ola taking part."""
    return sample_trial("f" * 32, owner=KARI, participants=(KARI, OLA))


async def _seed(settings: Settings) -> None:
    stores = await open_stores(settings)
    try:
        for user in (KARI, OLA):
            await stores.references.save(_reference(user))
            await stores.lessons.complete(user, 1)
            first = card(f"c-{user[-4:]}")
            assert await stores.learning_cards.add(replace(first, author=user))
        await stores.lessons.complete(KARI, 2)
        await stores.trials.add(_trial())
        await stores.trials.mute_reminders(KARI)
        await stores.languages.choose(KARI, "nn")
        await stores.languages.mark_offered(OLA)
        await stores.lessons.subscribe(
            Subscription(
                KARI,
                _reference(KARI).conversation_id,
                0,
                "09:00",
                "Europe/Oslo",
                "nb",
                datetime.now(UTC) + timedelta(days=3),
            )
        )
    finally:
        await stores.backend.close()


def test_export_writes_everything_stored_about_one_person(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(configured))
    assert main(["privacy", "export", "--user", KARI, "--out", "innsyn/kari.json"]) == 0
    assert "innsyn/kari.json" in capsys.readouterr().out
    written = tmp_path / "innsyn" / "kari.json"
    assert written.stat().st_mode & 0o777 == 0o600, "personal data: the operator's eyes only"
    document = json.loads(written.read_text(encoding="utf-8"))
    assert document["user"] == KARI
    assert document["language"] == {"language": "nn", "offered": True}
    assert document["lessons_completed"] == [1, 2]
    assert document["subscription"]["at"] == "09:00"
    assert [c["card"]["card_id"] for c in document["learning_cards"]] == ["c-kari"]
    assert [c["conversation_id"] for c in document["conversations"]] == ["a:chat-kari"]
    assert document["trials"] == [
        {
            "id": "f" * 32,
            "registered_at": "2026-11-02T09:00:00+00:00",
            "role": "owner",
            "title": "Referater med Copilot",
            "unit": "Hjemmetjenesten",
            "starts": "2026-11-02",
            "ends": "2027-01-31",
            "verdict": "green",
        }
    ]
    assert document["trial_reminders_off"] is True
    assert OLA not in json.dumps(document), "nothing about anyone else (not Ola in her trial)"


def test_erase_shows_first_and_erases_only_with_yes(
    configured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(configured))
    assert main(["privacy", "erase", "--user", KARI]) == 0
    shown = capsys.readouterr().out
    assert "2 completed lesson(s)" in shown
    assert "--yes" in shown
    assert main(["privacy", "export", "--user", KARI]) == 0
    assert json.loads(capsys.readouterr().out)["lessons_completed"] == [1, 2], "not erased yet"

    assert main(["privacy", "erase", "--user", KARI, "--yes"]) == 0
    erased = capsys.readouterr().out
    assert "completed lessons forgotten: 2" in erased
    assert "learning cards without their sender now: 1" in erased
    assert "trials the person was removed from: 1" in erased
    assert "choice about trial reminders forgotten: yes" in erased

    assert main(["privacy", "export", "--user", KARI]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["lessons_completed"] == []
    assert after["subscription"] is None
    assert after["learning_cards"] == []
    assert after["conversations"] == []
    assert after["language"] is None, "the chosen language is forgotten"
    assert after["trials"] == []
    assert after["trial_reminders_off"] is False
    assert main(["privacy", "export", "--user", OLA]) == 0
    ola = json.loads(capsys.readouterr().out)
    assert ola["lessons_completed"] == [1], "Ola keeps his"
    assert ola["language"] == {"language": None, "offered": True}
    assert [(t["title"], t["role"]) for t in ola["trials"]] == [
        ("Referater med Copilot", "participant")
    ], "the trial stays, with Ola in it"

    assert main(["export", "--csv", "kort.csv"]) == 0
    capsys.readouterr()
    exported = Path("kort.csv").read_text(encoding="utf-8-sig")
    assert "c-kari" in exported, "the card stays for the organisation"
    assert KARI not in exported


def test_prune_reports_what_the_retention_limit_removed(
    configured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(configured))
    assert main(["privacy", "prune"]) == 0
    assert capsys.readouterr().out.strip() == (
        "kivett: retention 365 days: forgot 0 conversation(s), removed 0 monthly usage counter(s)"
    )


def test_a_blank_user_is_one_line(configured: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(configured))
    assert main(["privacy", "erase", "--user", " ", "--yes"]) == 2
    assert capsys.readouterr().err.strip() == "kivett: --user: give the person's Entra object id"

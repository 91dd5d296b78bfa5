from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from bot.cli import main
from bot.core.commands import CommandName, parse_command
from bot.operator.packaging import COMMANDS
from tests.node import localization_schema_errors, manifest_schema_errors

APP_ID = "0b6f6d2e-3c1a-4a8e-9d1e-5a4b3c2d1e0f"
BOT_ID = "7d9c1b2a-8e7f-4a6b-9c5d-4e3f2a1b0c9d"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "kivett.zip"
    assert main(["package", "--app-id", APP_ID, "--bot-id", BOT_ID, "--out", str(out)]) == 0
    return out


def test_package_holds_manifest_and_both_icons(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == [
            "color.png",
            "en.json",
            "manifest.json",
            "nn.json",
            "outline.png",
        ]


def test_manifest_passes_microsofts_bundled_schema_offline(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    schema_file, errors = manifest_schema_errors(path)
    assert errors == []
    version = manifest["manifestVersion"]
    assert f"/v{version}/" in schema_file
    major, minor = (int(part) for part in version.split("."))
    assert (major, minor) >= (1, 19)


def test_manifest_carries_ids_scopes_and_norwegian_commands(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    titles = {c["title"] for lst in bot["commandLists"] for c in lst["commands"]}
    assert {"hjelp", "om"} <= titles
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "nb-no"


def _localizations(package: Path) -> dict[str, dict[str, str]]:
    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        return {
            extra["languageTag"]: json.loads(archive.read(extra["file"]))
            for extra in manifest["localizationInfo"]["additionalLanguages"]
        }


def test_nynorsk_and_english_files_pass_microsofts_localization_schema_offline(
    package: Path, tmp_path: Path
) -> None:
    files = _localizations(package)
    assert set(files) == {"nn-no", "en"}
    for tag, strings in files.items():
        path = tmp_path / f"{tag}.json"
        path.write_text(json.dumps(strings), encoding="utf-8")
        schema_file, errors = localization_schema_errors(path)
        assert errors == [], tag
        assert schema_file.endswith("MicrosoftTeams.Localization.schema.json")


def test_each_language_lists_its_own_command_words_and_descriptions(package: Path) -> None:
    files = _localizations(package)
    nn, en = files["nn-no"], files["en"]
    titles = {
        tag: [
            v
            for k, v in strings.items()
            if k.startswith("bots[0].commandLists[0]") and k.endswith(".title")
        ]
        for tag, strings in files.items()
    }
    assert "vettreglar" in titles["nn-no"]
    assert "dataa mine" in titles["nn-no"]
    assert {"help", "my data", "lessons"} <= set(titles["en"])
    assert en["description.short"] != nn["description.short"]
    assert "Ingenting" not in en["description.full"]


def test_every_listed_command_word_is_one_the_bot_understands() -> None:
    for words, _ in COMMANDS:
        for language, word in words.items():
            assert parse_command(word).name is not CommandName.UNKNOWN, (language, word)


def test_color_icon_is_192_square_and_outline_is_32_white_on_transparent(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        with archive.open("color.png") as f:
            color = Image.open(f)
            color.load()
        with archive.open("outline.png") as f:
            outline = Image.open(f).convert("RGBA")
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    pixels = [cast(tuple[int, ...], outline.getpixel((x, y))) for y in range(32) for x in range(32)]
    visible = [p for p in pixels if p[3] > 0]
    assert visible, "outline icon is not empty"
    assert any(p[3] == 0 for p in pixels), "outline icon has a transparent background"
    assert all(p[:3] == (255, 255, 255) for p in visible), "outline icon is white only"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app-id", "nope", "--bot-id", BOT_ID], "--app-id: must be a GUID"),
        (["--app-id", APP_ID, "--bot-id", BOT_ID, "--version", "1"], "--version"),
        (["--app-id", APP_ID, "--bot-id", BOT_ID, "--website-url", "http://x"], "https://"),
    ],
)
def test_bad_package_options_get_a_one_line_reason(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["package", *args, "--out", str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "\n" not in err
    assert not (tmp_path / "x.zip").exists()

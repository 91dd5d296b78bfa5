"""`kivett package`: the Teams app package (manifest.json in bokmål, nn.json and en.json with the
nynorsk and English names, descriptions and commands, and two icons, in a zip)."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from content import Catalog, Language, Texts

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

# (command word as typed in nb, nn and en, text key of its description). Every word is one that
# bot.core.commands understands (a unit test holds them to it).
COMMANDS: tuple[tuple[dict[Language, str], str], ...] = (
    ({"nb": "hjelp", "nn": "hjelp", "en": "help"}, "manifest.cmd_help"),
    ({"nb": "ki-sjekk", "nn": "ki-sjekk", "en": "ai check"}, "manifest.cmd_check"),
    ({"nb": "sjekk tekst", "nn": "sjekk tekst", "en": "check text"}, "manifest.cmd_text_check"),
    ({"nb": "vettregler", "nn": "vettreglar", "en": "lessons"}, "manifest.cmd_lessons"),
    ({"nb": "abonner", "nn": "abonner", "en": "subscribe"}, "manifest.cmd_subscribe"),
    ({"nb": "læringskort", "nn": "læringskort", "en": "learning card"}, "manifest.cmd_cards"),
    ({"nb": "om", "nn": "om", "en": "about"}, "manifest.cmd_about"),
    ({"nb": "mine data", "nn": "dataa mine", "en": "my data"}, "manifest.cmd_mydata"),
    ({"nb": "språk", "nn": "språk", "en": "language"}, "manifest.cmd_language"),
)
ICONS = ("color.png", "outline.png")
# Teams language tag and file in the package of each additional language (nb is the manifest's).
ADDITIONAL_LANGUAGES: tuple[tuple[Language, str, str], ...] = (
    ("nn", "nn-no", "nn.json"),
    ("en", "en", "en.json"),
)
_LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/"
    "MicrosoftTeams.Localization.schema.json"
)
_COMMAND_LISTS = 2  # personal, and team + groupChat: the same commands in both


class PackageError(Exception):
    """An option is invalid; the message is one line for the operator."""


@dataclass(frozen=True)
class PackageOptions:
    app_id: str
    bot_id: str
    version: str = "0.1.0"
    developer_name: str = "KI-vett"
    website_url: str = "https://www.example.no/ki-vett"
    privacy_url: str = "https://www.example.no/ki-vett/personvern"
    terms_url: str = "https://www.example.no/ki-vett/vilkar"
    domain: str = ""

    def check(self) -> None:
        for name, value in (("--app-id", self.app_id), ("--bot-id", self.bot_id)):
            if not _GUID.match(value):
                raise PackageError(
                    f"{name}: must be a GUID such as 1a2b3c4d-0000-4000-8000-0123456789ab"
                )
        if not _VERSION.match(self.version):
            raise PackageError("--version: must look like 1.2.3")
        for name, value in (
            ("--website-url", self.website_url),
            ("--privacy-url", self.privacy_url),
            ("--terms-url", self.terms_url),
        ):
            if not value.startswith("https://"):
                raise PackageError(f"{name}: must be an https:// address")
        if not self.developer_name.strip():
            raise PackageError("--developer-name: must not be empty")


def _template() -> dict[str, Any]:
    raw = resources.files("appmanifest").joinpath("manifest.template.json").read_text("utf-8")
    loaded = json.loads(raw)
    if not isinstance(loaded, dict):
        raise PackageError("appmanifest/manifest.template.json must hold a JSON object")
    return loaded


def build_manifest(options: PackageOptions, texts: Texts) -> dict[str, Any]:
    """The manifest for these ids, with names, descriptions and commands from content."""
    options.check()
    manifest = _template()
    manifest["id"] = options.app_id
    manifest["version"] = options.version
    manifest["developer"] = {
        "name": options.developer_name,
        "websiteUrl": options.website_url,
        "privacyUrl": options.privacy_url,
        "termsOfUseUrl": options.terms_url,
    }
    manifest["name"] = {"short": texts("app.name"), "full": texts("manifest.name_full")}
    manifest["description"] = {
        "short": texts("manifest.description_short"),
        "full": texts("manifest.description_full"),
    }
    commands = [{"title": words["nb"], "description": texts(key)} for words, key in COMMANDS]
    bot = manifest["bots"][0]
    bot["botId"] = options.bot_id
    bot["commandLists"] = [
        {"scopes": ["personal"], "commands": commands},
        {"scopes": ["team", "groupChat"], "commands": commands},
    ]
    manifest["validDomains"] = [options.domain] if options.domain else []
    manifest["localizationInfo"] = {
        "defaultLanguageTag": "nb-no",
        "additionalLanguages": [
            {"languageTag": tag, "file": file} for _, tag, file in ADDITIONAL_LANGUAGES
        ],
    }
    return manifest


def build_localization(manifest_version: str, texts: Texts, language: Language) -> dict[str, Any]:
    """One additional language's file: the manifest's names, descriptions and command lists."""
    strings: dict[str, Any] = {
        "$schema": _LOCALIZATION_SCHEMA.format(version=manifest_version),
        "name.short": texts("app.name"),
        "name.full": texts("manifest.name_full"),
        "description.short": texts("manifest.description_short"),
        "description.full": texts("manifest.description_full"),
    }
    for n in range(_COMMAND_LISTS):
        for i, (words, key) in enumerate(COMMANDS):
            prefix = f"bots[0].commandLists[{n}].commands[{i}]"
            strings[f"{prefix}.title"] = words[language]
            strings[f"{prefix}.description"] = texts(key)
    return strings


def write_package(options: PackageOptions, catalog: Catalog, out: Path) -> Path:
    manifest = build_manifest(options, catalog.texts("nb"))
    out.parent.mkdir(parents=True, exist_ok=True)
    icons = resources.files("appmanifest")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for language, _, file in ADDITIONAL_LANGUAGES:
            strings = build_localization(
                str(manifest["manifestVersion"]), catalog.texts(language), language
            )
            archive.writestr(file, json.dumps(strings, ensure_ascii=False, indent=2))
        for icon in ICONS:
            archive.writestr(icon, icons.joinpath(icon).read_bytes())
    return out

"""`kivett package`: the Teams app package (manifest.json + two icons in a zip)."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from content import Texts

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

# (command word as typed, text key of its description). The words match bot.core.commands.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("hjelp", "manifest.cmd_help"),
    ("ki-sjekk", "manifest.cmd_check"),
    ("sjekk tekst", "manifest.cmd_text_check"),
    ("vettregler", "manifest.cmd_lessons"),
    ("abonner", "manifest.cmd_subscribe"),
    ("læringskort", "manifest.cmd_cards"),
    ("om", "manifest.cmd_about"),
    ("mine data", "manifest.cmd_mydata"),
)
ICONS = ("color.png", "outline.png")


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
    commands = [{"title": word, "description": texts(key)} for word, key in COMMANDS]
    bot = manifest["bots"][0]
    bot["botId"] = options.bot_id
    bot["commandLists"] = [
        {"scopes": ["personal"], "commands": commands},
        {"scopes": ["team", "groupChat"], "commands": commands},
    ]
    manifest["validDomains"] = [options.domain] if options.domain else []
    return manifest


def write_package(options: PackageOptions, texts: Texts, out: Path) -> Path:
    manifest = build_manifest(options, texts)
    out.parent.mkdir(parents=True, exist_ok=True)
    icons = resources.files("appmanifest")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in ICONS:
            archive.writestr(icon, icons.joinpath(icon).read_bytes())
    return out

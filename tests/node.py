"""Run Microsoft's Node tools (Adaptive Cards parser, Teams manifest schema) from the tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tests" / "tools"


def adaptive_card_findings(cards: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
    """Findings per card from Microsoft's `adaptivecards` parser (schema 1.5). Empty = valid."""
    result = subprocess.run(
        ["node", str(TOOLS / "validate-cards.js")],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    return findings


def manifest_schema_errors(manifest_path: Path) -> tuple[str, list[Any]]:
    """Errors from validating a manifest against Microsoft's bundled Teams schema, offline."""
    return _schema_errors("validate-manifest.js", manifest_path)


def localization_schema_errors(strings_path: Path) -> tuple[str, list[Any]]:
    """Errors from validating a manifest localization file (nn.json, en.json) against Microsoft's
    bundled Teams localization schema, offline."""
    return _schema_errors("validate-localization.js", strings_path)


def _schema_errors(script: str, path: Path) -> tuple[str, list[Any]]:
    result = subprocess.run(
        ["node", str(TOOLS / script), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"manifest validator failed: {result.stderr[-2000:]}")
    payload = json.loads(result.stdout)
    return str(payload["schemaFile"]), list(payload["errors"])

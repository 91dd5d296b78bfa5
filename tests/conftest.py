"""Shared fixtures. Tests never read the developer's real environment or .env for settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_bot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("Microsoft", "KIVETT_")):
            monkeypatch.delenv(name, raising=False)

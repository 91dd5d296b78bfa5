"""Shared fixtures. Tests never read the developer's real environment or .env for settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# CI must give the same answer on every run: by default Hypothesis draws the same examples each
# time (derandomize). `KIVETT_HYPOTHESIS=explore` draws fresh, many more, to hunt for new edge cases
# on a developer's machine; whatever it finds becomes a fixed example or a fix.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("KIVETT_HYPOTHESIS", "ci"))


@pytest.fixture(autouse=True)
def _clean_bot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("Microsoft", "KIVETT_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def _own_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The compiled card templates and parsed content files (cards.template_cache) go to a
    directory of the test session's own, not the developer's ~/.cache; the bots the tests start
    as processes inherit it. Tests of the caches themselves set their own."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))

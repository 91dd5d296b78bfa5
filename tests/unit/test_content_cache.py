"""The content's data files as parsed at an earlier start (bot.content_loader.read_data): the same
content with or without the cache, a changed or broken file parsed and checked again, and any
trouble with the cache passed over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import bot.content_loader as loader
from bot.content_loader import load_content, read_data
from content import ContentError, read_yaml


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []

    def counted(name: str) -> object:
        parsed.append(name)
        return read_yaml(name)

    monkeypatch.setattr(loader, "parse_yaml", counted)
    return parsed


def test_the_content_is_the_same_with_a_cold_cache_a_warm_one_and_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = load_content()
    parsed = _count_parses(monkeypatch)

    assert load_content(tmp_path) == expected
    first = list(parsed)
    assert "lexicon.yaml" in first
    kept = sorted(tmp_path.glob("content-*.marshal"))
    assert len(kept) == len(first) - 1, "every data file but policy.yaml (it holds a date)"

    parsed.clear()
    assert load_content(tmp_path) == expected
    assert parsed == ["policy.yaml"], "a warm cache parses only what marshal cannot hold"


def test_a_damaged_or_foreign_cache_file_is_parsed_again_and_written_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = read_data("lexicon.yaml", None)
    read_data("lexicon.yaml", tmp_path)
    [kept] = tmp_path.glob("content-*.marshal")
    parsed = _count_parses(monkeypatch)
    for damage in (kept.read_bytes()[:100], b"", b"\x00garbage"):
        kept.write_bytes(damage)
        assert read_data("lexicon.yaml", tmp_path) == expected
    assert parsed == ["lexicon.yaml"] * 3
    # a file holding another key's data (renamed by hand, say) is not taken for this one
    other = tmp_path / "other"
    other.mkdir()
    read_data("names.yaml", other)
    [names] = other.glob("content-*.marshal")
    kept.write_bytes(names.read_bytes())
    assert read_data("lexicon.yaml", tmp_path) == expected
    assert parsed[-1] == "lexicon.yaml"
    parsed.clear()
    assert read_data("lexicon.yaml", tmp_path) == expected
    assert parsed == [], "written over with the right data"


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    assert read_data("names.yaml", not_a_directory) == read_data("names.yaml", None)


class _Folder:
    """Stands in for importlib.resources: the content package read from a folder of ours."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def files(self, package: str) -> Path:
        assert package == "content"
        return self.root


def test_a_changed_file_is_parsed_and_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_dir, cache = tmp_path / "content", tmp_path / "cache"
    content_dir.mkdir()
    cache.mkdir()
    data_file = content_dir / "learning.yaml"
    parsed: list[str] = []

    def parse(name: str) -> Any:
        parsed.append(name)
        try:
            return yaml.safe_load((content_dir / name).read_text(encoding="utf-8"))
        except yaml.YAMLError:
            raise ContentError(f"{name}: not valid YAML") from None

    monkeypatch.setattr(loader, "resources", _Folder(content_dir))
    monkeypatch.setattr(loader, "parse_yaml", parse)

    data_file.write_text("service_areas: [helse, skole]\n", encoding="utf-8")
    assert read_data("learning.yaml", cache) == {"service_areas": ["helse", "skole"]}
    assert read_data("learning.yaml", cache) == {"service_areas": ["helse", "skole"]}
    assert parsed == ["learning.yaml"]

    data_file.write_text("service_areas: [helse]\n", encoding="utf-8")
    assert read_data("learning.yaml", cache) == {"service_areas": ["helse"]}
    assert parsed == ["learning.yaml"] * 2
    assert len(list(cache.glob("content-learning-*.marshal"))) == 1, "the earlier version went"

    data_file.write_text("service_areas: [helse\n", encoding="utf-8")  # broken
    with pytest.raises(ContentError, match=r"learning\.yaml: not valid YAML"):
        read_data("learning.yaml", cache)


def test_the_placeholder_warnings_of_a_production_start_are_the_same_from_the_cache(
    tmp_path: Path,
) -> None:
    from bot.cli import _placeholder_warnings

    expected = _placeholder_warnings()
    assert expected, "the shipped content still has its placeholders"
    assert _placeholder_warnings(tmp_path) == expected  # cold
    assert _placeholder_warnings(tmp_path) == expected  # warm
    assert any(tmp_path.glob("content-*.marshal"))

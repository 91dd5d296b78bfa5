"""Compiled card templates kept between starts (cards.template_cache): the same cards with or
without the cache, templates compiled once, and any trouble with the cache passed over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment

from cards.renderer import CardRenderer
from cards.template_cache import CardTemplateCache, fingerprint, user_cache_dir
from content import LANGUAGES, load_catalog
from tests.sample_views import SAMPLE_VIEWS


def _render_all(renderer: CardRenderer) -> list[dict[str, Any]]:
    catalog = load_catalog()
    return [
        renderer.render(view, catalog.texts(language))
        for language in LANGUAGES
        for view in SAMPLE_VIEWS
    ]


def _counting_compiles(renderer: CardRenderer) -> list[str]:
    """The names of the templates the renderer's environment compiles from source."""
    env = renderer._env
    compiled: list[str] = []
    compile_source = env.compile

    def counted(source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return compile_source(source, name, *args, **kwargs)

    env.compile = counted  # type: ignore[method-assign, assignment]
    return compiled


def test_every_card_is_the_same_with_a_cold_cache_a_warm_one_and_none(tmp_path: Path) -> None:
    expected = _render_all(CardRenderer())

    cold = CardRenderer(template_cache=tmp_path)
    compiled_cold = _counting_compiles(cold)
    assert _render_all(cold) == expected
    assert "help.json.j2" in compiled_cold
    assert list(tmp_path.glob("kivett-*.cache")), "compiled templates were written"

    warm = CardRenderer(template_cache=tmp_path)  # as a process started later
    compiled_warm = _counting_compiles(warm)
    assert _render_all(warm) == expected
    assert compiled_warm == [], "a warm cache compiles nothing"


def test_a_damaged_cache_file_is_compiled_again_and_written_over(tmp_path: Path) -> None:
    expected = _render_all(CardRenderer())
    _render_all(CardRenderer(template_cache=tmp_path))
    files = sorted(tmp_path.glob("kivett-*.cache"))
    for index, file in enumerate(files):  # cut short, emptied, or garbage after a valid header
        data = file.read_bytes()
        file.write_bytes([data[: len(data) // 2], b"", data[:40] + b"\xff" * 50][index % 3])

    damaged = CardRenderer(template_cache=tmp_path)
    compiled = _counting_compiles(damaged)
    assert _render_all(damaged) == expected
    assert len(compiled) == len(files)

    again = CardRenderer(template_cache=tmp_path)
    compiled_again = _counting_compiles(again)
    assert _render_all(again) == expected
    assert compiled_again == [], "the damaged files were written over"


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    expected = _render_all(CardRenderer())
    renderer = CardRenderer(template_cache=not_a_directory)
    compiled = _counting_compiles(renderer)
    assert _render_all(renderer) == expected
    assert "help.json.j2" in compiled


def test_code_compiled_under_other_options_is_never_loaded(tmp_path: Path) -> None:
    ours = CardRenderer()._env
    other = Environment(trim_blocks=False, lstrip_blocks=True, autoescape=True)
    assert fingerprint(ours) != fingerprint(other)
    assert fingerprint(ours) == fingerprint(CardRenderer()._env), "stable between processes"
    assert CardTemplateCache(tmp_path, ours).pattern != CardTemplateCache(tmp_path, other).pattern


def test_the_cache_lives_in_the_users_private_cache_directory(tmp_path: Path) -> None:
    found = user_cache_dir(environ={"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert found == tmp_path / "xdg" / "kivett" / "cards"
    assert found.stat().st_mode & 0o777 == 0o700
    assert user_cache_dir(environ={"XDG_CACHE_HOME": str(tmp_path / "xdg")}) == found, "found again"


def test_a_cache_directory_others_may_write_or_a_link_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "kivett" / "cards").mkdir(parents=True)
    (shared / "kivett" / "cards").chmod(0o777)
    assert user_cache_dir(environ={"XDG_CACHE_HOME": str(shared)}) is None

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    linked = tmp_path / "linked"
    (linked / "kivett").mkdir(parents=True)
    (linked / "kivett" / "cards").symlink_to(elsewhere)
    assert user_cache_dir(environ={"XDG_CACHE_HOME": str(linked)}) is None


def test_no_cache_when_the_directory_cannot_be_made(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would go")
    assert user_cache_dir(environ={"XDG_CACHE_HOME": str(blocked)}) is None


@pytest.mark.parametrize("relative", ["", "relative/path"])
def test_an_unset_or_relative_xdg_cache_home_means_the_home_directorys_cache(
    relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".cache" / "kivett" / "cards"
    assert user_cache_dir(environ={"XDG_CACHE_HOME": relative}) == expected

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import ROOT


def _run(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT / "tests",
        timeout=60,
    )


def test_serve_without_credentials_and_without_dev_exits_with_one_line_reason() -> None:
    result = _run(["serve"], {})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "MicrosoftAppId" in lines[0]
    assert "--dev" in lines[0]


def test_invalid_setting_stops_start_up_with_one_line_naming_it() -> None:
    result = _run(["serve", "--dev"], {"KIVETT_LOG_LEVEL": "chatty"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kivett: KIVETT_LOG_LEVEL: invalid value; allowed: DEBUG, INFO, WARNING, ERROR"
    )


def test_dev_mode_refuses_to_listen_beyond_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - asking for all interfaces is the point of this test
    assert main(["serve", "--dev", "--host", everywhere]) == 2
    assert "127.0.0.1 only" in capsys.readouterr().err


def test_content_check_reports_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    assert "content OK" in capsys.readouterr().out


def test_console_script_and_module_are_the_same_program() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "kivett"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "package" in result.stdout


def test_export_without_any_data_says_so_in_one_line(tmp_path: object) -> None:
    result = _run(["export", "--csv", "out.csv"], {"KIVETT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("kivett: no data in ")

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

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


SETUP_APP = "7d3f0a52-9c1e-4f4b-8a51-2b6e0c9d1f11"
SITE = "https://contoso.sharepoint.com/sites/ki"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--device-code"], "--client-id"),
        (["--device-code", "--client-id", "KI-vett setup"], "--client-id: not an app"),
        (["--device-code", "--client-id", SETUP_APP], "--tenant"),
        (["--client-id", SETUP_APP], "add --device-code"),
    ],
)
def test_sharepoint_setup_as_a_person_says_what_is_missing_before_signing_in(
    extra: list[str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in os.environ:
        if name.startswith(("Microsoft", "KIVETT_")):
            monkeypatch.delenv(name)
    assert main(["sharepoint", "setup", "--site", SITE, *extra]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("kivett: ")
    assert named in lines[0]
    assert captured.out == ""  # no sign-in was started


def test_sharepoint_setup_help_offers_the_device_code_sign_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["sharepoint", "setup", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--device-code" in text
    assert "'KI-vett setup' app registration" in text
    assert "--bot-id" in text


def test_content_check_strict_fails_while_placeholders_are_left(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "check", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "NOT READY FOR PRODUCTION" in out
    assert "personvernombud@example.no" in out


def _serve_until_started(args: list[str], env_extra: dict[str, str]) -> list[str]:
    """Start `kivett serve`, read its stderr until the 'starting' log line, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env.update(env_extra)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT / "tests",
    )
    guard = threading.Timer(60, process.kill)
    guard.start()
    lines: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if '"event":"starting"' in line.replace(" ", ""):
                break
    finally:
        guard.cancel()
        process.terminate()
        process.wait(timeout=30)
    return lines


def test_serve_warns_about_placeholder_content_before_going_live(tmp_path: object) -> None:
    lines = _serve_until_started(
        [],
        {
            "MicrosoftAppId": "0b5e6c2d-1a2b-4c3d-9e8f-112233445566",
            "MicrosoftAppPassword": "test-secret",
            "MicrosoftAppTenantId": "3c9b1e7a-5d4f-4a2b-8c6d-aabbccddeeff",
            "KIVETT_DATA_DIR": str(tmp_path),
        },
    )
    (warning,) = [line for line in lines if line.startswith("kivett: warning: ")]
    assert "placeholder" in warning
    assert "kivett content check" in warning
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    (event,) = [entry for entry in logged if entry.get("event") == "content_placeholders"]
    assert event["level"] == "WARNING"
    assert event["count"] > 0


def test_serve_dev_does_not_warn_about_placeholders(tmp_path: object) -> None:
    lines = _serve_until_started(["--dev"], {"KIVETT_DATA_DIR": str(tmp_path)})
    assert any('"starting"' in line for line in lines)
    assert not any("placeholder" in line for line in lines)


def test_serve_on_a_damaged_database_exits_with_one_line_naming_the_file(tmp_path: Path) -> None:
    database = tmp_path / "kivett.sqlite3"
    database.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run(["serve", "--dev", "--port", str(port)], {"KIVETT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    problems = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("kivett: ") and "DEV MODE" not in line
    ]
    assert len(problems) == 1, result.stderr
    assert str(database) in problems[0]
    assert "backup" in problems[0]
    assert result.stderr.splitlines()[-1] == problems[0], "the last word is the reason"
    assert "Traceback" not in result.stderr
    assert database.read_bytes().startswith(b"this is not a database"), "the file is left alone"


def test_worker_without_credentials_and_without_dev_exits_with_one_line_reason() -> None:
    result = _run(["worker"], {})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "MicrosoftAppId" in lines[0]
    assert "kivett worker --dev" in lines[0]


def test_worker_dev_mode_refuses_to_listen_beyond_loopback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - asking for all interfaces is the point of this test
    assert main(["worker", "--dev", "--host", everywhere]) == 2
    assert "127.0.0.1 only" in capsys.readouterr().err


def test_serve_offers_to_leave_the_workers_to_a_worker_process() -> None:
    result = _run(["serve", "--help"], {})
    assert result.returncode == 0
    assert "--no-workers" in result.stdout
    assert "kivett worker" in result.stdout
    assert "KIVETT_WORKERS=off" in result.stdout


def test_an_invalid_workers_setting_names_the_variable_and_its_values() -> None:
    result = _run(["serve", "--dev"], {"KIVETT_WORKERS": "sometimes"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("kivett: KIVETT_WORKERS: invalid value; allowed: on")


def test_the_worker_process_starts_and_answers_its_liveness_probe(tmp_path: Path) -> None:
    import urllib.request

    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env["KIVETT_DATA_DIR"] = str(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker", "--dev", "--port", str(port)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=env,
        cwd=ROOT / "tests",
    )
    answers: list[bytes] = []
    try:
        for _ in range(600):  # a guard, not a measurement: give up after about a minute
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz") as response:
                    answers.append(response.read())
                    break
            except OSError:
                threading.Event().wait(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert answers, "the worker never answered /readyz"
    assert json.loads(answers[0])["status"] == "ready"
    assert (tmp_path / "kivett.sqlite3").exists(), "the worker opened the shared store"

"""`kivett policy matrix` and the placeholder warnings of `kivett content check`, through the CLI's
entry point."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.policy import parse_policy
from content import read_yaml
from dialogs.policy_matrix import combination_count

COMBINATIONS = combination_count(parse_policy(read_yaml("policy.yaml")))


def test_matrix_csv_is_written_with_a_byte_order_mark_and_one_line_per_combination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tabell" / "matrise.csv"
    assert main(["policy", "matrix", "--format", "csv", "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][:2] == ["Oppgave", "Verktøy"]
    assert len(table) == COMBINATIONS + 1
    chatgpt_restricted = [line for line in table if line[1] == "ChatGPT" and line[2] == "Begrenset"]
    assert chatgpt_restricted
    assert all(line[6] == "Rødt" for line in chatgpt_restricted)
    assert not list(tmp_path.glob("**/*.partial"))
    assert f"{COMBINATIONS} combinations" in capsys.readouterr().out


def test_matrix_markdown_in_nynorsk_is_written_to_the_file(tmp_path: Path) -> None:
    out = tmp_path / "matrise.md"
    assert main(["policy", "matrix", "--format", "md", "--lang", "nn", "--out", str(out)]) == 0
    document = out.read_text(encoding="utf-8")
    assert document.startswith("# Avgjerdstabell for KI-sjekken")
    assert "| Oppgåve | Verktøy | Informasjon | Avgjerd om personar |" in document
    assert "Avgjerande regel" in document


def test_matrix_markdown_in_english_is_printed_without_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "matrix", "--format", "md", "--lang", "en"]) == 0
    document = capsys.readouterr().out
    assert document.startswith("# KI-sjekken decision table")
    assert "| Task | Tool | Information | Decision about people |" in document
    assert "(`personal_data_open_tool`)" in document


def test_matrix_needs_a_known_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["policy", "matrix", "--format", "xlsx"])
    assert stopped.value.code == 2
    assert "--format" in capsys.readouterr().err


def test_matrix_that_cannot_be_written_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    occupied = tmp_path / "matrise.md"
    occupied.mkdir()
    assert main(["policy", "matrix", "--format", "md", "--out", str(occupied)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"kivett: could not write {occupied}")
    assert len(err.splitlines()) == 1
    assert not list(tmp_path.glob("*.partial"))


def test_content_check_warns_about_placeholders_and_still_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["content", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("kivett: content OK")
    warnings = [line for line in lines if line.startswith("kivett: warning: ")]
    assert (
        "kivett: warning: content/policy.yaml, contacts.privacy_officer.email: "
        "'personvernombud@example.no' "
    ) in "\n".join(warnings)
    assert any("municipality.name: 'Eksempel kommune'" in line for line in warnings)
    assert lines[-1].startswith("kivett: NOT READY FOR PRODUCTION")
    assert f"{len(warnings)} placeholder" in lines[-1]

"""docs/policy-matrix.md is the decision table the personvernombud reads: it must be what the
content in this commit gives, so a change to the rules or the texts shows up there for review."""

from __future__ import annotations

from bot.content_loader import load_content
from bot.operator.policy_matrix import matrix_text
from tests.conftest import ROOT

DOC = ROOT / "docs" / "policy-matrix.md"


def test_the_published_decision_table_matches_the_content() -> None:
    expected = matrix_text(load_content(), "md", "nb")
    assert DOC.read_text(encoding="utf-8") == expected, (
        "content changed: run `.venv/bin/kivett policy matrix --format md --out "
        "docs/policy-matrix.md` and review the difference"
    )

"""The decision table for the personvernombud: one row per combination, red rows that say what
decided them and never that the use is low risk, sources and steps filled in, every language,
formulas neutralised, and a Markdown document whose merged rows cover every combination once."""

from __future__ import annotations

import csv
import io
import itertools
from functools import cache

import pytest

from bot.core.policy import RULES, Answers, Policy, Verdict, all_answers, parse_policy
from content import LANGUAGES, Texts, load_catalog, read_yaml
from dialogs.policy_matrix import (
    COLUMNS,
    CSV_DELIMITER,
    MatrixRow,
    combination_count,
    csv_cells,
    headers,
    matrix_csv,
    matrix_row,
    matrix_rows,
)
from dialogs.policy_matrix_markdown import group_rows, matrix_markdown

POLICY = parse_policy(read_yaml("policy.yaml"))
REFERENCE = "DPIA og FRIA for vedtaksstøtte i hjemmetjenesten, sak 2026/1234"
CHATGPT_RESTRICTED = Answers(task="write", tool="chatgpt", category="restricted")


def _texts(language: str = "nb") -> Texts:
    catalog = load_catalog()
    return next(catalog.texts(lang) for lang in LANGUAGES if lang == language)


@cache
def _rows() -> tuple[MatrixRow, ...]:
    return tuple(matrix_rows(POLICY, _texts()))


def _raw_policy() -> dict[str, object]:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    return raw


def _tools(raw: dict[str, object]) -> list[dict[str, object]]:
    tools = raw["tools"]
    assert isinstance(tools, list)
    return tools


def _small_raw() -> dict[str, object]:
    """The shipped policy cut down to one task and three tools, for tests that render it all."""
    raw = _raw_policy()
    tasks = raw["tasks"]
    assert isinstance(tasks, list)
    raw["tasks"] = tasks[:1]
    raw["tools"] = [
        t for t in _tools(raw) if t["id"] in {"chatgpt", "m365_copilot", "unknown_tool"}
    ]
    return raw


def _case_system_assessed_for_services() -> Policy:
    raw = _raw_policy()
    for tool in _tools(raw):
        if tool["id"] == "case_system_ai":
            tool["assessed_for"] = [{"use": "services", "reference": REFERENCE}]
    return parse_policy(raw)


def test_the_table_has_one_row_per_combination() -> None:
    rows = _rows()
    expected = (
        len(POLICY.tasks)
        * len(POLICY.tools)
        * len(POLICY.category_answers)
        * len(POLICY.uses)
        * 2
        * (len(POLICY.red_flags) + 1)
    )
    assert len(rows) == combination_count(POLICY) == expected == len(list(all_answers(POLICY)))
    assert len({row.answers for row in rows}) == len(rows)


def test_every_red_row_names_the_rule_that_decided_it_and_never_calls_the_use_low_risk() -> None:
    texts = _texts()
    low_risk = texts("rule.minimal_risk")
    red = [row for row in _rows() if row.verdict is Verdict.RED]
    assert red
    for row in red:
        deciding = row.rules[0]
        assert RULES[deciding].verdict is Verdict.RED
        assert row.deciding_rule == f"{texts(f'matrix.rule.{deciding}')} ({deciding})"
        assert row.verdict_name == texts("matrix.verdict.red")
        assert low_risk not in row.reasons
        assert "minimal_risk" not in row.rules
        assert row.reasons[0] == texts(f"rule.{deciding}")


def test_chatgpt_with_personal_data_is_red_with_its_sources_and_the_approved_tools() -> None:
    texts = _texts()
    row = next(r for r in _rows() if r.answers == CHATGPT_RESTRICTED)
    assert row.verdict is Verdict.RED
    assert row.rules[0] == "personal_data_open_tool"
    assert row.tool == "ChatGPT"
    assert row.information == texts("category.restricted.name")
    assert row.red_flag == texts("matrix.no_flag")
    titles = [source.title for source in row.sources]
    for source in RULES["personal_data_open_tool"].sources:
        assert texts(f"source.{source}") in titles
    assert "GDPR art. 5 (prinsipper, dataminimering)" in titles
    assert texts("next.remove_personal_data") in row.next_steps
    assert any("Microsoft 365 Copilot (lisens)" in step for step in row.next_steps)
    assert row.conditions == ()


def test_steps_and_conditions_have_the_contacts_and_the_assessment_reference_filled_in() -> None:
    policy = _case_system_assessed_for_services()
    texts = _texts()
    assessed = matrix_row(
        policy,
        texts,
        Answers(task="write", tool="case_system_ai", category="restricted", decision="services"),
    )
    assert assessed.verdict is Verdict.YELLOW
    assert any(REFERENCE in step for step in assessed.next_steps)
    assert any(REFERENCE in condition for condition in assessed.conditions)
    sensitive = matrix_row(
        policy, texts, Answers(task="write", tool="case_system_ai", category="confidential")
    )
    email = policy.contacts["privacy_officer"].email
    assert any(step.endswith(email) for step in sensitive.next_steps)
    for row in _rows():
        for cell in (*row.next_steps, *row.conditions):
            assert "{" not in cell, cell


def test_csv_has_the_headers_and_one_line_per_combination() -> None:
    texts = _texts()
    table = list(csv.reader(io.StringIO(matrix_csv(texts, _rows())), delimiter=CSV_DELIMITER))
    assert table[0] == list(headers(texts))
    assert table[0][:3] == ["Oppgave", "Verktøy", "Informasjon"]
    assert len(table) == combination_count(POLICY) + 1
    assert all(len(line) == len(COLUMNS) for line in table)
    known = [
        line
        for line in table
        if line[:6]
        == [
            texts("task.write"),
            "ChatGPT",
            texts("category.restricted.name"),
            texts("use.none"),
            texts("kisjekk.answer_no"),
            texts("matrix.no_flag"),
        ]
    ]
    assert len(known) == 1
    assert known[0][6] == texts("matrix.verdict.red")
    assert "personal_data_open_tool" in known[0][7]
    assert "GDPR art. 6 (behandlingsgrunnlag)" in known[0][9].split("\n")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() -> None:
    raw = _small_raw()
    for tool in _tools(raw):
        if tool["id"] == "chatgpt":
            tool["name"] = '=HYPERLINK("https://evil.example","klikk")'
    policy = parse_policy(raw)
    cells = csv_cells(matrix_row(policy, _texts(), CHATGPT_RESTRICTED))
    assert cells[1] == "'" + '=HYPERLINK("https://evil.example","klikk")'
    text = matrix_csv(_texts(), matrix_rows(policy, _texts()))
    table = csv.reader(io.StringIO(text), delimiter=CSV_DELIMITER)
    assert not [cell for line in table for cell in line if cell.lstrip().startswith("=")]


@pytest.mark.parametrize(
    ("language", "first", "deciding"),
    [
        ("nb", "Oppgave", "Avgjørende regel"),
        ("nn", "Oppgåve", "Avgjerande regel"),
        ("en", "Task", "Deciding rule"),
    ],
)
def test_headers_are_in_the_chosen_language(language: str, first: str, deciding: str) -> None:
    names = headers(_texts(language))
    assert names[0] == first
    assert names[COLUMNS.index("deciding_rule")] == deciding


def test_every_rule_and_column_has_a_name_in_every_language() -> None:
    catalog = load_catalog()
    for language in LANGUAGES:
        texts = catalog.texts(language)
        for rule in RULES:
            assert texts.has(f"matrix.rule.{rule}"), (language, rule)
        for column in COLUMNS:
            assert texts.has(f"matrix.header.{column}"), (language, column)


def test_merged_markdown_rows_cover_every_combination_once_with_its_own_outcome() -> None:
    rows = _rows()
    by_index: dict[tuple[int, ...], MatrixRow] = {}
    tasks = [t.id for t in POLICY.tasks]
    tools = [t.id for t in POLICY.tools]
    uses = [u.id for u in POLICY.uses]
    flags = [frozenset(), *(frozenset({f}) for f in POLICY.red_flags)]
    for row in rows:
        a = row.answers
        key = (
            tasks.index(a.task),
            tools.index(a.tool),
            POLICY.category_answers.index(a.category),
            uses.index(a.decision),
            int(a.published),
            flags.index(a.flags),
        )
        by_index[key] = row
    groups = group_rows(POLICY, rows)
    assert len(groups) < len(rows) / 10
    covered = []
    for group in groups:
        combinations = list(itertools.product(*group.values))
        assert len(combinations) == group.size
        for combination in combinations:
            row = by_index[combination]
            assert (row.verdict, row.rules, row.sources, row.next_steps, row.conditions) == (
                group.row.verdict,
                group.row.rules,
                group.row.sources,
                group.row.next_steps,
                group.row.conditions,
            )
        covered.extend(combinations)
    assert len(covered) == len(set(covered)) == len(rows)


def test_markdown_document_sums_up_explains_every_rule_and_links_every_source() -> None:
    texts = _texts()
    document = matrix_markdown(POLICY, texts, _rows())
    counts = {v: sum(1 for row in _rows() if row.verdict is v) for v in Verdict}
    assert document.startswith(f"# Beslutningstabell for KI-sjekken – {POLICY.municipality}")
    assert f"| {texts('matrix.total')} | {len(_rows())} |" in document
    for verdict, count in counts.items():
        name = texts(f"matrix.verdict.{verdict.name.lower()}")
        assert f"## {name}: {count} kombinasjoner" in document
    for rule in RULES:
        assert f"(`{rule}`)" in document
        assert texts(f"rule.{rule}") in document
    for source, url in POLICY.sources.items():
        assert f"[{source}]: {url}" in document
    assert "[GDPR art. 5 (prinsipper, dataminimering)][gdpr_art5]" in document
    assert "{" not in document


def test_a_pipe_in_a_name_cannot_break_the_markdown_table() -> None:
    raw = _small_raw()
    # A product name (descriptions such as unknown_tool's come from the texts).
    tool = next(t for t in _tools(raw) if not _texts().has(f"tool_name.{t['id']}"))
    tool["name"] = "Kommune | Chat"
    policy = parse_policy(raw)
    document = matrix_markdown(policy, _texts(), matrix_rows(policy, _texts()))
    assert "Kommune \\| Chat" in document
    assert "Kommune | Chat" not in document

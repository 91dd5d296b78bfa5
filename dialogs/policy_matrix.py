"""The decision table a personvernombud can sign: every combination KI-sjekken can be asked (task ×
tool × information × use × publishing × red flag) with its verdict, the rule that decided it, all
reasons, their sources, the next steps (contacts and assessment references filled in) and the
conditions, in one language.

Pure: policy and texts in, rows and file contents out. `matrix_csv` gives one row per combination
for a spreadsheet; `dialogs.policy_matrix_markdown` gives a document to read. Both take the rows
from `matrix_rows`, worked out once. Writing the file is
bot/operator/policy_matrix.py's job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.core.learning_cards import neutralise
from bot.core.policy import (
    UNSURE,
    Answers,
    Assessment,
    Policy,
    Verdict,
    all_answers,
    assess,
    flag_options,
)
from content import Texts
from dialogs.ki_verdict import VERDICT_NAMES, step_text, tool_name

COLUMNS = (
    "task",
    "tool",
    "information",
    "use",
    "published",
    "red_flag",
    "verdict",
    "deciding_rule",
    "reasons",
    "sources",
    "next_steps",
    "conditions",
)
"""The table's columns; each header is the text `matrix.header.<column>`."""

CSV_DELIMITER = ";"
"""Semicolons, as `kivett export`: a spreadsheet set up for Norwegian opens them into columns."""
CELL_LINES = "\n"
"""Several reasons, sources or steps in one cell: one per line."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str


@dataclass(frozen=True)
class MatrixRow:
    """One combination of answers and what KI-sjekken says to it, in words."""

    answers: Answers
    verdict: Verdict
    rules: tuple[str, ...]
    """Rule ids, the deciding rule first (as the engine orders them)."""
    task: str
    tool: str
    information: str
    use: str
    published: str
    red_flag: str
    verdict_name: str
    deciding_rule: str
    """The deciding rule's short name and its id, like 'Personopplysninger i åpen KI-tjeneste
    (personal_data_open_tool)'."""
    reasons: tuple[str, ...]
    sources: tuple[Source, ...]
    next_steps: tuple[str, ...]
    conditions: tuple[str, ...]


def rule_name(texts: Texts, rule: str) -> str:
    """A rule's short name, for tables and summaries."""
    return texts(f"matrix.rule.{rule}")


def headers(texts: Texts) -> tuple[str, ...]:
    return tuple(texts(f"matrix.header.{column}") for column in COLUMNS)


def category_name(texts: Texts, category: str) -> str:
    if category == UNSURE:
        return texts("kisjekk.category_unsure")
    return texts(f"category.{category}.name")


def flag_name(texts: Texts, flags: frozenset[str]) -> str:
    """No red flag, or the one ticked (the table has no row with two)."""
    if not flags:
        return texts("matrix.no_flag")
    return " + ".join(texts(f"flag.{flag}") for flag in sorted(flags))


def yes_no(texts: Texts, value: bool) -> str:
    return texts("kisjekk.answer_yes" if value else "kisjekk.answer_no")


def sources_of(policy: Policy, texts: Texts, result: Assessment) -> tuple[Source, ...]:
    """Every reason's sources, once each, in the order the reasons cite them."""
    ids = dict.fromkeys(source for reason in result.reasons for source in reason.sources)
    return tuple(Source(s, texts(f"source.{s}"), policy.sources[s]) for s in ids)


def next_steps_of(policy: Policy, texts: Texts, result: Assessment) -> tuple[str, ...]:
    """The steps as the verdict card words them, and the approved tools when it names them."""
    reference = result.assessment_reference
    steps = [step_text(policy, texts, step, reference) for step in result.next_steps]
    if result.alternatives:
        tools = ", ".join(tool_name(texts, policy.tool(t)) for t in result.alternatives)
        steps.append(texts("kisjekk.alternatives", tools=tools))
    return tuple(steps)


def conditions_of(texts: Texts, result: Assessment) -> tuple[str, ...]:
    reference = result.assessment_reference
    return tuple(
        texts(key, reference=reference) if key == "condition.assessed_use" else texts(key)
        for key in result.conditions
    )


def matrix_row(policy: Policy, texts: Texts, answers: Answers) -> MatrixRow:
    result = assess(policy, answers)
    rules = tuple(reason.rule for reason in result.reasons)
    return MatrixRow(
        answers=answers,
        verdict=result.verdict,
        rules=rules,
        task=texts(f"task.{answers.task}"),
        tool=tool_name(texts, policy.tool(answers.tool)),
        information=category_name(texts, answers.category),
        use=texts(f"use.{answers.decision}"),
        published=yes_no(texts, answers.published),
        red_flag=flag_name(texts, answers.flags),
        verdict_name=texts(f"matrix.verdict.{VERDICT_NAMES[result.verdict]}"),
        deciding_rule=f"{rule_name(texts, rules[0])} ({rules[0]})",
        reasons=tuple(texts(reason.text_key) for reason in result.reasons),
        sources=sources_of(policy, texts, result),
        next_steps=next_steps_of(policy, texts, result),
        conditions=conditions_of(texts, result),
    )


def matrix_rows(policy: Policy, texts: Texts) -> Iterator[MatrixRow]:
    """One row per combination, in content order (`bot.core.policy.all_answers`)."""
    for answers in all_answers(policy):
        yield matrix_row(policy, texts, answers)


def combination_count(policy: Policy) -> int:
    """How many rows the table has."""
    return (
        len(policy.tasks)
        * len(policy.tools)
        * len(policy.category_answers)
        * len(policy.uses)
        * 2
        * len(flag_options(policy))
    )


def csv_cells(row: MatrixRow) -> tuple[str, ...]:
    """A row's cells for a spreadsheet, none of which it would run as a formula."""
    cells = (
        row.task,
        row.tool,
        row.information,
        row.use,
        row.published,
        row.red_flag,
        row.verdict_name,
        row.deciding_rule,
        CELL_LINES.join(row.reasons),
        CELL_LINES.join(source.title for source in row.sources),
        CELL_LINES.join(row.next_steps),
        CELL_LINES.join(row.conditions),
    )
    return tuple(neutralise(cell) for cell in cells)


def matrix_csv(texts: Texts, rows: Iterable[MatrixRow]) -> str:
    """The table (`matrix_rows`) as CSV text: semicolons, \r\n line ends; the caller adds the
    byte order mark when it writes a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(tuple(neutralise(header) for header in headers(texts)))
    for row in rows:
        writer.writerow(csv_cells(row))
    return buffer.getvalue()

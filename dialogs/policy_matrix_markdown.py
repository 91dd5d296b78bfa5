"""The decision table as a Markdown document for the personvernombud: a summary of verdicts first,
then every rule in full (sentence, sources with links, next steps), then one table each for the
green, yellow and red verdicts.

Every combination is in the tables, but rows with exactly the same outcome are merged: a cell with
several values stands for each of them (a merged row is the product of its cells), and a cell with
every option says so in one word. That turns 29,700 combinations into about 1,100 rows; the CSV
keeps one row per combination. Pure: policy and texts in, text out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.core.policy import RULES, Policy, Verdict, flag_options
from content import Texts
from dialogs.ki_verdict import VERDICT_NAMES, step_text, tool_name
from dialogs.policy_matrix import (
    MatrixRow,
    category_name,
    combination_count,
    flag_name,
    headers,
    rule_name,
    yes_no,
)

TASK, TOOL, INFORMATION, USE, PUBLISHED, RED_FLAG = range(6)
MERGE_ORDER = (TOOL, TASK, RED_FLAG, PUBLISHED, USE, INFORMATION)
"""The dimensions merged, in this order (any order gives the same rows for the shipped policy)."""
LINE = "<br>"


@dataclass(frozen=True)
class MatrixGroup:
    """Combinations with one outcome: every choice of one value per dimension from `values`."""

    values: tuple[tuple[int, ...], ...]
    """Per dimension (task, tool, information, use, published, red flag): option indices."""
    row: MatrixRow
    """One of the combinations; every other one has the same verdict, reasons, steps and
    conditions."""

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.values)


def options(policy: Policy, texts: Texts) -> tuple[tuple[str, ...], ...]:
    """Every dimension's options in words, in content order."""
    return (
        tuple(texts(f"task.{task.id}") for task in policy.tasks),
        tuple(tool_name(texts, tool) for tool in policy.tools),
        tuple(category_name(texts, c) for c in policy.category_answers),
        tuple(texts(f"use.{use.id}") for use in policy.uses),
        (yes_no(texts, False), yes_no(texts, True)),
        tuple(flag_name(texts, flags) for flags in flag_options(policy)),
    )


def _indices(policy: Policy, row: MatrixRow) -> tuple[tuple[int, ...], ...]:
    answers = row.answers
    return (
        ([t.id for t in policy.tasks].index(answers.task),),
        ([t.id for t in policy.tools].index(answers.tool),),
        (policy.category_answers.index(answers.category),),
        ([u.id for u in policy.uses].index(answers.decision),),
        (int(answers.published),),
        (flag_options(policy).index(answers.flags),),
    )


def _outcome(row: MatrixRow) -> tuple[object, ...]:
    return (row.verdict, row.rules, row.sources, row.next_steps, row.conditions)


def _merge(groups: list[MatrixGroup], dimension: int) -> list[MatrixGroup]:
    """Join groups with the same outcome that differ only in `dimension`."""
    merged: dict[tuple[object, ...], MatrixGroup] = {}
    for group in groups:
        others = group.values[:dimension] + group.values[dimension + 1 :]
        key = (_outcome(group.row), others)
        found = merged.get(key)
        if found is None:
            merged[key] = group
            continue
        joined = tuple(sorted(found.values[dimension] + group.values[dimension]))
        values = (*found.values[:dimension], joined, *found.values[dimension + 1 :])
        merged[key] = replace(found, values=values)
    return list(merged.values())


def group_rows(policy: Policy, rows: Iterable[MatrixRow]) -> tuple[MatrixGroup, ...]:
    """The rows merged where the outcome is the same; green first, then in content order."""
    groups = [MatrixGroup(values=_indices(policy, row), row=row) for row in rows]
    for dimension in MERGE_ORDER:
        groups = _merge(groups, dimension)
    return tuple(sorted(groups, key=lambda g: (g.row.verdict, [v[0] for v in g.values])))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", LINE)


def _table(head: Iterable[str], body: Iterable[Iterable[str]]) -> list[str]:
    """A Markdown table; the body's cells are escaped already (they may hold line breaks)."""
    head = tuple(head)
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |", "|" + " --- |" * len(head)]
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    return lines


def _values(texts: Texts, labels: tuple[str, ...], chosen: tuple[int, ...]) -> str:
    if len(chosen) == len(labels) and len(labels) > 1:
        return texts("matrix.all")
    return LINE.join(_cell(labels[i]) for i in chosen)


def _source_links(row: MatrixRow) -> str:
    return ", ".join(f"[{_cell(s.title)}][{s.id}]" for s in row.sources)


def _group_cells(
    texts: Texts, labels: tuple[tuple[str, ...], ...], group: MatrixGroup
) -> tuple[str, ...]:
    row = group.row
    return (
        *(_values(texts, labels[d], group.values[d]) for d in range(TASK, RED_FLAG + 1)),
        _cell(row.verdict_name),
        _cell(row.deciding_rule),
        LINE.join(_cell(rule_name(texts, rule)) for rule in row.rules),
        _source_links(row),
        LINE.join(_cell(step) for step in row.next_steps),
        LINE.join(_cell(c) for c in row.conditions),
    )


def _verdict_name(texts: Texts, verdict: Verdict) -> str:
    return texts(f"matrix.verdict.{VERDICT_NAMES[verdict]}")


def _summary(
    policy: Policy, texts: Texts, rows: tuple[MatrixRow, ...], task_labels: tuple[str, ...]
) -> list[str]:
    verdicts = Counter(row.verdict for row in rows)
    lines = [f"## {texts('matrix.summary_title')}", ""]
    lines += _table(
        (texts("matrix.header.verdict"), texts("matrix.combinations")),
        [
            *((_cell(_verdict_name(texts, v)), str(verdicts[v])) for v in Verdict),
            (_cell(texts("matrix.total")), str(len(rows))),
        ],
    )
    per_task = Counter((row.answers.task, row.verdict) for row in rows)
    lines += ["", f"### {texts('matrix.by_task')}", ""]
    lines += _table(
        (texts("matrix.header.task"), *(_verdict_name(texts, v) for v in Verdict)),
        [
            (_cell(label), *(str(per_task[task.id, v]) for v in Verdict))
            for task, label in zip(policy.tasks, task_labels, strict=True)
        ],
    )
    deciding = Counter(row.rules[0] for row in rows)
    lines += ["", f"### {texts('matrix.by_rule')}", ""]
    lines += _table(
        (
            texts("matrix.header.deciding_rule"),
            texts("matrix.header.verdict"),
            texts("matrix.combinations"),
        ),
        [
            (
                _cell(rule_name(texts, rule)),
                _cell(_verdict_name(texts, RULES[rule].verdict)),
                str(count),
            )
            for rule, count in sorted(deciding.items(), key=lambda item: (-item[1], item[0]))
        ],
    )
    return lines


def _rules(policy: Policy, texts: Texts) -> list[str]:
    lines = [f"## {texts('matrix.rules_title')}", "", texts("matrix.rules_intro")]
    reference = texts("matrix.the_assessment")
    for rule_id, rule in RULES.items():
        sources = ", ".join(f"[{texts(f'source.{s}')}]({policy.sources[s]})" for s in rule.sources)
        lines += [
            "",
            f"### {rule_name(texts, rule_id)} (`{rule_id}`)",
            "",
            f"**{texts('matrix.header.verdict')}:** {_verdict_name(texts, rule.verdict)}",
            "",
            texts(f"rule.{rule_id}"),
            "",
            f"**{texts('matrix.header.sources')}:** {sources}",
        ]
        if rule.steps:
            lines += ["", f"**{texts('matrix.header.next_steps')}:**", ""]
            lines += [f"- {step_text(policy, texts, step, reference)}" for step in rule.steps]
    return lines


def matrix_markdown(policy: Policy, texts: Texts, rows: Iterable[MatrixRow]) -> str:
    """The decision table (`matrix_rows(policy, texts)`) as one Markdown document in the texts'
    language."""
    rows = tuple(rows)
    labels = options(policy, texts)
    lines = [
        f"# {texts('matrix.title', municipality=policy.municipality)}",
        "",
        texts("matrix.intro", count=combination_count(policy)),
        "",
        texts("law.ai_act_status") + " " + texts("law.ai_act_dates"),
    ]
    if policy.law_checked:
        lines += ["", texts("law.checked", date=_date(policy.law_checked))]
    lines += ["", texts("matrix.how_to_read"), ""]
    lines += _summary(policy, texts, rows, labels[TASK])
    lines += [""]
    lines += _rules(policy, texts)
    groups = group_rows(policy, rows)
    for verdict in Verdict:
        in_verdict = [g for g in groups if g.row.verdict is verdict]
        count = sum(g.size for g in in_verdict)
        heading = texts(
            "matrix.verdict_heading", verdict=_verdict_name(texts, verdict), count=count
        )
        lines += ["", f"## {heading}", ""]
        lines += _table(headers(texts), (_group_cells(texts, labels, g) for g in in_verdict))
    lines += ["", f"## {texts('matrix.header.sources')}", ""]
    lines += [f"- [{texts(f'source.{s}')}]({url})" for s, url in policy.sources.items()]
    lines += [""]
    lines += [f"[{s}]: {url}" for s, url in policy.sources.items()]
    return "\n".join(lines) + "\n"


def _date(iso: str) -> str:
    """2026-11-22 → 22.11.2026, as the verdict card writes it; anything else as it is."""
    parts = iso.split("-")
    if len(parts) == 3 and all(part.isdigit() for part in parts):
        return f"{parts[2]}.{parts[1]}.{parts[0]}"
    return iso

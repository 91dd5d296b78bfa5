"""bench/extraction: how well the lexicon extractor reads the KI-sjekk evaluation set.

Runs `bot.core.extraction.extract` over every question in tests/data/ki_questions.yaml, with the
lexicon in content/lexicon.yaml and the tool aliases in content/policy.yaml, and compares tool, task
and category with the annotated answers. "tool kind" compares the class of the tool found with the
class of the tool expected (open_service, approved, builtin, unknown; no tool is its own kind): it
is what decides the answer, so "Midjourney" read as another open service is right in kind even
where the id differs. "all three" is the share of questions where tool, task and category are
all right.

Prints a markdown table: per field, correct / total / accuracy, for all questions, by language
(bokmål nb, nynorsk nn) and by the `set` each question belongs to (see the file's header).

    .venv/bin/python -m bench.extraction               # prints the table
    .venv/bin/python -m bench.extraction --misses      # and every question it gets wrong
    .venv/bin/python -m bench.extraction --write-docs  # and writes it into docs/extraction.md

The result is deterministic: the same files give the same table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.common import replace_section, say
from bot.core.extraction import Extraction, Lexicon, extract, parse_lexicon

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "content" / "policy.yaml"
LEXICON = ROOT / "content" / "lexicon.yaml"
QUESTIONS = ROOT / "tests" / "data" / "ki_questions.yaml"
DOC = ROOT / "docs" / "extraction.md"
START, END = "<!-- bench:extraction:start -->", "<!-- bench:extraction:end -->"
FIELDS = ("tool", "task", "category")
ROWS = ("tool", "tool kind", "task", "category", "all three")
LANGUAGES = {"nb": "bokmål", "nn": "nynorsk"}


@dataclass(frozen=True)
class Outcome:
    question: Mapping[str, Any]
    found: Extraction
    kinds: Mapping[str, str]  # tool id → tool class

    def _kind(self, tool: str | None) -> str | None:
        return None if tool is None else self.kinds.get(tool, "?")

    def right(self, field: str) -> bool:
        if field == "all three":
            return all(self.right(f) for f in FIELDS)
        if field == "tool kind":
            return self._kind(self.found.tool) == self._kind(self.question["tool"])
        return bool(getattr(self.found, field) == self.question[field])

    def got(self, field: str) -> str:
        if field == "tool kind":
            return f"{self._kind(self.found.tool)}, expected {self._kind(self.question['tool'])}"
        return f"{getattr(self.found, field)}, expected {self.question[field]}"


@dataclass(frozen=True)
class Data:
    lexicon: Lexicon
    tools: dict[str, list[str]]
    kinds: dict[str, str]
    questions: list[dict[str, Any]]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load() -> Data:
    policy = _yaml(POLICY)
    lexicon = parse_lexicon(
        _yaml(LEXICON),
        task_ids=[task["id"] for task in policy["tasks"]],
        category_ids=[category["id"] for category in policy["categories"]],
    )
    tools = {tool["id"]: list(tool["aliases"]) for tool in policy["tools"]}
    kinds = {tool["id"]: str(tool["class"]) for tool in policy["tools"]}
    return Data(lexicon, tools, kinds, list(_yaml(QUESTIONS)["questions"]))


def evaluate(data: Data) -> list[Outcome]:
    return [
        Outcome(q, extract(q["text"], data.lexicon, data.tools), data.kinds) for q in data.questions
    ]


def _groups(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for language in LANGUAGES:
        groups[language] = [o for o in outcomes if o.question["language"] == language]
    for outcome in outcomes:
        groups.setdefault(f"set {outcome.question.get('set', '-')}", []).append(outcome)
    return groups


def _cell(outcomes: Sequence[Outcome], field: str) -> str:
    if not outcomes:
        return "–"
    correct = sum(o.right(field) for o in outcomes)
    return f"{correct / len(outcomes):.3f} ({correct}/{len(outcomes)})"


def table(outcomes: Sequence[Outcome]) -> str:
    groups = _groups(outcomes)
    sizes = ", ".join(f"{len(groups[lang])} {name}" for lang, name in LANGUAGES.items())
    sets = "; ".join(
        f"{name[4:]}: {len(members)} ("
        + ", ".join(
            f"{sum(o.question['language'] == lang for o in members)} {lang}" for lang in LANGUAGES
        )
        + ")"
        for name, members in groups.items()
        if name.startswith("set ")
    )
    names = list(groups)
    lines = [
        f"Evaluation set: {len(outcomes)} questions ({sizes}), `tests/data/ki_questions.yaml`; "
        f"by set: {sets}.",
        "",
        "| field | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for field in ROWS:
        lines.append(f"| {field} | " + " | ".join(_cell(groups[n], field) for n in names) + " |")
    return "\n".join(lines)


def misses(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        wrong = [f for f in ("tool kind", *FIELDS) if not outcome.right(f)]
        if not wrong:
            continue
        q = outcome.question
        lines.append(f"- [{q['language']} {q.get('set', '-')}] {q['text']}")
        for field in wrong:
            lines.append(f"    {field}: got {outcome.got(field)}")
        lines.append(f"    evidence: {outcome.found.evidence}")
    return "\n".join(lines) if lines else "(no misses)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--write-docs", action="store_true", help="write into docs/extraction.md")
    parser.add_argument("--misses", action="store_true", help="list the questions it gets wrong")
    args = parser.parse_args(argv)
    outcomes = evaluate(load())
    block = table(outcomes)
    print(block)
    if args.misses:
        print()
        print(misses(outcomes))
    if args.write_docs:
        replace_section(DOC, START, END, block)
        say(f"written to {DOC.relative_to(ROOT)} ({START} … {END})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

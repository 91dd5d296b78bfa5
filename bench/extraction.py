"""bench/extraction: how well the lexicon extractor reads the KI-sjekk evaluation set.

Runs `bot.core.extraction.extract` over every question in tests/data/ki_questions.yaml, with the
lexicon in content/lexicon.yaml and the tool aliases in content/policy.yaml, and compares tool, task
and category with the annotated answers. Prints a markdown table: per field, correct / total /
accuracy, for all questions and split by bokmål (nb) and nynorsk (nn); "all three" is the share of
questions where every field is right.

    .venv/bin/python -m bench.extraction               # prints the table
    .venv/bin/python -m bench.extraction --misses      # and every question it gets wrong
    .venv/bin/python -m bench.extraction --write-docs  # and writes it into docs/extraction.md

The result is deterministic: the same files give the same table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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
GROUPS = ("all", "nb", "nn")


@dataclass(frozen=True)
class Outcome:
    question: dict[str, Any]
    found: Extraction

    def right(self, field: str) -> bool:
        if field == "all three":
            return all(self.right(f) for f in FIELDS)
        return bool(getattr(self.found, field) == self.question[field])


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load() -> tuple[Lexicon, dict[str, list[str]], list[dict[str, Any]]]:
    policy = _yaml(POLICY)
    lexicon = parse_lexicon(
        _yaml(LEXICON),
        task_ids=[task["id"] for task in policy["tasks"]],
        category_ids=[category["id"] for category in policy["categories"]],
    )
    tools = {tool["id"]: list(tool["aliases"]) for tool in policy["tools"]}
    return lexicon, tools, list(_yaml(QUESTIONS)["questions"])


def evaluate(
    lexicon: Lexicon, tools: dict[str, list[str]], questions: Sequence[dict[str, Any]]
) -> list[Outcome]:
    return [Outcome(q, extract(q["text"], lexicon, tools)) for q in questions]


def _cell(outcomes: Sequence[Outcome], field: str) -> tuple[int, int]:
    return sum(o.right(field) for o in outcomes), len(outcomes)


def table(outcomes: Sequence[Outcome]) -> str:
    by_group = {
        "all": list(outcomes),
        "nb": [o for o in outcomes if o.question["language"] == "nb"],
        "nn": [o for o in outcomes if o.question["language"] == "nn"],
    }
    lines = [
        f"Evaluation set: {len(outcomes)} questions ({len(by_group['nb'])} bokmål, "
        f"{len(by_group['nn'])} nynorsk), `tests/data/ki_questions.yaml`.",
        "",
        "| field | correct | total | accuracy | nb | nn |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for field in (*FIELDS, "all three"):
        correct, total = _cell(by_group["all"], field)
        split = []
        for group in ("nb", "nn"):
            c, t = _cell(by_group[group], field)
            split.append(f"{c / t:.3f} ({c}/{t})" if t else "–")
        accuracy = f"{correct / total:.3f}" if total else "–"
        lines.append(f"| {field} | {correct} | {total} | {accuracy} | {split[0]} | {split[1]} |")
    return "\n".join(lines)


def misses(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        wrong = [f for f in FIELDS if not outcome.right(f)]
        if not wrong:
            continue
        q = outcome.question
        lines.append(f"- [{q['language']}] {q['text']}")
        for field in wrong:
            lines.append(f"    {field}: got {getattr(outcome.found, field)}, expected {q[field]}")
        lines.append(f"    evidence: {outcome.found.evidence}")
    return "\n".join(lines) if lines else "(no misses)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--write-docs", action="store_true", help="write into docs/extraction.md")
    parser.add_argument("--misses", action="store_true", help="list the questions it gets wrong")
    args = parser.parse_args(argv)
    outcomes = evaluate(*load())
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

"""bench/privacy: how well the text check finds person names, and what it finds in texts without
personal data.

Runs `bot.core.privacy.names.find_names` (with content/names.yaml) over every snippet in the
files of SNIPPETS and compares the names found with the labelled names: a found name is right
when its text equals a labelled name of the snippet (each label counts once), so a name found
with a word too many or too few is both a false finding and a miss. It also runs
`bot.core.privacy.scan` (the number, e-mail and address check, without names) over the same
snippets.

Reports, for all snippets and per `set`: precision and recall for names; the same with the name
lists emptied (first names and surnames; what a name that is not listed still gets); and the
share of negative snippets (no person in them) with a name found, and with any finding. The
sets: dev (tuned on), holdout (run once after the first tuning), unseen, fresh, final, check and
verify (names that are not in the lists; see the header of each file for when it was written and
run; verify is the one not tuned on).

    .venv/bin/python -m bench.privacy               # prints the table
    .venv/bin/python -m bench.privacy --misses      # and every snippet it gets wrong
    .venv/bin/python -m bench.privacy --set final   # one set only
    .venv/bin/python -m bench.privacy --write-docs  # and writes it into docs/privacy-detection.md

The result is deterministic: the same files give the same table.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bench.common import replace_section, say
from bot.core.privacy import scan
from bot.core.privacy.names import NameLexicon, find_names, parse_name_lexicon

ROOT = Path(__file__).resolve().parents[1]
LEXICON = ROOT / "content" / "names.yaml"
SNIPPETS = (
    ROOT / "tests" / "data" / "privacy_snippets.yaml",
    ROOT / "tests" / "data" / "privacy_snippets_unseen.yaml",
    ROOT / "tests" / "data" / "privacy_snippets_fresh.yaml",
    ROOT / "tests" / "data" / "privacy_snippets_final.yaml",
    ROOT / "tests" / "data" / "privacy_snippets_check.yaml",
    ROOT / "tests" / "data" / "privacy_snippets_verify.yaml",
)
DOC = ROOT / "docs" / "privacy-detection.md"
START, END = "<!-- bench:privacy:start -->", "<!-- bench:privacy:end -->"


@dataclass(frozen=True)
class Outcome:
    snippet: dict[str, Any]
    found: tuple[str, ...]
    found_without_lists: tuple[str, ...]
    scan_kinds: tuple[str, ...]

    @property
    def expected(self) -> tuple[str, ...]:
        return tuple(self.snippet["names"])

    @staticmethod
    def _hits(found: Sequence[str], expected: Sequence[str]) -> int:
        return sum((Counter(found) & Counter(expected)).values())

    def hits(self, *, lists: bool = True) -> int:
        return self._hits(self.found if lists else self.found_without_lists, self.expected)


def load() -> tuple[NameLexicon, list[dict[str, Any]]]:
    lexicon = parse_name_lexicon(yaml.safe_load(LEXICON.read_text(encoding="utf-8")))
    snippets: list[dict[str, Any]] = []
    for path in SNIPPETS:
        snippets.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["snippets"])
    return lexicon, snippets


def evaluate(lexicon: NameLexicon, snippets: Sequence[dict[str, Any]]) -> list[Outcome]:
    bare = replace(
        lexicon,
        first_names=frozenset(),
        ambiguous_first_names=frozenset(),
        surnames=frozenset(),
    )
    return [
        Outcome(
            s,
            tuple(n.text for n in find_names(s["text"], lexicon)),
            tuple(n.text for n in find_names(s["text"], bare)),
            tuple(sorted(f.kind.value for f in scan(s["text"]).findings)),
        )
        for s in snippets
    ]


def _ratio(part: int, whole: int) -> str:
    return "–" if whole == 0 else f"{part / whole:.3f} ({part}/{whole})"


def _rows(outcomes: Sequence[Outcome]) -> list[str]:
    expected = sum(len(o.expected) for o in outcomes)
    negatives = [o for o in outcomes if not o.expected]
    cells = []
    for lists in (True, False):
        hits = sum(o.hits(lists=lists) for o in outcomes)
        found = sum(len(o.found if lists else o.found_without_lists) for o in outcomes)
        cells += [_ratio(hits, found), _ratio(hits, expected)]
    cells.append(_ratio(sum(bool(o.found) for o in negatives), len(negatives)))
    cells.append(_ratio(sum(bool(o.found or o.scan_kinds) for o in negatives), len(negatives)))
    return cells


def table(outcomes: Sequence[Outcome]) -> str:
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for o in outcomes:
        groups.setdefault(f"set {o.snippet['set']}", []).append(o)
    for lang in ("nb", "nn"):
        groups[lang] = [o for o in outcomes if o.snippet["lang"] == lang]
    sizes = "; ".join(
        f"{name}: {len(g)} snippets, {sum(not o.expected for o in g)} without a person, "
        f"{sum(len(o.expected) for o in g)} names"
        for name, g in groups.items()
    )
    scan_counts = Counter(k for o in outcomes for k in o.scan_kinds)
    scan_text = ", ".join(f"{k} {n}" for k, n in sorted(scan_counts.items())) or "nothing"
    lines = [
        "Snippets: " + ", ".join(f"`{p.relative_to(ROOT)}`" for p in SNIPPETS) + f"; {sizes}.",
        "",
        "| group | name precision | name recall | precision, lists emptied "
        "| recall, lists emptied | negatives with a name found | negatives with any finding |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, group in groups.items():
        lines.append(f"| {name} | " + " | ".join(_rows(group)) + " |")
    lines += [
        "",
        f"`scan()` (numbers, e-mail, addresses; no names) over all snippets finds: {scan_text}.",
    ]
    return "\n".join(lines)


def misses(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for o in outcomes:
        wrong = Counter(o.found) - Counter(o.expected)
        missed = Counter(o.expected) - Counter(o.found)
        if not wrong and not missed:
            continue
        lines.append(f"- [{o.snippet['set']} {o.snippet['lang']}] {o.snippet['text']!r}")
        if missed:
            lines.append(f"    missed: {sorted(missed.elements())}")
        if wrong:
            lines.append(f"    wrong:  {sorted(wrong.elements())}")
    return "\n".join(lines) if lines else "(no misses)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.privacy", description=__doc__)
    parser.add_argument("--write-docs", action="store_true", help="write into the docs page")
    parser.add_argument("--misses", action="store_true", help="list the snippets it gets wrong")
    parser.add_argument(
        "--set", help="only this set (dev, holdout, unseen, fresh, final, check, verify)"
    )
    args = parser.parse_args(argv)
    lexicon, snippets = load()
    if args.set:
        snippets = [s for s in snippets if s["set"] == args.set]
    outcomes = evaluate(lexicon, snippets)
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

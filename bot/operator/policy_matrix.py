"""`kivett policy matrix`: KI-sjekken's decision table for the personvernombud, as CSV (one row per
combination, for a spreadsheet) or Markdown (to read and sign).

The table itself is built by dialogs/policy_matrix.py (pure); this module picks the language and
format and writes the file. A CSV file is UTF-8 with a byte order mark, so spreadsheets read æ, ø
and å right. Files are written next to their final name first and moved into place, so a
half-written file never replaces a good one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from bot.content_loader import Content
from content import Language
from dialogs.policy_matrix import combination_count, matrix_csv, matrix_rows
from dialogs.policy_matrix_markdown import matrix_markdown

Format = Literal["csv", "md"]
FORMATS: tuple[Format, ...] = ("csv", "md")


def matrix_text(content: Content, fmt: Format, language: Language) -> str:
    """The whole table in `fmt` and `language`. Raises ContentError if a text is missing."""
    texts = content.catalog.texts(language)
    rows = matrix_rows(content.policy, texts)
    if fmt == "csv":
        return matrix_csv(texts, rows)
    return matrix_markdown(content.policy, texts, rows)


def row_count(content: Content) -> int:
    """How many combinations the table covers."""
    return combination_count(content.policy)


def write_matrix(text: str, fmt: Format, out: Path) -> None:
    """Write the table to `out` atomically. Raises OSError."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    try:
        # newline="": the CSV writer's line ends (\r\n) are kept as they are
        with partial.open("w", encoding=encoding, newline="") as handle:
            handle.write(text)
        os.replace(partial, out)
    except OSError:
        partial.unlink(missing_ok=True)
        raise

"""Normalised words and clauses of a message, with the spans they came from.

The rules (NFC, case-folding, word splitting, clause marks) are in the `bot.core.extraction`
docstring.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_CHARS = 4000
"""Characters of a message that are read; a question is far shorter, a pasted document is not."""

_CLAUSE = "|"
_CLAUSE_CHARS = frozenset(".,;:!?()[]{}\n\r\u2026")
_INWORD_CHARS = frozenset(".,;:")
"""Marks that only separate words when they stand between two letters or digits with no space:
"Read.ai", "tl;dv", "3,5" are names and numbers, not two clauses."""


@dataclass(frozen=True)
class _Token:
    text: str  # normalised word, or _CLAUSE
    start: int  # span in the NFC text
    end: int


@dataclass(frozen=True)
class _Doc:
    source: str  # the NFC text the spans refer to
    tokens: tuple[_Token, ...]
    norm: str  # tokens joined by single spaces
    offsets: tuple[int, ...]  # where each token starts in `norm`

    def token_at(self, offset: int) -> int:
        """Index of the token that starts at `offset` in `norm` (a match always starts on one)."""
        low, high = 0, len(self.offsets) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.offsets[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low

    def original(self, start: int, end: int) -> str:
        """The text the user wrote for the normalised span [start, end), spaces collapsed."""
        first = self.tokens[self.token_at(start)]
        last = self.tokens[self.token_at(max(start, end - 1))]
        return " ".join(self.source[first.start : last.end].split())


def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _inside_word(text: str, index: int) -> bool:
    """True if the character at `index` has a letter or digit right before and right after it."""
    return (
        0 < index < len(text) - 1
        and _is_word_char(text[index - 1])
        and _is_word_char(text[index + 1])
    )


def _tokens(text: str, *, star: bool, clauses: bool) -> list[_Token]:
    """Split NFC text into normalised words (and clause marks when `clauses`)."""
    out: list[_Token] = []
    chars: list[str] = []
    kind = ""  # "d" digits, "a" letters, "" not decided yet (only stars so far)
    start = end = 0

    def flush() -> None:
        nonlocal chars, kind
        if chars:
            out.append(_Token("".join(chars), start, end))
        chars, kind = [], ""

    for index, char in enumerate(text):
        if _is_word_char(char) or (star and char == "*"):
            if char == "*" or unicodedata.category(char).startswith("M"):
                this = ""
            else:
                this = "d" if char.isdigit() else "a"
            if chars and this and kind and this != kind:
                flush()
            if not chars:
                start = index
            chars.append(char.casefold())
            end = index + 1
            if this:
                kind = this
            continue
        flush()
        if clauses and char in _INWORD_CHARS and _inside_word(text, index):
            continue
        if clauses and char in _CLAUSE_CHARS and out and out[-1].text != _CLAUSE:
            out.append(_Token(_CLAUSE, index, index + 1))
    flush()
    return out


def _doc(text: str) -> _Doc:
    source = unicodedata.normalize("NFC", text[:MAX_CHARS])
    tokens = tuple(_tokens(source, star=False, clauses=True))
    offsets: list[int] = []
    position = 0
    for token in tokens:
        offsets.append(position)
        position += len(token.text) + 1
    return _Doc(source, tokens, " ".join(t.text for t in tokens), tuple(offsets))


def _words(text: str, *, star: bool = False) -> list[str]:
    return [t.text for t in _tokens(unicodedata.normalize("NFC", text), star=star, clauses=False)]

"""A normalised view of a text for the detectors, with a map back to the original offsets.

People paste numbers the way they write or copy them: in full-width or other Unicode digits,
with invisible characters from web pages and documents inside, with no-break spaces and with
dashes of every kind. The detectors look at a normalised copy instead, in which

* every decimal digit of any script is its ASCII digit, and other characters take their NFKC
  compatibility form when that is a single character (full-width `１`, `．`, `／`, `＠`);
* format characters (Unicode category Cf: zero-width space, zero-width (non-)joiner, word
  joiner, byte-order mark, soft hyphen, direction marks) are left out;
* every space separator (no-break, narrow no-break, thin, ideographic …) is a plain space;
* every dash (hyphen, non-breaking hyphen, figure dash, en and em dash, minus) is `-`.

Each character of the normalised copy comes from exactly one character of the original, so a
finding in the copy maps back to the span the person actually wrote, invisible characters
inside it included.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

_MINUS_SIGNS: Final = frozenset("\u2212\u2796\ufe63\uff0d")


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, per character of it, the offset of its original character."""

    text: str
    origins: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the non-empty normalised span `start:end`."""
        return self.origins[start], self.origins[end - 1] + 1


def _normalise_char(ch: str) -> str:
    """The normalised form of one character: one character, or "" to leave it out."""
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    if category == "Nd":
        return chr(48 + unicodedata.decimal(ch))
    if category == "Zs":
        return " "
    if category == "Pd" or ch in _MINUS_SIGNS:
        return "-"
    compatible = unicodedata.normalize("NFKC", ch)
    return compatible if len(compatible) == 1 else ch


def normalise(text: str) -> Normalised:
    """Normalise `text` for the detectors; see the module docstring."""
    chars: list[str] = []
    origins: list[int] = []
    for index, ch in enumerate(text):
        normal = _normalise_char(ch)
        if normal:
            chars.append(normal)
            origins.append(index)
    return Normalised("".join(chars), tuple(origins))

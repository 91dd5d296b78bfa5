"""User text made inert for Teams markdown.

Teams renders TextBlock and FactSet text as a markdown subset (bold, italic, strike-through, lists,
links). Text a user typed must show as typed: `[Logg inn](https://…)` must not become a link and
`**viktig**` must not turn bold. `inert()` backslash-escapes the characters that start markdown
(CommonMark drops the backslash when it renders, so the text reads as typed); `UserText` marks a
value as user text so that every way a card can show it gives the escaped form.
"""

from __future__ import annotations

import re
from typing import Final

_INLINE: Final = re.compile(r"([\\`*_~\[\]<>&|])")
"""Characters that open emphasis, code, links and images, autolinks, entities or tables anywhere.
With `[` and `]` escaped no link or image can form, so `(`, `)` and `!` stay as typed."""
_LINE_START: Final = re.compile(r"^([ \t]*)([#>+=-]|\d+(?=[.)]))", re.MULTILINE)
"""Markers that only count at the start of a line: headings, quotes, list items, setext lines."""


def inert(text: str) -> str:
    """`text` escaped so that Teams shows it as typed, with no markdown formatting or links."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_marker, escaped)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1. " / "1) " starts an ordered list: escape the dot or bracket
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


class UserText:
    """Text a user typed (or a value masked from it), shown in a card but never as markdown.

    Whichever way a card or a sentence takes it — the renderer, a Jinja2 `~`, an f-string or a
    content text's `{placeholder}` — it gives the escaped form; `raw` is the text as typed (for
    Input values, which Teams does not read as markdown).
    """

    __slots__ = ("_raw",)
    _raw: str

    def __init__(self, raw: str) -> None:
        object.__setattr__(self, "_raw", raw)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("UserText is immutable")

    @property
    def raw(self) -> str:
        return self._raw

    def __str__(self) -> str:
        return inert(self._raw)

    def __format__(self, spec: str) -> str:
        return format(inert(self._raw), spec)

    def __bool__(self) -> bool:
        return bool(self._raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserText) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash((UserText, self._raw))

    def __repr__(self) -> str:
        return f"UserText({self._raw!r})"

    def __copy__(self) -> UserText:
        return self

    def __deepcopy__(self, memo: object) -> UserText:
        return self

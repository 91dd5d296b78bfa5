"""Which tool a message names: aliases with Norwegian endings and typos, or an unlisted name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.core.extraction.lexicon import _Compiled
from bot.core.extraction.normalise import _CLAUSE, _Doc, _words

UNKNOWN_TOOL = "unknown_tool"
"""The policy's id for a tool it does not list; returned only if the caller's tools include it."""

_ALIAS_ENDINGS = ("s", "n", "en", "et", "a", "er", "ar", "ene", "ane")
_SWAP_MIN_LENGTH = 6
"""Shorter names are not matched with two letters swapped: "notta" would become "notat"."""
_DROP_MIN_LENGTH = 8
"""Names this long also match with one inner letter missing ("midjourny", "gramarly"); never the
first or last letter, which would turn "elements" into "element"."""


def _typos(word: str) -> Iterable[str]:
    """`word` with two neighbouring letters swapped or, if it is long, one inner letter left out."""
    if len(word) < _SWAP_MIN_LENGTH or not word.isalpha():
        return
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if len(word) >= _DROP_MIN_LENGTH:
        for i in range(1, len(word) - 1):
            yield word[:i] + word[i + 1 :]


@dataclass(frozen=True)
class _ToolMatcher:
    pattern: re.Pattern[str] | None
    variants: Mapping[str, str]  # normalised variant → tool id


@lru_cache(maxsize=16)
def _tool_matcher(key: tuple[tuple[str, tuple[str, ...]], ...]) -> _ToolMatcher:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for tool, aliases in key:
        for alias in aliases:
            words = _words(alias)
            if not words:
                continue
            exact.setdefault(" ".join(words), tool)
            head, last = words[:-1], words[-1]
            stems = [last]
            if len(last) >= 8 and last.endswith(("et", "en")):
                stems.append(last[:-2])
            forms = [stem + end for stem in stems for end in ("", *_ALIAS_ENDINGS)]
            for form in forms:
                loose.setdefault(" ".join([*head, form]), tool)
            for position, word in enumerate(words):
                for typo in _typos(word):
                    loose.setdefault(
                        " ".join([*words[:position], typo, *words[position + 1 :]]), tool
                    )
    variants = {**loose, **exact}
    if not variants:
        return _ToolMatcher(None, {})
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in ordered) + r")(?!\w)")
    return _ToolMatcher(pattern, variants)


def _tool_key(tool_aliases: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    key: list[tuple[str, tuple[str, ...]]] = []
    for tool, aliases in tool_aliases.items():
        names = (aliases,) if isinstance(aliases, str) else tuple(aliases)
        key.append((tool, tuple(a for a in names if isinstance(a, str))))
    return tuple(key)


def _find_tool(
    doc: _Doc, compiled: _Compiled, tool_aliases: Mapping[str, Sequence[str]]
) -> tuple[str, str] | None:
    """(tool id, the user's words) for the first tool named, longest alias first."""
    matcher = _tool_matcher(_tool_key(tool_aliases))
    if matcher.pattern is not None:
        found = matcher.pattern.search(doc.norm)
        if found is not None:
            return matcher.variants[found.group()], doc.original(found.start(), found.end())
    if UNKNOWN_TOOL not in tool_aliases:
        return None
    found_unknown = [
        hit for hit in (_unlisted_word(doc, compiled), _unlisted_name(doc, compiled)) if hit
    ]
    if not found_unknown:
        return None
    return UNKNOWN_TOOL, min(found_unknown)[1]


def _unlisted_word(doc: _Doc, compiled: _Compiled) -> tuple[int, str] | None:
    """(offset, the user's words) of the first word for an unlisted tool ("en app", "plugin")."""
    first: tuple[int, int] | None = None
    for term in compiled.unknown_tool_words:
        for found in term.finditer(doc):
            span = (found.start(), found.end())
            if first is None or (span[0], -span[1]) < (first[0], -first[1]):
                first = span
            break
    if first is None:
        return None
    return doc.offsets[doc.token_at(first[0])], doc.original(*first)


def _unlisted_name(doc: _Doc, compiled: _Compiled) -> tuple[int, str] | None:
    """(offset, name) of a capitalised word right after a cue ("bruke Skrivo"), not a not-tool."""
    tokens = doc.tokens
    for index in range(len(tokens) - 1):
        name = tokens[index + 1]
        if tokens[index].text not in compiled.tool_cues or name.text == _CLAUSE:
            continue
        if not doc.source[name.start].isupper():
            continue
        offset = doc.offsets[index + 1]
        if any(t.match_at(doc, offset) is not None for t in compiled.not_tools):
            continue
        word_end = name.end
        while word_end < len(doc.source) and not doc.source[word_end].isspace():
            word_end += 1
        return offset, doc.source[name.start : word_end].strip(".,;:!?()\"'«»")
    return None

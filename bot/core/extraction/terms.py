"""Lexicon terms compiled to regular expressions over normalised text (`*` and `...` included)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.extraction.normalise import _Doc, _words

_GAP = "..."
_GAP_WORDS = 3


@dataclass(frozen=True)
class _Term:
    key: str  # the task or category id (or "" for openers and the like)
    term: str  # as written in the lexicon
    pattern: re.Pattern[str]
    literal: str  # a piece every match contains; a cheap test before the regular expression

    def finditer(self, doc: _Doc) -> Iterable[re.Match[str]]:
        if self.literal not in doc.norm:
            return ()
        return self.pattern.finditer(doc.norm)

    def match_at(self, doc: _Doc, offset: int) -> re.Match[str] | None:
        if self.literal not in doc.norm:
            return None
        return self.pattern.match(doc.norm, offset)


def _term_problem(term: str) -> str | None:
    """Why `term` cannot be used as a lexicon term, or None if it can."""
    if not term.strip():
        return "is empty"
    words = term.split()
    if all(word.isalnum() for word in words):  # plain words (most terms): nothing to find
        return None
    pieces = [p.strip() for p in term.replace("\u2026", _GAP).split(_GAP)]
    if not pieces[0] or not pieces[-1]:
        return "'...' must stand between two words"
    for piece in pieces:
        words = _words(piece, star=True)
        if not words or any(not w.strip("*") for w in words):
            return "needs letters or digits in every word"
    return None


def _compile_term(key: str, term: str) -> _Term | None:
    if _term_problem(term) is not None:
        return None
    parts: list[str] = []
    literal = ""
    pieces = term.replace("\u2026", _GAP).split(_GAP)
    for number, piece in enumerate(pieces):
        if number:
            parts.append(rf"(?: \w+){{0,{_GAP_WORDS}}} ")
        words = _words(piece, star=True)
        regexes = []
        for word in words:
            fixed = word.split("*")
            literal = max([literal, *fixed], key=len)
            regexes.append(r"\w*".join(re.escape(bit) for bit in fixed))
        parts.append(" ".join(regexes))
    pattern = re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)")
    return _Term(key, term, pattern, literal)


def _compile_terms(key: str, terms: Iterable[str]) -> tuple[_Term, ...]:
    compiled = (_compile_term(key, term) for term in terms)
    return tuple(t for t in compiled if t is not None)

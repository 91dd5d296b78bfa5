"""Find person names in running Norwegian text (bokmål and nynorsk), without storing it.

`find_names(text, lexicon)` returns every name it finds as a `NameSpan`: where it is, the text,
and why it was taken. The word lists live in content/names.yaml (see `parse_name_lexicon`).

How it reads a text:

1. Words are split out; a word glued to digits ("7B", "E39") is not a word. Words written in
   capitals only (NAV, NTNU) are never names. Capitalised words standing next to each other on
   one line, with nothing but spaces between, form a run; lowercase particles inside a run
   ("van der", "bin", "dela") and prefixed words ("al-Hassan") belong to it.
2. A run is trimmed from the front: a context word written with a capital ("Eleven", "Fru",
   "Hilsen") is dropped and counts as context; a stop word (organisation, product, weekday,
   month) or a place at the front is dropped; an unknown word at the start of a sentence is
   dropped (it is an ordinary word written with a capital). A stop word anywhere splits the run.
3. A run is left alone when it follows a place preposition ("i Drammen", "på Stovner"), when a
   word after it makes it an organisation or a street ("Asker kommune", "Kong Haakons gate",
   "Storgata 12"), or when one of its words ends like an organisation or a street
   ("Datatilsynet", "Drammensveien"). Names in content/names.yaml's stop_phrases are skipped.
4. What is left is a name when a context word stands right before it ("saksbehandler Fatima
   Ali", "dr. Hansen", "Mor, Helen Berhane") or when it continues a list of names ("Kari og
   Per", "Semhar Tesfay og Yonas Gebremedhin"): reason "context"; or when one of its words is a
   listed first name, or it has two words or more and one is a listed surname: reason "list".

What it does not find: names written in lower case, nicknames and short forms that are not
listed, a lone surname without a context word ("Hansen sa …"), and anything that identifies a
person without a name (health details, "the only Somali-speaking teacher at the school").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.core.privacy.names_lexicon import NameLexicon, NameLexiconError, parse_name_lexicon

__all__ = ["NameLexicon", "NameLexiconError", "NameSpan", "find_names", "parse_name_lexicon"]

NameReason = Literal["list", "context"]


@dataclass(frozen=True)
class NameSpan:
    """A person name: text[start:end] == text, found because of `reason`."""

    start: int
    end: int
    text: str
    reason: NameReason


_WORD: Final = re.compile(r"(?<![\w])[^\W\d_]+(?:['’\-][^\W\d_]+)*(?![\w])")
_SAME_LINE_SPACE: Final = re.compile(r"[ \t\u00a0]+")
_CONTEXT_GAP: Final = re.compile(r"\.?[ \t\u00a0]*[\n]?[ \t\u00a0]*|[ \t\u00a0]*,[ \t\u00a0]*")
_LIST_GAP: Final = re.compile(
    r"[ \t\u00a0]*(?:,|&|/)[ \t\u00a0]*|[ \t\u00a0]+(?:og|eller|samt)[ \t\u00a0]+"
)
_HOUSE_NUMBER: Final = re.compile(r"[ \t\u00a0]+\d")
_SENTENCE_END: Final = '.!?:;\n•*–-("«'


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        return self.text.casefold()


def _words(text: str) -> list[_Word]:
    return [_Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _is_capitalised(word: str, lexicon: NameLexicon) -> bool:
    if len(word) < 2 or word.isupper():
        return False
    if word[0].isupper():
        return True
    head, _, tail = word.partition("-")
    return bool(tail) and head.casefold() in lexicon.particles and tail[0].isupper()


def _parts(word: str) -> list[str]:
    return [part.casefold() for part in re.split(r"[-'’]", word) if part]


def _is_first_name(word: str, lexicon: NameLexicon, *, ambiguous: bool) -> bool:
    names = (
        lexicon.first_names | lexicon.ambiguous_first_names if ambiguous else lexicon.first_names
    )
    return word.casefold() in names or any(part in lexicon.first_names for part in _parts(word))


def _is_surname(word: str, lexicon: NameLexicon) -> bool:
    return word.casefold() in lexicon.surnames or any(
        part in lexicon.surnames for part in _parts(word)
    )


def _ends_with(word: str, endings: tuple[str, ...]) -> bool:
    key = word.casefold()
    return any(key.endswith(e) and len(key) > len(e) for e in endings)


def _is_stop(word: _Word, lexicon: NameLexicon, blocked: list[tuple[int, int]]) -> bool:
    return (
        word.key in lexicon.stop_words
        or _ends_with(word.text, lexicon.organisation_endings)
        or any(start < word.end and word.start < end for start, end in blocked)
    )


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\u00a0")
    return not before or before[-1] in _SENTENCE_END


def _blocked_phrases(text: str, lexicon: NameLexicon) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for phrase in lexicon.stop_phrases:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
        spans.extend(m.span() for m in re.finditer(pattern, text, re.IGNORECASE))
    return spans


def _runs(text: str, words: list[_Word], lexicon: NameLexicon) -> list[tuple[int, int]]:
    """Index ranges [i, j) of runs of capitalised words (with particles inside) on one line."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not _is_capitalised(words[i].text, lexicon):
            i += 1
            continue
        j = i + 1
        while j < len(words) and _SAME_LINE_SPACE.fullmatch(
            text[words[j - 1].end : words[j].start]
        ):
            if _is_capitalised(words[j].text, lexicon):
                j += 1
                continue
            k = j  # particles, then a capitalised word
            while (
                k < len(words)
                and words[k].key in lexicon.particles
                and _SAME_LINE_SPACE.fullmatch(text[words[k - 1].end : words[k].start])
            ):
                k += 1
            if (
                k > j
                and k < len(words)
                and _SAME_LINE_SPACE.fullmatch(text[words[k - 1].end : words[k].start])
                and _is_capitalised(words[k].text, lexicon)
            ):
                j = k + 1
                continue
            break
        runs.append((i, j))
        i = j
    return runs


def _split_at_stops(
    run: tuple[int, int], words: list[_Word], lexicon: NameLexicon, blocked: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    start = run[0]
    for k in range(run[0], run[1]):
        if _is_stop(words[k], lexicon, blocked):
            if k > start:
                parts.append((start, k))
            start = k + 1
    if run[1] > start:
        parts.append((start, run[1]))
    return parts


def _followed_by_non_name(text: str, end: int, after: _Word | None, lex: NameLexicon) -> bool:
    if _HOUSE_NUMBER.match(text, end):
        return True
    if after is None or not _SAME_LINE_SPACE.fullmatch(text[end : after.start]):
        return False
    key = after.key
    if key in lex.street_words:
        return True
    return any(key == s or (len(s) >= 5 and key.endswith(s)) for s in lex.organisation_suffixes)


def find_names(text: str, names: NameLexicon) -> list[NameSpan]:
    """Every person name found in `text`, in order of position, without overlaps."""
    words = _words(text)
    blocked = _blocked_phrases(text, names)
    found: list[NameSpan] = []
    for run in _runs(text, words, names):
        after = words[run[1]] if run[1] < len(words) else None
        if _followed_by_non_name(text, words[run[1] - 1].end, after, names):
            continue
        before = words[run[0] - 1] if run[0] > 0 else None
        gap = text[before.end : words[run[0]].start] if before else ""
        if before and before.key in names.place_prepositions and _SAME_LINE_SPACE.fullmatch(gap):
            continue
        context = bool(before and before.key in names.context_words and _CONTEXT_GAP.fullmatch(gap))
        for i, j in _split_at_stops(run, words, names, blocked):
            span = _judge(text, words[i:j], names, context=context and i == run[0], found=found)
            if span is not None:
                found.append(span)
    return found


def _judge(
    text: str, run: list[_Word], lex: NameLexicon, *, context: bool, found: list[NameSpan]
) -> NameSpan | None:
    if found and _LIST_GAP.fullmatch(text[found[-1].end : run[0].start]):
        context = True
    while run:
        first = run[0]
        if first.key in lex.context_words:
            run, context = run[1:], True
        elif first.key in lex.places:
            run, context = run[1:], False
        elif (
            not context
            and _sentence_start(text, first.start)
            and not _is_first_name(first.text, lex, ambiguous=False)
            and not (
                len(run) > 1
                and (
                    _is_first_name(first.text, lex, ambiguous=True) or _is_surname(first.text, lex)
                )
            )
        ):
            run = run[1:]
        else:
            break
    if not run or any(_ends_with(w.text, lex.street_endings) for w in run):
        return None
    if all(w.key in lex.particles for w in run[:1]):
        return None
    reason: NameReason | None = None
    if context:
        reason = "context"
    elif any(
        _is_first_name(w.text, lex, ambiguous=len(run) > 1 or not _sentence_start(text, w.start))
        for w in run
    ) or (len(run) > 1 and any(_is_surname(w.text, lex) for w in run)):
        reason = "list"
    if reason is None:
        return None
    start, end = run[0].start, run[-1].end
    return NameSpan(start, end, text[start:end], reason)

"""Sentence counting, used to check the length of a lesson's `why`, its feedback and tips.

A sentence ends at a word that ends with ".", "!", "?" or "…" (closing quotes or brackets after it
are ignored), unless

* the word is a known abbreviation ("f.eks.", "bl.a.", "dvs.", "e.g.", "kl." …; see
  `ABBREVIATIONS`) or a run of single letters with dots ("t.o.m.", "m.a."), or
* the next word starts with a lower-case letter ("7. trinn", "ca. ti", an abbreviation we do not
  know).

Text after the last sentence end that does not end with punctuation counts as one more sentence.
The rule is deliberately lenient: it errs towards counting fewer sentences, never more.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    {
        # Norwegian (bokmål and nynorsk)
        "f.eks.",
        "bl.a.",
        "dvs.",
        "osv.",
        "mv.",
        "m.m.",
        "mfl.",
        "m.fl.",
        "ca.",
        "jf.",
        "jfr.",
        "nr.",
        "pkt.",
        "kap.",
        "art.",
        "evt.",
        "ev.",
        "e.l.",
        "o.l.",
        "t.d.",
        "m.a.",
        "kl.",
        "tlf.",
        "inkl.",
        "ekskl.",
        "iflg.",
        "pga.",
        "mht.",
        "vedr.",
        # English
        "e.g.",
        "i.e.",
        "etc.",
        "vs.",
        "no.",
        "approx.",
    }
)

_LETTER_DOTS = re.compile(r"^(?:[^\W\d_]\.){2,}$")
_TRAILING_CLOSERS = "\"'»”’)]"
_LEADING_OPENERS = "\"'«“‘(["
_SENTENCE_END = (".", "!", "?", "…")


def _ends_sentence(word: str, next_word: str | None) -> bool:
    core = word.rstrip(_TRAILING_CLOSERS)
    if not core.endswith(_SENTENCE_END):
        return False
    if core.endswith("."):
        bare = core.lstrip(_LEADING_OPENERS).lower()
        if bare in ABBREVIATIONS or _LETTER_DOTS.match(bare):
            return False
    if next_word is not None:
        first = next_word.lstrip(_LEADING_OPENERS)[:1]
        if first.islower():
            return False
    return True


def count_sentences(text: str) -> int:
    """How many sentences `text` has, by the lenient rule in the module docstring."""
    words = text.split()
    count = 0
    open_sentence = False
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        if _ends_sentence(word, following):
            count += 1
            open_sentence = False
        else:
            open_sentence = True
    return count + (1 if open_sentence else 0)

"""The word lists the name detector needs, read from content/names.yaml.

`parse_name_lexicon(raw)` takes the parsed YAML (the caller reads the file) and returns a
`NameLexicon`, or raises `NameLexiconError` with a one-line message that names the section and
the problem. Every word is stored case-folded, so lookups ignore case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ["NameLexicon", "NameLexiconError", "parse_name_lexicon"]


class NameLexiconError(ValueError):
    """content/names.yaml is not what the detector needs; the message says where and why."""


@dataclass(frozen=True)
class NameLexicon:
    """Case-folded word lists; see the header of content/names.yaml for what each one does."""

    first_names: frozenset[str]
    ambiguous_first_names: frozenset[str]
    surnames: frozenset[str]
    particles: frozenset[str]
    context_words: frozenset[str]
    place_prepositions: frozenset[str]
    places: frozenset[str]
    stop_words: frozenset[str]
    stop_phrases: tuple[str, ...]
    organisation_suffixes: frozenset[str]
    organisation_endings: tuple[str, ...]
    street_words: frozenset[str]
    street_endings: tuple[str, ...]
    function_words: frozenset[str] = frozenset()
    common_words: frozenset[str] = frozenset()
    noun_endings: tuple[str, ...] = ()
    verbs_after_name: frozenset[str] = frozenset()
    context_endings: tuple[str, ...] = ()
    place_endings: tuple[str, ...] = ()
    organisation_verbs: frozenset[str] = frozenset()
    product_cues: frozenset[str] = frozenset()


_REQUIRED: Final = ("first_names", "surnames", "context_words")
_SECTIONS: Final = (
    "first_names",
    "ambiguous_first_names",
    "surnames",
    "particles",
    "context_words",
    "place_prepositions",
    "places",
    "stop_words",
    "stop_phrases",
    "organisation_suffixes",
    "organisation_endings",
    "street_words",
    "street_endings",
    "function_words",
    "common_words",
    "noun_endings",
    "verbs_after_name",
    "context_endings",
    "place_endings",
    "organisation_verbs",
    "product_cues",
)
# Sections whose words are single words without spaces.
_SINGLE_WORD: Final = frozenset(_SECTIONS) - {"stop_phrases"}


def _words(raw: object, section: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise NameLexiconError(
            f"names {section}: must be a list of words, not {type(raw).__name__}"
        )
    seen: dict[str, str] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise NameLexiconError(
                f"names {section}[{index}]: must be a word in quotes or plain text, "
                f"not {type(item).__name__} {item!r}"
            )
        word = " ".join(item.split())
        if not word:
            raise NameLexiconError(f"names {section}[{index}]: is empty")
        if section in _SINGLE_WORD and " " in word:
            raise NameLexiconError(
                f"names {section}[{index}]: {item!r} must be one word "
                "(put names of several words in stop_phrases)"
            )
        key = word.casefold()
        if key in seen:
            raise NameLexiconError(
                f"names {section}: {item!r} is listed twice (also as {seen[key]!r})"
            )
        seen[key] = item
    return tuple(seen)


def parse_name_lexicon(raw: object) -> NameLexicon:
    """Validate parsed content/names.yaml; raises NameLexiconError on the first mistake."""
    if not isinstance(raw, Mapping):
        raise NameLexiconError(
            f"names: the file must hold sections (first_names, surnames, …), not "
            f"{type(raw).__name__}"
        )
    for key in raw:
        if key not in _SECTIONS:
            raise NameLexiconError(
                f"names: unknown section {key!r} (known: {', '.join(_SECTIONS)})"
            )
    for required in _REQUIRED:
        if not raw.get(required):
            raise NameLexiconError(f"names: section {required!r} is missing or empty")
    lists = {section: _words(raw.get(section), section) for section in _SECTIONS}
    both = set(lists["first_names"]) & set(lists["ambiguous_first_names"])
    if both:
        raise NameLexiconError(
            "names ambiguous_first_names: already in first_names, keep each name in one of "
            f"them: {', '.join(sorted(both))}"
        )
    return NameLexicon(
        first_names=frozenset(lists["first_names"]),
        ambiguous_first_names=frozenset(lists["ambiguous_first_names"]),
        surnames=frozenset(lists["surnames"]),
        particles=frozenset(lists["particles"]),
        context_words=frozenset(lists["context_words"]),
        place_prepositions=frozenset(lists["place_prepositions"]),
        places=frozenset(lists["places"]),
        stop_words=frozenset(lists["stop_words"]),
        stop_phrases=lists["stop_phrases"],
        organisation_suffixes=frozenset(lists["organisation_suffixes"]),
        organisation_endings=lists["organisation_endings"],
        street_words=frozenset(lists["street_words"]),
        street_endings=lists["street_endings"],
        function_words=frozenset(lists["function_words"]),
        common_words=frozenset(lists["common_words"]),
        noun_endings=lists["noun_endings"],
        verbs_after_name=frozenset(lists["verbs_after_name"]),
        context_endings=lists["context_endings"],
        organisation_verbs=frozenset(lists["organisation_verbs"]),
        product_cues=frozenset(lists["product_cues"]),
        place_endings=lists["place_endings"],
    )

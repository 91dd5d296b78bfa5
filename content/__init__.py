"""Content as data: every sentence the bot says, per language, loaded and validated at start-up.

Texts live in `content/<lang>/texts.yaml` as nested mappings; a text is addressed by its dotted key
(`help.title`). Placeholders use `{name}`. `load_catalog()` checks that every language has exactly
the same keys and the same placeholders, so a missing translation is a start-up error, not a hole
in a card.

A sentence with a count comes in plural forms: `key.one` (exactly one) and `key.other` (every other
number, zero included), the forms bokmål, nynorsk and English share. `texts.count(key, n)` picks
the form; the check refuses a `.one` without its `.other`, and a language whose forms differ from
nb's (a missing `.one` is a missing text).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal, cast

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (the wheels are): the same documents, about
ten times faster than the pure-Python one, which was most of the bot's start-up CPU."""

Language = Literal["nb", "nn", "en"]
LANGUAGES: tuple[Language, ...] = ("nb", "nn", "en")


class ContentError(Exception):
    """A content file is missing, malformed or inconsistent across languages."""


@dataclass(frozen=True)
class Texts:
    """The texts of one language. `t(key, **values)` returns the sentence with values filled in."""

    language: Language
    entries: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        try:
            template = self.entries[key]
        except KeyError:
            raise ContentError(f"no text '{key}' in language '{self.language}'") from None
        if not values:
            return template
        return template.format_map(values)

    def count(self, key: str, n: int, **values: object) -> str:
        """The sentence `key` in the form for `n` (`key.one` or `key.other`), with `{count}` = n
        unless `values` give it."""
        return self(f"{key}.{plural_form(n)}", **{"count": n, **values})

    def has(self, key: str) -> bool:
        return key in self.entries


PLURAL_FORMS: tuple[str, ...] = ("one", "other")
"""The plural forms of all three languages (CLDR: nb, nn and en have `one` and `other`)."""


def plural_form(n: int) -> str:
    """`one` for exactly one, `other` for every other count (0 included)."""
    return "one" if n == 1 else "other"


def _check_plurals(entries: Mapping[str, str], source: str) -> None:
    """A `.one` needs its `.other` (plain keys such as `area.other` are not plural forms)."""
    for key in entries:
        stem, _, form = key.rpartition(".")
        if form == PLURAL_FORMS[0] and f"{stem}.other" not in entries:
            raise ContentError(f"{source}: '{key}' is a plural form; '{stem}.other' is missing")


@dataclass(frozen=True)
class Catalog:
    """All languages' texts, validated to have the same keys and placeholders."""

    by_language: Mapping[Language, Texts]

    def texts(self, language: Language) -> Texts:
        return self.by_language[language]


def _flatten(prefix: str, node: object, out: dict[str, str], source: str) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if not isinstance(key, str) or not key:
                raise ContentError(f"{source}: keys must be non-empty strings (under '{prefix}')")
            _flatten(f"{prefix}.{key}" if prefix else key, value, out, source)
    elif isinstance(node, str):
        if not node.strip():
            raise ContentError(f"{source}: text '{prefix}' is empty")
        out[prefix] = node.strip()
    else:
        raise ContentError(f"{source}: text '{prefix}' must be a string")


def _placeholders(template: str) -> frozenset[str]:
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


def parse_texts(language: Language, raw: str, source: str) -> Texts:
    """Parse one language's YAML text file into flat, dotted keys."""
    try:
        loaded = yaml.load(raw, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContentError(f"{source}: not valid YAML{where}") from None
    return texts_from(language, loaded, source)


def texts_from(language: Language, loaded: object, source: str) -> Texts:
    """One language's texts from its parsed YAML, checked (see `parse_texts`)."""
    if not isinstance(loaded, Mapping):
        raise ContentError(f"{source}: must be a mapping of texts")
    entries: dict[str, str] = {}
    _flatten("", loaded, entries, source)
    for key, template in entries.items():
        try:
            _placeholders(template)
        except ValueError:
            raise ContentError(f"{source}: text '{key}' has a broken {{placeholder}}") from None
    _check_plurals(entries, source)
    return Texts(language=language, entries=entries)


def check_consistent(texts: Mapping[Language, Texts]) -> None:
    """Every language must have the same keys, and each key the same placeholders."""
    reference = texts[LANGUAGES[0]]
    for language in LANGUAGES[1:]:
        other = texts[language]
        missing = sorted(set(reference.entries) - set(other.entries))
        extra = sorted(set(other.entries) - set(reference.entries))
        if missing:
            raise ContentError(f"{language}/texts.yaml: missing texts {', '.join(missing[:5])}")
        if extra:
            raise ContentError(f"{language}/texts.yaml: texts not in nb: {', '.join(extra[:5])}")
        for key, template in reference.entries.items():
            if _placeholders(template) != _placeholders(other.entries[key]):
                raise ContentError(
                    f"{language}/texts.yaml: '{key}' must use the same {{placeholders}} as nb"
                )


def load_catalog(read: Callable[[str], object] | None = None) -> Catalog:
    """Load and validate the texts shipped in this package. `read`: what parses one file
    (default `read_yaml`; bot.content_loader passes its cache of parsed files)."""
    by_language: dict[Language, Texts] = {}
    for language in LANGUAGES:
        source = f"{language}/texts.yaml"
        by_language[language] = texts_from(language, (read or read_yaml)(source), source)
    check_consistent(by_language)
    return Catalog(by_language=cast(Mapping[Language, Texts], by_language))


def read_yaml(name: str) -> object:
    """Parse one YAML data file shipped in this package (policy.yaml, lexicon.yaml, …)."""
    try:
        raw = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{name}: file is missing") from None
    try:
        return yaml.load(raw, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContentError(f"{name}: not valid YAML{where}") from None

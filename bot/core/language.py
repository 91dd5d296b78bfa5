"""Choose the answer language from a Teams locale such as `nb-NO`, `nn-NO` or `en-US`."""

from __future__ import annotations

from content import Language

_BY_PREFIX: dict[str, Language] = {
    "nb": "nb",
    "no": "nb",
    "nn": "nn",
    "en": "en",
}


def language_for_locale(locale: str | None, default: Language = "nb") -> Language:
    """`nn-NO` → nn, `en-GB` → en, `nb-NO`/`no` → nb; anything else → the default."""
    if not locale:
        return default
    prefix = locale.strip().replace("_", "-").split("-", 1)[0].casefold()
    return _BY_PREFIX.get(prefix, default)

"""Which language to answer in: the person's choice, the målform, the client's locale.

The order (issue 14, docs/architecture.md):

1. a card action answers in the language of the card it came from;
2. the language the person chose with `språk`;
3. nynorsk for a client set to `nn` (rare: Teams has no nynorsk display language); the målform
   (`KIVETT_DEFAULT_LANGUAGE`, nb or nn) for any other Norwegian client locale, and for someone
   who writes a Norwegian command or question whatever their client says (many Norwegians run
   Teams in English);
4. the client's locale when it is one we speak (English);
5. else the målform.

Pure functions: the router gathers the facts (stored choice, card data, locale, text) and asks here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from content import LANGUAGES, Language

Written = Literal["no", "en"]
"""What a message is written in, as far as a few words can tell: Norwegian (either målform) or
English."""

_BY_PREFIX: dict[str, Language] = {
    "nb": "nb",
    "no": "nb",
    "nn": "nn",
    "en": "en",
}

_NORWEGIAN_PREFIXES = frozenset({"nb", "nn", "no"})


def _prefix(locale: str | None) -> str:
    if not locale:
        return ""
    return locale.strip().replace("_", "-").split("-", 1)[0].casefold()


def language_for_locale(locale: str | None, default: Language = "nb") -> Language:
    """`nn-NO` → nn, `en-GB` → en, `nb-NO`/`no` → nb; anything else → the default."""
    return _BY_PREFIX.get(_prefix(locale), default)


def is_norwegian_locale(locale: str | None) -> bool:
    """`nb-NO`, `nn-NO`, `no`: a client set up in Norwegian (either målform)."""
    return _prefix(locale) in _NORWEGIAN_PREFIXES


def as_language(value: object) -> Language | None:
    """A stored or sent language code as one we speak; None for anything else (a forged card,
    an old record)."""
    if isinstance(value, str):
        for language in LANGUAGES:
            if value.strip().casefold() == language:
                return language
    return None


def _words(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


# Short, frequent words that tell the two apart in a question of a few words. Words both languages
# share ("i", "at", "by", "for", "man", "me", "mine", "no", "under") are in neither list; æ, ø
# and å count as Norwegian.

_NORWEGIAN_WORDS = _words(
    """
    jeg eg meg mæ du deg vi oss dere dokker han hun ho de dei det den dette denne disse desse
    ikke ikkje hva kva hvem kven hvor kor hvordan korleis hvorfor kvifor når slags
    kan kunne må skal skulle vil ville bør burde er var være vere vera har hadde få fått gjøre gjere
    bruke bruka brukes brukast lage laga skrive skriva sende senda sjekke sjekka spørre spørja
    og eller men som om til på av med fra frå hos etter mellom uten utan også òg
    en ei et eit ein noen nokon noe noko mitt min mi vår våre vårt sin sitt sine
    tekst teksten brev brevet saken sak søknad søknaden vedtak vedtaket notat møte referat
    ansatt ansatte tilsett tilsette innbygger innbyggar elev elever elevar bruker brukar kommune
    kommunen hjelp hei takk ja nei
    """
)
_ENGLISH_WORDS = _words(
    """
    my your you we our they their he she it its this that these those
    not what who where how why when which
    can could may must shall should will would is are was were be been have has had do does did
    use using write send check ask make get
    and or but if as of with from to about into without also the a an some any
    text letter case application decision note meeting minutes
    employee employees staff citizen resident pupil student user council municipality
    help hello hi thanks thank yes please
    """
)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_NORWEGIAN_LETTERS = frozenset("æøå")


def written_language(text: str) -> Written | None:
    """Norwegian or English, when the words say so clearly; None when they do not (a name, a
    number, a mix, a language we do not speak)."""
    folded = unicodedata.normalize("NFC", text).casefold()
    words = _WORD.findall(folded)
    if not words:
        return None
    norwegian = english = 0
    for word in words:
        if word in _NORWEGIAN_WORDS or _NORWEGIAN_LETTERS & set(word):
            norwegian += 1
        if word in _ENGLISH_WORDS:
            english += 1
    if norwegian > english:
        return "no"
    if english > norwegian:
        return "en"
    return None


def choose_language(
    *,
    malform: Language,
    chosen: Language | None = None,
    card: Language | None = None,
    locale: str | None = None,
    written: Written | None = None,
) -> Language:
    """The language of one answer, in the order this module's docstring gives. English words
    from a client in a language we do not speak (de-DE) are answered in English too."""
    if card is not None:
        return card
    if chosen is not None:
        return chosen
    if _prefix(locale) == "nn":  # a client set to nynorsk asks for it outright
        return "nn"
    if is_norwegian_locale(locale) or written == "no":
        return malform
    if written == "en" or language_for_locale(locale, default=malform) == "en":
        return "en"
    return malform

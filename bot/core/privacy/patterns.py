"""The regular expressions and word lists that find candidates for each kind of personal data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

_SP: Final = "[ \u00a0]"  # a space or a no-break space between digit groups
# A number must not continue a word, a path or a longer number ("12.345", "2024/…", "x1").
_NUM_LEFT: Final = r"(?<![\w/])(?<![0-9][.,\-])"
_NUM_RIGHT: Final = r"(?![\w/])(?![.,\-][0-9])"
# Spaced formats must additionally not be glued to more space-separated digits.
_SPACED_LEFT: Final = _NUM_LEFT + rf"(?<![0-9]{_SP})"
_SPACED_RIGHT: Final = _NUM_RIGHT + rf"(?!{_SP}[0-9])"

# National identity numbers as people write them (in the normalised text, see `normalise`):
# "15038512345", or the date part (DDMMYY, or DD MM YY with one separator used twice) and
# the individual part (12345 or 123 45) with a separator between them:
# "150385 12345", "150385-12345", "150385.12345", "150385/12345", "15.03.85 12345",
# "15 03 85 123 45". Numbers after a "+" (phone prefixes) or glued to other digit groups
# are not candidates; the check digits and the date decide the rest.
_ID_LEFT: Final = r"(?<![\w/+])(?<![0-9][.,\-/])"
_ID_RIGHT: Final = r"(?![\w/])(?![.,\-/][0-9])"
_NATIONAL_ID_RE: Final = re.compile(
    rf"{_ID_LEFT}(?:"
    rf"[0-9]{{11}}{_ID_RIGHT}"
    rf"|(?<![0-9]{_SP})"
    rf"(?:[0-9]{{6}}|[0-9]{{2}}(?P<ds>{_SP}|[.\-/])[0-9]{{2}}(?P=ds)[0-9]{{2}})"
    rf"(?:{_SP}?-{_SP}?|{_SP}|[./])"
    rf"[0-9]{{3}}{_SP}?[0-9]{{2}}"
    rf"{_ID_RIGHT}(?!{_SP}[0-9])"
    r")"
)
_ACCOUNT_RE: Final = re.compile(
    rf"{_NUM_LEFT}[0-9]{{4}}(?P<sep>[.]|{_SP}|)[0-9]{{2}}(?P=sep)[0-9]{{5}}{_NUM_RIGHT}"
)
_IBAN_START_RE: Final = re.compile(r"(?<!\w)[A-Z]{2}[0-9]{2}")
_IBAN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

_PHONE_PREFIX: Final = r"(?P<prefix>\+47|0047)?"
_PHONE_COMPACT_RE: Final = re.compile(
    rf"{_NUM_LEFT}(?<!\+){_PHONE_PREFIX}(?(prefix)(?:{_SP}|-)?)[2-9][0-9]{{7}}{_NUM_RIGHT}"
)
# Grouped numbers (3-2-3 or 2-2-2-2) with one separator used throughout: space, dot or hyphen.
_PHONE_SEP: Final = rf"(?:{_SP}|[.\-])"
_PHONE_SPACED_RE: Final = re.compile(
    rf"{_SPACED_LEFT}(?<!\+){_PHONE_PREFIX}(?(prefix)(?:{_SP}|-)?)"
    rf"(?:[2-9][0-9]{{2}}(?P<s3>{_PHONE_SEP})[0-9]{{2}}(?P=s3)[0-9]{{3}}"
    rf"|[2-9][0-9](?P<s2>{_PHONE_SEP})[0-9]{{2}}(?P=s2)[0-9]{{2}}(?P=s2)[0-9]{{2}})"
    rf"{_SPACED_RIGHT}"
)
# Amounts and quantities such as "kr 35000000", "35000000,-" or "20 30 40 50 prosent" are
# not phone numbers; the unit words are shared with the address check below.
_AMOUNT_BEFORE: Final = re.compile(r"\b(?:kr\.?|nok)\s*$", re.IGNORECASE)
_AMOUNT_AFTER: Final = re.compile(r"\s*(?:,-|\.-|nok\b)", re.IGNORECASE)

_EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+\-])[\w%+\-][\w.%+\-]{0,63}@(?:[\w\-]{1,63}\.)+[A-Za-z]{2,24}(?![\w\-])"
)

_MONTHS: Final = (
    "januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember"
    "|jan|feb|mar|apr|jun|jul|aug|sept|sep|okt|nov|des"
)
_MONTH_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "mai": 5, "jun": 6,
        "jul": 7, "aug": 8, "sep": 9, "okt": 10, "nov": 11, "des": 12,
    }
)  # fmt: skip
_BIRTH_DATE_RE: Final = re.compile(
    r"(?<!\w)(?i:fødselsdato|fødd|født|f\.)(?:\s|:){0,5}(?:(?i:den)\s+)?"
    r"(?P<date>"
    r"(?P<d>[0-9]{1,2})(?P<sep>[./\-])(?P<m>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})"
    r"|(?P<iy>[0-9]{4})-(?P<im>[0-9]{2})-(?P<id>[0-9]{2})"
    rf"|(?P<nd>[0-9]{{1,2}})\.?{_SP}(?P<nm>(?ai:{_MONTHS}))\.?{_SP}(?P<ny>[0-9]{{4}})"
    r")(?![0-9])"
)

# Street addresses. Letters include Latin-1 and Latin Extended-A (Sami) characters.
_UPPER: Final = "A-ZÀ-ÖØ-Þ"
_LETTER: Final = r"A-Za-zÀ-ÖØ-öø-ÿ\u0100-\u017f'’\-"
_CAP: Final = rf"[{_UPPER}][{_LETTER}]*"
_STREET_SUFFIXES: Final = (
    "gaten|gata|gate|veien|vegen|vei|veg|stien|stigen|plassen|plass|allé|alle|bakken|bakke"
    "|lia|løkka|løkken|svingen|ringen|tunet|kroken|haugen|brygga|brygge|torget|torg"
    "|kaien|kaia|stredet|smauet|grenda|grend|terrassen|terrasse"
)
_STREET_WORDS: Final = "gaten|gata|gate|veien|vegen|vei|veg|plassen|plass|bakken|bakke|stien|torg"
_STREET_PREFIXES: Final = (
    "Nedre|Øvre|Øvste|Store|Lille|Vesle|Gamle|Nye|Søndre|Nordre|Vestre|Østre|Ytre|Indre|Sankt"
)
_ADDRESS_RE: Final = re.compile(
    rf"(?<![{_LETTER}.0-9])"
    r"(?P<street>"
    # one word ending in a street suffix, optionally after a prefix: "Nedre Slottsgate"
    rf"(?:(?:{_STREET_PREFIXES}){_SP})?[{_UPPER}][{_LETTER}]*?(?:{_STREET_SUFFIXES})"
    # a genitive or prefix word before a separate street word: "Kong Haakons gate"
    rf"|(?:{_CAP}\.?{_SP}){{0,2}}(?:{_CAP}s|{_STREET_PREFIXES}){_SP}(?:{_STREET_WORDS})"
    rf"|{_CAP}{_SP}allé"
    r")"
    rf"{_SP}(?P<number>[0-9]{{1,3}}(?:[\-–][0-9]{{1,3}})?(?:[A-Za-z]|{_SP}[A-Z])?)"
    r"(?![\w%‰\-])(?![.,][0-9])"
    rf"(?:,?{_SP}(?P<postcode>[0-9]{{4}}){_SP}"
    rf"(?P<place>{_CAP}(?:{_SP}(?:i|på){_SP}{_CAP})?))?"
)
# Words that end like street names but name road classes or common things instead.
_NOT_STREETS: Final = frozenset(
    {
        "riksvei", "riksveg", "fylkesvei", "fylkesveg", "europavei", "europaveg",
        "kommunevei", "kommuneveg", "privatvei", "privatveg", "skogsvei", "skogsveg",
        "skogsbilvei", "skogsbilveg", "gangvei", "gangveg", "sykkelvei", "sykkelveg",
        "adkomstvei", "adkomstveg", "atkomstvei", "atkomstveg", "anleggsvei", "anleggsveg",
        "omkjøringsvei", "omkjøringsveg", "hovedvei", "hovedveg", "halle",
        "parkeringsplass", "parkeringsplassen", "arbeidsplass", "arbeidsplassen",
        "lekeplass", "lekeplassen", "møteplass", "møteplassen", "snuplass", "snuplassen",
        "barnehageplass", "barnehageplassen", "sykehjemsplass", "sykehjemsplassen",
        "julia", "emilia", "amalia", "cecilia", "ofelia", "natalia", "rosalia", "amelia",
        "aurelia", "kornelia", "italia", "familia", "australia", "dahlia",
    }
)  # fmt: skip
# Nouns such as "Vurderingen", "Endringen", "Forsikringen" or "Rundkjøringen" end in "ringen".
_NOT_STREET_ENDINGS: Final = ("eringen", "dringen", "kringen", "øringen", "yringen")
# A number followed by a unit ("Julia 3 år", "Tunet 2 timer") is not a house number.
_UNIT_AFTER: Final = re.compile(
    r"\s*(?:år|åra|måneder|månader|mnd|uker|veker|dager|dagar|døgn|timer|timar|minutter"
    r"|kr|kroner|prosent|stk|elever|barn|personer|meter|km|kvm|m2|m²|%)(?![\w])",
    re.IGNORECASE,
)

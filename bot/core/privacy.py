"""Find personal data in a pasted text, locally and without side effects.

`scan(text)` looks for Norwegian national identity numbers (fødselsnummer, D-nummer,
H-nummer), phone numbers, e-mail addresses, bank account numbers, IBANs, street addresses
and dates of birth. It returns every finding with its offsets and a masked excerpt that is
safe to show, plus a copy of the text where each finding is replaced by a placeholder.

The module does no I/O, keeps no state and never logs; the text only lives in the call.

Choices worth knowing about:

* Control digits. A national id is reported only when both control digits are valid and the
  date part is a real calendar date. Control digit 2 follows the classic mod-11 rule. For
  control digit 1 both rules are accepted: the classic one (weighted sum including k1 is
  divisible by 11) and the rule for numbers issued from 2032 (the same sum may leave a
  remainder of 0, 1, 2 or 3). The newer rule is a superset of the classic one.
* Century. The individnummer ranges are not used to reject a number: from 2032 they carry
  no century meaning and D-numbers never reliably did. The date check therefore uses the
  most permissive century, so 29 February is accepted whenever the two-digit year is a
  multiple of four.
* Variants. D-nummer (day + 40) is reported as `D_NUMMER`. H-nummer (month + 40) is
  reported as `FODSELSNUMMER`. Synthetic test numbers from Tenor / Test-Norge (month + 80)
  are also reported, as `FODSELSNUMMER` or `D_NUMMER`: they do not belong to real people,
  but the scanner cannot know whether a text is test data, the number looks the same to a
  reader, and reporting it costs only a placeholder. FH-numbers (first digit 8 or 9, no
  date) are not detected: without a date they cannot be told apart from account numbers.
* Overlaps. Candidates are accepted by kind priority (IBAN, national id, account number,
  e-mail, date of birth, phone, address), then by length, then by position; a candidate
  that overlaps an accepted one is dropped. Every valid national id also passes the
  account-number check (the weights are the same), so the id wins.
* Precision over reach. Numbers glued to letters, slashes or other digit groups
  ("2024/12345678", "12 345 678 kr") are ignored, as are digit runs that read as amounts
  or quantities ("kr 35000000", "… prosent"). Phone numbers are only recognised in the
  common groupings (8 digits, 3-2-3, 2-2-2-2, with or without +47/0047). Street addresses
  need a capitalised name with a known street suffix (or a genitive name followed by a
  street word, as in "Kong Haakons gate") and a house number; a capitalised word at the
  start of a sentence can still be taken as part of such a name.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from calendar import monthrange
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "MAX_TEXT_LENGTH",
    "PLACEHOLDERS",
    "Finding",
    "FindingKind",
    "ScanResult",
    "TextTooLongError",
    "is_valid_account_number",
    "is_valid_fodselsnummer",
    "scan",
]

MAX_TEXT_LENGTH: Final = 20_000


class FindingKind(StrEnum):
    FODSELSNUMMER = "fodselsnummer"  # also H-nummer and Tenor test numbers
    D_NUMMER = "d_nummer"
    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"
    IBAN = "iban"
    ADDRESS = "address"
    BIRTH_DATE = "birth_date"


# Shown to users in place of the value; bokmål, kept together so they can move to content.
PLACEHOLDERS: Final[Mapping[FindingKind, str]] = MappingProxyType(
    {
        FindingKind.FODSELSNUMMER: "[FØDSELSNUMMER]",
        FindingKind.D_NUMMER: "[D-NUMMER]",
        FindingKind.PHONE: "[TELEFON]",
        FindingKind.EMAIL: "[E-POST]",
        FindingKind.ACCOUNT: "[KONTONUMMER]",
        FindingKind.IBAN: "[IBAN]",
        FindingKind.ADDRESS: "[ADRESSE]",
        FindingKind.BIRTH_DATE: "[FØDSELSDATO]",
    }
)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, where it is, and a masked excerpt."""

    kind: FindingKind
    start: int
    end: int
    masked: str


@dataclass(frozen=True)
class ScanResult:
    """All findings (sorted by start, non-overlapping) and the text with placeholders."""

    findings: tuple[Finding, ...]
    redacted: str

    def counts(self) -> dict[FindingKind, int]:
        """Number of findings per kind; kinds that were not found are left out."""
        return dict(Counter(finding.kind for finding in self.findings))


class TextTooLongError(ValueError):
    """The text is longer than `MAX_TEXT_LENGTH`; the message states only the lengths."""


# --------------------------------------------------------------------------- validators

_ELEVEN_DIGITS: Final = re.compile(r"[0-9]{11}")
_K1_WEIGHTS: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2, 1)  # the last weight applies to k1 itself
_K2_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1)  # the last weight applies to k2 itself
_K1_REMAINDERS_2032: Final = frozenset({0, 1, 2, 3})


def _digit_values(digits: str) -> list[int]:
    """Digit values of a string already known to hold only ASCII digits."""
    return [code - 48 for code in digits.encode("ascii")]


def _weighted_remainder(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 11


def _k1_valid_classic(digits: list[int]) -> bool:
    return _weighted_remainder(digits[:10], _K1_WEIGHTS) == 0


def _k1_valid_2032(digits: list[int]) -> bool:
    return _weighted_remainder(digits[:10], _K1_WEIGHTS) in _K1_REMAINDERS_2032


def _k2_valid(digits: list[int]) -> bool:
    return _weighted_remainder(digits, _K2_WEIGHTS) == 0


def _is_calendar_date(day: int, month: int, year: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= monthrange(year, month)[1]


def _id_date_is_valid(digits: list[int]) -> bool:
    """Check the DDMMYY part, undoing the D-, H- and Tenor offsets first."""
    day = digits[0] * 10 + digits[1]
    month = digits[2] * 10 + digits[3]
    year = 2000 + digits[4] * 10 + digits[5]  # a leap-year-friendly century, see module doc
    d_number = day > 40
    if d_number:
        day -= 40
    if month > 80:  # Tenor / Test-Norge
        month -= 80
    elif month > 40:  # H-nummer; never combined with a D-nummer day
        if d_number:
            return False
        month -= 40
    return _is_calendar_date(day, month, year)


def is_valid_fodselsnummer(digits: str) -> bool:
    """True for 11 ASCII digits forming a fødselsnummer, D-nummer, H-nummer or Tenor number.

    Both control digits must be valid (k1 by the classic or the 2032 rule) and the date
    part must be a real calendar date.
    """
    if _ELEVEN_DIGITS.fullmatch(digits) is None:
        return False
    values = _digit_values(digits)
    return (
        _id_date_is_valid(values)
        and (_k1_valid_classic(values) or _k1_valid_2032(values))
        and _k2_valid(values)
    )


def is_valid_account_number(digits: str) -> bool:
    """True for 11 ASCII digits whose last digit is the MOD11 control digit of the rest."""
    if _ELEVEN_DIGITS.fullmatch(digits) is None:
        return False
    return _k2_valid(_digit_values(digits))


_IBAN_LENGTHS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "AT": 20, "BE": 16, "CH": 21, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
        "FI": 18, "FR": 27, "GB": 22, "IE": 22, "IS": 26, "IT": 27, "LT": 20,
        "LV": 21, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "SE": 24,
    }
)  # fmt: skip


def _iban_is_valid(compact: str) -> bool:
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    if compact[:2] == "NO" and not compact[4:].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


# --------------------------------------------------------------------------- masking


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    """Replace letters and digits with '*' except the first/last few; keep punctuation.

    At least one letter or digit is always hidden, so the result never equals the value.
    """
    total = sum(1 for ch in value if ch.isalnum())
    if keep_start + keep_end >= total:
        keep_end = 0
        keep_start = min(keep_start, max(total - 1, 0))
    out: list[str] = []
    seen = 0
    for ch in value:
        if ch.isalnum():
            keep = seen < keep_start or (keep_end > 0 and seen >= total - keep_end)
            out.append(ch if keep else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    name, _, tld = domain.rpartition(".")
    return f"{_mask(local, 1, 0)}@{_mask(name, 1, 0)}.{tld}"


# --------------------------------------------------------------------------- patterns

_SP: Final = "[ \u00a0]"  # a space or a no-break space between digit groups
# A number must not continue a word, a path or a longer number ("12.345", "2024/…", "x1").
_NUM_LEFT: Final = r"(?<![\w/])(?<![0-9][.,\-])"
_NUM_RIGHT: Final = r"(?![\w/])(?![.,\-][0-9])"
# Spaced formats must additionally not be glued to more space-separated digits.
_SPACED_LEFT: Final = _NUM_LEFT + rf"(?<![0-9]{_SP})"
_SPACED_RIGHT: Final = _NUM_RIGHT + rf"(?!{_SP}[0-9])"

_NATIONAL_ID_RE: Final = re.compile(
    rf"{_NUM_LEFT}(?:[0-9]{{11}}|[0-9]{{6}}{_SP}[0-9]{{5}}){_NUM_RIGHT}"
)
_ACCOUNT_RE: Final = re.compile(
    rf"{_NUM_LEFT}[0-9]{{4}}(?P<sep>[.]|{_SP}|)[0-9]{{2}}(?P=sep)[0-9]{{5}}{_NUM_RIGHT}"
)
_IBAN_START_RE: Final = re.compile(r"(?<!\w)[A-Z]{2}[0-9]{2}")
_IBAN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

_PHONE_PREFIX: Final = r"(?P<prefix>\+47|0047)?"
_PHONE_COMPACT_RE: Final = re.compile(
    rf"{_NUM_LEFT}(?<!\+){_PHONE_PREFIX}(?(prefix){_SP}?)[2-9][0-9]{{7}}{_NUM_RIGHT}"
)
_PHONE_SPACED_RE: Final = re.compile(
    rf"{_SPACED_LEFT}(?<!\+){_PHONE_PREFIX}(?(prefix){_SP}?)"
    rf"(?:[2-9][0-9]{{2}}{_SP}[0-9]{{2}}{_SP}[0-9]{{3}}"
    rf"|[2-9][0-9]{_SP}[0-9]{{2}}{_SP}[0-9]{{2}}{_SP}[0-9]{{2}})"
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


# --------------------------------------------------------------------------- detectors


def _find_national_ids(text: str) -> Iterator[Finding]:
    for match in _NATIONAL_ID_RE.finditer(text):
        value = match.group()
        digits = value.replace(" ", "").replace("\u00a0", "")
        if is_valid_fodselsnummer(digits):
            kind = FindingKind.D_NUMMER if digits[0] in "4567" else FindingKind.FODSELSNUMMER
            yield Finding(kind, match.start(), match.end(), _mask(value, 6, 0))


def _find_accounts(text: str) -> Iterator[Finding]:
    for match in _ACCOUNT_RE.finditer(text):
        value = match.group()
        digits = value.replace(".", "").replace(" ", "").replace("\u00a0", "")
        if is_valid_account_number(digits):
            yield Finding(FindingKind.ACCOUNT, match.start(), match.end(), _mask(value, 4, 2))


def _iban_end(text: str, start: int, length: int) -> int | None:
    """End offset of `length` IBAN characters from `start` (single spaces allowed), if any."""
    position = start
    taken = 0
    while position < len(text) and taken < length:
        ch = text[position]
        if ch in _IBAN_CHARS:
            taken += 1
            position += 1
        elif ch in " \u00a0" and text[position + 1 : position + 2] in _IBAN_CHARS:
            position += 1
        else:
            break
    if taken < length or text[position : position + 1].isalnum():
        return None
    return position


def _find_ibans(text: str) -> Iterator[Finding]:
    for match in _IBAN_START_RE.finditer(text):
        length = _IBAN_LENGTHS.get(match.group()[:2])
        end = None if length is None else _iban_end(text, match.start(), length)
        if end is None:
            continue
        value = text[match.start() : end]
        compact = value.replace(" ", "").replace("\u00a0", "")
        if _iban_is_valid(compact):
            yield Finding(FindingKind.IBAN, match.start(), end, _mask(value, 4, 2))


def _looks_like_amount(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 8) : start]
    return (
        _AMOUNT_BEFORE.search(before) is not None
        or _AMOUNT_AFTER.match(text, end) is not None
        or _UNIT_AFTER.match(text, end) is not None
    )


def _looks_like_compact_date(digits: str) -> bool:
    """An unformatted "20240115" is far more likely a date than a phone number."""
    if not digits.startswith("20"):
        return False
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return _is_calendar_date(day, month, year)


def _find_phones(text: str) -> Iterator[Finding]:
    for pattern in (_PHONE_COMPACT_RE, _PHONE_SPACED_RE):
        for match in pattern.finditer(text):
            start, end = match.span()
            prefix = match.group("prefix") or ""
            value = match.group()
            local = value[len(prefix) :].strip(" \u00a0")
            if _looks_like_amount(text, start, end):
                continue
            if not prefix and local.isdigit() and _looks_like_compact_date(local):
                continue
            prefix_digits = len(prefix.lstrip("+"))
            yield Finding(FindingKind.PHONE, start, end, _mask(value, prefix_digits + 1, 2))


def _find_emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL_RE.finditer(text):
        yield Finding(FindingKind.EMAIL, match.start(), match.end(), _mask_email(match.group()))


def _birth_date_is_valid(match: re.Match[str]) -> bool:
    if match.group("d") is not None:
        day, month, year_text = match.group("d"), match.group("m"), match.group("y")
        month_number = int(month)
    elif match.group("iy") is not None:
        day, month_number, year_text = match.group("id"), int(match.group("im")), match.group("iy")
    else:
        day, year_text = match.group("nd"), match.group("ny")
        month_number = _MONTH_NUMBERS.get(match.group("nm").lower()[:3], 0)
    if len(year_text) == 2:
        year = 2000 + int(year_text)  # permissive about leap years, like the id check
    else:
        year = int(year_text)
        if not 1850 <= year <= 2100:
            return False
    return _is_calendar_date(int(day), month_number, year)


def _find_birth_dates(text: str) -> Iterator[Finding]:
    for match in _BIRTH_DATE_RE.finditer(text):
        if _birth_date_is_valid(match):
            start, end = match.span("date")
            yield Finding(FindingKind.BIRTH_DATE, start, end, _mask(text[start:end], 0, 2))


def _is_street_name(street: str) -> bool:
    folded = " ".join(street.split()).casefold()
    return folded not in _NOT_STREETS and not folded.endswith(_NOT_STREET_ENDINGS)


def _find_addresses(text: str) -> Iterator[Finding]:
    for match in _ADDRESS_RE.finditer(text):
        street = match.group("street")
        if not _is_street_name(street):
            continue
        if _UNIT_AFTER.match(text, match.end("number")) is not None:
            continue
        letters = sum(1 for ch in street if ch.isalnum())
        masked = _mask(street, letters // 2 + 1, 0)
        if match.group("postcode") is None:
            masked += text[match.end("street") : match.end()]
        else:
            pc_start, pc_end = match.span("postcode")
            masked += text[match.end("street") : pc_start]
            masked += _mask(text[pc_start:pc_end], 1, 0) + text[pc_end : match.end()]
        yield Finding(FindingKind.ADDRESS, match.start(), match.end(), masked)


# Detectors in priority order: an earlier one wins an overlap with a later one.
_DETECTORS: Final[tuple[tuple[Callable[[str], Iterator[Finding]], int], ...]] = (
    (_find_ibans, 0),
    (_find_national_ids, 1),
    (_find_accounts, 2),
    (_find_emails, 3),
    (_find_birth_dates, 4),
    (_find_phones, 5),
    (_find_addresses, 6),
)


# --------------------------------------------------------------------------- scanning


def _resolve_overlaps(candidates: list[tuple[int, Finding]]) -> tuple[Finding, ...]:
    """Keep the highest-priority, then longest, then earliest candidate of any overlap."""
    candidates.sort(key=lambda c: (c[0], c[1].start - c[1].end, c[1].start))
    starts: list[int] = []
    kept: list[Finding] = []
    for _, finding in candidates:
        i = bisect_left(starts, finding.start)
        if i > 0 and kept[i - 1].end > finding.start:
            continue
        if i < len(kept) and kept[i].start < finding.end:
            continue
        starts.insert(i, finding.start)
        kept.insert(i, finding)
    return tuple(kept)


def _redact(text: str, findings: tuple[Finding, ...]) -> str:
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def scan(text: str) -> ScanResult:
    """Find personal data in `text` and return the findings and a redacted copy.

    Raises `TextTooLongError` for text longer than `MAX_TEXT_LENGTH` characters.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise TextTooLongError(
            f"text has {len(text)} characters; at most {MAX_TEXT_LENGTH} can be checked"
        )
    candidates = [
        (priority, finding) for detect, priority in _DETECTORS for finding in detect(text)
    ]
    findings = _resolve_overlaps(candidates)
    return ScanResult(findings=findings, redacted=_redact(text, findings))

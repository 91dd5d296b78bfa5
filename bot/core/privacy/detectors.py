"""One detector per kind of personal data: candidates from the patterns, kept if they validate.

`_DETECTORS` lists them in priority order; the scanner resolves overlaps by that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final

from bot.core.privacy.findings import Finding, FindingKind
from bot.core.privacy.masking import _mask, _mask_email, _mask_national_id, _mask_number
from bot.core.privacy.numbers import (
    _IBAN_LENGTHS,
    _iban_is_valid,
    _is_calendar_date,
    is_valid_account_number,
    is_valid_fodselsnummer,
)
from bot.core.privacy.patterns import (
    _ACCOUNT_RE,
    _ADDRESS_RE,
    _AMOUNT_AFTER,
    _AMOUNT_BEFORE,
    _BIRTH_DATE_RE,
    _EMAIL_RE,
    _IBAN_CHARS,
    _IBAN_START_RE,
    _MONTH_NUMBERS,
    _NATIONAL_ID_RE,
    _NOT_STREET_ENDINGS,
    _NOT_STREETS,
    _PHONE_COMPACT_RE,
    _PHONE_SPACED_RE,
    _UNIT_AFTER,
)


def _digits(value: str) -> str:
    """The ASCII digits of a candidate, without its separators."""
    return "".join(ch for ch in value if "0" <= ch <= "9")


def _find_national_ids(text: str) -> Iterator[Finding]:
    for match in _NATIONAL_ID_RE.finditer(text):
        digits = _digits(match.group())
        if is_valid_fodselsnummer(digits):
            kind = FindingKind.D_NUMMER if digits[0] in "4567" else FindingKind.FODSELSNUMMER
            yield Finding(kind, match.start(), match.end(), _mask_national_id(digits))


def _find_accounts(text: str) -> Iterator[Finding]:
    for match in _ACCOUNT_RE.finditer(text):
        value = match.group()
        if is_valid_account_number(_digits(value)):
            yield Finding(FindingKind.ACCOUNT, match.start(), match.end(), _mask_number(value))


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
            yield Finding(FindingKind.IBAN, match.start(), end, _mask(value, 2, 2))


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
            local = value[len(prefix) :].lstrip(" \u00a0-")
            if _looks_like_amount(text, start, end):
                continue
            if not prefix and local.isdigit() and _looks_like_compact_date(local):
                continue
            yield Finding(FindingKind.PHONE, start, end, _mask_number(local))


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

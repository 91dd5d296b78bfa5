"""Check digits: national identity numbers (with their date part), account numbers and IBANs.

The rules for control digits and centuries are explained in the `bot.core.privacy` docstring.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

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
    year = 2000 + digits[4] * 10 + digits[5]  # a leap-year-friendly century, see package doc
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

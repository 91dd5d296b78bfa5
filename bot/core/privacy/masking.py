"""Masked excerpts: what may be shown of a finding without revealing it.

Masks use `•` (U+2022), which Teams markdown does not read (unlike `*`, `_`, `~`, `` ` ``,
`[` and `]`), and never contain those characters. They are short and recognisable:

* national identity numbers: `•••••• •••45`, always in that form: neither the birth date nor
  the written format, only the last two digits;
* phone and account numbers: every digit but the last two hidden, the grouping kept
  (`••• •• •67`, `••••.••.•••03`); a phone number's country prefix is left out;
* e-mail addresses: the first letter of the local part and the top-level domain, with a fixed
  number of dots so the length is not shown (`k•••@•••.no`);
* IBANs keep the country code and the last two digits; street addresses the first half of the
  street name; dates of birth the last two digits of the year.
"""

from __future__ import annotations

from typing import Final

MASK: Final = "\u2022"
_HIDDEN: Final = MASK * 3


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    """Replace letters and digits with `MASK` except the first/last few; keep punctuation.

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
            out.append(ch if keep else MASK)
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def _mask_name(value: str) -> str:
    """`Kari Nordmann` → `K••• N•••`: each part's first letter, never its length."""
    parts = value.replace("-", " ").split()
    return " ".join(part[0] + _HIDDEN for part in parts if part)


def _mask_national_id(digits: str) -> str:
    """`•••••• •••45`: only the last two of the 11 digits, whatever the written form."""
    return f"{MASK * 6} {MASK * 3}{digits[-2:]}"


def _mask_number(value: str) -> str:
    """Every digit but the last two hidden; separators between digit groups kept."""
    return _mask(value, 0, 2)


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    tld = domain.rpartition(".")[2]
    first = local[0] if len(local) > 1 and local[0].isalnum() else ""
    return f"{first}{_HIDDEN}@{_HIDDEN}.{tld}"

"""Find personal data in a pasted text, locally and without side effects.

`scan(text)` looks for Norwegian national identity numbers (fødselsnummer, D-nummer,
H-nummer), phone numbers, e-mail addresses, bank account numbers, IBANs, street addresses
and dates of birth. It returns every finding with its offsets and a masked excerpt that is
safe to show, plus a copy of the text where each finding is replaced by a placeholder.

The package does no I/O, keeps no state and never logs; the text only lives in the call.
Masked excerpts use `•`, never a character Teams markdown reads, and show no birth date:
`•••••• •••45` for a national id, the last two digits of phone and account numbers,
`k•••@•••.no` for an e-mail address (see `masking`).

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
* Written forms. The detectors read a normalised copy of the text (`normalise`): digits of
  any script (full-width `１５０３…`) as ASCII, invisible format characters (zero-width
  space, word joiner, soft hyphen, byte-order mark …) left out, every space as a space and
  every dash as `-`. Findings are mapped back, so a finding spans exactly what was written.
  National ids are found as 11 digits, or as the date part (DDMMYY, or DD MM YY with one of
  space, dot, hyphen or slash used twice) and the individual part (12345 or 123 45) with a
  space, hyphen, dot or slash between: "150385-12345", "15.03.85 12345", "15 03 85 123 45".
* Precision over reach. Numbers glued to letters, slashes or other digit groups
  ("2024/12345678", "12 345 678 kr", "+15038512345") are ignored, as are digit runs that
  read as amounts or quantities ("kr 35000000", "… prosent"). Phone numbers are only
  recognised in the common groupings (8 digits, 3-2-3, 2-2-2-2 with one separator: space,
  dot or hyphen; with or without +47/0047). Account numbers are 11 digits, or 4-2-5 with
  dots or spaces. Street addresses
  need a capitalised name with a known street suffix (or a genitive name followed by a
  street word, as in "Kong Haakons gate") and a house number; a capitalised word at the
  start of a sentence can still be taken as part of such a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.privacy.findings import PLACEHOLDERS, Finding, FindingKind, ScanResult
from bot.core.privacy.numbers import is_valid_account_number, is_valid_fodselsnummer

if TYPE_CHECKING:
    from bot.core.privacy.names_lexicon import NameLexicon
    from bot.core.privacy.scanner import MAX_TEXT_LENGTH, TextTooLongError

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

# The scanner (its detectors, compiled patterns and the name finder) is loaded at the first scan,
# not with the package: the bot's start-up imports this package for the name lexicon and the
# learning cards' checks, and answers its first turns without scanning anything.
_FROM_SCANNER = frozenset({"MAX_TEXT_LENGTH", "TextTooLongError"})


def scan(text: str, names: NameLexicon | None = None) -> ScanResult:
    """`bot.core.privacy.scanner.scan`: find personal data in `text` (see there)."""
    from bot.core.privacy.scanner import scan as scan_text

    return scan_text(text, names)


def __getattr__(name: str) -> Any:
    if name in _FROM_SCANNER:
        from bot.core.privacy import scanner

        return getattr(scanner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

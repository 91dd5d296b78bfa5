"""What a scan reports: the kinds of personal data, their placeholders, findings and results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class FindingKind(StrEnum):
    FODSELSNUMMER = "fodselsnummer"  # also H-nummer and Tenor test numbers
    D_NUMMER = "d_nummer"
    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"
    IBAN = "iban"
    ADDRESS = "address"
    BIRTH_DATE = "birth_date"
    NAME = "name"  # a person's name (bot.core.privacy.names), when a name lexicon is given


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
        FindingKind.NAME: "[NAVN]",
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

"""`scan(text)`: run every detector, keep the winners of overlaps, and redact the text."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from bot.core.privacy.detectors import _DETECTORS
from bot.core.privacy.findings import PLACEHOLDERS, Finding, FindingKind, ScanResult
from bot.core.privacy.masking import _mask_name
from bot.core.privacy.names import NameLexicon, find_names
from bot.core.privacy.normalise import Normalised, normalise

MAX_TEXT_LENGTH: Final = 20_000


class TextTooLongError(ValueError):
    """The text is longer than `MAX_TEXT_LENGTH`; the message states only the lengths."""


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


def _to_original(normalised: Normalised, finding: Finding) -> Finding:
    start, end = normalised.span(finding.start, finding.end)
    return replace(finding, start=start, end=end)


def _redact(text: str, findings: tuple[Finding, ...]) -> str:
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(PLACEHOLDERS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


NAME_PRIORITY: Final = 99
"""Names lose every overlap: an address or a number that looks like part of a name wins."""


def _names(text: str, names: NameLexicon) -> Iterator[Finding]:
    for span in find_names(text, names):
        yield Finding(FindingKind.NAME, span.start, span.end, _mask_name(span.text))


def scan(text: str, names: NameLexicon | None = None) -> ScanResult:
    """Find personal data in `text` and return the findings and a redacted copy. With a name
    lexicon (content/names.yaml), person names are found too.

    The detectors read a normalised copy (Unicode digits, invisible characters, spaces and
    dashes; see `normalise`); findings give offsets in `text` itself, spanning exactly what
    was written, so the redacted copy replaces the number with its separators and any
    invisible characters inside it.

    Raises `TextTooLongError` for text longer than `MAX_TEXT_LENGTH` characters.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise TextTooLongError(
            f"text has {len(text)} characters; at most {MAX_TEXT_LENGTH} can be checked"
        )
    normalised = normalise(text)
    candidates = [
        (priority, finding)
        for detect, priority in _DETECTORS
        for finding in detect(normalised.text)
    ]
    if names is not None:
        candidates.extend((NAME_PRIORITY, f) for f in _names(normalised.text, names))
    findings = tuple(_to_original(normalised, finding) for finding in _resolve_overlaps(candidates))
    return ScanResult(findings=findings, redacted=_redact(text, findings))

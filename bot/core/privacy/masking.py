"""Masked excerpts: what may be shown of a finding without revealing it."""

from __future__ import annotations


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

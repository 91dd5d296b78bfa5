"""What a valid draft is checked for before it is stored: personal data in its free-text fields,
and information more sensitive than the chosen tool allows (the follow-up flag).

Personal data comes in two sorts. Identity numbers, phone numbers, e-mail addresses, account
numbers, IBANs, addresses and dates of birth are *hard* findings: a card holding one is never
saved. A possible person name is a *name* finding: tool and product names can look like names,
so the employee may confirm that it is not a person. A confirmation is a set of keys, one per
name that was shown (`name_key`): salted hashes, so the card data carries no name in clear text
and a name added afterwards is not covered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from bot.core.learning_cards.model import OTHER_TOOL, CardDraft, FollowUp
from bot.core.policy import Policy, ToolClass
from bot.core.privacy import Finding, FindingKind, scan
from bot.core.privacy.names_lexicon import NameLexicon

NAME_KEY: Final = re.compile(r"^[0-9a-f]{16}$")
MAX_NAME_KEYS: Final = 64
"""More keys than any real card shows (five fields of at most 2,000 characters); the rest of a
forged list is ignored."""


@dataclass(frozen=True)
class FieldFindings:
    """Personal data found in one free-text field: kinds and masked excerpts (never the value).
    For name findings `keys` holds one `name_key` per excerpt."""

    field: str
    kinds: tuple[FindingKind, ...]
    masked: tuple[str, ...]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonalData:
    """The personal-data check of a draft: hard findings (never saved) and possible names (saved
    only once the employee has confirmed every one of them is not a person)."""

    hard: tuple[FieldFindings, ...]
    names: tuple[FieldFindings, ...]

    @property
    def name_keys(self) -> tuple[str, ...]:
        """The keys of every name found, in order, without repeats."""
        return tuple(dict.fromkeys(key for item in self.names for key in item.keys))

    def confirmed_by(self, confirmed: Collection[str]) -> bool:
        """True when every name found is among the confirmed keys (also when none is found)."""
        return all(key in confirmed for key in self.name_keys)

    def blocks(self, confirmed: Collection[str] = ()) -> bool:
        """Whether the card must come back instead of being saved. Hard findings always block;
        names block unless each was confirmed."""
        return bool(self.hard) or not self.confirmed_by(confirmed)


def name_key(salt: str, name: str) -> str:
    """A salted, shortened hash of a name as written (case and spacing ignored): enough to tell
    whether a confirmed name is still the same, useless for reading the name back."""
    value = " ".join(name.split()).casefold()
    return hashlib.sha256(f"{salt}\x1f{value}".encode()).hexdigest()[:16]


def name_keys(value: object) -> frozenset[str]:
    """The confirmed keys a submitted card carries (space-separated); anything else is ignored."""
    if not isinstance(value, str):
        return frozenset()
    return frozenset([key for key in value.split() if NAME_KEY.match(key)][:MAX_NAME_KEYS])


def _field(name: str, findings: tuple[Finding, ...], keys: tuple[str, ...] = ()) -> FieldFindings:
    return FieldFindings(
        field=name,
        kinds=tuple(dict.fromkeys(f.kind for f in findings)),
        masked=tuple(f.masked for f in findings),
        keys=keys,
    )


def check_personal_data(
    draft: CardDraft, names: NameLexicon | None = None, *, salt: str = ""
) -> PersonalData:
    """Personal data in the free-text fields, per field, masked: hard findings and possible names
    apart. Without a name lexicon no names are looked for. `salt` (the card id) goes into each
    name's key."""
    hard: list[FieldFindings] = []
    found_names: list[FieldFindings] = []
    texts: Mapping[str, str] = draft.texts()
    for field, text in texts.items():
        if not text:
            continue
        findings = scan(text, names).findings
        strict = tuple(f for f in findings if f.kind is not FindingKind.NAME)
        person = tuple(f for f in findings if f.kind is FindingKind.NAME)
        if strict:
            hard.append(_field(field, strict))
        if person:
            keys = tuple(name_key(salt, text[f.start : f.end]) for f in person)
            found_names.append(_field(field, person, keys))
    return PersonalData(hard=tuple(hard), names=tuple(found_names))


def personal_data(draft: CardDraft) -> tuple[FieldFindings, ...]:
    """The hard findings alone (names are not looked for). Empty: nothing rules the card out."""
    return check_personal_data(draft).hard


def follow_up(draft: CardDraft, policy: Policy) -> tuple[FollowUp, ...]:
    """Why a lead should follow this card up: information more sensitive than the tool allows."""
    if draft.category == policy.categories[0]:
        return ()
    if draft.tool == OTHER_TOOL:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    try:
        tool = policy.tool(draft.tool)
    except KeyError:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    if tool.tool_class is ToolClass.OPEN_SERVICE:
        return (FollowUp.SENSITIVE_IN_OPEN_TOOL,)
    if tool.tool_class is ToolClass.UNKNOWN:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    if draft.category not in tool.approved_for:
        return (FollowUp.NOT_APPROVED_FOR_CATEGORY,)
    return ()

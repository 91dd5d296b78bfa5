"""What a valid draft is checked for before it is stored: personal data in its free-text fields,
and information more sensitive than the chosen tool allows (the follow-up flag)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.learning_cards.model import OTHER_TOOL, CardDraft, FollowUp
from bot.core.policy import Policy, ToolClass
from bot.core.privacy import Finding, FindingKind, scan


@dataclass(frozen=True)
class FieldFindings:
    """Personal data found in one free-text field: kinds and masked excerpts (never the value)."""

    field: str
    kinds: tuple[FindingKind, ...]
    masked: tuple[str, ...]


def personal_data(draft: CardDraft) -> tuple[FieldFindings, ...]:
    """Personal data in the free-text fields, per field, masked. Empty: the card may be saved."""
    found: list[FieldFindings] = []
    for name, text in draft.texts().items():
        if not text:
            continue
        findings: tuple[Finding, ...] = scan(text).findings
        if findings:
            found.append(
                FieldFindings(
                    field=name,
                    kinds=tuple(dict.fromkeys(f.kind for f in findings)),
                    masked=tuple(f.masked for f in findings),
                )
            )
    return tuple(found)


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

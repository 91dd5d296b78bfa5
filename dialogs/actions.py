"""Parse the value of an `adaptiveCard/action` invoke into a typed action, strictly.

A card payload comes from the client and can be forged: anything that is not exactly the shape we
send is answered as a stale or unknown action, never with an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cards.verbs import PAYLOAD_VERSION, Verb

MAX_VERB_LENGTH = 64


class ActionProblem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_VERB = "unknown_verb"
    OLD_VERSION = "old_version"


class _ActionModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    verb: str = Field(min_length=1, max_length=MAX_VERB_LENGTH)
    data: dict[str, Any] = Field(default_factory=dict)


class _InvokeValueModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: _ActionModel


@dataclass(frozen=True)
class CardAction:
    verb: Verb
    data: dict[str, Any]


@dataclass(frozen=True)
class RejectedAction:
    problem: ActionProblem


def parse_action(value: object) -> CardAction | RejectedAction:
    """Validate an invoke value: Action.Execute, a verb we know, the payload version we send."""
    try:
        parsed = _InvokeValueModel.model_validate(value)
    except ValidationError:
        return RejectedAction(ActionProblem.MALFORMED)
    if parsed.action.type != "Action.Execute":
        return RejectedAction(ActionProblem.MALFORMED)
    try:
        verb = Verb(parsed.action.verb)
    except ValueError:
        return RejectedAction(ActionProblem.UNKNOWN_VERB)
    version = parsed.action.data.get("v")
    # The Agents Playground and some clients send every data value as a string.
    if str(version) != str(PAYLOAD_VERSION):
        return RejectedAction(ActionProblem.OLD_VERSION)
    return CardAction(verb=verb, data=dict(parsed.action.data))

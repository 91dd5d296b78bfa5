"""What a KI-sjekk button carries: the answers so far, validated on every press, and the
button data each step's card sends back. The server keeps nothing between steps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from cards.views import State

Step = Literal["task", "tool", "category", "more", "flags"]
STEPS: tuple[Step, ...] = ("task", "tool", "category", "more", "flags")
CHOICE_STEPS: tuple[Step, ...] = ("task", "tool", "category")
VERDICT = "verdict"  # the state a verdict card carries: back from it returns to the last question
YES_NO = ("yes", "no")
NO_FLAGS = "none"
COMPLETE = "complete"


class Payload(BaseModel):
    """What a KI-sjekk button sends back: our state plus the card's inputs."""

    model_config = ConfigDict(extra="ignore")
    step: Literal["task", "tool", "category", "more", "flags", "verdict"] = "task"
    task: str = ""
    tool: str = ""
    category: str = ""
    decision: str = ""
    publish: str = ""
    flags: str = ""  # comma-separated red-flag ids, or "none"
    choice: str = ""
    useful: str = ""

    def flag_set(self) -> frozenset[str]:
        return frozenset(f for f in self.flags.split(",") if f and f != NO_FLAGS)


def flags_answer(raw: str, offered: tuple[str, ...]) -> str | None:
    """The flags card's answer in a canonical form: the ticked flags in policy order, or "none";
    None if nothing was ticked or something not offered was sent."""
    picked = {part.strip() for part in raw.split(",") if part.strip()}
    if not picked or picked - {*offered, NO_FLAGS}:
        return None
    flags = [flag for flag in offered if flag in picked]
    return ",".join(flags) if flags else NO_FLAGS


INPUTS: dict[str, tuple[str, ...]] = {"more": ("decision", "publish"), "flags": ("flags",)}
"""The card's own inputs: the client adds their values to the data itself, so the card's button
data must not carry them too."""


def button_state(payload: Payload, step: str) -> State:
    """Button data for a card: every answer so far, except the card's own inputs."""
    skip = INPUTS.get(step, ())
    fields = ("task", "tool", "category", "decision", "publish", "flags")
    return (("step", step), *((f, getattr(payload, f)) for f in fields if f not in skip))

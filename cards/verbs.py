"""The verbs of our `Action.Execute` buttons. Cards and dialogs both take them from here."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    HELP = "kivett.help"
    ABOUT = "kivett.about"


PAYLOAD_VERSION = 1
"""Bumped when the data a button carries changes shape; older cards are then answered as stale."""

"""The home flow: welcome, help, about, and a helpful answer to anything else."""

from __future__ import annotations

from bot.core.commands import Command, CommandName
from cards.verbs import Verb
from cards.views import (
    AboutView,
    CardView,
    FallbackView,
    HelpView,
    StaleActionView,
    WelcomeView,
)
from dialogs.actions import CardAction, RejectedAction


def welcome_view() -> CardView:
    return WelcomeView()


def view_for_command(command: Command) -> CardView:
    """The card that answers a typed command; unknown text gets the fallback card, never silence."""
    match command.name:
        case CommandName.HELP:
            return HelpView()
        case CommandName.ABOUT:
            return AboutView()
        case _:
            # the other commands have their own dialogs; the handler routes them first
            return FallbackView()


def view_for_action(action: CardAction | RejectedAction) -> CardView:
    """The card that replaces the pressed one."""
    if isinstance(action, RejectedAction):
        return StaleActionView()
    if action.verb is Verb.ABOUT:
        return AboutView()
    return HelpView()

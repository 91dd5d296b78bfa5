"""The home flow: welcome, help, about, and a helpful answer to anything else."""

from __future__ import annotations

from bot.core.caller import Role
from bot.core.commands import CommandName
from cards.verbs import Verb
from cards.views import (
    AboutView,
    CardView,
    FallbackView,
    HelpView,
    StaleActionView,
    WelcomeView,
)
from dialogs.flow import Reply, Request, Routes

WELCOME: CardView = WelcomeView()
"""Sent once when someone installs the app or adds the bot to a chat."""
REJECTED: CardView = StaleActionView()
"""For a card payload that is malformed, forged or from an older version of the app."""
UNKNOWN_VERB: CardView = HelpView()
"""For a verb no flow answers (a button of a feature this instance does not run)."""


class HomeFlow:
    def __init__(self, privacy_officer: str = "", retention_days: int = 365) -> None:
        self._privacy_officer = privacy_officer
        self._retention_days = retention_days

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.HELP: self.help, CommandName.ABOUT: self.about},
            verbs={Verb.HELP: self.help, Verb.ABOUT: self.about},
        )

    async def help(self, request: Request) -> Reply:
        roles = request.caller.roles
        return Reply(HelpView(champion=Role.CHAMPION in roles, lead=Role.LEAD in roles))

    async def about(self, request: Request) -> Reply:
        return Reply(
            AboutView(privacy_officer=self._privacy_officer, retention_days=self._retention_days)
        )

    async def fallback(self, request: Request) -> Reply:
        """Text that is no command and no question: the card that shows what the bot can do."""
        roles = request.caller.roles
        return Reply(FallbackView(champion=Role.CHAMPION in roles, lead=Role.LEAD in roles))

"""View dataclasses: the data a card template needs, and nothing else.

Each view names its template. Texts are not in views: templates look them up by key through `t`,
so every sentence stays in `content/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class WelcomeView:
    template: ClassVar[str] = "welcome.json.j2"


@dataclass(frozen=True)
class HelpView:
    template: ClassVar[str] = "help.json.j2"


@dataclass(frozen=True)
class AboutView:
    template: ClassVar[str] = "about.json.j2"


@dataclass(frozen=True)
class FallbackView:
    template: ClassVar[str] = "fallback.json.j2"


@dataclass(frozen=True)
class StaleActionView:
    template: ClassVar[str] = "stale.json.j2"


@dataclass(frozen=True)
class ErrorView:
    template: ClassVar[str] = "error.json.j2"


CardView = WelcomeView | HelpView | AboutView | FallbackView | StaleActionView | ErrorView

SAMPLE_VIEWS: tuple[CardView, ...] = (
    WelcomeView(),
    HelpView(),
    AboutView(),
    FallbackView(),
    StaleActionView(),
    ErrorView(),
)
"""One sample of every view, for tests that check every card with Microsoft's parser."""

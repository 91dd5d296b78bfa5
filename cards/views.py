"""View dataclasses: the data a card template needs, and nothing else.

Each view names its template. Texts are not in views: templates look them up by key through `t`,
so every sentence stays in `content/`. Whatever a user typed is held as `UserText`, which every
card shows escaped for Teams markdown (see `cards.markdown`).

The views of the first answers (welcome, help, language, about, fallback, stale and error cards)
are defined here; every other view is in `cards.flow_views` and loaded, through this module, when
a flow first asks for one (about 20 ms of class building a server's start does not need).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from cards.verbs import Verb

if TYPE_CHECKING:
    from cards.flow_views import (
        Bar,
        ButtonSpec,
        Choice,
        Fact,
        GevinstBar,
        KiFlagsView,
        KiMoreView,
        KiStepView,
        KiUnderstoodView,
        KiVerdictView,
        LearningFormView,
        LearningSavedView,
        LearningSummaryView,
        LessonOverviewView,
        LessonView,
        MyDataErasedView,
        MyDataEraseView,
        MyDataView,
        NoticeView,
        ReasonLine,
        SubscribeView,
        TextCheckResultView,
        TextCheckView,
        TipCardView,
        TipComposeView,
        TipPreviewView,
        TipProgressView,
        TrialFormView,
        TrialLine,
        TrialListView,
        TrialReminderView,
        TrialSavedView,
        TrialSummaryView,
    )

State = tuple[tuple[str, str], ...]
"""A flow's state carried in a button's data, as (key, value) pairs."""


@dataclass(frozen=True)
class WelcomeView:
    template: ClassVar[str] = "welcome.json.j2"


@dataclass(frozen=True)
class HelpView:
    """What the bot can do, with buttons that start each flow (and the roles' own entries)."""

    template: ClassVar[str] = "help.json.j2"
    champion: bool = False
    lead: bool = False


@dataclass(frozen=True)
class LanguageView:
    """The `språk` card: the language the person is answered in now, and Bokmål, Nynorsk and
    English to choose from."""

    template: ClassVar[str] = "language.json.j2"
    current: str = "nb"
    chosen: bool = False
    """True when `current` is the person's own choice (not worked out from Teams or the text)."""


@dataclass(frozen=True)
class LanguageChosenView:
    """After a choice: the confirmation in the new language, and the way on."""

    template: ClassVar[str] = "language_chosen.json.j2"
    champion: bool = False
    lead: bool = False


@dataclass(frozen=True)
class LanguageOfferView:
    """One line offering the choice, added under the first answer to someone whose Teams is not
    in Norwegian (its body is appended to that card)."""

    template: ClassVar[str] = "language_offer.json.j2"


@dataclass(frozen=True)
class AboutView:
    """What KI-vett is, what it stores about a person and why, their rights, the DPO's address."""

    template: ClassVar[str] = "about.json.j2"
    privacy_officer: str = ""
    retention_days: int = 365


@dataclass(frozen=True)
class FallbackView:
    """For text that is no command: the list of commands once, and buttons that start each flow."""

    template: ClassVar[str] = "fallback.json.j2"
    champion: bool = False
    lead: bool = False


@dataclass(frozen=True)
class StaleActionView:
    template: ClassVar[str] = "stale.json.j2"
    restart_verb: str = Verb.HELP.value


@dataclass(frozen=True)
class ErrorView:
    template: ClassVar[str] = "error.json.j2"
    storage_down: bool = False  # the store is unreachable for a while (a known, passing trouble)


_FLOW_VIEWS = frozenset(
    {
        "Choice",
        "Fact",
        "KiStepView",
        "KiMoreView",
        "KiFlagsView",
        "ReasonLine",
        "KiVerdictView",
        "KiUnderstoodView",
        "TextCheckView",
        "TextCheckResultView",
        "ButtonSpec",
        "NoticeView",
        "LessonOverviewView",
        "LessonView",
        "SubscribeView",
        "TipComposeView",
        "TipCardView",
        "TipPreviewView",
        "TipProgressView",
        "LearningFormView",
        "LearningSavedView",
        "Bar",
        "LearningSummaryView",
        "MyDataView",
        "MyDataEraseView",
        "MyDataErasedView",
        "GevinstBar",
        "TrialSummaryView",
        "TrialFormView",
        "TrialSavedView",
        "TrialLine",
        "TrialListView",
        "TrialReminderView",
    }
)

CardView: TypeAlias = (
    "WelcomeView"
    " | HelpView"
    " | AboutView"
    " | FallbackView"
    " | StaleActionView"
    " | ErrorView"
    " | KiStepView"
    " | KiMoreView"
    " | KiFlagsView"
    " | KiVerdictView"
    " | KiUnderstoodView"
    " | TextCheckView"
    " | TextCheckResultView"
    " | NoticeView"
    " | LessonOverviewView"
    " | LessonView"
    " | SubscribeView"
    " | TipComposeView"
    " | TipCardView"
    " | TipPreviewView"
    " | TipProgressView"
    " | LearningFormView"
    " | LearningSavedView"
    " | LearningSummaryView"
    " | MyDataView"
    " | MyDataEraseView"
    " | MyDataErasedView"
    " | LanguageView"
    " | LanguageChosenView"
    " | LanguageOfferView"
    " | TrialSummaryView"
    " | TrialFormView"
    " | TrialSavedView"
    " | TrialListView"
    " | TrialReminderView"
)
"""Every view a card is rendered from. A name (resolved by type checkers, not at run time), so that
annotating with it loads none of the flows' views."""

__all__ = [
    "AboutView",
    "Bar",
    "ButtonSpec",
    "CardView",
    "Choice",
    "ErrorView",
    "Fact",
    "FallbackView",
    "GevinstBar",
    "HelpView",
    "KiFlagsView",
    "KiMoreView",
    "KiStepView",
    "KiUnderstoodView",
    "KiVerdictView",
    "LanguageChosenView",
    "LanguageOfferView",
    "LanguageView",
    "LearningFormView",
    "LearningSavedView",
    "LearningSummaryView",
    "LessonOverviewView",
    "LessonView",
    "MyDataEraseView",
    "MyDataErasedView",
    "MyDataView",
    "NoticeView",
    "ReasonLine",
    "StaleActionView",
    "State",
    "SubscribeView",
    "TextCheckResultView",
    "TextCheckView",
    "TipCardView",
    "TipComposeView",
    "TipPreviewView",
    "TipProgressView",
    "TrialFormView",
    "TrialLine",
    "TrialListView",
    "TrialReminderView",
    "TrialSavedView",
    "TrialSummaryView",
    "WelcomeView",
]


def __getattr__(name: str) -> Any:
    if name in _FLOW_VIEWS:
        from cards import flow_views

        return getattr(flow_views, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

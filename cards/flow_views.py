"""The views of the flows (KI-sjekken, the text check, lessons, tips, learning cards, my data,
trials, gevinst) and the pieces they share: loaded with the first flow that asks for one.

Import them from `cards.views`, which holds the views of the first answers and passes on every
name defined here (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cards.markdown import UserText
from cards.views import State


@dataclass(frozen=True)
class Choice:
    value: str
    title: str


@dataclass(frozen=True)
class Fact:
    title: str | UserText
    value: str | UserText


@dataclass(frozen=True)
class KiStepView:
    """One question of KI-sjekken (task, tool or information), with the answers so far."""

    template: ClassVar[str] = "ki_step.json.j2"
    step_number: int
    total: int
    question: str
    choices: tuple[Choice, ...]
    selected: str
    facts: tuple[Fact, ...]
    state: State
    can_go_back: bool
    category_help: tuple[Fact, ...] = ()
    help_text: str = ""
    """A short explanation under the choices (which Copilot is which)."""


@dataclass(frozen=True)
class KiMoreView:
    """The fourth step: what the result is used for (decisions about people), and publishing."""

    template: ClassVar[str] = "ki_more.json.j2"
    step_number: int
    total: int
    facts: tuple[Fact, ...]
    decisions: tuple[Choice, ...]
    decision: str
    publish: str
    state: State


@dataclass(frozen=True)
class KiFlagsView:
    """The red flags, asked whatever the task: tick each that applies, or "none of these"."""

    template: ClassVar[str] = "ki_flags.json.j2"
    step_number: int
    total: int
    facts: tuple[Fact, ...]
    flags: tuple[Choice, ...]
    selected: str  # comma-separated values, as Input.ChoiceSet with isMultiSelect sends them
    state: State


@dataclass(frozen=True)
class ReasonLine:
    text: str
    sources: str


@dataclass(frozen=True)
class KiVerdictView:
    template: ClassVar[str] = "ki_verdict.json.j2"
    verdict: str  # green | yellow | red
    facts: tuple[Fact, ...]
    reasons: tuple[ReasonLine, ...]
    conditions: tuple[str, ...]
    next_steps: tuple[str, ...]
    alternatives: str
    vettregler: tuple[str, ...]
    state: State
    offer_text_check: bool
    thanked: bool = False
    law_notes: tuple[str, ...] = ()
    """The AI Act's status and dates, when a reason rests on it, and when the law was checked."""
    action_id: str = ""
    """Carried by the "nyttig?" buttons, so a vote counts once per card (dialogs/once.py)."""
    thanked_before: bool = False
    """The vote was already recorded by an earlier press of the same card."""


@dataclass(frozen=True)
class KiUnderstoodView:
    """What the bot understood from a question in plain words, to confirm or correct."""

    template: ClassVar[str] = "ki_understood.json.j2"
    facts: tuple[Fact, ...]
    state: State


@dataclass(frozen=True)
class TextCheckView:
    template: ClassVar[str] = "text_check.json.j2"
    limit: int
    error: str = ""


@dataclass(frozen=True)
class TextCheckResultView:
    template: ClassVar[str] = "text_check_result.json.j2"
    cacheable: ClassVar[bool] = False  # holds the employee's text (with placeholders)
    found: bool
    total: int
    rows: tuple[Fact, ...]
    redacted: UserText


@dataclass(frozen=True)
class ButtonSpec:
    title: str
    verb: str
    state: State = ()
    style: str = ""


@dataclass(frozen=True)
class NoticeView:
    """A short confirmation or explanation with buttons onwards."""

    template: ClassVar[str] = "notice.json.j2"
    title: str
    body: str
    buttons: tuple[ButtonSpec, ...]


@dataclass(frozen=True)
class LessonOverviewView:
    template: ClassVar[str] = "lesson_overview.json.j2"
    progress: str
    lines: tuple[str, ...]
    choices: tuple[Choice, ...]
    next_lesson: str  # id of the next unfinished lesson, "" when all are done
    subscribed: bool
    started: bool  # at least one lesson done: "Neste leksjon" rather than "Start med leksjon 1"


@dataclass(frozen=True)
class LessonView:
    template: ClassVar[str] = "lesson.json.j2"
    lesson_id: str
    heading: str
    progress: str
    why: str
    example_title: str
    example: str
    question: str
    options: tuple[Choice, ...]
    source: str
    result: str = ""  # feedback once answered
    correct: bool = False
    your_answer: str = ""
    next_lesson: str = ""
    intro: str = ""  # set when the lesson was pushed by the weekly subscription
    pushed: bool = False


@dataclass(frozen=True)
class SubscribeView:
    template: ClassVar[str] = "subscribe.json.j2"
    days: tuple[Choice, ...]
    times: tuple[Choice, ...]
    day: str
    time: str
    action_id: str = ""
    """Carried by the save button, so the subscription is saved once per card."""


@dataclass(frozen=True)
class TipComposeView:
    template: ClassVar[str] = "tip_compose.json.j2"
    tips: tuple[Choice, ...]
    channels: tuple[Choice, ...]
    limit: int
    error: str = ""
    tip: str = ""
    own: str = ""
    audience: str = "subscribers"


@dataclass(frozen=True)
class TipCardView:
    """The tip as recipients see it, with the way to opt out."""

    template: ClassVar[str] = "tip_card.json.j2"
    text: str | UserText


@dataclass(frozen=True)
class TipPreviewView:
    template: ClassVar[str] = "tip_preview.json.j2"
    text: str | UserText
    facts: tuple[Fact, ...]
    state: State
    action_id: str = ""
    """Carried by the Send button, so the tip is sent once per card (dialogs/once.py)."""


@dataclass(frozen=True)
class TipProgressView:
    template: ClassVar[str] = "tip_progress.json.j2"
    title: str
    facts: tuple[Fact, ...]
    finished: bool
    note: str = ""  # a line above the facts (while the subscribers are being listed)


@dataclass(frozen=True)
class LearningFormView:
    """The learning card's form. `values` keeps what the employee wrote when the card comes back
    with problems (only in the card itself: never stored); `cacheable` keeps it out of the
    renderer's cache."""

    template: ClassVar[str] = "learning_form.json.j2"
    cacheable: ClassVar[bool] = False
    card_id: str
    areas: tuple[Choice, ...]
    tasks: tuple[Choice, ...]
    tools: tuple[Choice, ...]
    categories: tuple[Choice, ...]
    values: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    prefilled: bool = False
    limits: tuple[int, int, int] = (120, 100, 2000)  # title, short text, long text
    notice: str = ""  # why the card is back although nothing was wrong with it
    names: tuple[str, ...] = ()  # possible person names, masked, one line per field
    name_keys: str = ""  # the shown names' keys (hashes), carried by the submit button
    names_again: bool = False  # a confirmation was given, but a name it did not cover is found
    trials: tuple[Choice, ...] = ()
    """The person's open trials to file the card under (none shown when empty)."""


@dataclass(frozen=True)
class LearningSavedView:
    template: ClassVar[str] = "learning_saved.json.j2"
    title: str
    body: str
    destination: str
    facts: tuple[Fact, ...]
    follow_up: tuple[str, ...] = ()
    contact: str = ""


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a label, the count shown, and the bar's length in percent (1–100)."""

    label: str | UserText
    count: int
    percent: int


@dataclass(frozen=True)
class LearningSummaryView:
    template: ClassVar[str] = "learning_summary.json.j2"
    facts: tuple[Fact, ...]
    by_area: tuple[Bar, ...]
    by_tool: tuple[Bar, ...]
    recommended: tuple[str, ...]
    flagged: tuple[str, ...]
    parked: tuple[str, ...]
    statuses: tuple[Fact, ...]
    usage: tuple[Fact, ...]
    list_url: str = ""
    empty: bool = False


@dataclass(frozen=True)
class MyDataView:
    """`mine data`: what the bot holds about the person asking."""

    template: ClassVar[str] = "my_data.json.j2"
    cacheable: ClassVar[bool] = False
    facts: tuple[Fact, ...]
    card_titles: tuple[UserText, ...]
    more_cards: str
    has_data: bool
    privacy_officer: str
    trial_lines: tuple[str, ...] = ()  # the person's trials: title and period, nobody else
    more_trials: str = ""
    reminders_off: bool = False  # they turned trial reminders off: a button turns them on


@dataclass(frozen=True)
class MyDataEraseView:
    """ "Slett mine data": what will happen, and the confirming button."""

    template: ClassVar[str] = "my_data_erase.json.j2"


@dataclass(frozen=True)
class MyDataErasedView:
    """After an erasure: what was removed, and what the person deletes themself in Teams."""

    template: ClassVar[str] = "my_data_erased.json.j2"
    lines: tuple[str, ...]
    nothing: bool
    sharepoint: bool
    privacy_officer: str


@dataclass(frozen=True)
class GevinstBar:
    """One bar of the gevinstverksted's charts: a label, the value shown beside it, and the bar's
    length in percent (0–100; 0 draws an empty track)."""

    label: str | UserText
    value: str
    percent: int


@dataclass(frozen=True)
class TrialSummaryView:
    """`gevinst`: the learning cards of a trial or a unit, summed up for the gevinstverksted,
    with the trials and units to choose from. Every figure is experienced and reported."""

    template: ClassVar[str] = "trial_summary.json.j2"
    cacheable: ClassVar[bool] = False  # holds what employees wrote
    verb: str
    title: str
    choices: tuple[Choice, ...]  # "trial:<id>" / "unit:<name>" → what the list shows
    chosen: str = ""  # the choice shown ("" before one is made)
    notice: str = ""  # why nothing is shown (no trials, nothing found, no cards, storage down)
    trials: tuple[str, ...] = ()  # one line per trial the summary covers
    facts: tuple[Fact, ...] = ()
    benefit: tuple[GevinstBar, ...] = ()
    hours_title: str = ""
    hours: tuple[GevinstBar, ...] = ()
    recommended: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrialFormView:
    """The trial (utprøving) form for champions. `trial_id` is made when the form is rendered and
    carried by the submit button, so a second press stores nothing new. `refusal`: the KI-sjekk
    gave red, with its reasons and next steps (the trial is not registered)."""

    template: ClassVar[str] = "trial_form.json.j2"
    cacheable: ClassVar[bool] = False
    trial_id: str
    areas: tuple[Choice, ...]
    tasks: tuple[Choice, ...]
    tools: tuple[Choice, ...]
    categories: tuple[Choice, ...]
    values: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    refusal: tuple[str, ...] = ()
    refusal_steps: tuple[str, ...] = ()
    notice: str = ""
    limits: tuple[int, int, int] = (120, 100, 2000)  # title, short text, long text


@dataclass(frozen=True)
class TrialSavedView:
    """A registered trial: what it is, its KI-sjekk verdict with the conditions, what comes next."""

    template: ClassVar[str] = "trial_saved.json.j2"
    trial_id: str
    verdict: str  # green | yellow
    facts: tuple[Fact, ...]
    conditions: tuple[str, ...]
    next_lines: tuple[str, ...]
    repeated: bool = False


@dataclass(frozen=True)
class TrialLine:
    title: UserText
    detail: str
    trial_id: str
    open: bool


@dataclass(frozen=True)
class TrialListView:
    """`utprøvinger`: the trials the person takes part in, open ones first, each open one with a
    button to its learning card."""

    template: ClassVar[str] = "trial_list.json.j2"
    cacheable: ClassVar[bool] = False
    trials: tuple[TrialLine, ...]
    champion: bool = False
    more: int = 0  # trials left out of a long list


@dataclass(frozen=True)
class TrialReminderView:
    """Near a trial's end, to each participant (bot/workers/trial_reminders.py): file a learning
    card for it, or turn these reminders off."""

    template: ClassVar[str] = "trial_reminder.json.j2"
    cacheable: ClassVar[bool] = False
    trial_id: str
    title: UserText
    unit: UserText
    ends: str  # the last day, as the card's language writes dates

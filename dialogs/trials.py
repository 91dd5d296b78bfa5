"""Utprøvinger (trials): a champion registers one through a form, everyone sees the trials they
take part in, and a learning card can be filed for an open one.

The rules are in `bot.core.trials` (validation, when a trial is open) and `bot.core.policy` (the
KI-sjekk verdict, run on the trial's task, tool and information when it is registered: a red
verdict is never registered). The trial's id is made when the form is rendered and travels in the
submit button's data, so pressing it twice (or a replay) stores one trial.

Participants are Entra object ids. Teams' people picker (`Input.ChoiceSet` with `choices.data`
Data.Query over graph.microsoft.com/users) would be the natural input, but Microsoft's Adaptive
Cards parser (npm `adaptivecards` 3.0.6, which checks every card we send) knows `choices.data` only
from schema 1.6 and reports it as unsupported in our 1.5 cards; the form therefore asks for the
ids as text (one per line or comma-separated), which is what the picker would send as well.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.caller import Role
from bot.core.commands import CommandName
from bot.core.learning_cards import OTHER_TOOL, FieldError, Labels
from bot.core.policy import Answers, Assessment, NextStep, Policy, ToolClass, Verdict, assess
from bot.core.schedule import DEFAULT_ZONE
from bot.core.trials import (
    FILING_GRACE,
    Trial,
    TrialDraft,
    TrialOptions,
    is_open,
    validate_trial,
)
from bot.ports import StorageUnavailableError, TrialStore
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import (
    ButtonSpec,
    CardView,
    Choice,
    Fact,
    NoticeView,
    TrialFormView,
    TrialLine,
    TrialListView,
    TrialSavedView,
)
from content import Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.ki_verdict import VERDICT_NAMES, step_text
from dialogs.learning_card import LearningCardDialog

TRIAL_ID = re.compile(r"^[0-9a-f]{32}$")
TRIAL_KEY = "trial"
"""The button data key that carries a trial's id (the form's submit, the learning-card buttons)."""
FORM_FIELDS = (
    "title",
    "task",
    "area",
    "unit",
    "tool",
    "tool_other",
    "category",
    "participants",
    "starts",
    "ends",
    "success",
)
VALUE_LIMIT = 8000
MAX_LISTED = 20
NOT_FOR_A_PLAN = frozenset({NextStep.GO_AHEAD, NextStep.REPORT_BREACH})
"""Next steps of a verdict that say nothing about a trial still to come ("go ahead" is the green
badge itself; nothing has leaked that could be reported)."""
_SEPARATORS = re.compile(r"[\s,;]+")


def new_trial_id() -> str:
    return uuid.uuid4().hex


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


async def open_trials(store: TrialStore, user_key: str, today: date) -> list[Trial]:
    """The trials the person may file a learning card under: theirs, and open today."""
    return [s.trial for s in await store.of_person(user_key) if is_open(s.trial, today)]


def show_date(day: date, language: str) -> str:
    """A date as the card's language writes it: 28.02.2027 in Norwegian, 2027-02-28 in English
    (every card about trials writes it so)."""
    return day.isoformat() if language == "en" else day.strftime("%d.%m.%Y")


def participant_ids(value: object) -> object:
    """What the form sent as participants, as the comma-separated ids validation expects (one per
    line, or separated by commas, semicolons or spaces, are all accepted)."""
    if not isinstance(value, str):
        return value
    return ",".join(part for part in _SEPARATORS.split(value) if part)


class TrialDialog:
    """Builds the trial views from content; no I/O."""

    def __init__(self, policy: Policy, learning: LearningCardDialog) -> None:
        self._policy = policy
        self._learning = learning
        self.options = TrialOptions(learning.options)

    def labels(self, texts: Texts) -> Labels:
        return self._learning.labels(texts)

    def form(
        self,
        texts: Texts,
        trial_id: str,
        values: Mapping[str, str] | None = None,
        *,
        problems: Sequence[str] = (),
        refusal: Assessment | None = None,
        notice: str = "",
    ) -> TrialFormView:
        labels = self.labels(texts)

        def choices(mapping: Mapping[str, str]) -> tuple[Choice, ...]:
            return tuple(Choice(key, title) for key, title in mapping.items())

        reasons: tuple[str, ...] = ()
        steps: tuple[str, ...] = ()
        if refusal is not None:
            reasons = tuple(texts(reason.text_key) for reason in refusal.reasons)
            reference = refusal.assessment_reference
            steps = (
                *(
                    step_text(self._policy, texts, s, reference)
                    for s in refusal.next_steps
                    if s not in NOT_FOR_A_PLAN
                ),
                texts("trials.refused_change"),
            )
        return TrialFormView(
            trial_id=trial_id,
            areas=choices(labels.service_areas),
            tasks=choices(labels.tasks),
            tools=choices(labels.tools),
            categories=choices(labels.categories),
            values=tuple((values or {}).items()),
            problems=tuple(problems),
            refusal=reasons,
            refusal_steps=tuple(dict.fromkeys(steps)),
            notice=notice,
        )

    @staticmethod
    def returned_values(data: Mapping[str, object]) -> dict[str, str]:
        """What the champion wrote, to put back in the form when it needs correcting."""
        return {
            name: str(value)[:VALUE_LIMIT]
            for name in FORM_FIELDS
            if isinstance(value := data.get(name), int | float | str)
            and not isinstance(value, bool)
        }

    def problem_lines(self, texts: Texts, errors: Sequence[FieldError]) -> tuple[str, ...]:
        return tuple(
            texts(f"trials.label.{error.field}") + ": " + texts(f"trials.problem.{error.problem}")
            for error in errors
        )

    def refused(self, texts: Texts) -> NoticeView:
        return NoticeView(
            title=texts("trials.champions_only_title"),
            body=texts("trials.champions_only_body"),
            buttons=(
                ButtonSpec(texts("trials.button_list"), Verb.TRIAL_LIST.value, style="positive"),
                ButtonSpec(texts("trials.button_help"), Verb.HELP.value),
            ),
        )

    def tool_label(self, texts: Texts, draft: TrialDraft) -> str | UserText:
        if draft.tool == OTHER_TOOL and draft.tool_other:
            return UserText(draft.tool_other)
        return self.labels(texts).tools.get(draft.tool, UserText(draft.tool))

    def saved(
        self, texts: Texts, trial: Trial, assessment: Assessment | None, *, repeated: bool
    ) -> TrialSavedView:
        """`assessment`: the verdict's conditions (None for a trial stored earlier: its verdict
        is shown as registered, the conditions are worked out again from its answers)."""
        draft = trial.draft
        labels = self.labels(texts)
        language = texts.language
        result = assessment if assessment is not None else self.assess(draft)
        reference = result.assessment_reference
        return TrialSavedView(
            trial_id=trial.trial_id,
            verdict=trial.verdict,
            facts=(
                Fact(texts("trials.fact.title"), UserText(draft.title)),
                Fact(texts("trials.fact.unit"), UserText(draft.unit)),
                Fact(
                    texts("trials.fact.area"),
                    labels.service_areas.get(draft.service_area, UserText(draft.service_area)),
                ),
                Fact(texts("trials.fact.task"), labels.tasks.get(draft.task, UserText(draft.task))),
                Fact(texts("trials.fact.tool"), self.tool_label(texts, draft)),
                Fact(
                    texts("trials.fact.category"),
                    labels.categories.get(draft.category, UserText(draft.category)),
                ),
                Fact(
                    texts("trials.fact.period"),
                    texts(
                        "trials.period",
                        starts=show_date(draft.starts, language),
                        ends=show_date(draft.ends, language),
                    ),
                ),
                Fact(
                    texts("trials.fact.participants"),
                    texts.count("trials.participants_count", len(draft.participants)),
                ),
                Fact(texts("trials.fact.success"), UserText(draft.success)),
            ),
            conditions=(
                *(
                    texts(key, reference=reference)
                    if key == "condition.assessed_use"
                    else texts(key)
                    for key in result.conditions
                ),
                *(
                    step_text(self._policy, texts, step, reference)
                    for step in result.next_steps
                    if step not in NOT_FOR_A_PLAN
                ),
            ),
            next_lines=(
                texts("trials.next.share"),
                texts("trials.next.cards", days=FILING_GRACE.days),
                texts("trials.next.summary"),
            ),
            repeated=repeated,
        )

    def listing(
        self, texts: Texts, trials: Sequence[Trial], today: date, *, champion: bool
    ) -> TrialListView:
        """Open trials first (the one ending soonest on top), then those to come, then the
        ended ones (the latest first)."""
        running = sorted((t for t in trials if is_open(t, today)), key=lambda t: t.draft.ends)
        coming = sorted((t for t in trials if today < t.draft.starts), key=lambda t: t.draft.starts)
        ended = sorted(
            (t for t in trials if not is_open(t, today) and t.draft.starts <= today),
            key=lambda t: t.draft.ends,
            reverse=True,
        )
        ordered = [*running, *coming, *ended]
        language = texts.language

        def line(trial: Trial) -> TrialLine:
            draft = trial.draft
            if is_open(trial, today):
                status = "open" if today <= draft.ends else "grace"
            else:
                status = "upcoming" if today < draft.starts else "closed"
            return TrialLine(
                title=UserText(draft.title),
                detail=texts(
                    f"trials.status.{status}",
                    unit=UserText(draft.unit),
                    starts=show_date(draft.starts, language),
                    ends=show_date(draft.ends, language),
                ),
                trial_id=trial.trial_id,
                open=status in ("open", "grace"),
            )

        return TrialListView(
            trials=tuple(line(t) for t in ordered[:MAX_LISTED]),
            champion=champion,
            more=max(0, len(ordered) - MAX_LISTED),
        )

    def assess(self, draft: TrialDraft) -> Assessment:
        """The KI-sjekk on the trial's task, tool and information (another tool is checked as
        the policy's unknown tool)."""
        tool = draft.tool
        if tool == OTHER_TOOL or not any(t.id == tool for t in self._policy.tools):
            tool = next(t.id for t in self._policy.tools if t.tool_class is ToolClass.UNKNOWN)
        return assess(self._policy, Answers(task=draft.task, tool=tool, category=draft.category))


class TrialsFlow:
    """Register a trial (champions), list one's trials (everyone)."""

    def __init__(
        self,
        *,
        dialog: TrialDialog,
        store: TrialStore,
        clock: Callable[[], datetime],
        zone: str = DEFAULT_ZONE,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_stored`: wakes whatever delivers new trials on (the SharePoint outbox)."""
        self._dialog = dialog
        self._store = store
        self._clock = clock
        self._zone = ZoneInfo(zone)
        self._on_stored = on_stored

    @property
    def dialog(self) -> TrialDialog:
        return self._dialog

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.TRIAL_NEW: self._new, CommandName.TRIALS: self._list},
            verbs={
                Verb.TRIAL_NEW: self._new,
                Verb.TRIAL_SUBMIT: self._submit,
                Verb.TRIAL_LIST: self._list,
            },
        )

    def _today(self) -> date:
        return local_today(self._clock(), self._zone)

    async def _new(self, request: Request) -> Reply:
        if not request.caller.has(Role.CHAMPION):
            return Reply(self._dialog.refused(request.texts), route="trial:refused")
        return Reply(self._dialog.form(request.texts, new_trial_id()), route="trial:form")

    async def _list(self, request: Request) -> Reply:
        trials = [s.trial for s in await self._store.of_person(request.caller.user_key)]
        view = self._dialog.listing(
            request.texts, trials, self._today(), champion=request.caller.has(Role.CHAMPION)
        )
        return Reply(view, route="trial:list")

    async def _submit(self, request: Request) -> Reply:
        if not request.caller.has(Role.CHAMPION):
            return Reply(self._dialog.refused(request.texts), route="trial:refused")
        view = await self.submit(request.texts, request.data, owner=request.caller.user_key)
        return Reply(view, route=f"trial:{type(view).__name__}")

    async def submit(self, texts: Texts, data: Mapping[str, object], *, owner: str) -> CardView:
        """Validate, run the KI-sjekk, store (once per trial id), and say what was done. The
        caller's role is checked by the route."""
        dialog = self._dialog
        trial_id = data.get(TRIAL_KEY)
        if not isinstance(trial_id, str) or not TRIAL_ID.match(trial_id):
            trial_id = new_trial_id()
        values = dialog.returned_values(data)
        checked = validate_trial(
            {**data, "participants": participant_ids(data.get("participants", ""))},
            dialog.options,
            owner=owner,
            today=self._today(),
        )
        if not isinstance(checked, TrialDraft):
            return dialog.form(
                texts, trial_id, values, problems=dialog.problem_lines(texts, checked)
            )
        assessment = dialog.assess(checked)
        if assessment.verdict is Verdict.RED:
            return dialog.form(texts, trial_id, values, refusal=assessment)
        try:
            existing = await self._store.get(trial_id)
            if existing is not None and not (owner and existing.trial.owner == owner):
                trial_id = new_trial_id()  # a forged or copied id: never touch someone else's
                existing = None
            if existing is not None:
                return dialog.saved(texts, existing.trial, None, repeated=True)
            trial = Trial(
                trial_id=trial_id,
                created_at=self._clock(),
                owner=owner,
                language=texts.language,
                draft=checked,
                verdict=VERDICT_NAMES[assessment.verdict],
                risk_level=assessment.risk_level.value,
            )
            stored = await self._store.add(trial)
            if not stored:  # a press at the same moment stored it first
                again = await self._store.get(trial_id)
                if again is not None:
                    return dialog.saved(texts, again.trial, None, repeated=True)
        except StorageUnavailableError:
            return dialog.form(texts, trial_id, values, notice=texts("trials.storage_down"))
        self._on_stored()
        return dialog.saved(texts, trial, assessment, repeated=False)

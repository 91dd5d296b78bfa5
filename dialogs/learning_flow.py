"""Læringskort as a flow: open the form, submit it (stored first, then "saved"), and the project
leads' summary. Validation, the personal-data check, the follow-up flag and the summary figures are
rules of `bot.core.learning_cards`; the cards come from `dialogs.learning_card`.

The personal-data check: identity numbers and the like send the form back to be removed; possible
person names (given the name lexicon) send it back to be removed or confirmed as "not a person".
A confirmation covers the names shown, by their keys in the submit button's data; every way back
keeps what the employee typed.

A card can belong to a trial (utprøving): the form offers the person's open trials (and "none");
opened from a trial, that trial is chosen and its task, tool and information are filled in. Only
the trials offered to the person are accepted (`CardOptions.trials`), so a forged id is refused
field by field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.caller import Role
from bot.core.commands import CommandName
from bot.core.learning_cards import (
    OTHER_TOOL,
    CardDraft,
    CardOptions,
    LearningCard,
    follow_up,
    summarize,
    validate,
)
from bot.core.learning_cards.checks import check_personal_data, name_keys
from bot.core.ownership import owns
from bot.core.policy import Policy
from bot.core.privacy.names import NameLexicon
from bot.core.schedule import DEFAULT_ZONE
from bot.core.trials import Trial
from bot.ports import LearningCardStore, StorageUnavailableError, TrialStore, UsageStats
from cards.verbs import Verb
from cards.views import CardView, Choice
from content import Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.learning_card import (
    CARD_ID,
    NAMES_STATE,
    NO_TRIAL,
    NOT_PERSON,
    TRIAL_FIELD,
    LearningCardDialog,
    new_card_id,
)
from dialogs.trials import TRIAL_ID, local_today, open_trials


class LearningFlow:
    """The learning-card flow over the store: open, submit (store first, then say saved), and
    the leads' summary."""

    def __init__(
        self,
        *,
        dialog: LearningCardDialog,
        policy: Policy,
        store: LearningCardStore,
        usage: UsageStats,
        clock: Callable[[], datetime],
        to_sharepoint: bool,
        list_url: Callable[[], str] = lambda: "",
        on_stored: Callable[[], None] = lambda: None,
        sharepoint_delayed: Callable[[], bool] = lambda: False,
        names: NameLexicon | None = None,
        trials: TrialStore | None = None,
        zone: str = DEFAULT_ZONE,
    ) -> None:
        """`names`: the name lexicon (content/names.yaml); without it names are not looked for.
        `trials`: where the person's trials are read; without it the card offers none."""
        self._trials = trials
        self._zone = ZoneInfo(zone)
        self._names = names
        self._sharepoint_delayed = sharepoint_delayed
        self._dialog = dialog
        self._policy = policy
        self._store = store
        self._usage = usage
        self._clock = clock
        self._to_sharepoint = to_sharepoint
        self._list_url = list_url
        self._on_stored = on_stored

    @property
    def dialog(self) -> LearningCardDialog:
        return self._dialog

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.LEARNING_CARD: self._open, CommandName.SUMMARY: self._summary},
            verbs={
                Verb.CARD_OPEN: self._open,
                Verb.CARD_SUBMIT: self._submit,
                Verb.SUMMARY: self._summary,
            },
        )

    async def _open(self, request: Request) -> Reply:
        trials = await self._open_trials(request.caller.user_key)
        return Reply(self.open(request.texts, request.data, trials=trials or ()))

    async def _open_trials(self, user_key: str) -> list[Trial] | None:
        """The person's open trials; None while the store cannot be read (the form is still
        shown, without trials: a card naming one is then sent back to be saved later)."""
        if self._trials is None:
            return []
        try:
            return await open_trials(self._trials, user_key, local_today(self._clock(), self._zone))
        except StorageUnavailableError:
            return None

    async def _submit(self, request: Request) -> Reply:
        view = await self.submit(
            request.texts,
            request.data,
            author=request.caller.user_key,
            language=request.texts.language,
        )
        return Reply(view, route=f"card:{type(view).__name__}")

    async def _summary(self, request: Request) -> Reply:
        if not request.caller.has(Role.LEAD):
            return Reply(self._dialog.leads_only(request.texts), route="summary")
        return Reply(await self.summary(request.texts), route="summary")

    def open(
        self,
        texts: Texts,
        data: Mapping[str, object] | None = None,
        *,
        trials: Sequence[Trial] = (),
    ) -> CardView:
        """`trials`: the person's open trials; `data` naming one of them (a trial's button)
        chooses it and fills in its task, tool and information."""
        data = data or {}
        chosen = next((t for t in trials if t.trial_id == data.get(TRIAL_FIELD)), None)
        values = self._dialog.prefill(data if chosen is None else _trial_answers(chosen))
        if chosen is not None:
            values[TRIAL_FIELD] = chosen.trial_id
            values["area"] = chosen.draft.service_area
            if chosen.draft.tool == OTHER_TOOL:
                values["tool_other"] = chosen.draft.tool_other
        return self._dialog.form(
            texts,
            new_card_id(),
            values,
            prefilled=bool(values) and chosen is None,
            trials=_choices(trials),
        )

    async def submit(
        self, texts: Texts, data: Mapping[str, object], *, author: str, language: str
    ) -> CardView:
        card_id = data.get("card")
        if not isinstance(card_id, str) or not CARD_ID.match(card_id):
            card_id = new_card_id()
        if data.get(TRIAL_FIELD) == NO_TRIAL:
            data = {**data, TRIAL_FIELD: ""}
        read = await self._open_trials(author)
        trials = read or []
        offered = _choices(trials)
        named = data.get(TRIAL_FIELD)
        if read is None and isinstance(named, str) and named:
            # which trials the person may choose is unknown: nothing is saved, nothing is lost
            kept = (Choice(named, texts("trials.chosen")),) if TRIAL_ID.match(named) else ()
            return self._dialog.form(
                texts,
                card_id,
                self._dialog.returned_values(data),
                notice=texts("learning.storage_down"),
                trials=kept,
            )
        checked = validate(data, self._options(trials))
        if not isinstance(checked, CardDraft):
            return self._dialog.form(
                texts,
                card_id,
                self._dialog.returned_values(data),
                problems=self._dialog.problem_lines(texts, checked),
                trials=offered,
            )
        values = self._dialog.returned_values(data)
        asked_id = card_id
        found = check_personal_data(checked, self._names, salt=card_id)
        confirmed = found.confirmed_by(
            name_keys(data.get(NAMES_STATE)) if values.get(NOT_PERSON) == "true" else ()
        )
        if found.hard or not confirmed:
            return self._dialog.checked_form(
                texts, card_id, values, found, confirmed=confirmed, trials=offered
            )
        try:
            existing = await self._store.get(card_id)
            if existing is not None and not owns(existing.card, author):
                card_id = new_card_id()  # a forged or copied id: never touch someone else's card
                existing = None
            if existing is not None:
                return self._dialog.saved(
                    texts,
                    existing.card,
                    to_sharepoint=self._to_sharepoint,
                    repeated=True,
                    trial_title=await self._trial_title(existing.card.draft.trial),
                )
            card = LearningCard(
                card_id=card_id,
                submitted_at=self._clock(),
                author=author,
                language=language,
                draft=checked,
                follow_up=follow_up(checked, self._policy),
            )
            stored = await self._store.add(card)
        except StorageUnavailableError:
            # not saved, and the employee is told so; what they wrote (and the confirmation of
            # the names shown) stays in the card
            if found.names and card_id != asked_id:  # keys go with the card id the form carries
                found = check_personal_data(checked, self._names, salt=card_id)
            return self._dialog.checked_form(
                texts,
                card_id,
                values,
                found,
                confirmed=True,
                notice=texts("learning.storage_down"),
                trials=offered,
            )
        if stored:
            self._on_stored()
        return self._dialog.saved(
            texts,
            card,
            to_sharepoint=self._to_sharepoint,
            repeated=not stored,
            delayed=self._to_sharepoint and self._sharepoint_delayed(),
            trial_title=next((t.draft.title for t in trials if t.trial_id == checked.trial), ""),
        )

    def _options(self, trials: Sequence[Trial]) -> CardOptions:
        return replace(self._dialog.options, trials=tuple(t.trial_id for t in trials))

    async def _trial_title(self, trial_id: str) -> str:
        if not trial_id or self._trials is None:
            return ""
        stored = await self._trials.get(trial_id)
        return stored.trial.draft.title if stored is not None else ""

    async def summary(self, texts: Texts) -> CardView:
        """The leads' summary (the caller's role is checked by the route)."""
        summary = summarize(await self._store.all())
        return self._dialog.summary(
            texts,
            summary,
            await self._usage.snapshot(),
            to_sharepoint=self._to_sharepoint,
            list_url=self._list_url(),
        )


def _choices(trials: Sequence[Trial]) -> tuple[Choice, ...]:
    return tuple(Choice(t.trial_id, t.draft.title) for t in trials)


def _trial_answers(trial: Trial) -> dict[str, str]:
    """A trial's KI-sjekk answers, in the shape `prefill` reads."""
    draft = trial.draft
    return {"task": draft.task, "tool": draft.tool, "category": draft.category}

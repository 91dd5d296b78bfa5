"""Læringskort as a flow: open the form, submit it (stored first, then "saved"), and the project
leads' summary. Validation, the personal-data check, the follow-up flag and the summary figures are
rules of `bot.core.learning_cards`; the cards come from `dialogs.learning_card`.

The personal-data check: identity numbers and the like send the form back to be removed; possible
person names (given the name lexicon) send it back to be removed or confirmed as "not a person".
A confirmation covers the names shown, by their keys in the submit button's data; every way back
keeps what the employee typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.caller import Role
from bot.core.commands import CommandName
from bot.core.learning_cards import (
    CardDraft,
    LearningCard,
    follow_up,
    summarize,
    validate,
)
from bot.core.learning_cards.checks import check_personal_data, name_keys
from bot.core.ownership import owns
from bot.core.policy import Policy
from bot.core.privacy.names import NameLexicon
from bot.ports import LearningCardStore, StorageUnavailableError, UsageStats
from cards.verbs import Verb
from cards.views import CardView
from content import Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.learning_card import (
    CARD_ID,
    NAMES_STATE,
    NOT_PERSON,
    LearningCardDialog,
    new_card_id,
)


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
    ) -> None:
        """`names`: the name lexicon (content/names.yaml); without it names are not looked for."""
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
        return Reply(self.open(request.texts, request.data))

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

    def open(self, texts: Texts, data: Mapping[str, object] | None = None) -> CardView:
        values = self._dialog.prefill(data or {})
        return self._dialog.form(texts, new_card_id(), values, prefilled=bool(values))

    async def submit(
        self, texts: Texts, data: Mapping[str, object], *, author: str, language: str
    ) -> CardView:
        card_id = data.get("card")
        if not isinstance(card_id, str) or not CARD_ID.match(card_id):
            card_id = new_card_id()
        checked = validate(data, self._dialog.options)
        if not isinstance(checked, CardDraft):
            return self._dialog.form(
                texts,
                card_id,
                self._dialog.returned_values(data),
                problems=self._dialog.problem_lines(texts, checked),
            )
        values = self._dialog.returned_values(data)
        asked_id = card_id
        found = check_personal_data(checked, self._names, salt=card_id)
        confirmed = found.confirmed_by(
            name_keys(data.get(NAMES_STATE)) if values.get(NOT_PERSON) == "true" else ()
        )
        if found.hard or not confirmed:
            return self._dialog.checked_form(texts, card_id, values, found, confirmed=confirmed)
        try:
            existing = await self._store.get(card_id)
            if existing is not None and not owns(existing.card, author):
                card_id = new_card_id()  # a forged or copied id: never touch someone else's card
                existing = None
            if existing is not None:
                return self._dialog.saved(
                    texts, existing.card, to_sharepoint=self._to_sharepoint, repeated=True
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
            )
        if stored:
            self._on_stored()
        return self._dialog.saved(
            texts,
            card,
            to_sharepoint=self._to_sharepoint,
            repeated=not stored,
            delayed=self._to_sharepoint and self._sharepoint_delayed(),
        )

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

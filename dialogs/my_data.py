"""`mine data` / `my data`: what the bot holds about the person asking, and "Slett mine data"
behind a confirmation (GDPR art. 15 and 17, for the employee themself).

The flow only ever looks up or erases the caller's own data (`request.caller.user_key`, which the
Teams layer takes from the Entra object id Teams sends); nothing in a card's payload can name
another person. The store does the work (`bot.ports.PersonalData`); the outbox then empties the
sender column of the person's items in SharePoint.

The reminders about trials (bot/workers/trial_reminders.py) are built here too, with their
opt-out: turning them off is a choice stored about the person, shown by `mine data` (with a button
to turn them on again) and erased with the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.commands import CommandName
from bot.core.language import as_language
from bot.core.records import Erasure, PersonRecord
from bot.core.trials import Trial
from bot.ports import PersonalData, StorageUnavailableError, TrialStore
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import (
    ButtonSpec,
    CardView,
    Fact,
    MyDataErasedView,
    MyDataEraseView,
    MyDataView,
    NoticeView,
    TrialReminderView,
)
from content import Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.trials import show_date

MAX_TITLES = 10
"""Learning-card titles listed on the card; the rest are counted."""
MAX_TRIALS = 10
"""Trials listed on the card; the rest are counted."""


def reminder_view(trial: Trial, language: str) -> TrialReminderView:
    """The reminder a trial's participants get near its end, in one language."""
    return TrialReminderView(
        trial_id=trial.trial_id,
        title=UserText(trial.draft.title),
        unit=UserText(trial.draft.unit),
        ends=show_date(trial.draft.ends, language),
    )


class MyDataFlow:
    def __init__(
        self,
        *,
        personal: PersonalData,
        lesson_count: int,
        privacy_officer: str,
        on_erased: Callable[[], None] = lambda: None,
        trials: TrialStore | None = None,
    ) -> None:
        """`trials`: where a person's choice about trial reminders is kept."""
        self._trials = trials
        self._personal = personal
        self._lesson_count = lesson_count
        self._privacy_officer = privacy_officer
        self._on_erased = on_erased

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.MY_DATA: self._show},
            verbs={
                Verb.MY_DATA: self._show,
                Verb.MY_DATA_ERASE_ASK: self._ask,
                Verb.MY_DATA_ERASE: self._erase,
                Verb.TRIAL_REMINDERS_OFF: self._reminders_off,
                Verb.TRIAL_REMINDERS_ON: self._reminders_on,
            },
        )

    async def _reminders_off(self, request: Request) -> Reply:
        return await self._set_reminders(request, off=True)

    async def _reminders_on(self, request: Request) -> Reply:
        return await self._set_reminders(request, off=False)

    async def _set_reminders(self, request: Request, *, off: bool) -> Reply:
        """Store the person's own choice (only ever the caller's: nothing in the card names
        anyone). Pressing it twice stores the same choice."""
        texts = request.texts
        user_key = request.caller.user_key
        if self._trials is None or not user_key.strip():
            return Reply(_unavailable(texts), route="trial_reminders:no_user")
        verb = Verb.TRIAL_REMINDERS_OFF if off else Verb.TRIAL_REMINDERS_ON
        try:
            if off:
                await self._trials.mute_reminders(user_key)
            else:
                await self._trials.unmute_reminders(user_key)
        except StorageUnavailableError:
            view = NoticeView(
                title=texts("trial_reminders.off_failed_title"),
                body=texts("trial_reminders.off_failed_body"),
                buttons=(ButtonSpec(texts("trial_reminders.button_retry"), verb.value),),
            )
            return Reply(view, route="trial_reminders:unavailable")
        key = "off" if off else "on"
        other = Verb.TRIAL_REMINDERS_ON if off else Verb.TRIAL_REMINDERS_OFF
        other_title = "trial_reminders.button_on" if off else "trial_reminders.button_off"
        buttons = [ButtonSpec(texts(other_title), other.value)]
        if request.caller.conversation.is_personal:
            buttons.append(ButtonSpec(texts("trial_reminders.button_my_data"), Verb.MY_DATA.value))
        view = NoticeView(
            title=texts(f"trial_reminders.{key}_title"),
            body=texts(f"trial_reminders.{key}_body"),
            buttons=tuple(buttons),
        )
        return Reply(view, route=f"trial_reminders:{key}")

    async def _show(self, request: Request) -> Reply:
        refused = _refused(request)
        if refused is not None:
            return refused
        try:
            record = await self._personal.person(request.caller.user_key)
        except StorageUnavailableError:
            return Reply(_unavailable(request.texts), route="my_data:unavailable")
        return Reply(self.overview(request.texts, record), route="my_data")

    async def _ask(self, request: Request) -> Reply:
        return _refused(request) or Reply(MyDataEraseView(), route="my_data:ask")

    async def _erase(self, request: Request) -> Reply:
        refused = _refused(request)
        if refused is not None:
            return refused
        try:
            erasure = await self._personal.erase(request.caller.user_key)
        except StorageUnavailableError:
            # on Azure Storage an erasure is several writes: part of it may be done
            return Reply(_erase_failed(request.texts), route="my_data:erase_failed")
        self._on_erased()
        return Reply(
            self.erased(request.texts, erasure),
            route="my_data:erased",
            conversation_forgotten=erasure.conversations > 0,
            person_erased=True,
        )

    def overview(self, texts: Texts, record: PersonRecord) -> CardView:
        facts: list[Fact] = []
        if record.conversations:
            facts.append(
                Fact(
                    texts("mydata.fact_conversations"),
                    texts.count("mydata.conversations", len(record.conversations)),
                )
            )
        done = len(record.lessons_completed)
        facts.append(
            Fact(
                texts("mydata.fact_lessons"),
                texts("mydata.lessons", done=done, total=self._lesson_count),
            )
        )
        subscription = record.subscription
        facts.append(
            Fact(
                texts("mydata.fact_subscription"),
                texts("mydata.subscription_none")
                if subscription is None
                else texts(
                    "mydata.subscription",
                    day=texts(f"subscribe.weekday.{subscription.weekday}"),
                    time=subscription.at,
                ),
            )
        )
        if record.language is not None:
            chosen = as_language(record.language.language)
            facts.append(
                Fact(
                    texts("mydata.fact_language"),
                    texts(f"language.name_{chosen}")
                    if chosen
                    else texts("mydata.language_not_chosen"),
                )
            )
        cards = record.learning_cards
        facts.append(Fact(texts("mydata.fact_cards"), texts.count("mydata.cards", len(cards))))
        if record.broadcasts:
            facts.append(
                Fact(texts("mydata.fact_tips"), texts.count("mydata.tips", len(record.broadcasts)))
            )
        if record.trials:
            facts.append(
                Fact(
                    texts("trial_reminders.fact_trials"),
                    texts.count("trial_reminders.trials", len(record.trials)),
                )
            )
        if record.trial_reminders_muted:
            facts.append(
                Fact(
                    texts("trial_reminders.fact_reminders"), texts("trial_reminders.reminders_off")
                )
            )
        titles = tuple(UserText(stored.card.draft.title) for stored in cards[:MAX_TITLES])
        more = len(cards) - len(titles)
        trial_lines = tuple(
            _trial_line(texts, stored.trial, record.user_key)
            for stored in record.trials[:MAX_TRIALS]
        )
        more_trials = len(record.trials) - len(trial_lines)
        return MyDataView(
            facts=tuple(facts),
            card_titles=titles,
            more_cards=texts.count("mydata.more_cards", more) if more > 0 else "",
            has_data=not record.empty,
            privacy_officer=self._privacy_officer,
            trial_lines=trial_lines,
            more_trials=(
                texts.count("trial_reminders.more_trials", more_trials) if more_trials > 0 else ""
            ),
            reminders_off=record.trial_reminders_muted and self._trials is not None,
        )

    def erased(self, texts: Texts, erasure: Erasure) -> CardView:
        lines: list[str] = []
        if erasure.conversations:
            lines.append(texts.count("mydata.erased_conversations", erasure.conversations))
        if erasure.lessons:
            lines.append(texts.count("mydata.erased_lessons", erasure.lessons))
        if erasure.subscription:
            lines.append(texts("mydata.erased_subscription"))
        if erasure.learning_cards:
            lines.append(texts.count("mydata.erased_cards", erasure.learning_cards))
        if erasure.broadcasts:
            lines.append(texts.count("mydata.erased_tips", erasure.broadcasts))
        if erasure.trials:
            lines.append(texts.count("trial_reminders.erased_trials", erasure.trials))
        if erasure.trial_reminders:
            lines.append(texts("trial_reminders.erased_reminders"))
        return MyDataErasedView(
            lines=tuple(lines),
            nothing=not lines,
            sharepoint=erasure.learning_cards > 0,
            privacy_officer=self._privacy_officer,
        )


def _trial_line(texts: Texts, trial: Trial, user_key: str) -> str:
    """A trial as `mine data` lists it: its title and period (and whether the person registered
    it), never who else takes part."""
    return texts(
        "trial_reminders.trial_line_owner"
        if trial.owner == user_key
        else "trial_reminders.trial_line",
        title=UserText(trial.draft.title),
        starts=show_date(trial.draft.starts, texts.language),
        ends=show_date(trial.draft.ends, texts.language),
    )


def _refused(request: Request) -> Reply | None:
    """`mine data` only in the person's own chat with the bot: in a channel or group chat the card
    would show their data to everyone there. And never without a user id to look up."""
    texts = request.texts
    if not request.caller.conversation.is_personal:
        return Reply(
            NoticeView(
                title=texts("mydata.personal_only_title"),
                body=texts("mydata.personal_only_body"),
                buttons=(),
            ),
            route="my_data:not_personal",
        )
    if not request.caller.user_key.strip():
        return Reply(_unavailable(texts), route="my_data:no_user")
    return None


def _erase_failed(texts: Texts) -> CardView:
    return NoticeView(
        title=texts("mydata.erase_failed_title"),
        body=texts("mydata.erase_failed_body"),
        buttons=(ButtonSpec(texts("mydata.button_retry"), Verb.MY_DATA_ERASE_ASK.value),),
    )


def _unavailable(texts: Texts) -> CardView:
    """The store is down: nothing was shown or deleted, and the person is told to try again."""
    return NoticeView(
        title=texts("mydata.unavailable_title"),
        body=texts("mydata.unavailable_body"),
        buttons=(ButtonSpec(texts("mydata.button_retry"), Verb.MY_DATA.value),),
    )

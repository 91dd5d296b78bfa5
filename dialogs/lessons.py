"""Vettreglene as micro-lessons: overview with progress, a lesson card, the check question
answered in place, and the weekly subscription. Content decides the lessons, the store keeps
progress, the core decides what comes next.

The subscription form carries an action id (dialogs/once.py): its save button subscribes once per
card; pressing it again (or a replay) shows the subscription as it is now and changes nothing, so an
old card cannot undo a later unsubscribe. Unsubscribing needs no id: doing it twice changes nothing
(the second press says there is no subscription), and the shared tip card carries the button too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.commands import CommandName
from bot.core.lessons import LessonBook, next_unfinished
from bot.core.records import Subscription
from bot.core.schedule import DEFAULT_SLOT, TIMES, WEEKDAYS, ScheduleError, WeeklySlot, next_due
from bot.ports import ActionLedger, LessonStore
from cards.verbs import Verb
from cards.views import (
    ButtonSpec,
    CardView,
    Choice,
    LessonOverviewView,
    LessonView,
    NoticeView,
    StaleActionView,
    SubscribeView,
)
from content import Catalog, Language, Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.once import ledger_key, new_action_id

SUBSCRIBE = "subscribe"
"""The ledger kind of the subscription form's save button."""


class LessonsDialog:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self._sources = sources

    def overview(
        self, texts: Texts, book: LessonBook, completed: frozenset[int], subscribed: bool
    ) -> CardView:
        total = len(book.lessons)
        done = len(completed & {lesson.id for lesson in book.lessons})
        lines = tuple(
            texts(
                "lessons.done_mark" if lesson.id in completed else "lessons.todo_mark",
                number=lesson.id,
                title=texts(f"vettregel.{lesson.id}.title"),
            )
            for lesson in book.lessons
        )
        upcoming = next_unfinished(book, completed)
        return LessonOverviewView(
            progress=texts("lessons.progress", done=done, total=total),
            lines=lines,
            choices=tuple(
                Choice(str(lesson.id), f"{lesson.id}. {texts(f'vettregel.{lesson.id}.title')}")
                for lesson in book.lessons
            ),
            next_lesson="" if upcoming is None else str(upcoming),
            subscribed=subscribed,
            started=done > 0,
        )

    def lesson(
        self,
        texts: Texts,
        book: LessonBook,
        lesson_id: int,
        completed: frozenset[int],
        *,
        answer: str | None = None,
        pushed: bool = False,
    ) -> CardView:
        try:
            lesson = book.lesson(lesson_id)
        except KeyError:
            return StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value)
        source_url = self._sources.get(lesson.source, "")
        source_title = texts(f"source.{lesson.source}")
        view = LessonView(
            lesson_id=str(lesson.id),
            heading=texts(
                "lessons.lesson_title",
                number=lesson.id,
                title=texts(f"vettregel.{lesson.id}.title"),
            ),
            progress=texts("lessons.lesson_progress", number=lesson.id, total=len(book.lessons)),
            why=lesson.why,
            example_title=texts(
                "lessons.example_title", area=texts(f"lessons.area.{lesson.area.value}")
            ),
            example=lesson.example,
            question=lesson.question,
            options=tuple(Choice(option.id, option.text) for option in lesson.options),
            source=texts(
                "lessons.source",
                source=f"[{source_title}]({source_url})" if source_url else source_title,
            ),
            intro=texts("lessons.weekly_intro") if pushed else "",
            pushed=pushed,
        )
        if answer is None:
            return view
        try:
            chosen = lesson.option(answer)
        except KeyError:
            return StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value)
        upcoming = next_unfinished(book, completed | ({lesson.id} if chosen.correct else set()))
        return replace(
            view,
            result=texts(
                "lessons.correct" if chosen.correct else "lessons.wrong", feedback=chosen.feedback
            ),
            correct=chosen.correct,
            your_answer=texts("lessons.your_answer", answer=chosen.text),
            next_lesson="" if upcoming is None else str(upcoming),
        )

    def subscribe_form(self, texts: Texts, slot: WeeklySlot, action_id: str = "") -> CardView:
        return SubscribeView(
            days=tuple(Choice(str(day), texts(f"subscribe.weekday.{day}")) for day in WEEKDAYS),
            times=tuple(Choice(t.strftime("%H:%M"), t.strftime("%H:%M")) for t in TIMES),
            day=str(slot.weekday),
            time=slot.time_text,
            action_id=action_id,
        )

    def already_subscribed(self, texts: Texts, current: Subscription | None) -> CardView:
        """A second press of a form's save button: the subscription as it is now."""
        if current is None:
            return NoticeView(
                title=texts("subscribe.title"),
                body=texts("already.subscription_ended"),
                buttons=(ButtonSpec(texts("subscribe.button_save"), Verb.SUBSCRIBE_FORM.value),),
            )
        local = current.next_due.astimezone(ZoneInfo(current.zone))
        return NoticeView(
            title=texts("already.subscribed_title"),
            body=texts(
                "already.subscribed_body",
                day=texts(f"subscribe.weekday.{current.weekday}"),
                time=current.at,
                next=local.strftime("%d.%m.%Y %H:%M"),
            ),
            buttons=(
                ButtonSpec(texts("lessons.button_overview"), Verb.LESSONS_OVERVIEW.value),
                ButtonSpec(texts("subscribe.button_unsubscribe"), Verb.UNSUBSCRIBE.value),
            ),
        )

    def subscribed(self, texts: Texts, slot: WeeklySlot, first_due: datetime) -> CardView:
        local = first_due.astimezone(ZoneInfo(slot.zone))
        return NoticeView(
            title=texts("subscribe.subscribed_title"),
            body=texts(
                "subscribe.subscribed_body",
                day=texts(f"subscribe.weekday.{slot.weekday}"),
                time=slot.time_text,
                first=local.strftime("%d.%m.%Y %H:%M"),
            ),
            buttons=(
                ButtonSpec(texts("lessons.button_overview"), Verb.LESSONS_OVERVIEW.value),
                ButtonSpec(texts("subscribe.button_unsubscribe"), Verb.UNSUBSCRIBE.value),
            ),
        )

    def unsubscribed(self, texts: Texts, was_subscribed: bool) -> CardView:
        if not was_subscribed:
            return NoticeView(
                title=texts("subscribe.title"),
                body=texts("subscribe.not_subscribed"),
                buttons=(ButtonSpec(texts("subscribe.button_save"), Verb.SUBSCRIBE_FORM.value),),
            )
        return NoticeView(
            title=texts("subscribe.unsubscribed_title"),
            body=texts("subscribe.unsubscribed_body"),
            buttons=(ButtonSpec(texts("lessons.button_overview"), Verb.LESSONS_OVERVIEW.value),),
        )

    def all_done(self, texts: Texts, book: LessonBook, completed: frozenset[int]) -> CardView:
        """For a subscriber who has finished all ten: a tip instead of a lesson."""
        tip = book.tips[len(completed) % len(book.tips)] if book.tips else None
        body = texts("lessons.all_done") + (f"\n\n{tip.text}" if tip is not None else "")
        return NoticeView(
            title=texts("lessons.title"),
            body=body,
            buttons=(
                ButtonSpec(texts("lessons.button_overview"), Verb.LESSONS_OVERVIEW.value),
                ButtonSpec(texts("subscribe.button_unsubscribe"), Verb.UNSUBSCRIBE.value),
            ),
        )

    def personal_only(self, texts: Texts) -> CardView:
        return NoticeView(
            title=texts("subscribe.title"),
            body=texts("subscribe.personal_only"),
            buttons=(ButtonSpec(texts("fallback.button_help"), Verb.HELP.value),),
        )


class LessonsFlow:
    """The lesson overview, a lesson and its check question, and the weekly subscription."""

    def __init__(
        self,
        *,
        books: Mapping[Language, LessonBook],
        store: LessonStore,
        clock: Callable[[], datetime],
        dialog: LessonsDialog,
        catalog: Catalog,
        actions: ActionLedger | None = None,
    ) -> None:
        """`actions`: where save presses are claimed (the composition root passes the store's);
        without one, every press is applied as it comes (tests of other behaviour)."""
        self._catalog = catalog
        self._books = books
        self._store = store
        self._clock = clock
        self._dialog = dialog
        self._actions = actions

    def routes(self) -> Routes:
        return Routes(
            commands={
                CommandName.LESSONS: self._overview,
                CommandName.SUBSCRIBE: self._subscribe_form,
                CommandName.UNSUBSCRIBE: self._unsubscribe,
            },
            verbs={
                Verb.LESSONS_OVERVIEW: self._overview,
                Verb.LESSON_OPEN: self._lesson,
                Verb.LESSON_ANSWER: self._lesson,
                Verb.SUBSCRIBE_FORM: self._subscribe_form,
                Verb.SUBSCRIBE_SAVE: self._save_subscription,
                Verb.UNSUBSCRIBE: self._unsubscribe,
            },
        )

    def weekly_view(self, language: Language, completed: frozenset[int]) -> CardView:
        """What a subscriber gets this week: their next unfinished lesson, or a tip when done."""
        texts, book = self._catalog.texts(language), self._books[language]
        upcoming = next_unfinished(book, completed)
        if upcoming is None:
            return self._dialog.all_done(texts, book, completed)
        return self._dialog.lesson(texts, book, upcoming, completed, pushed=True)

    async def _overview(self, request: Request) -> Reply:
        user = request.caller.user_key
        completed = await self._store.completed(user)
        subscribed = await self._store.subscription(user) is not None
        book = self._books[request.texts.language]
        return Reply(self._dialog.overview(request.texts, book, completed, subscribed))

    async def _lesson(self, request: Request) -> Reply:
        texts, data, user = request.texts, request.data, request.caller.user_key
        book = self._books[texts.language]
        lesson_id = lesson_number(data.get("next")) or lesson_number(data.get("lesson"))
        if lesson_id is None:
            return Reply(StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value))
        completed = await self._store.completed(user)
        if request.verb is Verb.LESSON_OPEN:
            return Reply(self._dialog.lesson(texts, book, lesson_id, completed))
        answer = data.get("answer")
        if not isinstance(answer, str):
            return Reply(StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value))
        if answered_correctly(book, lesson_id, answer):
            await self._store.complete(user, lesson_id)
            completed = completed | {lesson_id}
        return Reply(self._dialog.lesson(texts, book, lesson_id, completed, answer=answer))

    async def _subscribe_form(self, request: Request) -> Reply:
        if not request.caller.conversation.is_personal:
            return Reply(self._dialog.personal_only(request.texts))
        existing = await self._store.subscription(request.caller.user_key)
        slot = DEFAULT_SLOT
        if existing is not None:
            try:
                slot = WeeklySlot.parse(str(existing.weekday), existing.at, existing.zone)
            except ScheduleError:
                slot = DEFAULT_SLOT
        return Reply(self._dialog.subscribe_form(request.texts, slot, new_action_id()))

    async def _unsubscribe(self, request: Request) -> Reply:
        was = await self._store.unsubscribe(request.caller.user_key)
        return Reply(self._dialog.unsubscribed(request.texts, was))

    async def _save_subscription(self, request: Request) -> Reply:
        caller, texts = request.caller, request.texts
        if not caller.conversation.is_personal or not caller.conversation.id:
            return Reply(self._dialog.personal_only(texts))
        try:
            slot = WeeklySlot.parse(
                str(request.data.get("day", "")), str(request.data.get("time", ""))
            )
        except ScheduleError:
            return Reply(StaleActionView(restart_verb=Verb.SUBSCRIBE_FORM.value))
        now = self._clock()
        key = ledger_key(request.data, caller.user_key, now)
        if key is None:  # an id we never made: forged or garbage
            stale = StaleActionView(restart_verb=Verb.SUBSCRIBE_FORM.value)
            return Reply(stale, route="forged")
        before = None if self._actions is None else await self._actions.claim(key, SUBSCRIBE)
        # after a failed first press, saving again is safe: the same data gives the same state
        if before is not None and before != "failed":
            current = await self._store.subscription(caller.user_key)
            return Reply(self._dialog.already_subscribed(texts, current), route="replayed")
        try:
            first = await self._subscribe(request, slot, now)
        except BaseException:
            if self._actions is not None:
                with suppress(Exception):  # best effort: the ledger may be what failed
                    await self._actions.settle(key, "failed")
            raise
        if self._actions is not None:
            await self._actions.settle(key, "done")
        view = self._dialog.subscribed(texts, slot, first)
        return Reply(view, route="subscribed", remember_conversation=True)

    async def _subscribe(self, request: Request, slot: WeeklySlot, now: datetime) -> datetime:
        caller, texts = request.caller, request.texts
        first = next_due(slot, now)
        await self._store.subscribe(
            Subscription(
                user_key=caller.user_key,
                conversation_id=caller.conversation.id,
                weekday=slot.weekday,
                at=slot.time_text,
                zone=slot.zone,
                language=texts.language,
                next_due=first,
            )
        )
        return first


def answered_correctly(book: LessonBook, lesson_id: int, answer: str) -> bool:
    """Whether `answer` is the right option of the lesson's check question."""
    try:
        return book.lesson(lesson_id).option(answer).correct
    except KeyError:
        return False


def lesson_number(value: object) -> int | None:
    """A lesson id from card data (the Playground sends every value as a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value.strip())
    return None

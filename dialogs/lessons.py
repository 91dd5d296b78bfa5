"""Vettreglene as micro-lessons: overview with progress, a lesson card, the check question
answered in place, and the weekly subscription form. No business rules: content decides the
lessons, the store keeps progress."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.lessons import LessonBook
from bot.core.schedule import TIMES, WEEKDAYS, WeeklySlot
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
from content import Texts


def next_unfinished(book: LessonBook, completed: frozenset[int]) -> int | None:
    for lesson in book.lessons:
        if lesson.id not in completed:
            return lesson.id
    return None


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

    def subscribe_form(self, texts: Texts, slot: WeeklySlot) -> CardView:
        return SubscribeView(
            days=tuple(Choice(str(day), texts(f"subscribe.weekday.{day}")) for day in WEEKDAYS),
            times=tuple(Choice(t.strftime("%H:%M"), t.strftime("%H:%M")) for t in TIMES),
            day=str(slot.weekday),
            time=slot.time_text,
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

"""The lessons flow, called directly: progress, the check question, the subscription."""

from __future__ import annotations

from bot.core.commands import CommandName
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import LessonOverviewView, LessonView, NoticeView
from dialogs.lessons import LessonsDialog, LessonsFlow
from tests.fakes.stores import FakeLessons
from tests.unit.flows.conftest import CONTENT, NOW, caller, request

BOOK = CONTENT.lessons["nb"]


def _flow(store: FakeLessons) -> LessonsFlow:
    return LessonsFlow(
        books=CONTENT.lessons,
        store=store,
        clock=lambda: NOW,
        dialog=LessonsDialog(CONTENT.policy.sources),
        catalog=CONTENT.catalog,
    )


async def test_the_right_answer_completes_the_lesson_and_a_wrong_one_does_not() -> None:
    store = FakeLessons()
    flow = _flow(store)
    lesson = BOOK.lesson(2)
    wrong = next(option.id for option in lesson.options if not option.correct)
    reply = await flow.routes().verbs[Verb.LESSON_ANSWER](
        request(verb=Verb.LESSON_ANSWER, data={"lesson": "2", "answer": wrong})
    )
    assert isinstance(reply.view, LessonView)
    assert not reply.view.correct
    assert await store.completed("aad-kari") == frozenset()
    right = lesson.correct_option.id
    reply = await flow.routes().verbs[Verb.LESSON_ANSWER](
        request(verb=Verb.LESSON_ANSWER, data={"lesson": "2", "answer": right})
    )
    assert isinstance(reply.view, LessonView)
    assert reply.view.correct
    assert await store.completed("aad-kari") == frozenset({2})


async def test_a_subscription_is_saved_with_its_first_time_and_the_chat_remembered() -> None:
    store = FakeLessons()
    reply = (
        await _flow(store)
        .routes()
        .verbs[Verb.SUBSCRIBE_SAVE](
            request(verb=Verb.SUBSCRIBE_SAVE, data={"day": "0", "time": "09:00"})
        )
    )
    saved = store.subscriptions["aad-kari"]
    assert (saved.weekday, saved.at, saved.conversation_id) == (0, "09:00", "a:chat-1")
    assert saved.next_due > NOW
    assert reply.remember_conversation, "the weekly lesson needs the chat's reference"


async def test_subscribing_from_a_group_chat_is_refused_kindly() -> None:
    store = FakeLessons()
    group = caller(kind="groupChat")
    reply = await _flow(store).routes().commands[CommandName.SUBSCRIBE](request(group))
    assert isinstance(reply.view, NoticeView)
    assert reply.view.body == CONTENT.catalog.texts("nb")("subscribe.personal_only")
    assert not store.subscriptions


async def test_the_weekly_card_is_the_next_unfinished_lesson_then_a_tip() -> None:
    flow = _flow(FakeLessons())
    upcoming = flow.weekly_view("nb", frozenset({1, 2}))
    assert isinstance(upcoming, LessonView)
    assert upcoming.lesson_id == "3"
    done = flow.weekly_view("nb", frozenset(lesson.id for lesson in BOOK.lessons))
    assert isinstance(done, NoticeView)


async def test_the_overview_offers_lesson_1_as_a_start_and_next_lesson_once_one_is_done() -> None:
    store = FakeLessons()
    flow = _flow(store)
    texts = CONTENT.catalog.texts("nb")

    async def first_button() -> str:
        reply = await flow.routes().commands[CommandName.LESSONS](request(text="vettreglene"))
        assert isinstance(reply.view, LessonOverviewView)
        card = CardRenderer().render(reply.view, texts)
        return str(card["actions"][0]["title"])

    assert await first_button() == texts("lessons.button_first")
    await store.complete("aad-kari", 1)
    assert await first_button() == texts("lessons.button_next")

"""Læringskort, called directly: stored before "saved", never someone else's card, leads only."""

from __future__ import annotations

from bot.core.caller import Role
from bot.core.commands import CommandName
from cards.verbs import Verb
from cards.views import LearningFormView, LearningSavedView, LearningSummaryView, NoticeView
from dialogs.learning_card import LearningCardDialog
from dialogs.learning_flow import LearningFlow
from tests.fakes.stores import FakeLearningCards, FakeUsage
from tests.flows.test_learning_flow import GOOD
from tests.unit.flows.conftest import CONTENT, NOW, caller, request

CARD_ID = "0123456789abcdef0123456789abcdef"


def _flow(store: FakeLearningCards, stored: list[int]) -> LearningFlow:
    return LearningFlow(
        dialog=LearningCardDialog(CONTENT.policy, CONTENT.service_areas),
        policy=CONTENT.policy,
        store=store,
        usage=FakeUsage(),
        clock=lambda: NOW,
        to_sharepoint=True,
        on_stored=lambda: stored.append(1),
    )


async def test_a_good_card_is_stored_before_the_employee_hears_it_is_saved() -> None:
    store, stored = FakeLearningCards(), list[int]()
    submit = _flow(store, stored).routes().verbs[Verb.CARD_SUBMIT]
    reply = await submit(request(verb=Verb.CARD_SUBMIT, data={**GOOD, "card": CARD_ID}))
    assert isinstance(reply.view, LearningSavedView)
    assert store.cards[CARD_ID].card.author == "aad-kari"
    assert stored == [1], "the outbox was woken for the new card"


async def test_a_card_id_of_someone_else_never_touches_their_card() -> None:
    store, stored = FakeLearningCards(), list[int]()
    submit = _flow(store, stored).routes().verbs[Verb.CARD_SUBMIT]
    await submit(request(verb=Verb.CARD_SUBMIT, data={**GOOD, "card": CARD_ID}))
    other = caller(user_key="aad-ola")
    copied = {**GOOD, "card": CARD_ID, "title": "Mitt eget kort"}
    await submit(request(other, verb=Verb.CARD_SUBMIT, data=copied))
    assert store.cards[CARD_ID].card.draft.title == GOOD["title"]
    assert len(store.cards) == 2, "the copy was saved as a card of its own"


async def test_nothing_typed_is_lost_when_the_store_is_down() -> None:
    store, stored = FakeLearningCards(), list[int]()
    store.down = True
    submit = _flow(store, stored).routes().verbs[Verb.CARD_SUBMIT]
    reply = await submit(request(verb=Verb.CARD_SUBMIT, data={**GOOD, "card": CARD_ID}))
    assert isinstance(reply.view, LearningFormView)
    assert reply.view.notice
    assert dict(reply.view.values)["title"] == GOOD["title"]
    assert stored == []


async def test_only_project_leads_see_the_summary() -> None:
    flow = _flow(FakeLearningCards(), [])
    summary = flow.routes().commands[CommandName.SUMMARY]
    refused = await summary(request())
    assert isinstance(refused.view, NoticeView)
    shown = await summary(request(caller(Role.LEAD)))
    assert isinstance(shown.view, LearningSummaryView)

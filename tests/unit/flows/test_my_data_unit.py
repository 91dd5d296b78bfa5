"""`mine data`, called directly: the person sees what is stored about them, and "Slett mine data"
(only after the confirming card) removes it, for them only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.core.commands import CommandName, parse_command
from bot.core.learning_cards import DeliveryState, StoredCard
from bot.core.records import StoredReference, Subscription
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import MyDataErasedView, MyDataEraseView, MyDataView, NoticeView
from dialogs.my_data import MyDataFlow
from tests.fakes.stores import (
    FakeBroadcasts,
    FakeLearningCards,
    FakeLessons,
    FakePersonalData,
    FakeReferences,
)
from tests.unit.flows.conftest import CONTENT, NOW, caller, request
from tests.unit.test_learning_cards import stored

DPO = "personvernombud@kommune.no"


def _reference(conversation_id: str, user_key: str, kind: str = "personal") -> StoredReference:
    return StoredReference(
        conversation_id=conversation_id,
        conversation_type=kind,
        tenant_id="tenant-1",
        reference={
            "conversation": {"id": conversation_id},
            "user": {"id": f"29:{user_key}", "aadObjectId": user_key},
            "serviceUrl": "https://smba.example.test/emea/",
        },
    )


class World:
    """Kari has used everything; Ola has a card and a chat of his own."""

    def __init__(self) -> None:
        self.references = FakeReferences(
            _reference("a:kari", "aad-kari"),
            _reference("a:ola", "aad-ola"),
            _reference("19:channel", "aad-kari", kind="channel"),
        )
        self.lessons = FakeLessons()
        self.lessons.done = {"aad-kari": {1, 2, 3}, "aad-ola": {1}}
        self.lessons.subscriptions["aad-kari"] = Subscription(
            "aad-kari", "a:kari", 0, "09:00", "Europe/Oslo", "nb", NOW + timedelta(days=5)
        )
        self.cards = FakeLearningCards()
        for card_id, author, state, item in (
            ("k1", "aad-kari", DeliveryState.DELIVERED, "17"),
            ("k2", "aad-kari", DeliveryState.PENDING, ""),
            ("o1", "aad-ola", DeliveryState.DELIVERED, "18"),
        ):
            card = stored(card_id, title=f"**Kort** {card_id}").card
            self.cards.cards[card_id] = StoredCard(
                replace(card, author=author), state, item_id=item
            )
        self.personal = FakePersonalData(
            references=self.references,
            lessons=self.lessons,
            broadcasts=FakeBroadcasts(),
            learning_cards=self.cards,
        )
        self.woken: list[int] = []
        self.flow = MyDataFlow(
            personal=self.personal,
            lesson_count=10,
            privacy_officer=DPO,
            on_erased=lambda: self.woken.append(1),
        )


def test_the_commands_for_my_data_in_three_languages() -> None:
    for typed in ("mine data", "Mine data!", "my data", "dataa mine", "slett mine data"):
        assert parse_command(typed).name is CommandName.MY_DATA, typed


async def test_the_card_lists_what_is_stored_about_the_caller_only() -> None:
    world = World()
    reply = await world.flow.routes().commands[CommandName.MY_DATA](request(text="mine data"))
    view = reply.view
    assert isinstance(view, MyDataView)
    shown = {str(fact.title): str(fact.value) for fact in view.facts}
    texts = CONTENT.catalog.texts("nb")
    assert shown[texts("mydata.fact_lessons")] == texts("mydata.lessons", done=3, total=10)
    assert shown[texts("mydata.fact_cards")] == texts.count("mydata.cards", 2)
    assert shown[texts("mydata.fact_conversations")] == texts.count("mydata.conversations", 2)
    assert texts("subscribe.weekday.0") in shown[texts("mydata.fact_subscription")]
    assert sorted(title.raw for title in view.card_titles) == ["**Kort** k1", "**Kort** k2"]
    assert view.has_data
    assert view.privacy_officer == DPO
    card = CardRenderer().render(view, texts)
    verbs = [action.get("verb") for action in card["actions"]]
    assert Verb.MY_DATA_ERASE_ASK.value in verbs, "the erase button only asks first"
    assert Verb.MY_DATA_ERASE.value not in verbs
    shown_texts = [str(block.get("text", "")) for block in card["body"]]
    assert "\\*\\*Kort\\*\\* k1" in shown_texts, "titles are shown as typed, not as markdown"


async def test_someone_with_nothing_stored_gets_no_erase_button() -> None:
    world = World()
    reply = await world.flow.routes().commands[CommandName.MY_DATA](
        request(caller(user_key="aad-new"), text="my data")
    )
    assert isinstance(reply.view, MyDataView)
    assert not reply.view.has_data
    card = CardRenderer().render(reply.view, CONTENT.catalog.texts("nb"))
    assert Verb.MY_DATA_ERASE_ASK.value not in [a.get("verb") for a in card["actions"]]


async def test_the_erase_button_asks_before_anything_is_deleted() -> None:
    world = World()
    reply = await world.flow.routes().verbs[Verb.MY_DATA_ERASE_ASK](
        request(verb=Verb.MY_DATA_ERASE_ASK)
    )
    assert isinstance(reply.view, MyDataEraseView)
    assert world.personal.erased == []
    card = CardRenderer().render(reply.view, CONTENT.catalog.texts("nn"))
    verbs = [action.get("verb") for action in card["actions"]]
    assert verbs == [Verb.MY_DATA_ERASE.value, Verb.MY_DATA.value], "confirm, or back"


async def test_confirming_erases_the_callers_data_and_leaves_others_alone() -> None:
    world = World()
    erase = world.flow.routes().verbs[Verb.MY_DATA_ERASE]
    reply = await erase(request(verb=Verb.MY_DATA_ERASE, data={"user": "aad-ola"}))
    assert world.personal.erased == ["aad-kari"], "the payload cannot name someone else"
    view = reply.view
    assert isinstance(view, MyDataErasedView)
    assert view.sharepoint, "the card says SharePoint follows"
    assert not view.nothing
    assert len(view.lines) == 4, "chats, lessons, subscription and cards"
    assert world.woken == [1], "the outbox is woken to empty the sender column in SharePoint"
    assert "a:kari" not in world.references.items
    assert "user" not in world.references.items["19:channel"].reference
    assert world.cards.cards["k1"].card.author == ""
    assert world.cards.cards["k1"].state is DeliveryState.REDACT
    assert world.cards.cards["k1"].card.draft.title == "**Kort** k1", "the content stays"
    assert world.cards.cards["o1"].card.author == "aad-ola"
    assert world.lessons.done == {"aad-ola": {1}}
    assert "a:ola" in world.references.items


async def test_pressing_confirm_again_says_there_is_nothing_more() -> None:
    world = World()
    erase = world.flow.routes().verbs[Verb.MY_DATA_ERASE]
    await erase(request(verb=Verb.MY_DATA_ERASE))
    again = await erase(request(verb=Verb.MY_DATA_ERASE))
    assert isinstance(again.view, MyDataErasedView)
    assert again.view.nothing
    assert not again.view.lines


async def test_a_store_outage_is_told_truthfully() -> None:
    world = World()
    world.personal.down = True
    texts = CONTENT.catalog.texts("nb")
    shown = await world.flow.routes().verbs[Verb.MY_DATA](request(verb=Verb.MY_DATA))
    assert isinstance(shown.view, NoticeView)
    assert shown.view.title == texts("mydata.unavailable_title")
    erase = await world.flow.routes().verbs[Verb.MY_DATA_ERASE](request(verb=Verb.MY_DATA_ERASE))
    assert isinstance(erase.view, NoticeView)
    assert erase.view.title == texts("mydata.erase_failed_title"), "part may be done: said so"
    assert [b.verb for b in erase.view.buttons] == [Verb.MY_DATA_ERASE_ASK.value], "try again"
    assert world.woken == []
    assert "a:kari" in world.references.items


async def test_in_a_channel_or_group_chat_nothing_is_shown_or_deleted() -> None:
    world = World()
    texts = CONTENT.catalog.texts("nb")
    for kind in ("channel", "groupChat"):
        someone = caller(kind=kind)
        for verb in (Verb.MY_DATA, Verb.MY_DATA_ERASE_ASK, Verb.MY_DATA_ERASE):
            reply = await world.flow.routes().verbs[verb](request(someone, verb=verb))
            assert isinstance(reply.view, NoticeView), (kind, verb)
            assert reply.view.title == texts("mydata.personal_only_title")
        typed = await world.flow.routes().commands[CommandName.MY_DATA](
            request(someone, text="mine data")
        )
        assert isinstance(typed.view, NoticeView)
    assert world.personal.erased == []
    assert world.lessons.done["aad-kari"] == {1, 2, 3}


async def test_without_a_user_id_nothing_is_looked_up() -> None:
    world = World()
    nobody = caller(user_key="")
    for verb in (Verb.MY_DATA, Verb.MY_DATA_ERASE):
        reply = await world.flow.routes().verbs[verb](request(nobody, verb=verb))
        assert isinstance(reply.view, NoticeView)
    assert world.personal.erased == []

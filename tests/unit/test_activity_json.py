"""Our direct serialiser gives exactly the JSON botbuilder's msrest serialiser gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    Entity,
    Mention,
)
from botframework.connector import models
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest import Serializer

from bot.teams.activity_json import to_json
from cards.renderer import CardRenderer
from content import load_catalog
from tests.sample_views import SAMPLE_VIEWS

SERIALIZER = Serializer(  # type: ignore[no-untyped-call]  # msrest ships no types
    {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
)


def _msrest(activity: Activity) -> Any:
    return SERIALIZER.body(activity, "Activity")  # type: ignore[no-untyped-call]


def _addressed(activity: Activity) -> Activity:
    activity.conversation = ConversationAccount(
        id="a:1Xy;messageid=17", conversation_type="personal", tenant_id="tenant"
    )
    activity.from_property = ChannelAccount(id="28:bot", name="KI-vett")
    activity.recipient = ChannelAccount(id="29:u", name="Kari", aad_object_id="aad")
    activity.service_url = "https://smba.trafficmanager.net/emea/"
    activity.channel_id = "msteams"
    activity.reply_to_id = "1700000000000"
    activity.locale = "nb-NO"
    return activity


@pytest.mark.parametrize("view", SAMPLE_VIEWS, ids=lambda v: type(v).__name__)
def test_card_replies_serialise_exactly_like_msrest(view: Any) -> None:
    card = CardRenderer().render(view, load_catalog().texts("nb"))
    activity = _addressed(MessageFactory.attachment(CardFactory.adaptive_card(card)))
    assert to_json(activity) == _msrest(activity)


def test_text_typing_mentions_dates_and_channel_data_serialise_like_msrest() -> None:
    mention = Mention(mentioned=ChannelAccount(id="29:u", name="Kari"), text="<at>Kari</at>")
    activities = [
        _addressed(MessageFactory.text("Hei <at>Kari</at>")),
        _addressed(Activity(type=ActivityTypes.typing)),
        _addressed(
            Activity(
                type=ActivityTypes.message,
                text="x",
                entities=[Entity().deserialize(mention.serialize())],
                timestamp=datetime(2026, 11, 22, 9, 0, 5, 123000, tzinfo=UTC),
                channel_data={"notification": {"alert": True}, "tenant": {"id": "t"}},
                summary="Ukens tips",
            )
        ),
    ]
    for activity in activities:
        assert to_json(activity) == _msrest(activity)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=200),
    name=st.text(max_size=40),
    data=st.dictionaries(
        st.text(max_size=10),
        st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none()),
        max_size=5,
    ),
)
def test_any_text_and_data_serialise_like_msrest(
    text: str, name: str, data: dict[str, Any]
) -> None:
    activity = _addressed(MessageFactory.text(text))
    activity.recipient = ChannelAccount(id="29:x", name=name)
    activity.value = data
    assert to_json(activity) == _msrest(activity)

"""Welcome, help, about, fallback, card actions and conversation references, over TestAdapter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from botbuilder.core import ConversationState, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Entity, Mention

from bot.content_loader import load_content
from bot.ports import LessonStore, Stores
from bot.teams.turn_lock import KeyedLocks
from cards.verbs import Verb
from content import load_catalog
from tests.flows.conftest import BOT, Harness, cards_sent, invoke, make_harness, say, title_of

NB = load_catalog().texts("nb")
NN = load_catalog().texts("nn")
EN = load_catalog().texts("en")


def _execute(verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "action": {
            "type": "Action.Execute",
            "verb": verb,
            "data": {"v": 1} if data is None else data,
        }
    }


async def _install(harness: Harness, adapter: Any, action: str = "add") -> None:
    activity = Activity(type=ActivityTypes.installation_update, action=action, locale="nb-NO")
    await adapter.process_activity(activity, adapter.logic)


async def _bot_added(adapter: Any) -> None:
    activity = Activity(type=ActivityTypes.conversation_update, members_added=[BOT], locale="nb-NO")
    await adapter.process_activity(activity, adapter.logic)


async def test_install_in_personal_chat_welcomes_once_and_remembers_the_conversation(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    await _install(harness, adapter)
    await _bot_added(adapter)  # Teams sends both; the employee sees one welcome
    cards = cards_sent(adapter)
    assert [title_of(c) for c in cards] == [NB("welcome.title")]
    stored = await harness.references.get("a:personal-1")
    assert stored is not None
    assert stored.conversation_type == "personal"
    assert stored.reference["serviceUrl"] == "https://smba.example.test/emea/"


async def test_install_in_team_or_group_chat_remembers_without_welcome_card(
    harness: Harness,
) -> None:
    for conversation_id, kind in (
        ("19:channel@thread", "channel"),
        ("19:group@thread", "groupChat"),
    ):
        adapter = harness.adapter(conversation_id, kind)
        await _bot_added(adapter)
        assert cards_sent(adapter) == []
        stored = await harness.references.get(conversation_id)
        assert stored is not None
        assert stored.conversation_type == kind


async def test_uninstall_and_bot_removed_forget_the_conversation(harness: Harness) -> None:
    adapter = harness.adapter()
    await _install(harness, adapter)
    await _install(harness, adapter, action="remove")
    assert await harness.references.get("a:personal-1") is None
    channel = harness.adapter("19:c@thread", "channel")
    await _bot_added(channel)
    removed = Activity(type=ActivityTypes.conversation_update, members_removed=[BOT])
    await channel.process_activity(removed, channel.logic)
    assert await harness.references.count() == 0


async def test_first_message_remembers_the_conversation(harness: Harness) -> None:
    adapter = harness.adapter("a:personal-2")
    await say(adapter, "hjelp")
    assert await harness.references.get("a:personal-2") is not None


async def test_hjelp_gets_the_help_card_in_the_locale_language(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "hjelp")
    await say(adapter, "hjelp", locale="nn-NO")
    await say(adapter, "help", locale="en-US")
    titles = [title_of(c) for c in cards_sent(adapter)]
    assert titles == [NB("help.title"), NN("help.title"), EN("help.title")]


async def test_unknown_text_gets_a_helpful_card_never_silence(harness: Harness) -> None:
    adapter = harness.adapter()
    for text in ("kan du lage kaffe?", "", "🤖", "x" * 5000):
        await say(adapter, text)
    cards = cards_sent(adapter)
    assert [title_of(c) for c in cards] == [NB("fallback.title")] * 4
    starts = [
        [a["verb"] for item in c["body"] if item["type"] == "ActionSet" for a in item["actions"]]
        for c in cards
    ]
    assert starts == [[Verb.KI_START, Verb.TEXT_OPEN, Verb.LESSONS_OVERVIEW, Verb.CARD_OPEN]] * 4


async def test_a_channel_mention_is_stripped_before_parsing(harness: Harness) -> None:
    adapter = harness.adapter("19:c@thread", "channel")
    mention = Mention(mentioned=BOT, text="<at>KI-vett</at>", type="mention")
    await say(
        adapter, "<at>KI-vett</at> hjelp", entities=[Entity().deserialize(mention.serialize())]
    )
    assert [title_of(c) for c in cards_sent(adapter)] == [NB("help.title")]


async def test_about_command_and_button_show_the_about_card(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "om")
    assert [title_of(c) for c in cards_sent(adapter)] == [NB("about.title")]
    response = await invoke(adapter, _execute(Verb.ABOUT))
    assert response.status == 200
    assert response.body["type"] == "application/vnd.microsoft.card.adaptive"
    assert title_of(response.body["value"]) == NB("about.title")


async def test_the_about_card_says_what_is_stored_why_and_whom_to_ask(harness: Harness) -> None:
    adapter = harness.adapter()
    await say(adapter, "om")
    [card] = cards_sent(adapter)
    shown = " ".join(str(e.get("text", "")) for e in card["body"])
    days = 365  # KIVETT_RETENTION_DAYS's default: the card says how long things are kept
    for key in ("stored_reference", "stored_lessons", "stored_cards", "stored_counts"):
        assert NB(f"about.{key}", days=days) in shown, key
    dpo = load_content().policy.contacts["privacy_officer"].email
    assert NB("about.rights", email=dpo) in shown


async def test_help_button_replaces_the_card_with_help_in_the_users_language(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    response = await invoke(adapter, _execute(Verb.HELP), locale="nn-NO")
    assert title_of(response.body["value"]) == NN("help.title")


async def test_tampered_or_stale_card_actions_get_a_start_over_card(harness: Harness) -> None:
    adapter = harness.adapter()
    tampered: list[Any] = [
        None,
        "string",
        [],
        {},
        {"action": None},
        {"action": {"type": "Action.Submit", "verb": Verb.HELP, "data": {"v": 1}}},
        _execute("kivett.delete_everything"),
        _execute(Verb.HELP, {"v": 0}),
        _execute(Verb.HELP, {}),
        {"action": {"type": "Action.Execute", "verb": "x" * 10_000, "data": {"v": 1}}},
        {"action": {"type": "Action.Execute", "verb": Verb.HELP, "data": "not a dict"}},
    ]
    for value in tampered:
        response = await invoke(adapter, value)
        assert response.status == 200, value
        assert title_of(response.body["value"]) == NB("stale.title"), value
        assert response.body["value"]["actions"][0]["verb"] == Verb.HELP


async def test_playground_style_string_data_is_accepted(harness: Harness) -> None:
    response = await invoke(harness.adapter(), _execute(Verb.ABOUT, {"v": "1"}))
    assert title_of(response.body["value"]) == NB("about.title")


async def test_other_invokes_get_an_empty_ok_not_an_error(harness: Harness) -> None:
    response = await invoke(harness.adapter(), {"anything": 1}, name="composeExtension/query")
    assert response.status == 200


class BrokenLessons:
    """A lesson store whose reads fail with something unexpected (a bug, a full disk)."""

    def __init__(self, real: LessonStore) -> None:
        self.real = real
        self.broken = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def completed(self, user_key: str) -> frozenset[int]:
        if self.broken:
            raise RuntimeError("unexpected failure")
        return await self.real.completed(user_key)


async def test_a_failing_turn_tells_the_user_kindly_and_keeps_going(tmp_path: Path) -> None:
    lessons: list[BrokenLessons] = []

    def swap(stores: Stores) -> Stores:
        lessons.append(BrokenLessons(stores.lessons))
        return replace(stores, lessons=cast(LessonStore, lessons[0]))

    harness = await make_harness(tmp_path, swap)
    try:
        adapter = harness.adapter()
        await say(adapter, "vettregler")
        await say(adapter, "hjelp")
        titles = [title_of(c) for c in cards_sent(adapter)]
        assert titles == [NB("error.title"), NB("help.title")]
        lessons[0].broken = False
        await say(adapter, "vettregler")
        [overview] = cards_sent(adapter)
        assert title_of(overview) == NB("lessons.title")
        response = await invoke(adapter, _execute(Verb.HELP))
        assert title_of(response.body["value"]) == NB("help.title")
    finally:
        await harness.db.close()


class CountTurns(Middleware):  # type: ignore[misc]  # botbuilder ships no type information
    """Writes the conversation's state on every turn, as a flow that keeps state would."""

    def __init__(self, harness: Harness) -> None:
        self._property = ConversationState(harness.storage).create_property("kivett")

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        data = await self._property.get(context, dict)
        data["messages"] = int(data.get("messages", 0)) + 1
        await logic()


async def test_concurrent_turns_in_one_conversation_lose_no_update(harness: Harness) -> None:
    locks = KeyedLocks()
    adapter = harness.adapter("a:busy", locks=locks)
    adapter.use(CountTurns(harness))
    await asyncio.gather(*(say(adapter, "hjelp") for _ in range(12)))
    state = await harness.storage.read(["msteams/conversations/a:busy"])
    [item] = state.values()
    assert item["kivett"]["messages"] == 12
    assert len(cards_sent(adapter)) == 12
    assert len(locks) == 0, "locks are released when the turns are done"


async def test_without_the_lock_the_store_refuses_the_lost_update(harness: Harness) -> None:
    """The e_tag check is the safety net across processes: a stale write fails loudly."""
    adapter = harness.adapter("a:race")
    adapter.use(CountTurns(harness))
    await say(adapter, "hjelp")  # the conversation exists and its state carries an e_tag
    cards_sent(adapter)
    # no lock: as if two instances served the turns
    adapter = harness.adapter("a:race", lock_turns=False)
    adapter.use(CountTurns(harness))
    await asyncio.gather(*(say(adapter, "hjelp") for _ in range(12)))
    state = await harness.storage.read(["msteams/conversations/a:race"])
    [item] = state.values()
    titles = [title_of(c) for c in cards_sent(adapter)]
    failed = titles.count(NB("error.title"))
    assert failed > 0, "the race really happened and the store refused stale writes"
    assert item["kivett"]["messages"] == 1 + (12 - failed)

"""`my data` end to end through the Agents Playground (issue 13.7): a person who subscribed sees it
on the card, deletes it behind the confirming card, and afterwards the bot's data directory holds
neither their Entra object id nor their display name, while the bot keeps running.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cards.verbs import Verb
from content import load_catalog
from tests.e2e.conftest import Stack
from tests.e2e.playground import (
    Message,
    card_actions,
    card_texts,
    connect,
    run_bot,
    run_playground,
    stop_process,
)
from tests.e2e.test_lessons_playground import PLAYGROUND_USER_AAD

pytestmark = pytest.mark.e2e

# The Playground's user has locale en-US and writes English commands
# (`subscribe`, `my data`): the bot answers in English, and every button on an
# English card answers in English.
EN = load_catalog().texts("en")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e-my-data")
    data_dir = workdir / "data"
    data_dir.mkdir()
    with (
        run_bot(data_dir, workdir / "bot.log", extra_env={}) as bot,
        run_playground(bot.endpoint, workdir) as pg,
    ):
        try:
            yield Stack(bot=bot, playground=pg)
        finally:
            stop_process(bot.process)  # the bot first: its last reply still reaches the Playground


def _action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for a in card_actions(card) if a.get("verb") == verb]
    return action


def _facts(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in card.get("body", []):
        if element.get("type") == "FactSet":
            found.update({str(f["title"]): str(f["value"]) for f in element["facts"]})
    return found


def _files_holding(data_dir: Path, needle: str) -> list[str]:
    wanted = needle.encode("utf-8")
    return sorted(
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file() and wanted in path.read_bytes()
    )


async def test_a_person_sees_and_deletes_what_is_stored_about_them(stack: Stack) -> None:
    async with connect(stack.playground.base) as pg:
        display_name = str(pg.config["currentUser"]["name"])
        assert pg.config["currentUser"]["aadObjectId"] == PLAYGROUND_USER_AAD

        await pg.say("subscribe")
        form = await pg.next_message()
        status, body = await pg.press(
            form, _action(form.card, Verb.SUBSCRIBE_SAVE), inputs={"day": "0", "time": "09:00"}
        )
        assert status == 200, body
        assert _files_holding(stack.bot.data_dir, PLAYGROUND_USER_AAD), "stored: the test can fail"

        await pg.say("my data")
        overview = await pg.next_message()
        assert card_texts(overview.card)[0] == EN("mydata.title")
        facts = _facts(overview.card)
        weekday = EN("subscribe.weekday.0")
        assert facts[EN("mydata.fact_subscription")] == EN(
            "mydata.subscription", day=weekday, time="09:00"
        )
        assert facts[EN("mydata.fact_lessons")] == EN("mydata.lessons", done=0, total=10)

        status, body = await pg.press(overview, _action(overview.card, Verb.MY_DATA_ERASE_ASK))
        assert status == 200, body
        confirm = body["value"]
        assert card_texts(confirm)[0] == EN("mydata.confirm_title")
        assert _files_holding(stack.bot.data_dir, PLAYGROUND_USER_AAD), "nothing deleted yet"

        # the confirming card replaced the overview in the same message
        replaced = Message(overview.message_id, "", [], "updateMessage")
        status, body = await pg.press(replaced, _action(confirm, Verb.MY_DATA_ERASE))
        assert status == 200, body
        done = card_texts(body["value"])
        assert done[0] == EN("mydata.erased_title")
        assert "• " + EN("mydata.erased_subscription") in done
        assert EN("mydata.erased_chat") in done

        assert _files_holding(stack.bot.data_dir, PLAYGROUND_USER_AAD) == []
        assert _files_holding(stack.bot.data_dir, display_name) == []

        # writing again stores the conversation anew (so replies and a new subscription work);
        # nothing else came back
        await pg.say("my data")
        after = _facts((await pg.next_message()).card)
        assert after[EN("mydata.fact_subscription")] == EN("mydata.subscription_none")
        assert after[EN("mydata.fact_conversations")] == EN.count("mydata.conversations", 1)
        assert after[EN("mydata.fact_cards")] == EN.count("mydata.cards", 0)

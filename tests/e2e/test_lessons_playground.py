"""Proactive messages end to end through the Agents Playground: a weekly lesson that falls due, and
a champion's tip that lands in a team channel.

The bot runs with the Playground's own user as champion (`KIVETT_CHAMPIONS`) and looks for due
lessons every half second. Everything goes through the Playground's REST API and arrives on its
WebSocket, exactly as the page would show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import DATABASE_FILE
from bot.content_loader import load_content
from cards.verbs import Verb
from content import load_catalog
from tests.e2e.conftest import Stack
from tests.e2e.playground import (
    Message,
    PlaygroundClient,
    card_actions,
    card_texts,
    connect,
    run_bot,
    run_playground,
)

pytestmark = pytest.mark.e2e

# The Playground's user has locale en-US, but writes Norwegian commands (`abonner`, `ukens tips`):
# the bot answers in the målform (bokmål) and stores the subscription in bokmål, so the weekly
# lesson comes in bokmål. Channels get the målform too.
NB = load_catalog().texts("nb")
LESSONS = load_content().lessons
# The Playground's current user ("Alex Wilber"); the test checks it against /_internal/v1/config.
PLAYGROUND_USER_AAD = "00000000-0000-0000-0000-0000000000020"
CARD = "application/vnd.microsoft.card.adaptive"


@pytest.fixture(scope="module")
def champion_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e-proactive")
    data_dir = workdir / "data"
    data_dir.mkdir()
    env = {
        "KIVETT_CHAMPIONS": PLAYGROUND_USER_AAD,
        "KIVETT_SCHEDULER_INTERVAL_SECONDS": "0.5",
    }
    with (
        run_bot(data_dir, workdir / "bot.log", extra_env=env) as bot,
        run_playground(bot.endpoint, workdir) as pg,
    ):
        yield Stack(bot=bot, playground=pg)


# -- what the Playground shows: every frame of its conversation stream, with its conversation


@dataclass
class Frame:
    action: str
    conversation_id: str
    message_id: str
    attachments: list[dict[str, Any]]

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.attachments:
            if attachment.get("contentType") == CARD:
                content = attachment.get("content")
                if isinstance(content, str):
                    content = json.loads(content)
                if isinstance(content, dict):
                    return content
        return None


@dataclass
class Frames:
    queue: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)

    async def wait_for(
        self, action: str, conversation_id: str, wanted: str, within: float
    ) -> tuple[Frame, dict[str, Any]]:
        """The first `action` frame in `conversation_id` whose card has a text containing
        `wanted`; frames that do not match are skipped."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {action} with {wanted!r} in {conversation_id}")
            try:
                frame = await asyncio.wait_for(self.queue.get(), left)
            except TimeoutError:
                continue
            card = frame.card
            in_conversation = frame.conversation_id == conversation_id or (
                # a reply in a channel thread: "19:…;messageid=…"
                frame.conversation_id.startswith(conversation_id + ";")
            )
            if (
                frame.action == action
                and in_conversation
                and card is not None
                and any(wanted in text for text in card_texts(card))
            ):
                return frame, card


def _conversation_of(data: dict[str, Any]) -> str:
    # the Playground names the conversation of each frame in "actionConversationId"
    return str(data.get("actionConversationId") or "")


@contextlib.asynccontextmanager
async def frames(pg: PlaygroundClient) -> AsyncIterator[Frames]:
    """A second subscriber to the Playground's stream that keeps each frame's conversation."""
    collected = Frames()
    url = pg.base.replace("http://", "ws://") + "/_ws_conversation/v1/conversations/stream"
    async with pg.session.ws_connect(url) as ws:

        async def read() -> None:
            async for raw in ws:
                if raw.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(raw.data)
                message = data.get("message") if isinstance(data, dict) else None
                if not isinstance(message, dict):
                    continue
                await collected.queue.put(
                    Frame(
                        action=str(data.get("action", "")),
                        conversation_id=_conversation_of(data),
                        message_id=str(message.get("messageId") or message.get("id") or ""),
                        attachments=list(message.get("attachments") or []),
                    )
                )

        reader = asyncio.create_task(read())
        try:
            yield collected
        finally:
            reader.cancel()


def _sql(stack: Stack, statement: str, *args: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(stack.bot.data_dir / DATABASE_FILE, timeout=10)) as conn:
        rows = conn.execute(statement, args).fetchall()
        conn.commit()
        return rows


def _action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for a in card_actions(card) if a.get("verb") == verb]
    return action


async def test_the_playground_user_is_the_configured_champion(champion_stack: Stack) -> None:
    async with connect(champion_stack.playground.base) as pg:
        assert pg.config["currentUser"]["aadObjectId"] == PLAYGROUND_USER_AAD


async def test_a_due_subscription_brings_the_lesson_proactively(champion_stack: Stack) -> None:
    stack = champion_stack
    async with connect(stack.playground.base) as pg, frames(pg) as stream:
        await pg.say("abonner")
        form = await pg.next_message()
        assert card_texts(form.card)[0] == NB("subscribe.title")
        status, body = await pg.press(
            form, _action(form.card, Verb.SUBSCRIBE_SAVE), inputs={"day": "0", "time": "09:00"}
        )
        assert status == 200, body
        assert card_texts(body["value"])[0] == NB("subscribe.subscribed_title")
        [(conversation, language)] = _sql(
            stack,
            "SELECT conversation_id, language FROM subscriptions WHERE user_key = ?",
            PLAYGROUND_USER_AAD,
        )
        assert (conversation, language) == (pg.personal_chat_id, "nb")

        # Monday 09:00 is days away: make it due now, as if the week had passed
        _sql(
            stack,
            "UPDATE subscriptions SET next_due = '2020-01-06T08:00:00.000000Z' WHERE user_key = ?",
            PLAYGROUND_USER_AAD,
        )
        heading = NB("lessons.lesson_title", number=1, title=NB("vettregel.1.title"))
        frame, lesson = await stream.wait_for("createMessage", pg.personal_chat_id, heading, 10)
        assert NB("lessons.weekly_intro") in card_texts(lesson)
        assert Verb.UNSUBSCRIBE in [a.get("verb") for a in card_actions(lesson)], "an opt-out"
        [(next_due,)] = _sql(
            stack, "SELECT next_due FROM subscriptions WHERE user_key = ?", PLAYGROUND_USER_AAD
        )
        assert next_due > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "next week's, once"

        # the opt-out on the pushed lesson works
        status, body = await pg.press(
            _as_message(frame), _action(lesson, Verb.UNSUBSCRIBE), inputs={}
        )
        assert status == 200, body
        assert card_texts(body["value"])[0] == NB("subscribe.unsubscribed_title")
        assert not _sql(
            stack, "SELECT 1 FROM subscriptions WHERE user_key = ?", PLAYGROUND_USER_AAD
        )


async def test_a_champions_tip_lands_in_a_team_channel(champion_stack: Stack) -> None:
    stack = champion_stack
    async with connect(stack.playground.base) as pg, frames(pg) as stream:
        team = pg.config["teams"][0]
        channel = team["channels"][0]["id"]  # General: its id is the team's
        await pg.install(channel)
        for _ in range(50):
            if _sql(stack, "SELECT 1 FROM conversation_refs WHERE conversation_id = ?", channel):
                break
            await asyncio.sleep(0.1)
        [(kind,)] = _sql(
            stack,
            "SELECT conversation_type FROM conversation_refs WHERE conversation_id = ?",
            channel,
        )
        assert kind == "channel"

        await pg.say("ukens tips")
        compose = await pg.next_message()
        assert card_texts(compose.card)[0] == NB("tips.title")
        status, body = await pg.press(
            compose,
            _action(compose.card, Verb.TIP_PREVIEW),
            inputs={"tip": "tip01", "audience": "channels", "channels": channel},
        )
        assert status == 200, body
        preview = body["value"]
        assert card_texts(preview)[0] == NB("tips.preview_title"), card_texts(preview)
        status, body = await pg.press(compose, _action(preview, Verb.TIP_SEND))
        assert status == 200, body
        assert card_texts(body["value"])[0] == NB("tips.progress_title"), card_texts(body["value"])

        tip = LESSONS["nb"].tip("tip01").text
        _, card = await stream.wait_for("createMessage", channel, tip, 15)
        assert NB("tips.title") in card_texts(card)
        # the champion's progress card is updated in place when the job is done
        update, _ = await stream.wait_for(
            "updateMessage", pg.personal_chat_id, NB("tips.report_title"), 15
        )
        assert update.message_id == compose.message_id
        [(state,)] = _sql(stack, "SELECT state FROM broadcast_jobs")
        assert state == "done"


def _as_message(frame: Frame) -> Message:
    return Message(
        message_id=frame.message_id, text="", attachments=frame.attachments, action=frame.action
    )


async def test_someone_who_is_not_a_champion_gets_a_polite_no(champion_stack: Stack) -> None:
    """The Playground sends every message as its current user (a champion here), so another
    member's message is injected as a custom activity, built from the Playground's own template."""
    stack = champion_stack
    async with connect(stack.playground.base) as pg, frames(pg) as stream:
        someone = pg.config["users"][0]  # Megan Bowen, a member of the team
        assert someone["aadObjectId"] != PLAYGROUND_USER_AAD
        channel = pg.config["teams"][0]["channels"][0]["id"]
        async with pg.session.get(
            f"{pg.base}/_internal/v1/customActivities/template",
            params={"conversationId": channel, "type": "botAdded"},
        ) as r:
            assert r.status == 200, await r.text()
            template = await r.json()
        tenant = template["conversation"]["tenantId"]
        message = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "timestamp": template["timestamp"],
            "channelId": template["channelId"],
            "serviceUrl": template["serviceUrl"],
            "recipient": template["recipient"],
            "conversation": template["conversation"],
            "from": {
                "id": someone["id"],
                "name": someone["name"],
                "aadObjectId": someone["aadObjectId"],
            },
            "text": "ukens tips",
            "textFormat": "plain",
            "locale": "en-US",
            "channelData": {"tenant": {"id": tenant}, "team": {"id": pg.config["teams"][0]["id"]}},
        }
        async with pg.session.post(f"{pg.base}/_internal/v1/customActivities", json=message) as r:
            assert r.status < 300, await r.text()
        _, card = await stream.wait_for("createMessage", channel, NB("tips.refused_title"), 10)
        assert NB("tips.refused_body") in card_texts(card)
        assert not [a for a in card_actions(card) if a.get("verb") == Verb.TIP_SEND]
        await _wait_for_route(stack, "tip:refused")


async def _wait_for_route(stack: Stack, route: str) -> None:
    """The turn's log line is written when the turn ends, a moment after its reply was sent."""
    routes: list[object] = []
    for _ in range(50):
        routes = [json.loads(line).get("route") for line in stack.bot.log_lines() if "{" in line]
        if route in routes:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no turn with route {route!r} in the bot's log: {routes}")

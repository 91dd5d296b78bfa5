"""Turns whose caller has gone by the time they get their slot are not worked on (the answer
could go nowhere, and working on them in an overload makes every later caller wait longer);
turns whose caller is still there, and turns outside the HTTP layer, are. Counted, never timed."""

from __future__ import annotations

import asyncio
import logging

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ConversationAccount

from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks, TurnGate, caller_waiting


def context(conversation_id: str, kind: str = "message") -> TurnContext:
    activity = Activity(type=kind, conversation=ConversationAccount(id=conversation_id))
    return TurnContext(TestAdapter(), activity)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class Callers:
    """Turns sent by callers who can hang up; records which turns were worked on."""

    def __init__(self, middleware: ConversationLockMiddleware) -> None:
        self.middleware = middleware
        self.connected: dict[str, bool] = {}
        self.worked_on: list[str] = []
        self.release = asyncio.Event()

    def send(self, name: str, conversation: str, kind: str = "message") -> asyncio.Task[None]:
        self.connected[name] = True

        async def logic() -> None:
            self.worked_on.append(name)
            await self.release.wait()

        async def turn() -> None:
            with caller_waiting(lambda: self.connected[name]):
                await self.middleware.on_turn(context(conversation, kind), logic)

        return asyncio.create_task(turn())


async def test_a_turn_whose_caller_left_while_it_waited_is_not_worked_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = TurnGate(limit=1)
    callers = Callers(ConversationLockMiddleware(KeyedLocks(), gate))
    first = callers.send("first", "a:1")
    await settle()
    gone = callers.send("gone", "a:2", kind="invoke")
    waiting = callers.send("waiting", "a:3")
    await settle()
    callers.connected["gone"] = False  # the caller gave up while its turn waited for a slot

    with caplog.at_level(logging.WARNING):
        callers.release.set()
        await asyncio.gather(first, gone, waiting)

    assert callers.worked_on == ["first", "waiting"]
    assert gate.abandoned == 1
    assert gate.inside == 0
    abandoned = [r for r in caplog.records if r.getMessage() == "turn_abandoned"]
    assert len(abandoned) == 1


async def test_a_turn_behind_its_own_conversation_is_dropped_when_its_caller_leaves() -> None:
    gate = TurnGate(limit=4)
    locks = KeyedLocks()
    callers = Callers(ConversationLockMiddleware(locks, gate))
    first = callers.send("first", "a:1")
    await settle()
    again = callers.send("again", "a:1")  # the caller gave up on `first` and sent again
    await settle()
    callers.connected["again"] = False

    callers.release.set()
    await asyncio.gather(first, again)

    assert callers.worked_on == ["first"]
    assert gate.abandoned == 1
    assert len(locks) == 0


async def test_a_caller_who_leaves_after_the_turn_began_still_gets_the_work_done() -> None:
    gate = TurnGate(limit=1)
    callers = Callers(ConversationLockMiddleware(KeyedLocks(), gate))
    turn = callers.send("slow", "a:1")
    await settle()
    callers.connected["slow"] = False  # too late to matter: the turn is already at work

    callers.release.set()
    await turn

    assert callers.worked_on == ["slow"]
    assert gate.abandoned == 0


@pytest.mark.parametrize("kind", ["conversationUpdate", "installationUpdate", "messageDelete"])
async def test_an_event_from_teams_is_worked_on_even_when_its_caller_left(kind: str) -> None:
    """An uninstall or install is never sent again: shedding it would keep a reference the person
    took away, or skip the welcome. Only a person's message or button press is shed."""
    gate = TurnGate(limit=1)
    callers = Callers(ConversationLockMiddleware(KeyedLocks(), gate))
    first = callers.send("first", "a:1")
    await settle()
    event = callers.send("event", "a:2", kind=kind)
    await settle()
    callers.connected["event"] = False

    callers.release.set()
    await asyncio.gather(first, event)

    assert callers.worked_on == ["first", "event"]
    assert gate.abandoned == 0


async def test_turns_outside_the_http_layer_always_run() -> None:
    gate = TurnGate(limit=1)
    middleware = ConversationLockMiddleware(KeyedLocks(), gate)
    worked_on: list[str] = []

    async def logic() -> None:
        worked_on.append("turn")

    await middleware.on_turn(context("a:1"), logic)
    await middleware.on_turn(context(""), logic)

    assert worked_on == ["turn", "turn"]
    assert gate.abandoned == 0

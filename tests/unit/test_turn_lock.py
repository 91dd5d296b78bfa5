"""The per-process turn bound: how many turns do work at once, who goes first, and that nothing
is kept per conversation once its turns are done. Counted, never timed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ConversationAccount

from bot.teams.turn_lock import ConversationLockMiddleware, KeyedLocks, TurnGate


def context(conversation_id: str) -> TurnContext:
    activity = Activity(type="message", conversation=ConversationAccount(id=conversation_id))
    return TurnContext(TestAdapter(), activity)


class Turns:
    """Turns that stay inside until released, recording the order they started in."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    def logic(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.started.append(name)
            await self.release.wait()

        return run


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_at_most_the_limit_of_turns_work_at_once_and_all_finish() -> None:
    locks = KeyedLocks()
    middleware = ConversationLockMiddleware(locks, TurnGate(8))
    turns = Turns()
    running = [
        asyncio.create_task(middleware.on_turn(context(f"a:{i}"), turns.logic(f"a:{i}")))
        for i in range(200)
    ]
    await settle()
    assert len(turns.started) == 8, "only the limit started; the rest wait"
    turns.release.set()
    await asyncio.gather(*running)
    assert len(turns.started) == 200
    assert middleware.gate.most_inside == 8
    assert middleware.gate.inside == 0
    assert len(locks) == 0, "nothing is kept for the 200 conversations once their turns are done"


async def test_waiting_turns_start_in_the_order_they_arrived() -> None:
    middleware = ConversationLockMiddleware(KeyedLocks(), TurnGate(1))
    turns = Turns()
    names = [f"a:{i}" for i in range(10)]
    running = []
    for name in names:
        running.append(asyncio.create_task(middleware.on_turn(context(name), turns.logic(name))))
        await settle()
    turns.release.set()
    await asyncio.gather(*running)
    assert turns.started == names


async def test_a_turn_waiting_for_its_own_conversation_takes_no_slot() -> None:
    middleware = ConversationLockMiddleware(KeyedLocks(), TurnGate(2))
    turns = Turns()
    running = [
        asyncio.create_task(middleware.on_turn(context("a:busy"), turns.logic("busy 1"))),
        asyncio.create_task(middleware.on_turn(context("a:busy"), turns.logic("busy 2"))),
        asyncio.create_task(middleware.on_turn(context("a:other"), turns.logic("other"))),
    ]
    await settle()
    assert turns.started == ["busy 1", "other"], "the second turn of a:busy did not block a:other"
    turns.release.set()
    await asyncio.gather(*running)
    assert turns.started == ["busy 1", "other", "busy 2"]


async def test_a_turn_that_fails_gives_its_slot_back() -> None:
    middleware = ConversationLockMiddleware(KeyedLocks(), TurnGate(1))

    async def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await middleware.on_turn(context("a:1"), fail)
    turns = Turns()
    turns.release.set()
    await middleware.on_turn(context("a:2"), turns.logic("after"))
    assert turns.started == ["after"]
    assert middleware.gate.inside == 0


def test_a_gate_needs_room_for_one_turn() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TurnGate(0)

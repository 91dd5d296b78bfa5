"""bench/broadcast: a champion's tip to 10,000 people, against a Teams connector that throttles.

Three kinds of process: the rate-limiting fake Teams connector (tests/fakes/teams_connector.py:
Teams' 50 messages per second per tenant and the per-conversation windows, 429 with Retry-After
past them), served by `python -m bench.broadcast --serve-fake PORT` so that its CPU does not
compete with the bot's; KI-vett itself (`python -m bot serve --dev`) on a data directory seeded
with N personal conversation references and N weekly subscriptions; and this process, which
creates the broadcast the way a champion does (an `adaptiveCard/action` invoke, verb `tip.send`,
audience "subscribers", posted to /api/messages) and then watches.

Two runs, each on a fresh data directory and a fresh fake:

- no crash: from the champion's press until the job is `done` in SQLite;
- crash: the same, but the bot is killed with SIGKILL when ~40 % of the tips have been accepted,
  and started again on the same data directory.

Measured from the fake's own record (its clock, time of arrival): sustained throughput (tips
accepted per second from the first to the last), as a fraction of Teams' 50/s ceiling, 429s the bot
received, duplicates (a recipient who got the tip more than once), lost recipients (never got it),
and the total time. At the kill: how many tips had been accepted but not yet recorded as sent in
SQLite (the messages in flight, which are the only ones that may come twice).

    .venv/bin/python -m bench.broadcast                 # 10,000 recipients: about 8 minutes
    .venv/bin/python -m bench.broadcast --quick         # 1,000 recipients, a smoke check
    .venv/bin/python -m bench.broadcast --write-docs    # and write the table into the docs
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    cpu_seconds,
    free_port,
    get_stats,
    load_average,
    query,
    replace_section,
    say,
    spawn,
    wait_http,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:broadcast:start -->", "<!-- bench:broadcast:end -->"
CEILING = 50.0  # Teams: messages per second per tenant
TENANT = "tenant"
CHAMPION_AAD = "aad-bench-champion"
CHAMPION_CONVERSATION = "a:bench-champion"
PROGRESS_ACTIVITY = "1:progress-card"
LANGUAGES = ("nb", "nn", "en")
KILL_AT = 0.4


# -- the fake Teams connector in its own process


def serve_fake(port: int) -> None:
    """`FakeTeamsConnector` (limits enforced) plus GET /_stats, which reports what it recorded."""
    from aiohttp import web

    from tests.fakes.teams_connector import FakeTeamsConnector

    fake = FakeTeamsConnector(enforce_limits=True)
    app = fake.app()

    async def stats(request: web.Request) -> web.Response:
        # O(1): polled many times a second while the benchmark waits for the moment to kill
        body: dict[str, Any] = {
            "requests": fake.requests,
            "throttled": fake.throttled,
            "tips": len(fake.deliveries) - fake.count_for(CHAMPION_CONVERSATION),
            "updates": len(fake.updates),
            "cpu_seconds": time.process_time(),
        }
        if request.query.get("full"):
            tips = [d for d in fake.deliveries if d.conversation_id != CHAMPION_CONVERSATION]
            counts: dict[str, int] = {}
            for delivery in tips:
                counts[delivery.conversation_id] = counts.get(delivery.conversation_id, 0) + 1
            body.update(
                counts=counts,
                first_at=tips[0].at if tips else None,
                last_at=tips[-1].at if tips else None,
                duplicates=sum(fake.duplicates().values()),
            )
        return web.json_response(body)

    app.router.add_get("/_stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- processes


def bot_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env.update(
        {
            "KIVETT_DATA_DIR": str(data_dir),
            "KIVETT_CHAMPIONS": CHAMPION_AAD,
            "KIVETT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def start_bot(data_dir: Path, port: int, log: Path) -> Any:
    return spawn(
        [PYTHON, "-m", "bot", "serve", "--dev", "--port", str(port)],
        env=bot_env(data_dir),
        cwd=data_dir,
        log=log,
    )


# -- the bot's data directory


def _reference(service_url: str, index: int, conversation_id: str) -> dict[str, Any]:
    from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

    reference = ConversationReference(
        user=ChannelAccount(id=f"29:user-{index}", aad_object_id=f"aad-user-{index}"),
        bot=ChannelAccount(id="28:kivett", name="KI-vett"),
        conversation=ConversationAccount(
            id=conversation_id, conversation_type="personal", tenant_id=TENANT
        ),
        channel_id="msteams",
        locale="nb-NO",
        service_url=service_url,
    )
    serialized = reference.serialize()
    assert isinstance(serialized, dict)
    return serialized


def seed(data_dir: Path, service_url: str, count: int) -> list[str]:
    """`count` personal conversation references and subscriptions (not due for six days)."""
    from bot.adapters.sqlite.db import SqliteDatabase
    from bot.bootstrap import DATABASE_FILE

    conversations = [f"a:bench-person-{index:06d}" for index in range(count)]
    next_week = (datetime.now(UTC) + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def work(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO conversation_refs(conversation_id, conversation_type, tenant_id, "
            "reference) VALUES (?, 'personal', ?, ?)",
            [
                (cid, TENANT, json.dumps(_reference(service_url, i, cid)))
                for i, cid in enumerate(conversations)
            ],
        )
        conn.executemany(
            "INSERT INTO subscriptions(user_key, conversation_id, weekday, at, zone, language, "
            "next_due) VALUES (?, ?, 0, '09:00', 'Europe/Oslo', ?, ?)",
            [
                (f"aad-user-{i}", cid, LANGUAGES[i % len(LANGUAGES)], next_week)
                for i, cid in enumerate(conversations)
            ],
        )

    async def run() -> None:
        db = SqliteDatabase(data_dir / DATABASE_FILE)
        await db.open()  # the bot's own schema
        try:
            await db.transaction(work)
        finally:
            await db.close()

    asyncio.run(run())
    return conversations


def job_state(data_dir: Path) -> str | None:
    rows = query(data_dir, "SELECT state FROM broadcast_jobs")
    return None if not rows else str(rows[0][0])


def recipient_states(data_dir: Path) -> dict[str, int]:
    rows = query(data_dir, "SELECT state, COUNT(*) FROM broadcast_recipients GROUP BY state")
    return {str(state): int(count) for state, count in rows}


async def send_tip_as_champion(bot_port: int, service_url: str) -> None:
    activity = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "nb-NO",
        "from": {"id": "29:bench-champion", "aadObjectId": CHAMPION_AAD},
        "recipient": {"id": "28:kivett", "name": "KI-vett"},
        "conversation": {
            "id": CHAMPION_CONVERSATION,
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "replyToId": PROGRESS_ACTIVITY,
        "value": {
            "action": {
                "type": "Action.Execute",
                "verb": "tip.send",
                "data": {
                    "v": "1",
                    "tip": "tip01",
                    "audience": "subscribers",
                    "channels": "",
                    "own": "",
                    "date": "",
                    "time": "",
                },
            }
        },
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{bot_port}/api/messages", json=activity) as response,
    ):
        body = await response.json()
        if response.status != 200 or not isinstance(body, dict) or "value" not in body:
            raise RuntimeError(f"tip.send was not accepted: {response.status} {body}")


# -- one run


@dataclass
class Run:
    scenario: str
    recipients: int
    accepted: int
    throughput: float  # tips accepted per second, first to last
    throttled: int
    duplicates: int
    lost: int
    total_seconds: float
    in_flight_at_kill: int | None = None
    accepted_at_kill: int | None = None
    restart_gap_seconds: float | None = None
    bot_cpu_seconds: float = 0.0
    fake_cpu_seconds: float = 0.0
    progress_updates: int = 0
    failed_states: int = 0


def wait_done(data_dir: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if job_state(data_dir) == "done":
            return
        time.sleep(0.2)
    raise TimeoutError(f"the broadcast did not finish within {within:.0f} s")


def run(count: int, *, kill: bool, workdir: Path) -> Run:
    name = f"crash at {KILL_AT:.0%}" if kill else "no crash"
    scenario_dir = workdir / ("crash" if kill else "plain")
    data_dir = scenario_dir / "data"
    data_dir.mkdir(parents=True)
    fake_port, bot_port = free_port(), free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    timeout = count / CEILING * 4 + 120
    say(f"[{name}] {count} recipients")
    with spawn(
        [PYTHON, "-m", "bench.broadcast", "--serve-fake", str(fake_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        log=scenario_dir / "fake.log",
    ) as fake_proc:
        asyncio.run(wait_http(f"{fake_url}/_stats"))
        recipients = seed(data_dir, fake_url, count)
        bot_cpu = 0.0
        in_flight = accepted_at_kill = None
        gap = None
        with start_bot(data_dir, bot_port, scenario_dir / "bot-1.log") as bot:
            asyncio.run(wait_http(f"http://127.0.0.1:{bot_port}/readyz"))
            started = time.monotonic()
            asyncio.run(send_tip_as_champion(bot_port, fake_url))
            if kill:
                asyncio.run(_wait_for_tips(fake_url, int(count * KILL_AT), timeout))
                bot_cpu += cpu_seconds(bot.pid)
                os.kill(bot.pid, signal.SIGKILL)
                bot.wait()
                killed = time.monotonic()
            else:
                wait_done(data_dir, timeout)
                bot_cpu += cpu_seconds(bot.pid)
        if kill:
            time.sleep(1.0)  # whatever was on the wire has arrived (or not) by now
            stats = asyncio.run(get_stats(fake_url, full=True))
            delivered = set(stats["counts"])
            sent = {
                row[0]
                for row in query(
                    data_dir,
                    "SELECT conversation_id FROM broadcast_recipients WHERE state = 'sent'",
                )
            }
            in_flight, accepted_at_kill = len(delivered - sent), len(delivered)
            say(f"[{name}] killed at {accepted_at_kill} accepted, {in_flight} not yet recorded")
            with start_bot(data_dir, bot_port, scenario_dir / "bot-2.log") as bot:
                asyncio.run(wait_http(f"http://127.0.0.1:{bot_port}/readyz"))
                asyncio.run(_wait_for_tips(fake_url, accepted_at_kill + 1, timeout))
                gap = time.monotonic() - killed
                wait_done(data_dir, timeout)
                bot_cpu += cpu_seconds(bot.pid)
        total = time.monotonic() - started
        time.sleep(0.5)  # the final progress card
        stats = asyncio.run(get_stats(fake_url, full=True))
        fake_cpu = cpu_seconds(fake_proc.pid)
    counts: dict[str, int] = stats["counts"]
    lost = sum(1 for cid in recipients if counts.get(cid, 0) == 0)
    span = (stats["last_at"] or 0.0) - (stats["first_at"] or 0.0)
    states = recipient_states(data_dir)
    result = Run(
        scenario=name,
        recipients=count,
        accepted=stats["tips"],
        throughput=(stats["tips"] - 1) / span if span > 0 else 0.0,
        throttled=stats["throttled"],
        duplicates=stats["duplicates"],
        lost=lost,
        total_seconds=total,
        in_flight_at_kill=in_flight,
        accepted_at_kill=accepted_at_kill,
        restart_gap_seconds=gap,
        bot_cpu_seconds=bot_cpu,
        fake_cpu_seconds=fake_cpu,
        progress_updates=stats["updates"],
        failed_states=sum(n for state, n in states.items() if state != "sent"),
    )
    say(f"[{name}] {result}")
    return result


async def _wait_for_tips(fake_url: str, wanted: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await get_stats(fake_url))["tips"] >= wanted:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {wanted} tips within {within:.0f} s")


# -- creating a job for many recipients while people talk to the bot

TURN_CONVERSATIONS = 4
BASELINE_TURNS = 4000
"""Turns measured before the job is created: as many as the listing sees (4,000-16,000 on this
machine), so both p99s rest on enough turns. With 400 the baseline's p99 was the 4th slowest turn
and moved between 8.5 and 17.5 ms from run to run on unchanged code (ratios 1.05-2.37)."""
CREATION_GOAL = 2.0  # issue 16: a turn's p99 during job creation at most 2x its baseline


@dataclass
class Creation:
    recipients: int
    stored: int
    creation_seconds: float  # the champion's press until the answer card
    listing_seconds: float  # the press until the worker has listed every subscriber
    baseline_p99_ms: float
    during_p99_ms: float
    baseline_turns: int
    during_turns: int

    @property
    def ratio(self) -> float:
        return self.during_p99_ms / self.baseline_p99_ms if self.baseline_p99_ms else 0.0


def _turn(service_url: str, conversation: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": datetime.now(UTC).isoformat(),
        "locale": "nb-NO",
        "text": "hjelp",
        "from": {"id": f"29:{conversation}", "aadObjectId": f"aad-{conversation}"},
        "recipient": {"id": "28:kivett", "name": "KI-vett"},
        "conversation": {"id": conversation, "conversationType": "personal", "tenantId": TENANT},
    }


async def _talk(
    bot_port: int, service_url: str, *, turns: int | None, until: asyncio.Task[Any] | None
) -> list[float]:
    """Closed-loop turns from a few people: `turns` in all, or until `until` is done (only turns
    that started before it was done count). Latencies in ms."""
    url = f"http://127.0.0.1:{bot_port}/api/messages"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def person(index: int) -> None:
            conversation = f"a:bench-talker-{index}-{uuid.uuid4().hex[:6]}"
            while True:
                if turns is not None and len(latencies) >= turns:
                    return
                if until is not None and until.done():
                    return
                t0 = time.perf_counter()
                async with session.post(url, json=_turn(service_url, conversation)) as response:
                    await response.read()
                    if response.status >= 300:
                        raise RuntimeError(f"a turn failed: {response.status}")
                latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(person(i) for i in range(TURN_CONVERSATIONS)))
    return latencies


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def creation(count: int, workdir: Path) -> Creation:
    """Baseline turns, then the champion creates a job for `count` subscribers while the same
    people keep talking; the job's sending is not waited for."""
    scenario_dir = workdir / "creation"
    data_dir = scenario_dir / "data"
    data_dir.mkdir(parents=True)
    stub_port, bot_port = free_port(), free_port()
    stub_url = f"http://127.0.0.1:{stub_port}"
    say(f"[creation] {count} subscribers")
    with spawn(
        [PYTHON, "-m", "bench.connector_stub", str(stub_port)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        log=scenario_dir / "stub.log",
    ):
        asyncio.run(wait_http(f"{stub_url}/healthz"))
        seed(data_dir, stub_url, count)
        with start_bot(data_dir, bot_port, scenario_dir / "bot.log"):
            asyncio.run(wait_http(f"http://127.0.0.1:{bot_port}/readyz"))
            asyncio.run(_talk(bot_port, stub_url, turns=40, until=None))  # warm up
            baseline = asyncio.run(_talk(bot_port, stub_url, turns=BASELINE_TURNS, until=None))

            async def during() -> tuple[list[float], float, float]:
                """Turns from the champion's press until the worker has listed everyone (the
                turn only queues the job; the listing is where the store is busy)."""
                t0 = time.perf_counter()
                answered = 0.0

                async def press_and_list() -> None:
                    nonlocal answered
                    await send_tip_as_champion(bot_port, stub_url)
                    answered = time.perf_counter() - t0
                    deadline = time.monotonic() + 600
                    while time.monotonic() < deadline:  # another process's database: poll it
                        if job_state(data_dir) not in (None, "listing"):
                            return
                        await asyncio.sleep(0.05)
                    raise TimeoutError("the worker did not list the subscribers in 10 minutes")

                task = asyncio.create_task(press_and_list())
                latencies = await _talk(bot_port, stub_url, turns=None, until=task)
                await task
                return latencies, answered, time.perf_counter() - t0

            latencies, seconds, listing = asyncio.run(during())
            stored = query(data_dir, "SELECT COUNT(*) FROM broadcast_recipients")[0][0]
    result = Creation(
        recipients=count,
        stored=int(stored),
        creation_seconds=seconds,
        listing_seconds=listing,
        baseline_p99_ms=_p99(baseline),
        during_p99_ms=_p99(latencies),
        baseline_turns=len(baseline),
        during_turns=len(latencies),
    )
    say(f"[creation] {result} ratio {result.ratio:.2f}")
    return result


# -- the same on Azure Storage (Azurite), in one process


@dataclass
class AzureRun:
    recipients: int
    accepted: int
    throughput: float
    throttled: int
    progress_updates: int
    create_small_ms_per_recipient: float
    create_big_ms_per_recipient: float
    record_small_ms: float
    record_big_ms: float
    small: int
    big: int
    shard_writes: int
    bot_cpu_seconds: float


async def _azure(count: int, big: int, workdir: Path) -> AzureRun:
    """The broadcast worker on the Azure Storage adapters (Azurite) and the fake connector (limits
    enforced, called directly in this process, real clock); then the cost of one recorded result
    in a job of `count` recipients and in one of `big`."""
    import random

    from bot.bootstrap import open_stores
    from bot.core.broadcast import RecipientState
    from bot.core.rate_limit import RateLimiter
    from bot.core.records import StoredReference
    from bot.settings import Settings
    from bot.workers.broadcast import BroadcastWorker
    from bot.workers.pacing import Pacer
    from tests.azurite import start_azurite
    from tests.fakes.teams_connector import FakeTeamsConnector

    with start_azurite(workdir / "azurite.log") as azurite:
        settings = Settings.model_validate(
            {
                "KIVETT_DATA_DIR": str(workdir),
                "KIVETT_STORAGE": "azure",
                "KIVETT_AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
                "KIVETT_AZURE_CONTAINER": f"kivett-bench-{uuid.uuid4().hex[:12]}",
            }
        )
        stores = await open_stores(settings)
        try:
            conversations = [f"a:bench-person-{i:06d}" for i in range(count)]
            for start in range(0, count, 200):
                await asyncio.gather(
                    *(
                        stores.references.save(
                            StoredReference(
                                cid, "personal", TENANT, _reference("https://smba.example/", i, cid)
                            )
                        )
                        for i, cid in enumerate(conversations[start : start + 200], start)
                    )
                )
            store: Any = stores.broadcasts

            async def create(n: int) -> tuple[str, float]:
                t0 = time.perf_counter()
                await store.create_job(
                    created_by="aad-bench-champion",
                    due=datetime.now(UTC),
                    cards={"nb": {"type": "AdaptiveCard", "version": "1.5", "body": []}},
                    recipients=[(f"a:bench-person-{i:06d}", "nb") for i in range(n)],
                    progress_service_url="https://smba.example/",
                    progress_conversation=CHAMPION_CONVERSATION,
                    progress_activity=PROGRESS_ACTIVITY,
                    progress_language="nb",
                )
                return "", (time.perf_counter() - t0) * 1000 / n

            _, create_small = await create(count)
            fake = FakeTeamsConnector(enforce_limits=True)
            worker = BroadcastWorker(
                store=store,
                references=stores.references,
                sender=fake.sender(),
                pacer=Pacer(RateLimiter(), clock=time.monotonic),
                progress_card=lambda job, progress, now: {"sent": progress.sent},
                clock=time.time,
                rng=random.Random(16),
            )
            jobs = await store.runnable(time.time())
            writes_before, cpu_before = store.shard_writes, time.process_time()
            await worker.run_job(jobs[0])
            shard_writes = store.shard_writes - writes_before
            cpu = time.process_time() - cpu_before
            tips = [d for d in fake.deliveries if d.conversation_id != CHAMPION_CONVERSATION]
            span = tips[-1].at - tips[0].at if len(tips) > 1 else 0.0

            async def record_cost(n: int) -> tuple[float, float]:
                _, per_recipient = await create(n)
                job = (await store.runnable(time.time()))[0]
                await store.start(job.id, time.time())
                t0 = time.perf_counter()
                for i in range(100):
                    await store.record(
                        job.id, [(f"a:bench-person-{i:06d}", RecipientState.SENT, 1, 0.0, 201)]
                    )
                cost = (time.perf_counter() - t0) * 1000 / 100
                await store.finish(job.id, time.time())
                return per_recipient, cost

            _, record_small = await record_cost(count)
            create_big, record_big = await record_cost(big)
        finally:
            await stores.backend.close()
    return AzureRun(
        recipients=count,
        accepted=len(tips),
        throughput=(len(tips) - 1) / span if span > 0 else 0.0,
        throttled=fake.throttled,
        progress_updates=len(fake.updates),
        create_small_ms_per_recipient=create_small,
        create_big_ms_per_recipient=create_big,
        record_small_ms=record_small,
        record_big_ms=record_big,
        small=count,
        big=big,
        shard_writes=shard_writes,
        bot_cpu_seconds=cpu,
    )


def azure_table(r: AzureRun) -> str:
    return "\n".join(
        [
            "On Azure Storage (Azurite, in memory; the worker, the adapters and the fake connector "
            "in one process, the fake called directly):",
            "",
            "| storage | recipients | tips accepted | sustained msg/s | goal ≥ 48 | 429s | goal 0 "
            f"| one recorded result, job of {r.small:,} | the same, job of {r.big:,} "
            "| goal O(1) |",
            "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | --- |",
            f"| Azure | {r.recipients:,} | {r.accepted:,} | {r.throughput:.1f} "
            f"({r.throughput / CEILING:.0%}) | {_mark(r.throughput >= RATE_GOAL)} | {r.throttled} "
            f"| {_mark(r.throttled == 0)} | {r.record_small_ms:.1f} ms | {r.record_big_ms:.1f} ms "
            f"| {_mark(r.record_big_ms <= 2 * r.record_small_ms)} |",
            "",
            f"Creating the job on Azure took {r.create_small_ms_per_recipient:.2f} ms per "
            f"recipient at {r.small:,} and {r.create_big_ms_per_recipient:.2f} ms at {r.big:,}; "
            f"progress card updates: {r.progress_updates}; shard writes while sending: "
            f"{r.shard_writes:,} ({r.shard_writes / max(r.accepted, 1):.2f} per tip); CPU of the "
            f"one process (worker, adapters, fake) while sending: {r.bot_cpu_seconds:.1f} s "
            f"({r.bot_cpu_seconds * 1000 / max(r.accepted, 1):.1f} ms per tip).",
        ]
    )


# -- the report


def _concurrency() -> int:
    from bot.workers.broadcast import BroadcastWorker

    return int(inspect.signature(BroadcastWorker).parameters["concurrency"].default)


RATE_GOAL = 0.96 * CEILING  # issue 16


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(
    runs: list[Run], quick: bool, made: Creation | None = None, storage: str = "SQLite"
) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {machine}{' (quick run)' if quick else ''}, storage {storage}, "
        f"{load_average()}; the worker keeps at most "
        f"{_concurrency()} sends in flight.",
        "",
        "| run | recipients | tips accepted | sustained msg/s | goal ≥ 48 (0.96 × 50) | 429s "
        "| goal 0 | duplicates | in flight at kill | lost | total s | restart gap s | bot CPU s |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        in_flight = "–" if r.in_flight_at_kill is None else str(r.in_flight_at_kill)
        gap = "–" if r.restart_gap_seconds is None else f"{r.restart_gap_seconds:.1f}"
        steady = r.in_flight_at_kill is None
        rate_goal = _mark(r.throughput >= RATE_GOAL) if steady else "– (includes the restart)"
        throttle_goal = _mark(r.throttled == 0) if steady else "–"
        lines.append(
            f"| {r.scenario} | {r.recipients:,} | {r.accepted:,} | {r.throughput:.1f} "
            f"({r.throughput / CEILING:.0%}) | {rate_goal} | {r.throttled} | {throttle_goal} "
            f"| {r.duplicates} | {in_flight} | {r.lost} | {r.total_seconds:.0f} | {gap} "
            f"| {r.bot_cpu_seconds:.1f} |"
        )
    if made is not None:
        lines += [
            "",
            "| job creation | subscribers | stored | champion's answer s | listed by the worker s "
            "| turn p99 before ms | turn p99 during ms | ratio | goal ≤ 2× |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            f"| {storage} | {made.recipients:,} | {made.stored:,} | {made.creation_seconds:.2f} "
            f"| {made.listing_seconds:.1f} "
            f"| {made.baseline_p99_ms:.0f} ({made.baseline_turns} turns) "
            f"| {made.during_p99_ms:.0f} ({made.during_turns} turns) | {made.ratio:.2f}× "
            f"| {_mark(made.ratio <= CREATION_GOAL)} |",
        ]
    notes = []
    for r in runs:
        if r.accepted_at_kill is not None:
            notes.append(
                f"The kill came when {r.accepted_at_kill:,} tips had been accepted; "
                f"{r.in_flight_at_kill} of them {'was' if r.in_flight_at_kill == 1 else 'were'} "
                "accepted by the fake but not yet recorded as sent in SQLite (in flight), and "
                f"{r.duplicates} {'copy' if r.duplicates == 1 else 'copies'} went out a second "
                "time after the restart."
            )
    notes.append(
        "The fake connector used "
        + ", ".join(f"{r.fake_cpu_seconds:.0f} s CPU ({r.scenario})" for r in runs)
        + " in its own process; progress card updates: "
        + ", ".join(f"{r.progress_updates} ({r.scenario})" for r in runs)
        + "; recipients not in state sent at the end: "
        + ", ".join(f"{r.failed_states} ({r.scenario})" for r in runs)
        + "."
    )
    return "\n".join([*lines, "", *notes])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=None, help="default 10,000")
    parser.add_argument("--quick", action="store_true", help="1,000 recipients (smoke check)")
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    parser.add_argument(
        "--creation", type=int, default=None, help="subscribers for the job-creation run (100,000)"
    )
    parser.add_argument("--no-azure", action="store_true", help="skip the Azure Storage run")
    parser.add_argument("--no-creation", action="store_true", help="skip the job-creation run")
    parser.add_argument(
        "--azure-only",
        action="store_true",
        help="only the Azure Storage run (min(recipients, 3,000) sent), for measuring; no docs",
    )
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fake:
        serve_fake(args.serve_fake)
        return 0
    count = args.recipients or (1_000 if args.quick else 10_000)
    subscribers = args.creation or (10_000 if args.quick else 100_000)
    if args.azure_only:
        if args.write_docs:
            parser.error("--azure-only does not write the docs (they need every run)")
        with tempfile.TemporaryDirectory(prefix="kivett-bench-broadcast-") as tmp:
            print(azure_table(asyncio.run(_azure(min(count, 3_000), subscribers, Path(tmp)))))
        return 0
    with tempfile.TemporaryDirectory(prefix="kivett-bench-broadcast-") as tmp:
        made = None if args.no_creation else creation(subscribers, Path(tmp))
        runs = [run(count, kill=False, workdir=Path(tmp)), run(count, kill=True, workdir=Path(tmp))]
        on_azure = (
            None
            if args.no_azure
            else asyncio.run(_azure(min(count, 3_000), subscribers, Path(tmp)))
        )
    text = table(runs, args.quick, made)
    if on_azure is not None:
        text += "\n\n" + azure_table(on_azure)
    print(text)
    problems = [
        r.scenario
        for r in runs
        if r.lost or r.duplicates > (r.in_flight_at_kill or 0) or r.failed_states
    ]
    if args.write_docs:
        replace_section(DOC, START, END, text)
        say(f"written to {DOC.relative_to(ROOT)} ({START} … {END})")
    if problems:
        say(f"lost or duplicated tips in: {', '.join(problems)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""bench/outbox: learning cards at a steady rate, with and without the SharePoint list.

Three kinds of process: the stateful fake Microsoft Graph (tests/fakes/graph.py: every request and
answer checked against Microsoft's OpenAPI description), served by
`python -m bench.outbox --serve-fake PORT`, with an artificial latency on every request and a
token bucket on writes (`RATE` creates a second, `BURST` at once; a write without a token is
answered 429 with Retry-After and SharePoint's RateLimit headers), in its own process so that its
CPU does not compete with the bot's; KI-vett itself (`python -m bot serve --dev`, with
`KIVETT_GRAPH_BASE_URL` on loopback, so it signs in to the fake with the local dev token and its
outbox writes the cards there); and this process, in which employees submit learning cards the
way Teams does (an `adaptiveCard/action` invoke, verb `laeringskort.submit`, posted to
/api/messages; the "saved" card comes back in the HTTP answer).

Arrivals are open-loop: card i is sent at i / ARRIVALS seconds whether or not the earlier ones
have been answered, as employees do. Two runs in the same invocation, each on a fresh data
directory: KI-vett without a SharePoint list (the baseline: cards stay in SQLite), then with the
list on the rate-limited fake. Arrivals (10 a second) outpace what the list allows (5 a second),
so the outbox has a backlog for most of the run and drains at the allowed rate. Measured:

- the employee's wait, submit → "saved", p50 / p99, and the ratio with the list ÷ without it
  (goal: p99 ≤ 1.2×);
- the drain rate: cards created ÷ the time from the first create to the last, against what the
  bucket allowed over the same time (BURST + RATE × time; goal ≥ 0.9);
- 429s: all of them, and the runs of 429s after the first run (goal 0: the outbox learns the rate
  from the first 429 and stays under it); duplicates, lost cards and Graph contract violations.

    .venv/bin/python -m bench.outbox                 # 600 cards: about 4 minutes
    .venv/bin/python -m bench.outbox --quick         # 200 cards, a smoke check
    .venv/bin/python -m bench.outbox --write-docs    # and write the table into the docs
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
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
START, END = "<!-- bench:outbox:start -->", "<!-- bench:outbox:end -->"
TENANT = "tenant"
SITE = "https://contoso.sharepoint.com/sites/ki"
EMPLOYEES = 20
ARRIVALS = 10.0  # cards a second, open-loop
LATENCY_MS = 100  # the fake Graph's answer time
RATE = 5.0  # writes a second the fake Graph allows …
BURST = 10  # … and how many at once
LIFETIME_SECONDS = 1800  # no process of this benchmark outlives this, whatever happens


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (the `timeout` wrapper and the Python under it)."""
    return cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in _children(pid))


# -- the fake Graph in its own process


def _list_columns() -> list[dict[str, Any]]:
    """The learning-card list's columns, as `kivett sharepoint setup` names them (no unique
    constraint on the card id: a second create of the same card would show as a duplicate)."""
    from bot.content_loader import load_content
    from bot.core.sharepoint_schema import columns
    from dialogs.learning_card import LearningCardDialog

    content = load_content()
    choices = (
        LearningCardDialog(content.policy, content.service_areas)
        .labels(content.catalog.texts("nb"))
        .list_choices()
    )
    return [{"name": spec.name, "displayName": spec.display_name} for spec in columns(choices)]


def serve_fake(port: int, latency_ms: int, rate: float, burst: int) -> None:
    """`FakeGraph` with the site and the list, `latency_ms` before every answer, a token bucket of
    `rate` writes a second and `burst` at once (rate 0: no limit), and GET /_stats with what it
    recorded."""
    from aiohttp import web
    from aiohttp.typedefs import Handler

    from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
    from bot.core.sharepoint_schema import CARD_ID_COLUMN
    from bot.settings import Settings
    from tests.fakes.graph import FakeGraph, TokenBucket

    list_name = Settings().sharepoint_list  # the default list name
    fake = FakeGraph(
        token=LOCAL_DEV_TOKEN, rate_limit=TokenBucket(rate, burst) if rate > 0 else None
    )
    site_id = fake.add_site("contoso.sharepoint.com", "/sites/ki")
    target = fake.add_list(site_id, list_name, _list_columns())
    fake.base_url = f"http://127.0.0.1:{port}/v1.0"  # for @odata.nextLink
    creates = {"posts": 0}
    created_at: list[float] = []
    latency = latency_ms / 1000

    @web.middleware
    async def slow(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/_stats":
            return await handler(request)
        if latency:
            await asyncio.sleep(latency)
        is_create = request.method == "POST" and request.path.endswith("/items")
        creates["posts"] += is_create
        response = await handler(request)
        if is_create and response.status == 201:
            created_at.append(time.time())
        return response

    async def stats(request: web.Request) -> web.Response:
        card_ids = [item["fields"].get(CARD_ID_COLUMN) for item in target.items.values()]
        body: dict[str, Any] = {
            "items_created": fake.items_created,
            "unique_cards": len(set(card_ids)),
            "throttled": fake.by_status[429],
            "throttle_episodes": fake.throttle_episodes,
            "create_posts": creates["posts"],
            "requests": len(fake.requests),
            "by_status": {str(k): v for k, v in fake.by_status.items()},
            "violations": len(fake.violations),
            "violation_samples": fake.violations[:3],
            "first_create_at": created_at[0] if created_at else None,
            "last_create_at": created_at[-1] if created_at else None,
            "cpu_seconds": time.process_time(),
        }
        if request.query.get("full"):
            body["card_ids"] = card_ids
        return web.json_response(body)

    app = web.Application(middlewares=[slow])
    app.router.add_get("/_stats", stats)
    app.router.add_route("*", "/{tail:.*}", fake._handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- processes


def bot_env(data_dir: Path, graph_url: str | None) -> dict[str, str]:
    """The bot's environment; `graph_url` None: no SharePoint list (cards stay in SQLite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "KIVETT_"))}
    env.update(
        {
            "KIVETT_DATA_DIR": str(data_dir),
            "KIVETT_OUTBOX_INTERVAL_SECONDS": "1",
            "KIVETT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    if graph_url is not None:
        env.update({"KIVETT_SHAREPOINT_SITE": SITE, "KIVETT_GRAPH_BASE_URL": graph_url})
    return env


# -- the employees


def _saved_title() -> str:
    from content import load_catalog

    return str(load_catalog().texts("nb")("learning.saved_title"))


def _first_text(card: Any) -> str | None:
    """The first TextBlock's text, depth first, as a reader sees it."""
    if isinstance(card, dict):
        if card.get("type") == "TextBlock" and isinstance(card.get("text"), str):
            return str(card["text"])
        nodes: list[Any] = [card[key] for key in ("body", "items", "columns") if key in card]
    elif isinstance(card, list):
        nodes = card
    else:
        return None
    for node in nodes:
        found = _first_text(node)
        if found is not None:
            return found
    return None


def _submit(employee: int, data: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",  # never called: invokes are answered in the response
        "locale": "nb-NO",
        "from": {"id": f"29:bench-employee-{employee}", "aadObjectId": f"aad-employee-{employee}"},
        "recipient": {"id": "28:kivett", "name": "KI-vett"},
        "conversation": {
            "id": f"a:bench-employee-{employee}",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "value": {
            "action": {"type": "Action.Execute", "verb": "laeringskort.submit", "data": data}
        },
    }


def card_data(card_id: str, number: int) -> dict[str, str]:
    return {
        "v": "1",
        "card": card_id,
        "title": f"Utkast til svar på byggesøknad nr. {number}",
        "area": "technical",
        "task": "write",
        "tool": "copilot_chat",
        "what": "Jeg ba om et utkast til et standardsvar og rettet språket etterpå.",
        "result": "Godt utkast, sparte mye skriving.",
        "benefit": "4",
        "minutes": "20",
        "per_month": "6",
        "category": "open",
        "recommend": "yes",
        "share": "true",
    }


async def _post(session: aiohttp.ClientSession, url: str, activity: dict[str, Any]) -> Any:
    async with session.post(url, json=activity) as response:
        body = await response.json(content_type=None)
        if response.status != 200 or not isinstance(body, dict) or "value" not in body:
            raise RuntimeError(f"the submit was not answered with a card: {response.status}")
        value = body["value"]
        return json.loads(value) if isinstance(value, str) else value


async def startup_wait(bot_port: int, fake_url: str, settle: float) -> float:
    """The longest submit → answer (ms) while the outbox makes its first round trips to Graph
    after a start (it reads the leads' statuses: site, list, items). One employee keeps sending a
    card the form refuses (nothing is stored) until the fake has answered three requests, and then
    for `settle` seconds more."""
    url = f"http://127.0.0.1:{bot_port}/api/messages"
    longest = 0.0
    settled_at: float | None = None
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while time.monotonic() < deadline:
            if settled_at is None and (await get_stats(fake_url))["requests"] >= 3:
                settled_at = time.monotonic() + settle
            if settled_at is not None and time.monotonic() >= settled_at:
                return longest
            refused = {**card_data(uuid.uuid4().hex, 0), "title": ""}
            began = time.perf_counter()
            await _post(session, url, _submit(0, refused))
            longest = max(longest, (time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.02)
    raise TimeoutError("the outbox did not reach the fake Graph within 60 s")


@dataclass
class Submitted:
    latencies: list[float]  # seconds, submit → "saved"
    started: list[float]  # seconds after the first submit, in the same order
    card_ids: set[str]
    first_submit_at: float  # time.time()
    last_answer_at: float
    not_saved: int


async def employees_submit(ports: Sequence[int], count: int, arrivals: float) -> list[Submitted]:
    """Open-loop, to each bot in `ports`: card i is posted to every bot at i / `arrivals` s after
    the first, by employee i mod 20, without waiting for earlier answers; the bots take their
    turns interleaved (bot k's card i goes out k / (`arrivals` × bots) s after bot 0's), so that
    what else runs on the machine falls on all of them alike."""
    saved_title = _saved_title()
    results = [Submitted([], [], set(), 0.0, 0.0, 0) for _ in ports]
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        # warm-up, not measured and not stored: each employee's first turn (conversation
        # reference written) with a card the form refuses (no title)
        await asyncio.gather(
            *(
                _post(
                    session,
                    f"http://127.0.0.1:{port}/api/messages",
                    _submit(e, {**card_data(uuid.uuid4().hex, 0), "title": ""}),
                )
                for e in range(EMPLOYEES)
                for port in ports
            )
        )
        first = time.time()
        began_at = time.perf_counter()

        async def one(bot: int, number: int) -> None:
            result = results[bot]
            at = began_at + number / arrivals + bot / (arrivals * len(ports))
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            card_id = uuid.uuid4().hex
            activity = _submit(number % EMPLOYEES, card_data(card_id, number))
            began = time.perf_counter()
            url = f"http://127.0.0.1:{ports[bot]}/api/messages"
            card = await _post(session, url, activity)
            result.latencies.append(time.perf_counter() - began)
            result.started.append(began - began_at)
            title = _first_text(card) or ""
            if title.endswith(saved_title):
                result.card_ids.add(card_id)
            else:
                result.not_saved += 1

        await asyncio.gather(
            *(one(bot, number) for number in range(count) for bot in range(len(ports)))
        )
    for result in results:
        result.first_submit_at, result.last_answer_at = first, time.time()
    return results


# -- one run


@dataclass
class Run:
    scenario: str
    sharepoint: bool
    cards: int
    saved: int
    p50_ms: float
    p99_ms: float
    startup_wait_ms: float
    submit_seconds: float
    drain_seconds: float  # first create → last create
    rate: float  # cards created per second over the drain
    allowed: float  # what the bucket allowed per second over the same time (BURST/T + RATE)
    throttled: int
    throttle_episodes: int
    items_created: int
    duplicates: int
    lost: int
    violations: int
    not_delivered: int  # cards not `delivered` in SQLite at the end (with the list)
    create_posts: int
    bot_cpu_seconds: float
    fake_cpu_seconds: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def wait_drained(fake_url: str, count: int, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    stats = await get_stats(fake_url)
    while time.monotonic() < deadline:
        if stats["unique_cards"] >= count:
            return stats
        await asyncio.sleep(0.25)
        stats = await get_stats(fake_url)
    raise TimeoutError(f"{stats['unique_cards']} of {count} cards in the list after {within:.0f} s")


def run(count: int, *, workdir: Path, split: bool = False) -> list[Run]:
    """Both bots at once, on the same arrivals: without a list (the baseline) and with it. With
    `split`, the bot with the list is two processes on one data directory, as the worker role
    runs it: `kivett serve` with `KIVETT_WORKERS=off` answers the turns and `kivett worker` runs
    the outbox (its CPU is counted with the bot's)."""
    names = [
        "no SharePoint list (baseline)",
        f"SharePoint list: Graph {LATENCY_MS} ms, {RATE:g} writes/s (burst {BURST})"
        + (", outbox in `kivett worker`" if split else ""),
    ]
    dirs = [workdir / "baseline", workdir / "sharepoint"]
    for path in dirs:
        (path / "data").mkdir(parents=True)
    fake_port, ports = free_port(), [free_port(), free_port()]
    fake_url = f"http://127.0.0.1:{fake_port}"
    within = count / RATE * 2 + 120
    say(f"{count} cards to each bot at {ARRIVALS:g}/s")
    with contextlib.ExitStack() as stack:
        fake_proc = stack.enter_context(
            spawn(
                [
                    PYTHON,
                    "-m",
                    "bench.outbox",
                    "--serve-fake",
                    str(fake_port),
                    "--latency-ms",
                    str(LATENCY_MS),
                    "--rate",
                    str(RATE),
                    "--burst",
                    str(BURST),
                ],
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                cwd=ROOT,
                log=workdir / "fake.log",
                lifetime_seconds=LIFETIME_SECONDS,
            )
        )
        asyncio.run(wait_http(f"{fake_url}/_stats"))
        bots = [
            stack.enter_context(
                spawn(
                    [PYTHON, "-m", "bot", "serve", "--dev", "--port", str(port)],
                    env=bot_env(path / "data", f"{fake_url}/v1.0" if listed else None)
                    | ({"KIVETT_WORKERS": "off"} if listed and split else {}),
                    cwd=path / "data",
                    log=path / "bot.log",
                    lifetime_seconds=LIFETIME_SECONDS,
                )
            )
            for port, path, listed in zip(ports, dirs, (False, True), strict=True)
        ]
        if split:
            worker_port = free_port()
            bots.append(
                stack.enter_context(
                    spawn(
                        [PYTHON, "-m", "bot", "worker", "--dev", "--port", str(worker_port)],
                        env=bot_env(dirs[1] / "data", f"{fake_url}/v1.0"),
                        cwd=dirs[1] / "data",
                        log=dirs[1] / "worker.log",
                        lifetime_seconds=LIFETIME_SECONDS,
                    )
                )
            )
            asyncio.run(wait_http(f"http://127.0.0.1:{worker_port}/readyz"))
        for port in ports:
            asyncio.run(wait_http(f"http://127.0.0.1:{port}/readyz"))
        startup = asyncio.run(startup_wait(ports[1], fake_url, 1.0 + LATENCY_MS / 1000))
        submitted = asyncio.run(employees_submit(ports, count, ARRIVALS))
        say(f"submitted in {submitted[1].last_answer_at - submitted[1].first_submit_at:.1f} s")
        with suppress(TimeoutError):
            asyncio.run(wait_drained(fake_url, count, within))
        time.sleep(1.5)  # a late second create would land by now; SQLite catches up
        stats = asyncio.run(get_stats(fake_url, full=True))
        cpu = [tree_cpu_seconds(bot.pid) for bot in bots]
        if split:  # the worker's CPU is the listed bot's too
            cpu = [cpu[0], cpu[1] + cpu[2]]
        fake_cpu = tree_cpu_seconds(fake_proc.pid)
    items = {str(card_id) for card_id in stats["card_ids"]}
    first, last = stats["first_create_at"], stats["last_create_at"]
    drain = (last - first) if first is not None and last is not None else 0.0
    results: list[Run] = []
    for index, (name, path, done) in enumerate(zip(names, dirs, submitted, strict=True)):
        listed = index == 1
        rows = query(path / "data", "SELECT card_id, state FROM learning_cards")
        stored = {str(card_id) for card_id, _ in rows}
        ms = [latency * 1000 for latency in done.latencies]
        slowest = [
            (round(wait), round(at, 2))
            for wait, at in sorted(zip(ms, done.started, strict=True), reverse=True)[:5]
        ]
        say(f"[{name}] slowest submits (ms, s after the first): {slowest}")
        result = Run(
            scenario=name,
            sharepoint=listed,
            cards=count,
            saved=len(done.card_ids),
            p50_ms=percentile(ms, 0.50),
            p99_ms=percentile(ms, 0.99),
            startup_wait_ms=startup if listed else 0.0,
            submit_seconds=done.last_answer_at - done.first_submit_at,
            drain_seconds=drain if listed else 0.0,
            rate=len(items) / drain if listed and drain > 0 else 0.0,
            allowed=(BURST / drain + RATE) if listed and drain > 0 else 0.0,
            throttled=stats["throttled"] if listed else 0,
            throttle_episodes=stats["throttle_episodes"] if listed else 0,
            items_created=stats["items_created"] if listed else 0,
            duplicates=stats["items_created"] - stats["unique_cards"] if listed else 0,
            lost=len((stored | done.card_ids) - items) if listed else 0,
            violations=stats["violations"] if listed else 0,
            not_delivered=sum(1 for _, state in rows if state != "delivered") if listed else 0,
            create_posts=stats["create_posts"] if listed else 0,
            bot_cpu_seconds=cpu[index],
            fake_cpu_seconds=fake_cpu,
        )
        say(f"[{name}] {result}")
        results.append(result)
    if stats["violation_samples"]:
        say(f"violations: {stats['violation_samples']}")
    return results


# -- the report


def table(pairs: list[list[Run]], quick: bool) -> str:
    """The runs of every pair in one table, then each pair's figures against the goals."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = pairs[0][0].cards
    lines = [
        f"Measured {when} on {machine}, {load_average()}"
        f"{' (quick run)' if quick else ''}; in each pair both bots ran at the same time, "
        f"{cards:,} cards to each, open-loop at {ARRIVALS:g} a second from {EMPLOYEES} "
        "employees, their turns interleaved. The second pair runs the bot with the list as two "
        "processes on one data directory: `kivett serve` with `KIVETT_WORKERS=off` answers the "
        "turns, `kivett worker` runs the outbox.",
        "",
        "| run | cards saved | submit → saved p50 ms | p99 ms | longest wait at start ms "
        "| cards/s to the list | allowed /s | 429s | 429 runs after the first | duplicates "
        "| lost | contract violations |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for runs in pairs:
        for r in runs:
            if r.sharepoint:
                to_list = (
                    f"| {r.rate:.2f} | {r.allowed:.2f} | {r.throttled} "
                    f"| {max(0, r.throttle_episodes - 1)} | {r.duplicates} | {r.lost} "
                    f"| {r.violations} |"
                )
            else:
                to_list = "| – | – | – | – | – | – | – |"
            lines.append(
                f"| {r.scenario} | {r.saved:,} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
                f"| {r.startup_wait_ms:.0f} {to_list}"
            )
    notes: list[str] = []
    for number, (base, listed) in enumerate(pairs):
        setup = (
            "One process (`kivett serve` runs the outbox)"
            if number == 0
            else "Two processes (`kivett serve` with `KIVETT_WORKERS=off` + `kivett worker`)"
        )
        notes += ["", f"{setup}:", "", *_pair_notes(base, listed)]
    return "\n".join([*lines, *notes])


def _pair_notes(base: Run, listed: Run) -> list[str]:
    p99 = listed.p99_ms / base.p99_ms if base.p99_ms else 0.0
    p50 = listed.p50_ms / base.p50_ms if base.p50_ms else 0.0
    share = listed.rate / listed.allowed if listed.allowed else 0.0
    after_first = max(0, listed.throttle_episodes - 1)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    return [
        f"- Saved, with the list ÷ without it: **p99 × {p99:.2f}** (goal ≤ 1.2: "
        f"{verdict(p99 <= 1.2)}), p50 × {p50:.2f}.",
        f"- Drain: **{share:.2f} × the allowed rate** (goal ≥ 0.9: {verdict(share >= 0.9)}): "
        f"{listed.items_created:,} cards created in {listed.drain_seconds:.1f} s from the first "
        f"create to the last, where the bucket allowed {BURST} + {RATE:g}/s × that time.",
        f"- 429s: {listed.throttled} in {listed.throttle_episodes} run(s); **runs after the first: "
        f"{after_first}** (goal 0: {verdict(after_first == 0)}). The first run holds the writes "
        "already under way when the first 429 came (the outbox writes four at a time).",
        f"- The outbox sent {listed.create_posts:,} creates for {listed.cards:,} cards; cards not "
        f"`delivered` in SQLite at the end: {listed.not_delivered}. All cards were submitted "
        f"within {listed.submit_seconds:.1f} s. CPU: the bot {base.bot_cpu_seconds:.0f} s / "
        f"{listed.bot_cpu_seconds:.0f} s (baseline / with the list, each including its start), "
        f"the fake Graph {listed.fake_cpu_seconds:.0f} s.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=None, help="default 600")
    parser.add_argument("--quick", action="store_true", help="200 cards (smoke check)")
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="only the pair with the outbox in the bot's process (not with `kivett worker`)",
    )
    parser.add_argument("--serve-fake", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--latency-ms", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--burst", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fake:
        serve_fake(args.serve_fake, args.latency_ms, args.rate, args.burst)
        return 0
    count = args.cards or (200 if args.quick else 600)
    with tempfile.TemporaryDirectory(prefix="kivett-bench-outbox-") as tmp:
        pairs = [run(count, workdir=Path(tmp) / "one-process")]
        if not args.one_process:
            pairs.append(run(count, workdir=Path(tmp) / "worker-role", split=True))
    text = table(pairs, args.quick)
    print(text)
    problems = [
        r.scenario
        for runs in pairs
        for r in runs
        if r.lost or r.duplicates or r.violations or r.saved != r.cards or r.not_delivered
    ]
    if args.write_docs:
        replace_section(DOC, START, END, text)
        say(f"written to {DOC.relative_to(ROOT)} ({START} … {END})")
    if problems:
        say(f"lost, duplicated, unsaved or refused cards in: {', '.join(problems)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

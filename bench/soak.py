"""bench/soak: 2,000 conversations for 60 seconds against KI-vett (one or several processes):
latency, errors and whether memory stays flat.

Processes: KI-vett (`python -m bot serve --dev`, on embedded SQLite or on Azure Storage against
Azurite from node_modules); a recording connector stub (`python -m bench.soak --serve-stub PORT`,
in its own process: it answers the bot's replies as bench/connector_stub.py does and also records
which activity each reply answers and the title of the card it carries); and this process, the
load generator. Every conversation loops through a mix of what people do, one turn after the other
without pauses: `hjelp`, `ki-sjekk`, the four KI-sjekk steps as `adaptiveCard/action` invokes
(`kisjekk.next` task → tool → category → more, which gives the verdict), the verdict's "was this
useful" (`kisjekk.feedback`), a question in plain words, `vettregler` and `læringskort` (the form
opens). KI-sjekk answers and questions vary between turns (seeded, so every run sends the same).

The run has two parts under the same load, without a break between them: a warm-up, until every
conversation has had every kind of turn answered twice (`WARMUP_PASSES`: every kind of turn,
card, stored reference, dialog state and memo entry exists, and the heap has reached its
high-water mark under the full mix; `--warmup-limit` caps it), then `--seconds` measured.
Conversations begin their first round at different flows of the mix (`staggered`), as people are
not in step with each other.
Turns, latency, CPU and the memory slope are from the measured part; errors are counted in both.

Counted as errors: an answer that is not 2xx or does not come within 30 s, an invoke answered with
an error, stale or fallback card, a message whose reply never reached the stub or whose reply is
such a card, and every ERROR / `turn_failed` line in the bot's log. The bots' resident memory is
sampled every second (at the start, after the warm-up, at the end, and the slope while measuring
in MB per minute and process: flat memory is about 0).

    .venv/bin/python -m bench.soak                      # SQLite and Azure, 1 and 2 processes
    .venv/bin/python -m bench.soak --quick              # SQLite, 1 process, 200 for 20 s
    .venv/bin/python -m bench.soak --storage sqlite --processes 1 --seconds 20 --conversations 50
    .venv/bin/python -m bench.soak --storage sqlite --processes 1 --seconds 240   # a longer look
    .venv/bin/python -m bench.soak --write-docs         # and write the table into the docs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.common import cpu_seconds, free_port, replace_section, say
from bench.turns import (
    PYTHON,
    ROOT,
    _wait,
    azure_env,
    execute,
    message,
    process,
    rss_mb,
)
from tests.azurite import start_azurite as azurite

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:soak:start -->", "<!-- bench:soak:end -->"
HEADING = "## bench/soak: 2,000 conversations for 60 seconds"
REQUEST_TIMEOUT_S = 30.0
RSS_GOAL_MB_PER_MIN = 5.0
WARMUP_PASSES = 2
"""A conversation is warm once every kind of turn has been answered this many times. After one
pass every conversation's stored records and memo entries exist, but the process's heap is still
reaching its high-water mark under the mixed load: SQLite, one process (2026-12-03 17:36 run)
was at 161 MB when every kind had been answered once (60 s), 172 MB at 120 s (about two passes),
then flat for the next 60 s; measured from the first pass, that tail read as +5.25 MB/min."""
"""Flat memory: after warm-up each process's resident memory grows by at most this much."""
LOG_ERROR_EVENTS = {"turn_failed", "error_reply_failed"}


def _bad_titles() -> frozenset[str]:
    """Titles of the cards that mean something went wrong: error, storage down, stale, fallback."""
    titles: set[str] = set()
    for language in ("nb", "nn", "en"):
        texts = yaml.safe_load((ROOT / "content" / language / "texts.yaml").read_text("utf-8"))
        titles |= {
            texts["error"]["title"],
            texts["error"]["storage_title"],
            texts["stale"]["title"],
            texts["fallback"]["title"],
        }
    return frozenset(titles)


def card_title(card: Any) -> str:
    """The first TextBlock's text in an Adaptive Card (our cards start with their title)."""
    if not isinstance(card, dict):
        return ""
    for element in card.get("body") or ():
        if isinstance(element, dict) and element.get("type") == "TextBlock":
            return str(element.get("text", ""))
        if isinstance(element, dict) and element.get("items"):
            found = card_title({"body": element["items"]})
            if found:
                return found
    return ""


# -- the recording connector stub, in its own process


def serve_stub(port: int) -> None:
    """Answers like bench/connector_stub.py; records reply_to → card title; GET /_stats."""
    import itertools

    from aiohttp import web

    ids = itertools.count(1)
    replies: dict[str, list[str]] = {}
    other = Counter[str]()

    async def activities(request: web.Request) -> web.Response:
        body = await request.read()
        title = ""
        try:
            activity = json.loads(body)
            attachments = activity.get("attachments") or []
            if attachments:
                title = card_title(attachments[0].get("content"))
            elif activity.get("text"):
                title = f"text:{str(activity['text'])[:40]}"
        except (ValueError, AttributeError, TypeError):
            title = "unreadable"
        reply_to = request.match_info.get("reply_to")
        if reply_to:
            replies.setdefault(reply_to, []).append(title)
        else:
            other[title] += 1
        return web.json_response({"id": str(next(ids))})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "replies": replies,
                "other": dict(other),
                "cpu_seconds": time.process_time(),
            }
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v3/conversations/{conversation}/activities", activities)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", activities)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", activities)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the mix of turns

TASKS = ("write", "summarise", "translate", "ideas", "code")
TOOLS = ("chatgpt", "copilot_chat", "m365_copilot", "deepl", "gemini")
CATEGORIES = ("open", "restricted", "confidential", "unsure")
QUESTIONS = (
    "kan jeg bruke ChatGPT til å oppsummere et referat?",
    "Kan jeg oversette et brev til en innbygger med DeepL?",
    "kan jeg bruke Copilot til å skrive et saksframlegg",
    "Er det lov å lage bilder med Gemini til en plakat?",
)


KINDS = (
    "hjelp",
    "ki-sjekk start",
    "ki-sjekk task",
    "ki-sjekk tool",
    "ki-sjekk category",
    "ki-sjekk verdict",
    "ki-sjekk feedback",
    "question",
    "vettregler",
    "læringskort",
)
"""The turns of one round of the mix, in order (`session`)."""

FLOWS = (
    ("hjelp",),
    tuple(k for k in KINDS if k.startswith("ki-sjekk")),
    ("question",),
    ("vettregler",),
    ("læringskort",),
)
"""The round's flows: a conversation's first round may begin at any of them (`staggered`)."""


def staggered(turns: list[Turn], index: int) -> list[Turn]:
    """Conversation `index`'s first round, begun at flow `index % len(FLOWS)` and wrapped round
    (the KI-sjekk steps stay together and in order). People are not in step: without this, 2,000
    conversations started together would all ask for the same kind of turn at the same moment
    (all verdicts, then all lesson lists ...), a lockstep that real use never has."""
    first = FLOWS[index % len(FLOWS)][0]
    at = next(i for i, turn in enumerate(turns) if turn.kind == first)
    return turns[at:] + turns[:at]


@dataclass(frozen=True)
class Turn:
    kind: str
    body: dict[str, Any]


def session(stub: str, conversation: str, rng: random.Random) -> list[Turn]:
    """One round of what a person does with KI-vett, in order."""
    answers = {
        "task": rng.choice(TASKS),
        "tool": rng.choice(TOOLS),
        "category": rng.choice(CATEGORIES),
        "decision": rng.choice(("none", "individual_case", "services")),
        "publish": rng.choice(("yes", "no")),
        "flags": rng.choice(("none", "none", "secrets")),
    }
    a = answers
    return [
        Turn("hjelp", message(stub, conversation, "hjelp")),
        Turn("ki-sjekk start", message(stub, conversation, "ki-sjekk")),
        Turn(
            "ki-sjekk task",
            execute(stub, conversation, "kisjekk.next", step="task", choice=a["task"]),
        ),
        Turn(
            "ki-sjekk tool",
            execute(
                stub, conversation, "kisjekk.next", step="tool", task=a["task"], choice=a["tool"]
            ),
        ),
        Turn(
            "ki-sjekk category",
            execute(
                stub,
                conversation,
                "kisjekk.next",
                step="category",
                task=a["task"],
                tool=a["tool"],
                choice=a["category"],
            ),
        ),
        Turn("ki-sjekk verdict", execute(stub, conversation, "kisjekk.next", step="flags", **a)),
        Turn(
            "ki-sjekk feedback",
            execute(
                stub,
                conversation,
                "kisjekk.feedback",
                step="verdict",
                useful=rng.choice(("yes", "no")),
                **a,
            ),
        ),
        Turn("question", message(stub, conversation, rng.choice(QUESTIONS))),
        Turn("vettregler", message(stub, conversation, "vettregler")),
        Turn("læringskort", message(stub, conversation, "læringskort")),
    ]


# -- measuring


@dataclass(frozen=True)
class Counters:
    """CPU seconds at one moment: the bots (summed), Azurite, the load generator, the machine's
    busy and total jiffies."""

    bots: float
    azurite: float
    load: float
    machine: tuple[int, int]


@dataclass
class Sampler:
    """Samples the processes' RSS (summed) and the CPU counters once a second on a thread (the
    event loop is busy)."""

    pids: list[int]
    azurite_pid: int | None = None
    samples: list[tuple[float, float]] = field(default_factory=list)
    counters: list[tuple[float, Counters]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def now(self) -> Counters:
        return Counters(
            bots=sum(cpu_seconds(pid) for pid in self.pids),
            azurite=cpu_seconds(self.azurite_pid) if self.azurite_pid else 0.0,
            load=time.process_time(),
            machine=machine_cpu(),
        )

    def start(self, t0: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                total = sum(rss_mb(pid) for pid in self.pids)
                at = time.perf_counter() - t0
                self.samples.append((at, total))
                self.counters.append((at, self.now()))
                self._stop.wait(1.0)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def at(self, t: float) -> Counters:
        """The counters sampled first at or after `t` (the last ones if none)."""
        return next((c for at, c in self.counters if at >= t), self.counters[-1][1])


def slope_mb_per_minute(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 2:
        return 0.0
    ts = [t for t, _ in samples]
    ys = [y for _, y in samples]
    mean_t, mean_y = statistics.fmean(ts), statistics.fmean(ys)
    spread = sum((t - mean_t) ** 2 for t in ts)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / spread * 60


@dataclass
class Phase:
    """What the conversations saw in one phase of the run (the warm-up, or the measured time)."""

    turns: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    non_2xx: int = 0
    timeouts: int = 0
    bad_invoke_cards: int = 0
    missing_replies: int = 0
    bad_replies: int = 0
    log_errors: int = 0
    log_warnings: Counter[str] = field(default_factory=Counter)
    titles: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return (
            self.non_2xx
            + self.timeouts
            + self.bad_invoke_cards
            + self.missing_replies
            + self.bad_replies
            + self.log_errors
        )

    @property
    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)


@dataclass
class Soak:
    """One run: a warm-up in which every conversation has every kind of turn answered twice (the
    load already at its full level), then `seconds` of measurement under the same load."""

    storage: str
    conversations: int
    seconds: float
    processes: int = 1
    warmup_limit_s: float = 600.0
    ramp_s: float = 0.0
    """Conversations join evenly over this many seconds at the start (0: all at once)."""
    cold_start_ms: float = 0.0
    warmup: Phase = field(default_factory=Phase)
    measured: Phase = field(default_factory=Phase)
    warmup_s: float | None = None
    """When measuring began, from the start of the load: every conversation had had every kind
    of turn answered WARMUP_PASSES times (or `warmup_limit_s` had passed: see `warmup_complete`)."""
    warmup_rounds: int = 0
    """How many conversations were warm (WARMUP_PASSES) when measuring began."""
    warmup_ended_at: datetime | None = None
    rss: list[tuple[float, float]] = field(default_factory=list)
    rss_start: float = 0.0
    bot_cpu_s: float = 0.0
    azurite_cpu_s: float = 0.0
    stub_cpu_s: float = 0.0
    load_cpu_s: float = 0.0
    machine_busy: float = 0.0

    @property
    def name(self) -> str:
        unit = "process" if self.processes == 1 else "processes"
        return f"{self.storage}, {self.processes} {unit}"

    @property
    def warmup_complete(self) -> bool:
        return self.warmup_rounds == self.conversations

    @property
    def measure_from(self) -> float:
        return self.warmup_s if self.warmup_s is not None else 0.0

    @property
    def measure_until(self) -> float:
        return self.measure_from + self.seconds

    @property
    def window(self) -> list[tuple[float, float]]:
        """The RSS samples while measuring (the drain after the load stops is not included)."""
        return [(t, mb) for t, mb in self.rss if self.measure_from <= t <= self.measure_until]

    def rss_at(self, t: float) -> float:
        after = [mb for at, mb in self.rss if at >= t]
        return after[0] if after else self.rss[-1][1]

    @property
    def rss_end(self) -> float:
        """The last RSS sample while measuring."""
        window = self.window
        return window[-1][1] if window else self.rss[-1][1]

    @property
    def steady_slope(self) -> float:
        """MB per minute per process, least squares over the measured time (after warm-up)."""
        return slope_mb_per_minute(self.window) / self.processes

    @property
    def turns_per_s(self) -> float:
        return self.measured.turns / self.seconds

    @property
    def little_s(self) -> float:
        """What queueing alone predicts for the mean answer time (Little's law: conversations
        waiting on each other / turns per second), in seconds."""
        return self.conversations / self.turns_per_s if self.measured.turns else 0.0

    @property
    def errors(self) -> int:
        return self.warmup.errors + self.measured.errors

    def phase_at(self, t: float) -> Phase:
        """The phase a turn sent `t` seconds after the start of the load belongs to."""
        return self.measured if self.warmup_s is not None and t >= self.warmup_s else self.warmup


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


async def load(
    urls: list[str], stub: str, result: Soak, bad: frozenset[str], t0: float
) -> dict[str, tuple[str, Phase]]:
    """Run the conversations: a warm-up until every one is warm (WARMUP_PASSES),
    then `result.seconds` more under the same load (the conversations keep going without a
    break between the two: measuring starts on a steady state, not on a new burst). Returns
    message activity id → (kind, phase). A conversation always goes to the same process (as
    behind a load balancer with affinity). `t0` is when the load began (the RSS sampler's 0)."""
    sent_messages: dict[str, tuple[str, Phase]] = {}
    connector = aiohttp.TCPConnector(limit=result.conversations + 10)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    warmed = asyncio.Event()
    stop_at: float | None = None
    warm_conversations = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def conversation(index: int) -> None:
            nonlocal warm_conversations
            rng = random.Random(index)  # a reproducible mix
            cid = f"a:soak-{result.storage}-{index}-{uuid.uuid4().hex[:8]}"
            answered: Counter[str] = Counter()
            if result.ramp_s:
                await asyncio.sleep(result.ramp_s * index / result.conversations)
            first = True
            while True:
                turns = session(stub, cid, rng)
                if first:  # conversations begin at different flows (see `staggered`)
                    turns, first = staggered(turns, index), False
                for turn in turns:
                    if stop_at is not None and time.perf_counter() >= stop_at:
                        return
                    if await one(urls[index % len(urls)], turn):
                        # warm once every kind of turn has been answered WARMUP_PASSES times (in
                        # whichever rounds: a round restarts its flows, so a kind answered later
                        # is the same work)
                        answered[turn.kind] += 1
                        if answered[turn.kind] == WARMUP_PASSES and all(
                            answered[kind] >= WARMUP_PASSES for kind in KINDS
                        ):
                            warm_conversations += 1
                            if warm_conversations == result.conversations:
                                warmed.set()

        async def one(url: str, turn: Turn) -> bool:
            """Send one turn; True if it was answered (2xx in time)."""
            sent = time.perf_counter()
            phase = result.phase_at(sent - t0)
            try:
                async with http.post(url, json=turn.body) as response:
                    raw = await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError):
                phase.timeouts += 1
                return False
            phase.latencies.setdefault(turn.kind, []).append((time.perf_counter() - sent) * 1000)
            phase.turns += 1
            if status >= 300:
                phase.non_2xx += 1
                return False
            if turn.body["type"] == "message":
                sent_messages[turn.body["id"]] = (turn.kind, phase)
                return True
            try:
                answer = json.loads(raw)
                title = card_title(answer.get("value"))
                ok = answer.get("statusCode") == 200
            except (ValueError, AttributeError):
                title, ok = "unreadable", False
            phase.titles.setdefault(turn.kind, Counter())[title] += 1
            if not ok or title in bad:
                phase.bad_invoke_cards += 1
            return True

        async def measure() -> None:
            nonlocal stop_at
            with suppress(TimeoutError):
                await asyncio.wait_for(warmed.wait(), timeout=result.warmup_limit_s)
            now = time.perf_counter()
            result.warmup_s = now - t0
            result.warmup_rounds = warm_conversations
            result.warmup_ended_at = datetime.now(UTC)
            stop_at = now + result.seconds

        await asyncio.wait_for(
            asyncio.gather(measure(), *(conversation(i) for i in range(result.conversations))),
            timeout=result.warmup_limit_s + result.seconds + REQUEST_TIMEOUT_S + 30,
        )
    return sent_messages


async def first_answer(url: str, body: dict[str, Any], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.post(url, json=body) as response:
                    if response.status < 300:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise TimeoutError(f"{url} never answered")


async def stub_stats(stub: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{stub}/_stats") as response:
        stats = await response.json()
        assert isinstance(stats, dict)
        return stats


def read_log(log: Path, result: Soak) -> None:
    """Count the bot's ERROR / `turn_failed` lines and its warnings, each in the phase its time
    stamp falls in (a line without one counts in the measured time)."""
    for line in log.read_text("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if "Traceback" in line or "ERROR" in line:
                result.measured.log_errors += 1
            continue
        if not isinstance(entry, dict):
            continue
        phase = result.measured
        with suppress(KeyError, TypeError, ValueError):
            at = datetime.fromisoformat(str(entry["ts"]))
            if result.warmup_ended_at is None or at < result.warmup_ended_at:
                phase = result.warmup
        event = str(entry.get("event", ""))
        if entry.get("level") in ("ERROR", "CRITICAL") or event in LOG_ERROR_EVENTS:
            phase.log_errors += 1
            phase.log_warnings[f"ERROR {event}"] += 1
        elif entry.get("level") == "WARNING" and event != "dev_mode_unauthenticated":
            phase.log_warnings[event] += 1


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_soak(
    storage: str,
    conversations: int,
    seconds: float,
    tmp: Path,
    processes: int = 1,
    warmup_limit: float = 600.0,
    ramp: float = 0.0,
) -> Soak:
    result = Soak(
        storage,
        conversations,
        seconds,
        processes=processes,
        warmup_limit_s=warmup_limit,
        ramp_s=ramp,
    )
    bad = _bad_titles()
    data_dir = tmp / f"{storage}-{processes}"
    data_dir.mkdir()
    logs: list[Path] = []
    with ExitStack() as stack:
        stub_port = free_port()
        stub = f"http://127.0.0.1:{stub_port}"
        stack.enter_context(
            process([PYTHON, "-m", "bench.soak", "--serve-stub", str(stub_port)], cwd=ROOT)
        )
        asyncio.run(_wait(f"{stub}/healthz"))
        env = {
            "KIVETT_DATA_DIR": str(data_dir),
            "KIVETT_LOG_LEVEL": "WARNING",
            "KIVETT_STORAGE": "sqlite",
        }
        azurite_pid = None
        if storage == "azure":
            store = stack.enter_context(azurite(tmp / f"azurite-{processes}.log"))
            env.update(azure_env(store.connection_string))  # one container for all processes
            azurite_pid = store.pid
        urls: list[str] = []
        pids: list[int] = []
        for k in range(processes):
            port = free_port()
            url = f"http://127.0.0.1:{port}/api/messages"
            log = data_dir / f"bot-{k}.log"
            spawned = time.perf_counter()
            bot = stack.enter_context(
                process(
                    [PYTHON, "-m", "bot", "serve", "--dev", "--port", str(port)],
                    env=env,
                    cwd=data_dir,
                    log=log,
                )
            )
            try:
                asyncio.run(first_answer(url, message(stub, f"a:soak-first-{k}", "hjelp")))
            except TimeoutError:
                tail = log.read_text(errors="replace")[-3000:]
                raise SystemExit(
                    f"KI-vett ({storage}) never answered; its log ends:\n{tail}"
                ) from None
            if k == 0:
                result.cold_start_ms = (time.perf_counter() - spawned) * 1000
            urls.append(url)
            pids.append(bot.pid)
            logs.append(log)
        result.rss_start = sum(rss_mb(pid) for pid in pids)
        sampler = Sampler(pids, azurite_pid)
        t0 = time.perf_counter()
        sampler.start(t0)
        try:
            sent = asyncio.run(load(urls, stub, result, bad, t0))
        finally:
            sampler.stop()
        result.rss = sampler.samples
        begin, end = sampler.at(result.measure_from), sampler.at(result.measure_until)
        result.load_cpu_s = end.load - begin.load
        busy, total = (e - b for e, b in zip(end.machine, begin.machine, strict=True))
        result.machine_busy = busy / max(1, total)
        result.bot_cpu_s = end.bots - begin.bots
        result.azurite_cpu_s = end.azurite - begin.azurite
        stats = asyncio.run(stub_stats(stub))
        result.stub_cpu_s = float(stats["cpu_seconds"])
        replies: dict[str, list[str]] = stats["replies"]
        for activity_id, (kind, phase) in sent.items():
            got = replies.get(activity_id)
            if not got:
                phase.missing_replies += 1
                continue
            counter = phase.titles.setdefault(kind, Counter())
            for title in got:
                counter[title] += 1
            if any(title in bad for title in got):
                phase.bad_replies += 1
    for log in logs:  # after the bots have stopped: everything they wrote is in the files
        read_log(log, result)
    return result


# -- reporting


def verdict(result: Soak) -> str:
    if not result.warmup_complete:
        return "not measured"
    return "met" if result.steady_slope <= RSS_GOAL_MB_PER_MIN else "missed"


def warmup_note(result: Soak) -> str:
    if result.warmup_complete:
        return f"{result.measure_from:.0f} s"
    return (
        f"{result.measure_from:.0f} s, incomplete: {result.warmup_rounds:,} of "
        f"{result.conversations:,} through the mix"
    )


def errors_note(phase: Phase) -> str:
    return (
        f"{phase.errors} (non-2xx {phase.non_2xx}, no answer in {REQUEST_TIMEOUT_S:.0f} s "
        f"{phase.timeouts}, error/stale/fallback cards {phase.bad_invoke_cards + phase.bad_replies}"
        f", replies missing {phase.missing_replies}, ERROR lines in the logs {phase.log_errors})"
    )


def describe(result: Soak) -> str:
    ordered = result.measured.all_latencies
    return (
        f"{result.name}: warm-up {warmup_note(result)}, {result.warmup.turns} turns, errors "
        f"{errors_note(result.warmup)}; then {result.measured.turns} turns in "
        f"{result.seconds:.0f} s ({result.turns_per_s:.0f}/s), p50 "
        f"{percentile(ordered, 0.5):.1f} ms, p99 {percentile(ordered, 0.99):.1f} ms, Little's "
        f"law {result.little_s:.1f} s, errors {errors_note(result.measured)}; RSS start "
        f"{result.rss_start:.1f} MB, after warm-up {result.rss_at(result.measure_from):.1f}, "
        f"end {result.rss_end:.1f}, max {max(mb for _, mb in result.rss):.1f}, slope "
        f"{result.steady_slope:+.2f} MB/min per process; while measuring: bot CPU "
        f"{result.bot_cpu_s:.1f} s, load generator {result.load_cpu_s:.1f} s, machine busy "
        f"{result.machine_busy:.0%}"
    )


def table(results: list[Soak], seconds: float, conversations: int) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ramp = max((r.ramp_s for r in results), default=0.0)
    start = (
        f"the conversations join evenly over the first {ramp:.0f} s"
        if ramp
        else "the conversations all start in the same moment"
    )
    lines = [
        f"Measured {when} on {machine}, a machine shared with other work while it ran (the "
        "*machine busy* column is the share of all its cores in use while measuring, ours and "
        f"others'); {conversations:,} concurrent conversations, each turn sent as soon as the "
        "previous one was answered, a conversation always to the same process. *Warm-up*: "
        f"{start}, each at another of the mix's five flows (help, KI-sjekk, a question, "
        "lessons, learning card, then round the mix), and run until every one has had every "
        f"kind of turn answered {WARMUP_PASSES} times (every kind of turn, card, stored "
        "reference and memo entry exists, and memory has reached its high-water mark under the "
        "full mix); then "
        f"the same load goes on for {seconds:.0f} s *measured* (turns, latency, memory slope "
        "and CPU are from that part; errors are counted in both). Memory goal: while measuring "
        f"each process grows by at most {RSS_GOAL_MB_PER_MIN:.0f} MB/min (flat). *Little's "
        "law* is the mean answer time queueing alone gives at the measured rate (conversations "
        "/ turns per second): with no pauses between turns, a p50 near it means the time is "
        "spent waiting for the processor, not in a lock or a leak.",
        "",
        "| storage, processes | warm-up | errors in warm-up (no answer in 30 s) "
        "| turns measured | turns/s | p50 ms | p99 ms | Little's law ms | errors measured "
        "| RSS MB at start (all processes) | after warm-up | at end "
        "| RSS slope per process (MB/min) | goal ≤ 5 "
        "| bot CPU s | load generator CPU s | machine busy | cold start ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ordered = r.measured.all_latencies
        lines.append(
            f"| {r.name} | {warmup_note(r)} | {r.warmup.errors} ({r.warmup.timeouts}) "
            f"| {r.measured.turns:,} | {r.turns_per_s:.0f} "
            f"| {percentile(ordered, 0.5):.0f} | {percentile(ordered, 0.99):.0f} "
            f"| {r.little_s * 1000:.0f} | {r.measured.errors} "
            f"| {r.rss_start:.1f} | {r.rss_at(r.measure_from):.1f} | {r.rss_end:.1f} "
            f"| {r.steady_slope:+.2f} | {verdict(r)} "
            f"| {r.bot_cpu_s:.1f} | {r.load_cpu_s:.1f} | {r.machine_busy:.0%} "
            f"| {r.cold_start_ms:.0f} |"
        )
    kinds = list(dict.fromkeys(k for r in results for k in r.measured.latencies))
    header = " | ".join(f"{r.name} p50 ms | p99 ms" for r in results)
    lines += [
        "",
        f"| turn (measured) | {header} |",
        "| --- | " + " | ".join("---: | ---:" for _ in results) + " |",
    ]
    for kind in kinds:
        cells = []
        for r in results:
            ordered = sorted(r.measured.latencies.get(kind, []))
            cells.append(f"{percentile(ordered, 0.5):.0f} | {percentile(ordered, 0.99):.0f}")
        lines.append(f"| {kind} | {' | '.join(cells)} |")
    lines.append("")
    for r in results:
        warnings = r.warmup.log_warnings + r.measured.log_warnings
        listed = ", ".join(f"{event} × {n}" for event, n in warnings.most_common())
        extra = (
            f"; Azurite used {r.azurite_cpu_s:.1f} s CPU in its own process while measuring"
            if r.storage == "azure"
            else ""
        )
        lines.append(
            f"- {r.name}: warm-up {r.warmup.turns:,} turns, errors {errors_note(r.warmup)}; "
            f"measured errors {errors_note(r.measured)}; other warnings in the logs: "
            f"{listed or 'none'}{extra}; the connector stub used {r.stub_cpu_s:.1f} s CPU "
            "over the whole run."
        )
    return "\n".join(lines)


SECTION = f"""{HEADING}

```bash
.venv/bin/python -m bench.soak --write-docs   # SQLite and Azure, 1 and 2 processes: ~15 minutes
.venv/bin/python -m bench.soak --quick        # a smoke run: SQLite, 1 process, 200 for 20 s
```

### Results

{START}
{END}
"""

QUICK = {"conversations": 200, "seconds": 20.0, "storage": "sqlite", "processes": "1"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) == 2 and argv[0] == "--serve-stub":
        serve_stub(int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured, after the warm-up (default 60)"
    )
    parser.add_argument(
        "--warmup-limit",
        type=float,
        default=600.0,
        help="the longest warm-up: measuring begins then even if not every conversation has "
        "been through the mix (default 600 s)",
    )
    parser.add_argument("--conversations", type=int, default=2000, help="at once (default 2000)")
    parser.add_argument(
        "--ramp",
        type=float,
        default=0.0,
        help="conversations join evenly over this many seconds of the warm-up (default 0: all "
        "at once)",
    )
    parser.add_argument(
        "--storage", choices=("sqlite", "azure", "both"), default="both", help="default both"
    )
    parser.add_argument(
        "--processes",
        default="1,2",
        help="KI-vett processes sharing the store, comma-separated runs (default 1,2)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 1 process, 200 conversations for 20 s"
    )
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    args = parser.parse_args(argv)
    if args.quick:
        if args.write_docs:
            parser.error("--quick is a smoke run; --write-docs needs the full one")
        for key, value in QUICK.items():
            setattr(args, key, value)
    try:
        counts = [int(x) for x in str(args.processes).split(",")]
    except ValueError:
        parser.error("--processes takes numbers, e.g. 1,2")
    if not 1 <= args.seconds <= 3600 or not 1 <= args.conversations <= 5000:
        parser.error("--seconds must be 1-3600 and --conversations 1-5000")
    if not 1 <= args.warmup_limit <= 3600:
        parser.error("--warmup-limit must be 1-3600")
    if not 0 <= args.ramp < args.warmup_limit:
        parser.error("--ramp must be at least 0 and shorter than --warmup-limit")
    if not all(1 <= n <= 8 for n in counts):
        parser.error("--processes must be 1-8")
    if args.write_docs and args.storage != "both":
        parser.error("--write-docs needs --storage both: the docs show both storages")
    storages = ("sqlite", "azure") if args.storage == "both" else (args.storage,)
    results: list[Soak] = []
    with tempfile.TemporaryDirectory() as tmp:
        for storage in storages:
            for count in counts:
                print(f"soak: KI-vett on {storage}, {count} process(es)", file=sys.stderr)
                result = run_soak(
                    storage,
                    args.conversations,
                    args.seconds,
                    Path(tmp),
                    count,
                    args.warmup_limit,
                    args.ramp,
                )
                print("  " + describe(result), file=sys.stderr)
                every = [f"{t:.0f}s {mb:.1f}" for t, mb in result.rss if round(t) % 10 == 0]
                print(f"    RSS MB about every 10 s: {', '.join(every)}", file=sys.stderr)
                for kind, titles in result.measured.titles.items():
                    print(f"    {kind:18} {dict(titles.most_common(4))}", file=sys.stderr)
                results.append(result)
    text = table(results, args.seconds, args.conversations)
    print(text)
    if args.write_docs:
        replace_section(DOC, START, END, text, new_section=SECTION)
        say(f"written to {DOC.relative_to(ROOT)} ({START} … {END})")
    failed = [r.name for r in results if r.errors or verdict(r) != "met"]
    if failed:
        say(f"soak: errors, or memory not flat or not measured, in {', '.join(failed)} (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

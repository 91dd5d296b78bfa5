"""The aiohttp application factory. No globals: everything hangs off the app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from aiohttp import web

from bot.bootstrap import Overrides, Services, build_services, close_services
from bot.content_loader import Content
from bot.logs import get_logger
from bot.ports import StorageUnavailableError
from bot.settings import Settings

SERVICES = web.AppKey("services", Services)
READY_TIMEOUT_SECONDS = 2.0
BROADCAST_POLL_SECONDS = 1.0
WARM_UP_AFTER_SECONDS = 2.0
"""The lexicon's regular expressions are compiled on first use (a quicker start); this long after
start-up they are compiled ahead in a worker thread, so the first question does not wait."""

_log = get_logger("app")


def start_workers(
    services: Services, settings: Settings, overrides: Overrides
) -> list[asyncio.Task[None]]:
    """The background workers (weekly lessons, tips, the learning-card outbox, retention, trial
    reminders), each a task on this event loop; `overrides` can leave some out (tests)."""
    tasks: list[asyncio.Task[None]] = []
    if overrides.run_scheduler:
        tasks.append(
            asyncio.create_task(
                services.lessons_worker.run_forever(settings.scheduler_interval_seconds),
                name="kivett-lesson-scheduler",
            )
        )
    if overrides.run_broadcaster:
        tasks.append(
            asyncio.create_task(
                services.broadcaster.run_forever(BROADCAST_POLL_SECONDS),
                name="kivett-broadcaster",
            )
        )
    if overrides.run_outbox and services.outbox is not None:
        tasks.append(
            asyncio.create_task(
                services.outbox.run_forever(settings.outbox_interval_seconds),
                name="kivett-outbox",
            )
        )
    if overrides.run_retention:
        tasks.append(asyncio.create_task(services.retention.run_forever(), name="kivett-retention"))
    if overrides.run_trial_reminders and services.trial_reminders is not None:
        tasks.append(
            asyncio.create_task(
                services.trial_reminders.run_forever(), name="kivett-trial-reminders"
            )
        )
    return tasks


def started() -> None:
    """Start-up is over. `kivett serve` and `kivett worker` pause the garbage collector while
    they start (bot/cli.py): what a start makes (modules, content, the flows' table, the stores)
    lives as long as the process, so it is moved out of the collector's way for good
    (`gc.freeze`) and the collector switched back on. Where nobody paused it (tests building the
    app in their own process) this does nothing."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


async def _warm_up(services: Services) -> None:
    await asyncio.sleep(WARM_UP_AFTER_SECONDS)
    await asyncio.to_thread(services.content.lexicon.warm_up)


async def stop_workers(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(
    settings: Settings,
    *,
    dev: bool,
    overrides: Overrides | None = None,
    content: Content | None = None,
    workers: bool | None = None,
) -> web.Application:
    """`kivett serve`: answers turns on /api/messages and, unless `workers` is False (default:
    settings.workers, KIVETT_WORKERS), runs the workers in the same process."""
    app = web.Application()

    chosen = overrides or Overrides()
    run_workers = settings.workers if workers is None else workers

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = await build_services(settings, dev=dev, overrides=chosen, content=content)
        app[SERVICES] = services
        tasks = start_workers(services, settings, chosen) if run_workers else []
        if not run_workers:
            _log.info("workers_elsewhere")
        tasks.append(asyncio.create_task(_warm_up(services), name="kivett-warm-up"))
        started()
        yield
        await stop_workers(tasks)
        await close_services(services)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    return app


def create_worker_app(
    settings: Settings,
    *,
    dev: bool,
    overrides: Overrides | None = None,
    content: Content | None = None,
) -> web.Application:
    """`kivett worker`: the workers without the bot's endpoint. It listens only for /healthz
    (alive) and /readyz (the store answers), for a container's probes."""
    app = web.Application()
    chosen = overrides or Overrides()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = await build_services(settings, dev=dev, overrides=chosen, content=content)
        app[SERVICES] = services
        tasks = start_workers(services, settings, chosen)
        _log.info("workers_started", extra={"fields": {"workers": [t.get_name() for t in tasks]}})
        started()
        yield
        await stop_workers(tasks)
        await close_services(services)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    return app


async def _messages(request: web.Request) -> web.Response:
    return await request.app[SERVICES].teams.endpoint.handle(request)


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


STORAGE_REASONS = frozenset({"corrupt", "full", "read-only", "io-error", "busy", "unreachable"})
"""What /readyz says is wrong with the store: a store's ping raises StorageUnavailableError with one
of these as its message; anything else (or a ping that does not answer in time) is reported as
"unreachable", so no path, account or SDK message ever reaches the probe's body."""


async def _readyz(request: web.Request) -> web.Response:
    """200 when the store can be read and written now; 503 with the reason otherwise."""
    services = request.app[SERVICES]
    try:
        await asyncio.wait_for(services.db.ping(), timeout=READY_TIMEOUT_SECONDS)
    except StorageUnavailableError as exc:
        reason = str(exc) if str(exc) in STORAGE_REASONS else "unreachable"
    except TimeoutError:
        reason = "unreachable"
    else:
        return web.json_response({"status": "ready", "storage": "ok"})
    _log.warning("not_ready", extra={"fields": {"storage": reason}})
    return web.json_response({"status": "unavailable", "storage": reason}, status=503)

"""Reminders near a trial's end (bot/workers/trial_reminders.py), on the real SQLite stores and the
real broadcast worker, with a virtual clock: who gets the card, in which language, with which
buttons; who is counted and skipped; and exactly one job per trial across restarts and crashes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.sqlite.db import SqliteDatabase
from bot.bootstrap import Overrides, build_services, open_stores
from bot.core.rate_limit import RateLimiter
from bot.core.records import StoredReference
from bot.core.trials import Trial
from bot.ports import ActionLedger, BroadcastStore, Stores
from bot.settings import Settings
from bot.teams.app import start_workers, stop_workers
from bot.workers.broadcast import BroadcastWorker
from bot.workers.pacing import Pacer
from bot.workers.trial_reminders import TrialReminderWorker, reminder_key
from cards.renderer import CardRenderer
from cards.verbs import Verb
from content import Language, load_catalog
from dialogs.my_data import reminder_view
from tests.fakes.trials import sample_trial
from tests.node import adaptive_card_findings

ENDS = date(2027, 2, 28)
DUE = datetime(2027, 2, 25, 7, 0, tzinfo=UTC)  # 08:00 in Oslo, three days before the last day
CHAMPION, KARI, OLA, NEVER, PER = "aad-champion", "aad-kari", "aad-ola", "aad-never", "aad-per"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Killed(BaseException):
    """The process dies here (not an error the worker's loop would catch and log)."""


@dataclass
class Recorder:
    """A Teams that takes every proactive message (ProactiveSender)."""

    sent: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        self.sent.append((str(reference["conversation"]["id"]), card))

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        raise AssertionError("a reminder has no progress card to update")


def trial(trial_id: str = "a" * 32) -> Trial:
    return sample_trial(
        trial_id,
        owner=CHAMPION,
        participants=(CHAMPION, KARI, OLA, NEVER, PER),
        title="Referat fra teammøter med **Copilot**",
        unit="Hjemmetjenesten sone nord",
        created_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        starts=date(2026, 12, 1),
        ends=ENDS,
    )


def personal(user: str, locale: str = "nb-NO") -> StoredReference:
    chat = f"a:{user}"
    reference = {
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "locale": locale,
        "conversation": {"id": chat, "conversationType": "personal", "tenantId": "t"},
        "user": {"id": f"29:{user}", "aadObjectId": user},
    }
    return StoredReference(chat, "personal", "t", reference)


def channel(user: str) -> StoredReference:
    reference = {
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/",
        "conversation": {"id": "19:team@thread", "conversationType": "channel", "tenantId": "t"},
        "user": {"id": f"29:{user}", "aadObjectId": user},
    }
    return StoredReference("19:team@thread", "channel", "t", reference)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    opened = await open_stores(Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)}))
    await opened.trials.add(trial())
    await opened.references.save(personal(CHAMPION))
    await opened.references.save(personal(KARI, locale="en-GB"))  # Teams in English
    await opened.references.save(personal(OLA))
    await opened.languages.choose(OLA, "nn")  # chose nynorsk with `språk`
    await opened.references.save(channel(PER))  # only ever wrote in a channel: no chat of theirs
    yield opened
    await opened.backend.close()


def worker(
    stores: Stores,
    clock: Clock,
    *,
    broadcasts: BroadcastStore | None = None,
    actions: ActionLedger | None = None,
) -> TrialReminderWorker:
    renderer, catalog = CardRenderer(), load_catalog()

    def card(trial: Trial, language: Language) -> dict[str, Any]:
        return renderer.render(reminder_view(trial, language), catalog.texts(language))

    return TrialReminderWorker(
        trials=stores.trials,
        personal=stores.personal,
        languages=stores.languages,
        broadcasts=broadcasts or stores.broadcasts,
        actions=actions or stores.actions,
        reminder_card=card,
        malform="nb",
        clock=clock,
    )


async def send_jobs(stores: Stores, clock: Clock) -> Recorder:
    """What the broadcast worker sends of the queued jobs."""
    recorder = Recorder()
    now = clock().timestamp()
    broadcaster = BroadcastWorker(
        store=stores.broadcasts,
        references=stores.references,
        sender=recorder,
        pacer=Pacer(RateLimiter(), clock=lambda: now),
        progress_card=lambda job, progress, at: {},
        clock=lambda: now,
    )
    for job in await stores.broadcasts.runnable(now):
        await broadcaster.run_job(job)
    return recorder


async def job_count(stores: Stores) -> int:
    """Every job stored, sent or not."""
    db = stores.backend
    assert isinstance(db, SqliteDatabase)
    (count,) = await db.run(
        lambda conn: conn.execute("SELECT COUNT(*) FROM broadcast_jobs").fetchone()
    )
    return int(count)


def buttons(card: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(action["verb"], action["data"]) for action in card["actions"]]


def texts_of(card: Mapping[str, Any]) -> str:
    return " ".join(str(item.get("text", "")) for item in card["body"])


async def test_near_the_end_each_participant_gets_one_card_in_their_language(
    stores: Stores,
) -> None:
    clock = Clock(DUE - timedelta(days=1))
    reminders = worker(stores, clock)
    assert await reminders.run_once() == 0, "four days before the last day: not yet"
    assert await job_count(stores) == 0

    clock.now = DUE
    assert await reminders.run_once() == 1
    recorder = await send_jobs(stores, clock)
    by_chat = dict(recorder.sent)
    assert len(recorder.sent) == 3, "one message each, to the three the bot has a chat with"
    assert set(by_chat) == {f"a:{CHAMPION}", f"a:{KARI}", f"a:{OLA}"}
    assert "slutter 28.02.2027" in texts_of(by_chat[f"a:{CHAMPION}"])
    assert "ends on 2027-02-28" in texts_of(by_chat[f"a:{KARI}"])
    assert "sluttar 28.02.2027" in texts_of(by_chat[f"a:{OLA}"])
    languages = {f"a:{CHAMPION}": "nb", f"a:{KARI}": "en", f"a:{OLA}": "nn"}
    for chat, card in by_chat.items():
        assert "\\*\\*Copilot\\*\\*" in texts_of(card), "the title shows as typed"
        assert buttons(card) == [
            (Verb.CARD_OPEN.value, {"v": 1, "trial": "a" * 32, "lang": languages[chat]}),
            (Verb.TRIAL_REMINDERS_OFF.value, {"v": 1, "lang": languages[chat]}),
        ]
    assert [a["title"] for a in by_chat[f"a:{CHAMPION}"]["actions"]][1] == (
        "Ikke send meg flere påminnelser om utprøvinger"
    )
    stored = await stores.trials.get("a" * 32)
    assert stored is not None
    assert stored.reminded
    assert stored.unreached == 2, "the one the bot never met and the one only seen in a channel"

    clock.now = DUE + timedelta(hours=1)
    assert await reminders.run_once() == 0
    assert await worker(stores, clock).run_once() == 0, "a restarted worker does not ask again"
    assert (await send_jobs(stores, clock)).sent == []


async def test_someone_who_turned_reminders_off_is_left_out(stores: Stores) -> None:
    await stores.trials.mute_reminders(KARI)
    clock = Clock(DUE)
    assert await worker(stores, clock).run_once() == 1
    chats = {chat for chat, _ in (await send_jobs(stores, clock)).sent}
    assert chats == {f"a:{CHAMPION}", f"a:{OLA}"}
    stored = await stores.trials.get("a" * 32)
    assert stored is not None
    assert stored.unreached == 2, "a choice to get none is not counted as unreachable"


async def test_a_trial_nobody_can_be_reached_in_is_marked_without_a_job(stores: Stores) -> None:
    lonely = replace(
        trial("b" * 32), owner=NEVER, draft=replace(trial().draft, participants=(NEVER, PER))
    )
    await stores.trials.add(lonely)
    for person in (CHAMPION, KARI, OLA):
        await stores.trials.mute_reminders(person)
    assert await worker(stores, Clock(DUE)).run_once() == 2
    assert await job_count(stores) == 0
    stored = await stores.trials.get("b" * 32)
    assert stored is not None
    assert (stored.reminded, stored.unreached) == (True, 2)


class DiesAfterJob:
    """The broadcast store stores the job, and the process dies before the worker goes on."""

    def __init__(self, inner: BroadcastStore) -> None:
        self._inner = inner

    async def create_job(self, **job: Any) -> Any:
        await self._inner.create_job(**job)
        raise Killed


class DiesAt:
    """The action ledger, with the process dying right after the claim or the settle."""

    def __init__(self, inner: ActionLedger, step: str) -> None:
        self._inner = inner
        self._step = step

    async def claim(self, action_id: str, kind: str) -> str | None:
        claimed = await self._inner.claim(action_id, kind)
        if self._step == "claim":
            raise Killed
        return claimed

    async def settle(self, action_id: str, outcome: str) -> None:
        await self._inner.settle(action_id, outcome)
        if self._step == "settle":
            raise Killed

    async def prune(self, before: datetime) -> int:
        return await self._inner.prune(before)


@pytest.mark.parametrize(
    ("step", "jobs", "unreached"),
    [
        # claimed, then killed before the job: the restart cannot tell this from the next case,
        # so it makes no job (never two); the participants miss this one reminder
        ("claim", 0, 0),
        # the job is stored, killed before the claim is settled: the restart makes no second one
        ("job", 1, 0),
        # settled, killed before the trial is marked: the restart marks it, with the count
        ("settle", 1, 2),
    ],
)
async def test_a_crash_between_the_steps_never_makes_a_second_job(
    stores: Stores, step: str, jobs: int, unreached: int
) -> None:
    clock = Clock(DUE)
    dying = worker(
        stores,
        clock,
        broadcasts=DiesAfterJob(stores.broadcasts) if step == "job" else None,
        actions=DiesAt(stores.actions, step) if step != "job" else None,
    )
    with pytest.raises(Killed):
        await dying.run_once()
    stored = await stores.trials.get("a" * 32)
    assert stored is not None
    assert not stored.reminded

    assert await worker(stores, clock).run_once() == 0, "the restart finds the claim"
    assert await job_count(stores) == jobs
    assert len((await send_jobs(stores, clock)).sent) == 3 * jobs
    stored = await stores.trials.get("a" * 32)
    assert stored is not None
    assert (stored.reminded, stored.unreached) == (True, unreached)
    assert await stores.actions.claim(reminder_key("a" * 32), "trial_reminder") is not None
    clock.now += timedelta(hours=1)
    assert await worker(stores, clock).run_once() == 0
    assert await job_count(stores) == jobs


async def test_the_reminder_card_passes_microsofts_parser_in_every_language() -> None:
    renderer, catalog = CardRenderer(), load_catalog()
    cards = [
        renderer.render(reminder_view(trial(), language), catalog.texts(language))
        for language in ("nb", "nn", "en")
    ]
    assert adaptive_card_findings(cards) == [[], [], []]


async def test_the_workers_include_the_reminders_hourly(tmp_path: Path) -> None:
    settings = Settings.model_validate({"KIVETT_DATA_DIR": str(tmp_path)})
    services = await build_services(
        settings,
        dev=True,
        overrides=Overrides(
            run_scheduler=False, run_broadcaster=False, run_outbox=False, run_retention=False
        ),
    )
    try:
        tasks = start_workers(
            services,
            settings,
            Overrides(
                run_scheduler=False, run_broadcaster=False, run_outbox=False, run_retention=False
            ),
        )
        assert [task.get_name() for task in tasks] == ["kivett-trial-reminders"]
        await stop_workers(tasks)
        off = start_workers(
            services,
            settings,
            Overrides(
                run_scheduler=False,
                run_broadcaster=False,
                run_outbox=False,
                run_retention=False,
                run_trial_reminders=False,
            ),
        )
        assert off == []
    finally:
        from bot.bootstrap import close_services

        await close_services(services)

"""The composition root: builds every part of the running bot from settings. Nothing else wires.

`kivett serve` (through `bot.teams.app`), the workers and every CLI command start here: stores from
the configured backend, content, flows and their routing table, the Teams side, the proactive
sender and the workers that share one pacer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.adapters.language_cache import CachedLanguageChoices
from bot.adapters.sqlite.actions import SqliteActionLedger
from bot.adapters.sqlite.broadcast import SqliteBroadcastStore
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.languages import SqliteLanguageChoices
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.lessons import SqliteLessonStore
from bot.adapters.sqlite.personal import SqlitePersonalData
from bot.adapters.sqlite.state import SqliteConversationReferences, SqliteStorage
from bot.adapters.sqlite.trials import SqliteTrialStore
from bot.adapters.sqlite.usage import SqliteUsageStats
from bot.content_loader import Content, load_content
from bot.core.broadcast import Progress
from bot.core.commands import CommandName
from bot.core.records import Job
from bot.core.trials import Trial
from bot.logs import get_logger
from bot.ports import (
    BroadcastJobStore,
    ConversationReferenceStore,
    LearningCardSink,
    LearningCardStore,
    LessonStore,
    ProactiveSender,
    StoreBackend,
    Stores,
)
from bot.settings import Settings
from bot.teams.auth import ChannelAuthEndpoints
from bot.teams.connector import KiVettCloudAdapter
from bot.teams.wiring import Screens, Teams, build_teams
from cards.renderer import CardRenderer
from cards.template_cache import user_cache_dir
from cards.verbs import Verb
from cards.views import CardView
from content import LANGUAGES, Language
from dialogs import home
from dialogs.flow import Handler, Reply, Request, Routes, table
from dialogs.home import HomeFlow

if TYPE_CHECKING:
    # for typing only: the workers are imported when they start (Services.workers), each flow
    # when first used (LazyFlow below)
    from bot.workers.broadcast import BroadcastWorker
    from bot.workers.lessons import LessonWorker
    from bot.workers.outbox import OutboxWorker
    from bot.workers.pacing import Pacer
    from bot.workers.retention import RetentionWorker
    from bot.workers.trial_reminders import TrialReminderWorker
    from dialogs.champion import ChampionFlow
    from dialogs.gevinst import GevinstFlow
    from dialogs.ki_check import KiCheckFlow
    from dialogs.language import LanguageFlow
    from dialogs.learning_flow import LearningFlow
    from dialogs.lessons import LessonsFlow
    from dialogs.my_data import MyDataFlow
    from dialogs.text_check import TextCheckFlow
    from dialogs.trials import TrialsFlow

_log = get_logger("bootstrap")
DATABASE_FILE = "kivett.sqlite3"
BROADCAST_SAFETY = 0.0
"""No margin below Teams' limits: the limiter counts every message from its start until its answer
plus the window (bot/core/rate_limit.py), which covers any delay on the way without one
(bench/broadcast measures the rate and the 429s)."""


@dataclass(frozen=True)
class Overrides:
    """Replacements for tests and local tools; production passes none."""

    auth_endpoints: ChannelAuthEndpoints | None = None
    credentials: Any = None
    """A botframework `ServiceClientCredentialsFactory` to use instead of the one from settings."""
    clock: Callable[[], datetime] | None = None
    run_scheduler: bool = True
    run_broadcaster: bool = True
    run_outbox: bool = True
    run_retention: bool = True
    run_trial_reminders: bool = True
    sink: LearningCardSink | None = None
    """A learning-card sink to use instead of the SharePoint list from settings."""
    trial_sink: LearningCardSink | None = None
    """With `sink`: a sink for trials (the trials list); without one, trials stay in the store."""
    sender: ProactiveSender | None = None
    """Where workers send proactive messages instead of the Bot Connector."""


async def sqlite_stores(settings: Settings) -> Stores:
    db = SqliteDatabase(settings.data_dir / DATABASE_FILE)
    await db.open()
    return Stores(
        backend=db,
        state=SqliteStorage(db),
        references=SqliteConversationReferences(db),
        usage=SqliteUsageStats(db),
        lessons=SqliteLessonStore(db),
        broadcasts=SqliteBroadcastStore(db),
        learning_cards=SqliteLearningCardStore(db),
        personal=SqlitePersonalData(db),
        languages=SqliteLanguageChoices(db),
        actions=SqliteActionLedger(db),
        trials=SqliteTrialStore(db),
    )


async def open_stores(settings: Settings) -> Stores:
    if settings.storage == "azure":
        # imported here: only a bot configured for Azure Storage loads its SDK
        from bot.adapters.azure_storage.backend import azure_stores

        return await azure_stores(settings)
    return await sqlite_stores(settings)


class Flow(Protocol):
    """What every flow in `dialogs/` has: the commands and card verbs it answers."""

    def routes(self) -> Routes: ...


F = TypeVar("F", bound=Flow)


class FlowDeclarationError(Exception):
    """A flow answers other commands or verbs than `build_flows` declares for it."""


class LazyFlow(Generic[F]):
    """One flow, built the first time one of its own commands or buttons arrives.

    Start-up imports only what the first answer needs (issue 16: "import what the configuration
    needs, when it needs it"). The routing table is made at start-up from what each flow is
    declared to answer in `build_flows`; every entry calls the flow's own handler, building the
    flow first (and so importing its module, its dialog and the core code behind them) when it is
    the first. A flow that cannot be built raises from that turn like any handler: the employee
    gets the error card (the router's on_turn_error), the cause is logged, and the next turn
    tries again. A flow whose own routes differ from its declaration raises
    FlowDeclarationError; tests/unit/test_lazy_imports.py builds every flow to catch that."""

    def __init__(
        self,
        name: str,
        *,
        commands: Iterable[CommandName] = (),
        verbs: Iterable[Verb] = (),
        build: Callable[[], F],
    ) -> None:
        self.name = name
        self.commands = frozenset(commands)
        self.verbs = frozenset(verbs)
        self._build = build
        self._built: tuple[F, Routes] | None = None

    @property
    def is_built(self) -> bool:
        return self._built is not None

    def get(self) -> F:
        """The flow, built now if this is the first time."""
        return self._flow_and_routes()[0]

    def routes(self) -> Routes:
        """The declared commands and verbs, each calling the flow's own handler."""
        return Routes(
            commands={name: self._command(name) for name in self.commands},
            verbs={verb: self._verb(verb) for verb in self.verbs},
        )

    def _flow_and_routes(self) -> tuple[F, Routes]:
        if self._built is None:
            try:
                flow = self._build()
            except Exception:
                _log.exception("flow_unavailable", extra={"fields": {"flow": self.name}})
                raise
            routes = flow.routes()
            if set(routes.commands) != self.commands or set(routes.verbs) != self.verbs:
                raise FlowDeclarationError(
                    f"{self.name}: answers {sorted(routes.commands)} {sorted(routes.verbs)}, "
                    f"declared {sorted(self.commands)} {sorted(self.verbs)}"
                )
            self._built = (flow, routes)
        return self._built

    def _command(self, name: CommandName) -> Handler:
        async def handle(request: Request) -> Reply:
            return await self._flow_and_routes()[1].commands[name](request)

        return handle

    def _verb(self, verb: Verb) -> Handler:
        async def handle(request: Request) -> Reply:
            return await self._flow_and_routes()[1].verbs[verb](request)

        return handle


class Flows:
    """Every flow by name (each a LazyFlow: built on first use) and their routing table."""

    def __init__(
        self,
        *,
        home: LazyFlow[HomeFlow],
        ki_check: LazyFlow[KiCheckFlow],
        text_check: LazyFlow[TextCheckFlow],
        lessons: LazyFlow[LessonsFlow],
        champion: LazyFlow[ChampionFlow],
        learning: LazyFlow[LearningFlow],
        my_data: LazyFlow[MyDataFlow],
        language: LazyFlow[LanguageFlow],
        gevinst: LazyFlow[GevinstFlow],
        trials: LazyFlow[TrialsFlow],
    ) -> None:
        self._home, self._ki_check, self._text_check = home, ki_check, text_check
        self._lessons, self._champion, self._learning = lessons, champion, learning
        self._my_data, self._language, self._gevinst, self._trials = (
            my_data,
            language,
            gevinst,
            trials,
        )
        self.lazy: tuple[LazyFlow[Any], ...] = (
            home,
            ki_check,
            text_check,
            lessons,
            champion,
            learning,
            my_data,
            language,
            gevinst,
            trials,
        )

    def routes(self) -> Routes:
        return table(*(flow.routes() for flow in self.lazy))

    @property
    def home(self) -> HomeFlow:
        return self._home.get()

    @property
    def ki_check(self) -> KiCheckFlow:
        return self._ki_check.get()

    @property
    def text_check(self) -> TextCheckFlow:
        return self._text_check.get()

    @property
    def lessons(self) -> LessonsFlow:
        return self._lessons.get()

    @property
    def champion(self) -> ChampionFlow:
        return self._champion.get()

    @property
    def learning(self) -> LearningFlow:
        return self._learning.get()

    @property
    def my_data(self) -> MyDataFlow:
        return self._my_data.get()

    @property
    def language(self) -> LanguageFlow:
        return self._language.get()

    @property
    def gevinst(self) -> GevinstFlow:
        return self._gevinst.get()

    @property
    def trials(self) -> TrialsFlow:
        return self._trials.get()


@dataclass(frozen=True)
class Workers:
    """The background workers and the pacer they share (one Teams budget for all of them)."""

    pacer: Pacer
    lessons: LessonWorker
    broadcaster: BroadcastWorker
    retention: RetentionWorker
    trial_reminders: TrialReminderWorker


@dataclass
class Services:
    settings: Settings
    dev: bool
    content: Content
    stores: Stores
    flows: Flows
    teams: Teams
    build_workers: Callable[[], Workers]
    """Builds the workers (importing their modules) the first time `workers` is asked for: when
    they start, or when a test or tool uses one. `kivett serve --no-workers` never does."""
    sink: LearningCardSink | None = None
    outbox: OutboxWorker | None = None
    trial_sink: LearningCardSink | None = None
    _workers: Workers | None = field(default=None, init=False, repr=False)

    @property
    def workers(self) -> Workers:
        if self._workers is None:
            self._workers = self.build_workers()
        return self._workers

    @property
    def pacer(self) -> Pacer:
        return self.workers.pacer

    @property
    def lessons_worker(self) -> LessonWorker:
        return self.workers.lessons

    @property
    def broadcaster(self) -> BroadcastWorker:
        return self.workers.broadcaster

    @property
    def retention(self) -> RetentionWorker:
        return self.workers.retention

    @property
    def trial_reminders(self) -> TrialReminderWorker | None:
        return self.workers.trial_reminders

    # the stores by name, for the app, the CLI and the tests
    @property
    def db(self) -> StoreBackend:
        return self.stores.backend

    @property
    def references(self) -> ConversationReferenceStore:
        return self.stores.references

    @property
    def lesson_store(self) -> LessonStore:
        return self.stores.lessons

    @property
    def broadcasts(self) -> BroadcastJobStore:
        return self.stores.broadcasts

    @property
    def learning_store(self) -> LearningCardStore:
        return self.stores.learning_cards

    @property
    def adapter(self) -> KiVettCloudAdapter:
        return self.teams.adapter


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InsecureConfigurationError(Exception):
    """Refusing to run without authentication outside dev mode."""


def build_flows(
    content: Content,
    stores: Stores,
    *,
    settings: Settings,
    clock: Callable[[], datetime],
    render_card: Callable[[CardView, Language], dict[str, Any]],
    sink: LearningCardSink | None,
    list_url: Callable[[], str],
    on_stored: Callable[[], None],
    sharepoint_delayed: Callable[[], bool],
    languages: CachedLanguageChoices,
) -> Flows:
    """One flow per job over the stores, each declared with the commands and verbs it answers
    and built on first use (LazyFlow). `sink` says whether cards go on to SharePoint; `list_url`
    where leads open the list."""
    privacy_officer = content.policy.contacts["privacy_officer"].email
    home_flow = LazyFlow(
        "home",
        commands=(CommandName.HELP, CommandName.ABOUT),
        verbs=(Verb.HELP, Verb.ABOUT),
        build=lambda: HomeFlow(
            privacy_officer=privacy_officer, retention_days=settings.retention_days
        ),
    )

    def ki_check() -> KiCheckFlow:
        from dialogs.ki_check import KiCheckDialog, KiCheckFlow

        return KiCheckFlow(
            dialog=KiCheckDialog(content.policy),
            policy=content.policy,
            lexicon=content.lexicon,
            usage=stores.usage,
            fallback=home_flow.get().fallback,
            actions=stores.actions,
            clock=clock,
        )

    def text_check() -> TextCheckFlow:
        from dialogs.text_check import TextCheckFlow

        return TextCheckFlow(content.names)

    def lessons() -> LessonsFlow:
        from dialogs.lessons import LessonsDialog, LessonsFlow

        return LessonsFlow(
            books=content.lessons,
            store=stores.lessons,
            clock=clock,
            dialog=LessonsDialog(content.policy.sources),
            catalog=content.catalog,
            actions=stores.actions,
        )

    def champion() -> ChampionFlow:
        from dialogs.champion import ChampionFlow

        return ChampionFlow(
            books=content.lessons,
            broadcasts=stores.broadcasts,
            references=stores.references,
            lessons=stores.lessons,
            render_card=render_card,
            clock=clock,
            channel_language=settings.default_language,
            actions=stores.actions,
        )

    def learning() -> LearningFlow:
        from dialogs.learning_card import LearningCardDialog
        from dialogs.learning_flow import LearningFlow

        return LearningFlow(
            dialog=LearningCardDialog(content.policy, content.service_areas),
            policy=content.policy,
            store=stores.learning_cards,
            usage=stores.usage,
            clock=clock,
            to_sharepoint=sink is not None,
            list_url=list_url,
            on_stored=on_stored,
            sharepoint_delayed=sharepoint_delayed,
            names=content.names,
            trials=stores.trials,
        )

    def my_data() -> MyDataFlow:
        from dialogs.my_data import MyDataFlow

        return MyDataFlow(
            personal=stores.personal,
            lesson_count=len(content.lessons[settings.default_language].lessons),
            privacy_officer=privacy_officer,
            on_erased=on_stored,
            trials=stores.trials,
        )

    def language() -> LanguageFlow:
        from dialogs.language import LanguageFlow

        return LanguageFlow(languages, stores.lessons)

    def gevinst() -> GevinstFlow:
        from dialogs.gevinst import GevinstDialog, GevinstFlow
        from dialogs.learning_card import LearningCardDialog

        return GevinstFlow(
            dialog=GevinstDialog(LearningCardDialog(content.policy, content.service_areas)),
            trials=stores.trials,
            cards=stores.learning_cards,
        )

    def trials() -> TrialsFlow:
        from dialogs.learning_card import LearningCardDialog
        from dialogs.trials import TrialDialog, TrialsFlow

        return TrialsFlow(
            dialog=TrialDialog(
                content.policy, LearningCardDialog(content.policy, content.service_areas)
            ),
            store=stores.trials,
            clock=clock,
            on_stored=on_stored,
        )

    return Flows(
        home=home_flow,
        ki_check=LazyFlow(
            "ki_check",
            commands=(CommandName.KI_CHECK, CommandName.UNKNOWN),
            verbs=(
                Verb.KI_START,
                Verb.KI_NEXT,
                Verb.KI_BACK,
                Verb.KI_CONFIRM,
                Verb.KI_CORRECT,
                Verb.KI_FEEDBACK,
            ),
            build=ki_check,
        ),
        text_check=LazyFlow(
            "text_check",
            commands=(CommandName.TEXT_CHECK,),
            verbs=(Verb.TEXT_OPEN, Verb.TEXT_RUN),
            build=text_check,
        ),
        lessons=LazyFlow(
            "lessons",
            commands=(CommandName.LESSONS, CommandName.SUBSCRIBE, CommandName.UNSUBSCRIBE),
            verbs=(
                Verb.LESSONS_OVERVIEW,
                Verb.LESSON_OPEN,
                Verb.LESSON_ANSWER,
                Verb.SUBSCRIBE_FORM,
                Verb.SUBSCRIBE_SAVE,
                Verb.UNSUBSCRIBE,
            ),
            build=lessons,
        ),
        champion=LazyFlow(
            "champion",
            commands=(CommandName.WEEKLY_TIP,),
            verbs=(Verb.TIP_COMPOSE, Verb.TIP_PREVIEW, Verb.TIP_SEND),
            build=champion,
        ),
        learning=LazyFlow(
            "learning",
            commands=(CommandName.LEARNING_CARD, CommandName.SUMMARY),
            verbs=(Verb.CARD_OPEN, Verb.CARD_SUBMIT, Verb.SUMMARY),
            build=learning,
        ),
        my_data=LazyFlow(
            "my_data",
            commands=(CommandName.MY_DATA,),
            verbs=(
                Verb.MY_DATA,
                Verb.MY_DATA_ERASE_ASK,
                Verb.MY_DATA_ERASE,
                Verb.TRIAL_REMINDERS_OFF,
                Verb.TRIAL_REMINDERS_ON,
            ),
            build=my_data,
        ),
        language=LazyFlow(
            "language",
            commands=(CommandName.LANGUAGE,),
            verbs=(Verb.LANGUAGE, Verb.LANGUAGE_SET),
            build=language,
        ),
        gevinst=LazyFlow(
            "gevinst", commands=(CommandName.GEVINST,), verbs=(Verb.GEVINST,), build=gevinst
        ),
        trials=LazyFlow(
            "trials",
            commands=(CommandName.TRIAL_NEW, CommandName.TRIALS),
            verbs=(Verb.TRIAL_NEW, Verb.TRIAL_SUBMIT, Verb.TRIAL_LIST),
            build=trials,
        ),
    )


async def build_services(
    settings: Settings, *, dev: bool, overrides: Overrides, content: Content | None = None
) -> Services:
    """Everything the bot runs. `content`: what the caller has already loaded and checked (the
    CLI does, to stop on a broken file before it listens); parsing it again would double the cold
    start's largest part."""
    if not dev and not settings.has_credentials and overrides.credentials is None:
        # An empty app id switches authentication off; only --dev may do that.
        raise InsecureConfigurationError("MicrosoftAppId is empty and dev mode is off")
    content = content or load_content()
    stores = await open_stores(settings)
    clock = overrides.clock or _utc_now
    # compiled templates are kept between starts, as Python keeps bytecode (cards.template_cache)
    renderer = CardRenderer(template_cache=user_cache_dir())
    languages = CachedLanguageChoices(stores.languages, time.monotonic)

    def render_card(view: CardView, language: Language) -> dict[str, Any]:
        return renderer.render(view, content.catalog.texts(language))

    sink, trial_sink = await _sharepoint_sinks(settings, overrides, dev=dev)
    outbox = (
        _outbox(content, stores, sink, trial_sink, clock=lambda: clock().timestamp())
        if sink is not None
        else None
    )
    flows = build_flows(
        content,
        stores,
        settings=settings,
        clock=clock,
        render_card=render_card,
        sink=sink,
        list_url=_list_url(settings, sink),
        on_stored=outbox.wake if outbox is not None else _nothing,
        sharepoint_delayed=outbox.delayed if outbox is not None else _never,
        languages=languages,
    )
    teams = build_teams(
        settings,
        dev=dev,
        routes=flows.routes(),
        screens=Screens(
            welcome=home.WELCOME, rejected=home.REJECTED, unknown_verb=home.UNKNOWN_VERB
        ),
        state=stores.state,
        references=stores.references,
        renderer=renderer,
        catalog=content.catalog,
        languages=languages,
        credentials=overrides.credentials,
        auth_endpoints=overrides.auth_endpoints,
    )
    sender = overrides.sender or teams.sender

    def weekly_card(language: Language, completed: frozenset[int]) -> Mapping[str, Any]:
        return render_card(flows.lessons.weekly_view(language, completed), language)

    def progress_card(job: Job, progress: Progress, now: float) -> Mapping[str, Any]:
        language: Language = next(
            (lang for lang in LANGUAGES if lang == job.progress_language), "nb"
        )
        texts = content.catalog.texts(language)
        from dialogs.champion import PROGRESS_RATE, ChampionDialog  # with the first broadcast

        view = ChampionDialog().progress(texts, progress, progress.seconds_left(PROGRESS_RATE))
        return renderer.render(view, texts)

    def workers() -> Workers:
        from bot.core.rate_limit import RateLimiter
        from bot.workers.broadcast import BroadcastWorker
        from bot.workers.lessons import LessonWorker
        from bot.workers.pacing import Pacer
        from bot.workers.retention import RetentionWorker
        from bot.workers.trial_reminders import TrialReminderWorker

        pacer = Pacer(RateLimiter(safety=BROADCAST_SAFETY), clock=lambda: clock().timestamp())
        return Workers(
            pacer=pacer,
            lessons=LessonWorker(
                store=stores.lessons,
                references=stores.references,
                sender=sender,
                pacer=pacer,
                weekly_card=weekly_card,
                clock=clock,
            ),
            broadcaster=BroadcastWorker(
                store=stores.broadcasts,
                references=stores.references,
                sender=sender,
                pacer=pacer,
                progress_card=progress_card,
                clock=lambda: clock().timestamp(),
                subscribers=stores.lessons.subscribers,
            ),
            trial_reminders=TrialReminderWorker(
                trials=stores.trials,
                personal=stores.personal,
                languages=stores.languages,
                broadcasts=stores.broadcasts,
                actions=stores.actions,
                reminder_card=lambda trial, language: render_card(
                    _reminder_view(trial, language), language
                ),
                malform=settings.default_language,
                clock=clock,
            ),
            retention=RetentionWorker(
                personal=stores.personal,
                usage=stores.usage,
                actions=stores.actions,
                days=settings.retention_days,
                clock=clock,
            ),
        )

    return Services(
        settings=settings,
        dev=dev,
        content=content,
        stores=stores,
        flows=flows,
        teams=teams,
        build_workers=workers,
        sink=sink,
        outbox=outbox,
        trial_sink=trial_sink,
    )


def _outbox(
    content: Content,
    stores: Stores,
    sink: LearningCardSink,
    trial_sink: LearningCardSink | None,
    *,
    clock: Callable[[], float],
) -> OutboxWorker:
    """The outbox to SharePoint, labelling list columns as the learning card does (bokmål)."""
    from bot.workers.outbox import OutboxWorker, TrialOutbox
    from dialogs.learning_card import LearningCardDialog

    labels = LearningCardDialog(content.policy, content.service_areas).labels(
        content.catalog.texts("nb")
    )
    return OutboxWorker(
        store=stores.learning_cards,
        sink=sink,
        labels=labels,
        clock=clock,
        trials=TrialOutbox(stores.trials, trial_sink) if trial_sink is not None else None,
    )


def _reminder_view(trial: Trial, language: Language) -> CardView:
    from dialogs.my_data import reminder_view  # with the first trial reminder

    return reminder_view(trial, language)


def _nothing() -> None:
    return None


def _never() -> bool:
    return False


def _list_url(settings: Settings, sink: LearningCardSink | None) -> Callable[[], str]:
    """Where leads open the list: its own address once the sink has found it, until then the
    site's contents page."""
    site = settings.sharepoint_site
    fallback = (
        site.rstrip("/") + "/_layouts/15/viewlsts.aspx" if site.startswith("https://") else ""
    )

    def url() -> str:
        return (sink.list_url() if sink is not None else "") or (fallback if sink else "")

    return url


async def _sharepoint_sinks(
    settings: Settings, overrides: Overrides, *, dev: bool
) -> tuple[LearningCardSink | None, LearningCardSink | None]:
    """The learning-card and trials lists from settings, or None: cards and trials then stay in
    the embedded store."""
    if overrides.sink is not None:
        return overrides.sink, overrides.trial_sink
    if not settings.sharepoint_site:
        return None, None
    # imported here: the Graph SDK is large, and only a bot with a SharePoint list needs it
    from bot.adapters.sharepoint.factory import build_sharepoint_sinks

    return await build_sharepoint_sinks(settings, dev=dev)


async def close_services(services: Services) -> None:
    if services.trial_sink is not None:  # first: it works on the learning-card sink's thread
        await services.trial_sink.close()
    if services.sink is not None:
        await services.sink.close()
    await services.teams.close()
    await services.stores.backend.close()

"""Champions' weekly tip: compose → preview → send (now or at a chosen time) → progress.

The rules of a valid request are in `bot.core.tips`; a forged or stale payload gets the compose
card with what was wrong, and nothing is sent by mistake. Only champions get past the first step.

The preview card carries an action id (dialogs/once.py): its Send button queues one job, however
often it is pressed or replayed; a second press answers with what the first one did.

A tip to the subscribers is queued without listing them (`create_job(subscribers=True)`): at
100,000 subscribers that takes longer than Teams waits for an answer to a button. The broadcast
worker lists them when the tip is due; until then the card says it is preparing, with no counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.broadcast import Progress
from bot.core.caller import Role
from bot.core.commands import CommandName
from bot.core.lessons import LessonBook
from bot.core.records import StoredReference
from bot.core.schedule import DEFAULT_ZONE
from bot.core.tips import TIP_LIMIT, TipError, TipRequest, parse_tip
from bot.ports import ActionLedger, BroadcastStore, ConversationReferenceStore, LessonStore
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import (
    ButtonSpec,
    CardView,
    Choice,
    Fact,
    NoticeView,
    StaleActionView,
    TipCardView,
    TipComposeView,
    TipPreviewView,
    TipProgressView,
)
from content import LANGUAGES, Language, Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.once import ledger_key, new_action_id

TIP_SEND = "tip_send"
"""The ledger kind of a tip's Send button."""
REFUSED = "refused"
FAILED = "failed"
TO_SUBSCRIBERS = "subscribers"
"""In a Send's outcome ("job:subscribers:<due>") instead of a count, unknown when it is queued."""


class ChampionDialog:
    def __init__(self, zone: str = DEFAULT_ZONE) -> None:
        self._zone = ZoneInfo(zone)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def refused(self, texts: Texts) -> CardView:
        return NoticeView(
            title=texts("tips.refused_title"),
            body=texts("tips.refused_body"),
            buttons=(ButtonSpec(texts("fallback.button_help"), Verb.HELP.value),),
        )

    def compose(
        self,
        texts: Texts,
        book: LessonBook,
        channels: Sequence[tuple[str, str]],
        *,
        error: str = "",
        data: Mapping[str, object] | None = None,
    ) -> CardView:
        data = data or {}
        return TipComposeView(
            tips=tuple(Choice(tip.id, _short(tip.text)) for tip in book.tips),
            channels=tuple(Choice(cid, name) for cid, name in channels),
            limit=TIP_LIMIT,
            error=error,
            tip=str(data.get("tip", "") or (book.tips[0].id if book.tips else "")),
            own=str(data.get("own", ""))[:TIP_LIMIT],
            audience="channels" if data.get("audience") == "channels" else "subscribers",
        )

    def preview(
        self,
        texts: Texts,
        book: LessonBook,
        request: TipRequest,
        count: int,
        *,
        action_id: str = "",
    ) -> CardView:
        when = (
            texts("tips.now")
            if request.due is None
            else request.due.astimezone(self._zone).strftime("%d.%m.%Y %H:%M")
        )
        audience = texts(f"tips.audience_{request.audience}")
        return TipPreviewView(
            text=_tip_text(request, book),
            facts=(
                Fact(texts("tips.fact_audience"), audience),
                Fact(texts("tips.fact_count"), str(count)),
                Fact(texts("tips.fact_when"), when),
            ),
            state=(
                ("tip", request.tip_id),
                ("own", request.own_text),
                ("audience", request.audience),
                ("channels", ",".join(request.channels)),
                (
                    "date",
                    ""
                    if request.due is None
                    else request.due.astimezone(self._zone).strftime("%Y-%m-%d"),
                ),
                (
                    "time",
                    ""
                    if request.due is None
                    else request.due.astimezone(self._zone).strftime("%H:%M"),
                ),
            ),
            action_id=action_id,
        )

    def already(self, texts: Texts, outcome: str, now: datetime) -> CardView:
        """A second press of a Send button: what the first one did."""
        again = (ButtonSpec(texts("tips.title"), Verb.TIP_COMPOSE.value),)
        if outcome == "":
            return NoticeView(texts("already.busy_title"), texts("already.busy_body"), again)
        parts = outcome.split(":")
        if (
            len(parts) != 3
            or parts[0] != "job"
            or not (parts[1].isdigit() or parts[1] == TO_SUBSCRIBERS)
        ):
            return NoticeView(texts("already.failed_title"), texts("already.failed_body"), again)
        due = datetime.fromtimestamp(float(parts[2]), UTC)
        if due > now:
            when = due.astimezone(self._zone).strftime("%d.%m.%Y %H:%M")
            body = (
                texts("already.tip_subscribers_scheduled_body", when=when)
                if parts[1] == TO_SUBSCRIBERS
                else texts.count("already.tip_scheduled_body", int(parts[1]), when=when)
            )
            return NoticeView(texts("already.tip_scheduled_title"), body, again)
        body = (
            texts("already.tip_subscribers_body")
            if parts[1] == TO_SUBSCRIBERS
            else texts.count("already.tip_sent_body", int(parts[1]))
        )
        return NoticeView(texts("already.tip_sent_title"), body, again)

    def scheduled(self, texts: Texts, request: TipRequest, count: int | None) -> CardView:
        """`count` None: the tip goes to the subscribers there are when it is due."""
        when = (
            ""
            if request.due is None
            else request.due.astimezone(self._zone).strftime("%d.%m.%Y %H:%M")
        )
        return NoticeView(
            title=texts("tips.scheduled_title"),
            body=(
                texts("tips.scheduled_subscribers_body", when=when)
                if count is None
                else texts.count("tips.scheduled_body", count, when=when)
            ),
            buttons=(ButtonSpec(texts("tips.title"), Verb.TIP_COMPOSE.value),),
        )

    def preparing(self, texts: Texts) -> CardView:
        """A tip to the subscribers, queued before they are listed: no counts yet."""
        return TipProgressView(
            title=texts("tips.progress_title"),
            facts=(Fact(texts("tips.fact_audience"), texts("tips.audience_subscribers")),),
            finished=False,
            note=texts("tips.preparing"),
        )

    def progress(self, texts: Texts, progress: Progress, seconds_left: float) -> CardView:
        total = progress.total
        facts = [
            Fact(texts("tips.fact_sent"), f"{progress.sent} / {total}"),
            Fact(texts("tips.fact_failed"), str(progress.failed)),
            Fact(texts("tips.fact_blocked"), str(progress.blocked)),
            Fact(texts("tips.fact_not_found"), str(progress.not_found)),
        ]
        if progress.finished:
            facts.append(
                Fact(
                    texts("tips.fact_duration"),
                    texts("tips.seconds", seconds=round(progress.elapsed_seconds)),
                )
            )
        else:
            facts.append(
                Fact(texts("tips.fact_left"), texts("tips.seconds", seconds=round(seconds_left)))
            )
        return TipProgressView(
            title=texts("tips.report_title" if progress.finished else "tips.progress_title"),
            facts=tuple(facts),
            finished=progress.finished,
        )


def _tip_text(request: TipRequest, book: LessonBook) -> str | UserText:
    """The tip to show: a champion's own text is user text; a tip from the book is content."""
    return UserText(request.own_text) if not request.tip_id else request.text(book)


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


RenderCard = Callable[[CardView, Language], dict[str, Any]]
PROGRESS_RATE = 50.0
"""Messages per second the progress card assumes when it estimates the time left."""


class ChampionFlow:
    """Compose, preview and send a weekly tip; only for people with the champion role."""

    def __init__(
        self,
        *,
        books: Mapping[Language, LessonBook],
        broadcasts: BroadcastStore,
        references: ConversationReferenceStore,
        lessons: LessonStore,
        render_card: RenderCard,
        clock: Callable[[], datetime],
        channel_language: Language,
        dialog: ChampionDialog | None = None,
        actions: ActionLedger | None = None,
    ) -> None:
        """`actions`: where Send presses are claimed (the composition root passes the store's);
        without one, every press is applied as it comes (tests of other behaviour)."""
        self._books = books
        self._broadcasts = broadcasts
        self._references = references
        self._lessons = lessons
        self._render_card = render_card
        self._clock = clock
        self._channel_language = channel_language
        self._dialog = dialog or ChampionDialog()
        self._actions = actions

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.WEEKLY_TIP: self.handle},
            verbs=dict.fromkeys((Verb.TIP_COMPOSE, Verb.TIP_PREVIEW, Verb.TIP_SEND), self.handle),
        )

    async def handle(self, request: Request) -> Reply:
        texts = request.texts
        if not request.caller.has(Role.CHAMPION):
            return Reply(self._dialog.refused(texts), route="tip:refused")
        if request.verb is Verb.TIP_SEND and self._actions is not None:
            return await self._send_once(request, self._actions)
        reply, _ = await self._answer(request)
        return reply

    async def _send_once(self, request: Request, actions: ActionLedger) -> Reply:
        """Claim the card's action id; only the first claim may queue a job."""
        now = self._clock()
        key = ledger_key(request.data, request.caller.user_key, now)
        if key is None:  # an id we never made: forged or garbage
            return Reply(StaleActionView(restart_verb=Verb.TIP_COMPOSE.value), route="tip:forged")
        before = await actions.claim(key, TIP_SEND)
        if before == REFUSED:  # nothing was queued then: show what is wrong, still send nothing
            reply, _ = await self._answer(request, send=False)
            return reply
        if before is not None:
            return Reply(self._dialog.already(request.texts, before, now), route="tip:replayed")
        try:
            reply, outcome = await self._answer(request)
        except BaseException:
            with suppress(Exception):  # best effort: the ledger may be what failed
                await actions.settle(key, FAILED)
            raise
        await actions.settle(key, outcome)
        return reply

    async def _answer(self, request: Request, *, send: bool = True) -> tuple[Reply, str]:
        """The answer to a press, and for a Send what it led to ("job:<count>:<due>", or
        "refused" when nothing was queued)."""
        texts = request.texts
        book = self._books[texts.language]
        channels = await self._channels()
        if request.verb in (None, Verb.TIP_COMPOSE):
            return Reply(self._dialog.compose(texts, book, channels)), REFUSED
        parsed = parse_tip(
            request.data, book, [cid for cid, _ in channels], self._clock(), self._dialog.zone
        )
        if isinstance(parsed, TipError):
            return self._refuse(request, channels, parsed), REFUSED
        # neither a preview nor a Send lists the subscribers (the worker does): they count them
        to_subscribers = parsed.audience != "channels"
        recipients = [] if to_subscribers else self._channel_recipients(parsed)
        count = await self._lessons.subscriber_count() if to_subscribers else len(recipients)
        if request.verb is Verb.TIP_PREVIEW:
            if not count:
                return self._refuse(request, channels, TipError.NO_RECIPIENTS), REFUSED
            view = self._dialog.preview(texts, book, parsed, count, action_id=new_action_id())
            return Reply(view), REFUSED
        if not count:
            return self._refuse(request, channels, TipError.NO_RECIPIENTS), REFUSED
        if not send:
            return Reply(self._dialog.compose(texts, book, channels, data=request.data)), REFUSED
        return await self._start(request, parsed, None if to_subscribers else recipients)

    def _refuse(
        self, request: Request, channels: Sequence[tuple[str, str]], error: TipError
    ) -> Reply:
        texts = request.texts
        book = self._books[texts.language]
        compose = self._dialog.compose(
            texts, book, channels, error=_error_text(texts, error), data=request.data
        )
        return Reply(compose)

    async def _channels(self) -> list[tuple[str, str]]:
        return [
            (ref.conversation_id, _channel_name(ref))
            for ref in await self._references.of_type("channel")
        ]

    def _channel_recipients(self, request: TipRequest) -> list[tuple[str, str]]:
        return [(channel, self._channel_language) for channel in request.channels]

    async def _start(
        self, request: Request, tip: TipRequest, recipients: list[tuple[str, str]] | None
    ) -> tuple[Reply, str]:
        """`recipients` None: the lesson subscribers, listed later by the broadcast worker."""
        texts = request.texts
        cards: dict[str, Any] = {
            language: self._render_card(
                TipCardView(_tip_text(tip, self._books[language])), language
            )
            for language in LANGUAGES
            if language in self._books
        }
        now = self._clock()
        conversation = request.caller.conversation
        progress = await self._broadcasts.create_job(
            created_by=request.caller.user_key,
            due=tip.due or now,
            cards=cards,
            recipients=recipients or (),
            subscribers=recipients is None,
            progress_service_url=conversation.service_url,
            progress_conversation=conversation.id,
            progress_activity=conversation.card_activity_id,
            progress_language=texts.language,
        )
        due = tip.due or now
        count = TO_SUBSCRIBERS if recipients is None else str(progress.total)
        outcome = f"job:{count}:{due.timestamp():.0f}"
        if tip.due is not None and tip.due > now:
            total = None if recipients is None else progress.total
            scheduled = self._dialog.scheduled(texts, tip, total)
            return Reply(scheduled, route="tip:queued"), outcome
        if recipients is None:
            return Reply(self._dialog.preparing(texts), route="tip:queued"), outcome
        view = self._dialog.progress(texts, progress, progress.seconds_left(PROGRESS_RATE))
        return Reply(view, route="tip:queued"), outcome


def _error_text(texts: Texts, error: TipError) -> str:
    if error is TipError.TOO_LONG:
        return texts("tips.error_too_long", limit=TIP_LIMIT)
    return texts(f"tips.error_{error.value}")


def _channel_name(reference: StoredReference) -> str:
    conversation = dict(reference.reference.get("conversation") or {})
    return str(conversation.get("name") or reference.conversation_id)

"""The activity handler: routes Teams activities, commands and card actions to dialogs."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
    serializer_helper,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
)

from bot.core.commands import CommandName, parse_command
from bot.core.extraction import Lexicon, extract, looks_like_question
from bot.core.language import language_for_locale
from bot.core.lessons import LessonBook
from bot.core.policy import Policy, Verdict
from bot.core.records import StoredReference, Subscription
from bot.core.schedule import DEFAULT_SLOT, ScheduleError, WeeklySlot, next_due
from bot.logs import get_logger
from bot.ports import (
    BroadcastStore,
    ConversationReferenceStore,
    LessonStore,
    StorageUnavailableError,
    UsageStats,
)
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog
from cards.renderer import CARD_CONTENT_TYPE, CardRenderer
from cards.verbs import Verb
from cards.views import CardView, ErrorView, HelpView, StaleActionView, TipCardView
from content import Catalog, Language, Texts
from dialogs import text_check
from dialogs.actions import CardAction, RejectedAction, parse_action
from dialogs.champion import ChampionDialog, TipRequest
from dialogs.home import view_for_action, view_for_command, welcome_view
from dialogs.ki_check import KiCheckDialog
from dialogs.learning_card import LearningCards
from dialogs.lessons import LessonsDialog, next_unfinished

_log = get_logger("handler")

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
KI_VERBS = frozenset(
    {Verb.KI_START, Verb.KI_NEXT, Verb.KI_BACK, Verb.KI_CONFIRM, Verb.KI_CORRECT, Verb.KI_FEEDBACK}
)
TIP_VERBS = frozenset({Verb.TIP_COMPOSE, Verb.TIP_PREVIEW, Verb.TIP_SEND})
LESSON_COMMANDS = frozenset({CommandName.LESSONS, CommandName.SUBSCRIBE, CommandName.UNSUBSCRIBE})
LESSON_VERBS = frozenset(
    {
        Verb.LESSONS_OVERVIEW,
        Verb.LESSON_OPEN,
        Verb.LESSON_ANSWER,
        Verb.SUBSCRIBE_FORM,
        Verb.SUBSCRIBE_SAVE,
        Verb.UNSUBSCRIBE,
    }
)
LEARNING_VERBS = frozenset({Verb.CARD_OPEN, Verb.CARD_SUBMIT, Verb.SUMMARY})
VERDICT_NAMES = {Verdict.GREEN: "green", Verdict.YELLOW: "yellow", Verdict.RED: "red"}
REFERENCE_MEMO_SIZE = 10_000
PERSONAL = "personal"


class KiVettBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type information
    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        references: ConversationReferenceStore,
        renderer: CardRenderer,
        catalog: Catalog,
        default_language: Language,
        policy: Policy,
        lexicon: Lexicon,
        usage: UsageStats,
        lessons: Mapping[Language, LessonBook],
        lesson_store: LessonStore,
        clock: Callable[[], datetime],
        champions: frozenset[str] = frozenset(),
        broadcasts: BroadcastStore | None = None,
        learning: LearningCards | None = None,
    ) -> None:
        super().__init__()
        self._learning = learning
        self._champions = champions
        self._broadcasts = broadcasts
        self._champion_dialog = ChampionDialog()
        self._lessons = lessons
        self._lesson_store = lesson_store
        self._clock = clock
        self._lessons_dialog = LessonsDialog(policy.sources)
        self._policy = policy
        self._lexicon = lexicon
        self._tool_aliases = {tool.id: tool.aliases for tool in policy.tools}
        self._usage = usage
        self._ki_check = KiCheckDialog(policy)
        self._conversation_state = conversation_state
        self._conversation_data = conversation_state.create_property("kivett")
        self._references = references
        self._renderer = renderer
        self._catalog = catalog
        self._default_language = default_language
        # conversation id → what was last saved for it, so plain messages skip an unchanged write
        self._saved_references: OrderedDict[str, tuple[str, str, str]] = OrderedDict()

    # -- plumbing -------------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    def texts_for(self, turn_context: TurnContext) -> Texts:
        language = language_for_locale(turn_context.activity.locale, self._default_language)
        return self._catalog.texts(language)

    def render(self, turn_context: TurnContext, view: CardView) -> dict[str, Any]:
        return self._renderer.render(view, self.texts_for(turn_context))

    async def send_card(self, turn_context: TurnContext, view: CardView) -> None:
        card = self.render(turn_context, view)
        await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

    @staticmethod
    def _note(turn_context: TurnContext, route: str) -> None:
        record = turn_context.turn_state.get(TURN_LOG_KEY)
        if isinstance(record, TurnLog):
            record.route = route

    async def _data(self, turn_context: TurnContext) -> dict[str, Any]:
        data = await self._conversation_data.get(turn_context, dict)
        if not isinstance(data, dict):  # state written by something else: start clean
            data = {}
            await self._conversation_data.set(turn_context, data)
        return data

    async def _remember(self, turn_context: TurnContext, *, force: bool = False) -> None:
        """Save the conversation reference (for proactive messages later).

        Install events always write; ordinary messages write only when something the reference
        depends on changed since this process last saved it."""
        activity = turn_context.activity
        conversation = activity.conversation
        if conversation is None or not conversation.id:
            return
        conversation_type = conversation.conversation_type or PERSONAL
        fingerprint = (str(activity.service_url), conversation_type, conversation.tenant_id or "")
        if not force and self._saved_references.get(conversation.id) == fingerprint:
            self._saved_references.move_to_end(conversation.id)
            return
        reference = TurnContext.get_conversation_reference(activity)
        await self._references.save(
            StoredReference(
                conversation_id=conversation.id,
                conversation_type=conversation_type,
                tenant_id=conversation.tenant_id or "",
                reference=reference.serialize(),
            )
        )
        self._saved_references[conversation.id] = fingerprint
        if len(self._saved_references) > REFERENCE_MEMO_SIZE:
            self._saved_references.popitem(last=False)

    async def _forget(self, turn_context: TurnContext) -> None:
        conversation = turn_context.activity.conversation
        if conversation is not None and conversation.id:
            self._saved_references.pop(conversation.id, None)
            await self._references.remove(conversation.id)

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        conversation = turn_context.activity.conversation
        if conversation is None or (conversation.conversation_type or PERSONAL) != PERSONAL:
            return
        data = await self._data(turn_context)
        if data.get("welcomed"):
            return
        data["welcomed"] = True
        await self.send_card(turn_context, welcome_view())
        self._note(turn_context, "welcome")

    # -- messages -------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        # A message reads and writes no conversation state: each flow carries its own state in
        # its card, so an ordinary message costs no storage round trip (on Azure, two fewer).
        await self._remember(turn_context)
        text = _without_mention(turn_context)
        command = parse_command(text)
        self._note(turn_context, f"command:{command.name.value}")
        texts = self.texts_for(turn_context)
        if command.name is CommandName.KI_CHECK:
            view = self._ki_check.start(texts)
        elif command.name is CommandName.TEXT_CHECK:
            view = text_check.open_view()
        elif command.name is CommandName.WEEKLY_TIP:
            view = await self._tip_action(turn_context, None)
        elif command.name in LESSON_COMMANDS:
            view = await self._lesson_command(turn_context, command.name)
        elif command.name in (CommandName.LEARNING_CARD, CommandName.SUMMARY):
            verb = Verb.CARD_OPEN if command.name is CommandName.LEARNING_CARD else Verb.SUMMARY
            view = await self._learning_action(turn_context, CardAction(verb=verb, data={}))
        elif command.name is CommandName.UNKNOWN and looks_like_question(
            text, self._lexicon, self._tool_aliases
        ):
            extraction = extract(text, self._lexicon, self._tool_aliases)
            understood = extraction.tool or extraction.task or extraction.category
            self._note(turn_context, "question:understood" if understood else "question:open")
            view = (
                self._ki_check.understood(texts, extraction)
                if understood
                else self._ki_check.start(texts)
            )
        else:
            view = view_for_command(command)
        await self.send_card(turn_context, view)

    # -- installation and membership ------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context, force=True)
        self._note(turn_context, "installed")
        await self._welcome_once(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context)
        self._note(turn_context, "uninstalled")

    @staticmethod
    def _includes_bot(members: list[ChannelAccount] | None, turn_context: TurnContext) -> bool:
        recipient = turn_context.activity.recipient
        bot_id = recipient.id if recipient is not None else None
        return any(member.id == bot_id for member in members or [])

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if self._includes_bot(members_added, turn_context):
            await self._remember(turn_context, force=True)
            self._note(turn_context, "bot_added")
            await self._welcome_once(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if self._includes_bot(members_removed, turn_context):
            await self._forget(turn_context)
            self._note(turn_context, "bot_removed")

    # -- card actions ---------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            self._note(turn_context, "invoke:ignored")
            return InvokeResponse(status=int(HTTPStatus.OK))
        action = parse_action(turn_context.activity.value)
        route = getattr(action, "verb", None) or f"rejected:{getattr(action, 'problem', '')}"
        self._note(turn_context, f"action:{route}")
        view = await self._view_for(turn_context, action)
        return self.card_invoke_response(self.render(turn_context, view))

    async def _view_for(
        self, turn_context: TurnContext, action: CardAction | RejectedAction
    ) -> CardView:
        if isinstance(action, RejectedAction):
            return view_for_action(action)
        texts = self.texts_for(turn_context)
        if action.verb in KI_VERBS:
            outcome = self._ki_check.handle(texts, action)
            if isinstance(outcome.view, StaleActionView):
                self._note(turn_context, f"action:{action.verb.value}:rejected")
            try:  # anonymous figures are best effort: the employee's answer comes first
                if outcome.assessment is not None and outcome.answers is not None:
                    answers = outcome.answers
                    await self._usage.record_verdict(
                        VERDICT_NAMES[outcome.assessment.verdict],
                        answers.task,
                        answers.tool,
                        answers.category,
                    )
                if outcome.feedback is not None:
                    await self._usage.record_feedback(outcome.feedback)
            except StorageUnavailableError:
                _log.warning("usage_not_recorded", extra={"fields": {"reason": "storage"}})
            return outcome.view
        if action.verb in TIP_VERBS:
            return await self._tip_action(turn_context, action)
        if action.verb in LESSON_VERBS:
            return await self._lesson_action(turn_context, action)
        if action.verb in LEARNING_VERBS:
            return await self._learning_action(turn_context, action)
        if action.verb is Verb.TEXT_OPEN:
            return text_check.open_view()
        if action.verb is Verb.TEXT_RUN:
            return text_check.run(texts, action.data)
        return view_for_action(action)

    # -- læringskort ------------------------------------------------------------------------------

    async def _learning_action(self, turn_context: TurnContext, action: CardAction) -> CardView:
        texts = self.texts_for(turn_context)
        learning = self._learning
        if learning is None:
            return HelpView()
        if action.verb is Verb.CARD_OPEN:
            return learning.open(texts, action.data)
        if action.verb is Verb.SUMMARY:
            self._note(turn_context, "summary")
            return await learning.summary(texts, self.user_key(turn_context))
        view = await learning.submit(
            texts, action.data, author=self.user_key(turn_context), language=texts.language
        )
        self._note(turn_context, f"card:{type(view).__name__}")
        return view

    # -- vettreglene and the weekly subscription -------------------------------------------------

    @staticmethod
    def user_key(turn_context: TurnContext) -> str:
        """Who progress and subscriptions belong to: the Entra object id, else the Teams id."""
        sender = turn_context.activity.from_property
        if sender is None:
            return ""
        return str(sender.aad_object_id or sender.id or "")

    def book_for(self, language: Language) -> LessonBook:
        return self._lessons[language]

    async def _overview(self, turn_context: TurnContext) -> CardView:
        user = self.user_key(turn_context)
        texts = self.texts_for(turn_context)
        completed = await self._lesson_store.completed(user)
        subscribed = await self._lesson_store.subscription(user) is not None
        return self._lessons_dialog.overview(
            texts, self.book_for(texts.language), completed, subscribed
        )

    def _is_personal(self, turn_context: TurnContext) -> bool:
        conversation = turn_context.activity.conversation
        return conversation is not None and (conversation.conversation_type or PERSONAL) == PERSONAL

    async def _subscribe_form(self, turn_context: TurnContext) -> CardView:
        texts = self.texts_for(turn_context)
        if not self._is_personal(turn_context):
            return self._lessons_dialog.personal_only(texts)
        existing = await self._lesson_store.subscription(self.user_key(turn_context))
        slot = DEFAULT_SLOT
        if existing is not None:
            try:
                slot = WeeklySlot.parse(str(existing.weekday), existing.at, existing.zone)
            except ScheduleError:
                slot = DEFAULT_SLOT
        return self._lessons_dialog.subscribe_form(texts, slot)

    async def _unsubscribe(self, turn_context: TurnContext) -> CardView:
        was = await self._lesson_store.unsubscribe(self.user_key(turn_context))
        return self._lessons_dialog.unsubscribed(self.texts_for(turn_context), was)

    async def _lesson_command(self, turn_context: TurnContext, name: CommandName) -> CardView:
        if name is CommandName.SUBSCRIBE:
            return await self._subscribe_form(turn_context)
        if name is CommandName.UNSUBSCRIBE:
            return await self._unsubscribe(turn_context)
        return await self._overview(turn_context)

    async def _lesson_action(self, turn_context: TurnContext, action: CardAction) -> CardView:
        texts = self.texts_for(turn_context)
        user = self.user_key(turn_context)
        book = self.book_for(texts.language)
        verb, data = action.verb, action.data
        if verb is Verb.LESSONS_OVERVIEW:
            return await self._overview(turn_context)
        if verb is Verb.SUBSCRIBE_FORM:
            return await self._subscribe_form(turn_context)
        if verb is Verb.UNSUBSCRIBE:
            return await self._unsubscribe(turn_context)
        if verb is Verb.SUBSCRIBE_SAVE:
            return await self._save_subscription(turn_context, data)
        completed = await self._lesson_store.completed(user)
        lesson_id = _int(data.get("next")) or _int(data.get("lesson"))
        if lesson_id is None:
            return StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value)
        if verb is Verb.LESSON_OPEN:
            return self._lessons_dialog.lesson(texts, book, lesson_id, completed)
        answer = data.get("answer")
        if not isinstance(answer, str):
            return StaleActionView(restart_verb=Verb.LESSONS_OVERVIEW.value)
        view = self._lessons_dialog.lesson(texts, book, lesson_id, completed, answer=answer)
        if getattr(view, "correct", False):
            await self._lesson_store.complete(user, lesson_id)
        return view

    async def _save_subscription(
        self, turn_context: TurnContext, data: Mapping[str, object]
    ) -> CardView:
        texts = self.texts_for(turn_context)
        conversation = turn_context.activity.conversation
        if not self._is_personal(turn_context) or conversation is None:
            return self._lessons_dialog.personal_only(texts)
        try:
            slot = WeeklySlot.parse(str(data.get("day", "")), str(data.get("time", "")))
        except ScheduleError:
            return StaleActionView(restart_verb=Verb.SUBSCRIBE_FORM.value)
        first = next_due(slot, self._clock())
        await self._remember(turn_context, force=True)
        await self._lesson_store.subscribe(
            Subscription(
                user_key=self.user_key(turn_context),
                conversation_id=conversation.id,
                weekday=slot.weekday,
                at=slot.time_text,
                zone=slot.zone,
                language=texts.language,
                next_due=first,
            )
        )
        self._note(turn_context, "subscribed")
        return self._lessons_dialog.subscribed(texts, slot, first)

    # -- champions' weekly tip --------------------------------------------------------------------

    def is_champion(self, turn_context: TurnContext) -> bool:
        sender = turn_context.activity.from_property
        return (
            sender is not None
            and bool(sender.aad_object_id)
            and (sender.aad_object_id in self._champions)
        )

    async def _channels(self) -> list[tuple[str, str]]:
        stored = await self._references.of_type("channel")
        return [
            (
                ref.conversation_id,
                str(
                    dict(ref.reference.get("conversation") or {}).get("name") or ref.conversation_id
                ),
            )
            for ref in stored
        ]

    async def _tip_recipients(self, request: TipRequest) -> list[tuple[str, str]]:
        if request.audience == "channels":
            return [(channel, self._default_language) for channel in request.channels]
        return await self._lesson_store.subscribers()

    async def _tip_action(self, turn_context: TurnContext, action: CardAction | None) -> CardView:
        texts = self.texts_for(turn_context)
        if not self.is_champion(turn_context) or self._broadcasts is None:
            self._note(turn_context, "tip:refused")
            return self._champion_dialog.refused(texts)
        book = self.book_for(texts.language)
        channels = await self._channels()
        if action is None or action.verb is Verb.TIP_COMPOSE:
            return self._champion_dialog.compose(texts, book, channels)
        parsed = self._champion_dialog.parse(
            texts, book, action.data, [cid for cid, _ in channels], self._clock()
        )
        if isinstance(parsed, str):
            return self._champion_dialog.compose(
                texts, book, channels, error=parsed, data=action.data
            )
        recipients = await self._tip_recipients(parsed)
        if not recipients:
            return self._champion_dialog.compose(
                texts, book, channels, error=texts("tips.error_no_recipients"), data=action.data
            )
        if action.verb is Verb.TIP_PREVIEW:
            return self._champion_dialog.preview(texts, book, parsed, len(recipients))
        return await self._start_broadcast(turn_context, parsed, recipients)

    async def _start_broadcast(
        self, turn_context: TurnContext, request: TipRequest, recipients: list[tuple[str, str]]
    ) -> CardView:
        broadcasts = self._broadcasts
        if broadcasts is None:
            return self._champion_dialog.refused(self.texts_for(turn_context))
        texts = self.texts_for(turn_context)
        cards: dict[str, Any] = {
            language: self._renderer.render(
                TipCardView(request.text(self.book_for(language))), self._catalog.texts(language)
            )
            for language in self._lessons
        }
        activity = turn_context.activity
        now = self._clock()
        progress = await broadcasts.create_job(
            created_by=self.user_key(turn_context),
            due=request.due or now,
            cards=cards,
            recipients=recipients,
            progress_service_url=str(activity.service_url or ""),
            progress_conversation=activity.conversation.id if activity.conversation else "",
            progress_activity=str(activity.reply_to_id or ""),
            progress_language=texts.language,
        )
        self._note(turn_context, "tip:queued")
        if request.due is not None and request.due > now:
            return self._champion_dialog.scheduled(texts, request, len(recipients))
        return self._champion_dialog.progress(texts, progress, progress.seconds_left(50.0))

    def weekly_card(self, language: Language, completed: frozenset[int]) -> dict[str, Any]:
        """The card a subscriber gets this week: their next unfinished lesson (or a tip)."""
        texts = self._catalog.texts(language)
        book = self.book_for(language)
        upcoming = next_unfinished(book, completed)
        if upcoming is None:
            view = self._lessons_dialog.all_done(texts, book, completed)
        else:
            view = self._lessons_dialog.lesson(texts, book, upcoming, completed, pushed=True)
        return self._renderer.render(view, texts)

    @staticmethod
    def card_invoke_response(card: dict[str, Any]) -> InvokeResponse:
        body = AdaptiveCardInvokeResponse(
            status_code=int(HTTPStatus.OK), type=CARD_CONTENT_TYPE, value=card
        )
        return InvokeResponse(status=int(HTTPStatus.OK), body=serializer_helper(body))

    # -- errors ---------------------------------------------------------------------------------

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """Used as the adapter's on_turn_error: log the detail, tell the user kindly."""
        activity = turn_context.activity
        _log.error(
            "turn_failed",
            exc_info=(type(error), error, error.__traceback__),
            extra={"fields": {"activity_type": activity.type or ""}},
        )
        record = turn_context.turn_state.get(TURN_LOG_KEY)
        if isinstance(record, TurnLog):
            record.route = f"{record.route or 'turn'}:failed"
        card = self.render(turn_context, ErrorView(storage_down=_storage_down(error)))
        try:
            if activity.type == ActivityTypes.invoke:
                response = self.card_invoke_response(card)
                await turn_context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=response)
                )
            elif activity.type == ActivityTypes.message:
                await turn_context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(card))
                )
        except Exception as send_error:  # Teams unreachable too: the log is all we can do
            _log.error(
                "error_reply_failed",
                exc_info=(type(send_error), send_error, send_error.__traceback__),
            )


def _storage_down(error: BaseException) -> bool:
    """Whether the store being unreachable caused this error (directly or further down)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, StorageUnavailableError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_AT_TAG = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def _without_mention(turn_context: TurnContext) -> str:
    """The message's text without the @mention of the bot (group chats and channels).

    botbuilder's `remove_recipient_mention` trusts the mention entities the client sends and
    throws on malformed ones; then we drop every <at>…</at> tag ourselves instead."""
    try:
        raw = TurnContext.remove_recipient_mention(turn_context.activity)
    except (KeyError, TypeError, AttributeError, ValueError, re.error):
        text = turn_context.activity.text
        raw = _AT_TAG.sub(" ", text) if isinstance(text, str) else ""
    return raw if isinstance(raw, str) else ""


def _int(value: object) -> int | None:
    """A lesson id from card data (the Playground sends every value as a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value.strip())
    return None

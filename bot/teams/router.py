"""The Teams router: turns an activity into a `Caller` and a command or card action, looks the
handler up in the flows' table, and sends the card it gets back. No feature logic lives here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.schema import ChannelAccount

from bot.core.caller import Caller
from bot.core.commands import CommandName, parse_command
from bot.core.language import Written, as_language, choose_language, is_norwegian_locale
from bot.core.records import LanguageChoice
from bot.logs import get_logger
from bot.ports import StorageUnavailableError
from bot.teams.activity import TurnFacts, card_language, message_text
from bot.teams.references import ReferenceKeeper
from bot.teams.replies import card_invoke_response, card_message, send_error_card
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import CardView, LanguageOfferView
from content import Catalog, Language
from dialogs.flow import Reply, Request, Routes

if TYPE_CHECKING:
    from dialogs.actions import CardAction, RejectedAction

_log = get_logger("router")

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
LANGUAGE_OFFER: CardView = LanguageOfferView()


class Languages(Protocol):
    """What the router needs of the stored language choices (`CachedLanguageChoices`)."""

    async def get(self, user_key: str) -> LanguageChoice | None: ...

    async def mark_offered(self, user_key: str) -> None: ...

    def forget(self, user_key: str) -> None: ...


class Router(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no type information
    def __init__(
        self,
        *,
        routes: Routes,
        facts: TurnFacts,
        references: ReferenceKeeper,
        conversation_state: ConversationState,
        renderer: CardRenderer,
        catalog: Catalog,
        welcome: CardView,
        unknown_verb: CardView,
        rejected: CardView,
        languages: Languages,
    ) -> None:
        super().__init__()
        self._routes = routes
        self._facts = facts
        self._references = references
        self._conversation_state = conversation_state
        self._welcomed = conversation_state.create_property("kivett")
        self._renderer = renderer
        self._catalog = catalog
        self._welcome = welcome
        self._unknown_verb = unknown_verb
        self._rejected = rejected
        self._languages = languages

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    # -- messages -------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        # A message reads and writes no conversation state: each flow keeps its own state in its
        # card, so an ordinary message costs no storage round trip (the language choice is
        # remembered in memory for a while).
        await self._references.remember(turn_context)
        text = message_text(turn_context)
        command = parse_command(text)
        _note(turn_context, f"command:{command.name.value}")
        stored = await self._stored_choice(turn_context)
        caller = self._caller(turn_context, stored, written=command.written)
        handler = (
            self._routes.commands.get(command.name) or self._routes.commands[CommandName.UNKNOWN]
        )
        answer = await handler(self._request(caller, text=text))
        await self._after(turn_context, caller, answer, f"command:{command.name.value}")
        card = self._render(answer.language or caller.language, answer.view)
        if command.name is not CommandName.LANGUAGE and not answer.language:
            await self._offer_language(turn_context, caller, stored, card)
        await turn_context.send_activity(card_message(card))

    # -- card actions ---------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            _note(turn_context, "invoke:ignored")
            return card_invoke_response(None)
        # A button answers in the language of its card; only an old card without one needs the
        # stored choice.
        shown_in = card_language(turn_context)
        stored = None if shown_in else await self._stored_choice(turn_context)
        caller = self._caller(turn_context, stored, card=shown_in)
        # imported at the first card action: its payload check (pydantic) is not needed to answer
        # a message, so a bot's first answer does not wait for it (docs/performance.md)
        from dialogs.actions import parse_action

        action = parse_action(turn_context.activity.value)
        view, language = await self._view_for(turn_context, caller, action)
        return card_invoke_response(self._render(language, view))

    async def _view_for(
        self, turn_context: TurnContext, caller: Caller, action: CardAction | RejectedAction
    ) -> tuple[CardView, Language]:
        from dialogs.actions import RejectedAction

        if isinstance(action, RejectedAction):
            _note(turn_context, f"action:rejected:{action.problem}")
            return self._rejected, caller.language
        route = f"action:{action.verb.value}"
        _note(turn_context, route)
        handler = self._routes.verbs.get(action.verb)
        if handler is None:
            return self._unknown_verb, caller.language
        answer = await handler(self._request(caller, data=action.data, verb=action.verb))
        await self._after(turn_context, caller, answer, route)
        return answer.view, answer.language or caller.language

    # -- installation and membership ------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._references.remember(turn_context, force=True)
        _note(turn_context, "installed")
        await self._welcome_once(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._references.forget(turn_context)
        _note(turn_context, "uninstalled")

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if _includes_bot(members_added, turn_context):
            await self._references.remember(turn_context, force=True)
            _note(turn_context, "bot_added")
            await self._welcome_once(turn_context)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if _includes_bot(members_removed, turn_context):
            await self._references.forget(turn_context)
            _note(turn_context, "bot_removed")

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        if not self._facts.caller(turn_context).conversation.is_personal:
            return
        data = await self._welcomed.get(turn_context, dict)
        if not isinstance(data, dict):  # state written by something else: start clean
            data = {}
            await self._welcomed.set(turn_context, data)
        if data.get("welcomed"):
            return
        data["welcomed"] = True
        stored = await self._stored_choice(turn_context)
        caller = self._caller(turn_context, stored)
        card = self._render(caller.language, self._welcome)
        await self._offer_language(turn_context, caller, stored, card)
        await turn_context.send_activity(card_message(card))
        _note(turn_context, "welcome")

    # -- plumbing -------------------------------------------------------------------------------

    def _request(
        self, caller: Caller, *, text: str = "", data: Any = None, verb: Verb | None = None
    ) -> Request:
        texts = self._catalog.texts(caller.language)
        return Request(caller=caller, texts=texts, data=data or {}, text=text, verb=verb)

    def _render(self, language: Language, view: CardView) -> dict[str, Any]:
        return self._renderer.render(view, self._catalog.texts(language))

    async def _stored_choice(self, turn_context: TurnContext) -> LanguageChoice | None:
        """What the person chose with `språk` (None when nothing is stored, or the store is
        down: then the answer simply follows the client and the text)."""
        user_key = self._facts.user_key(turn_context)
        if not user_key:
            return None
        try:
            return await self._languages.get(user_key)
        except StorageUnavailableError:
            return None

    def _caller(
        self,
        turn_context: TurnContext,
        stored: LanguageChoice | None,
        *,
        card: Language | None = None,
        written: Written | None = None,
    ) -> Caller:
        language = choose_language(
            malform=self._facts.malform,
            chosen=as_language(stored.language) if stored is not None else None,
            card=card,
            locale=turn_context.activity.locale,
            written=written,
        )
        return self._facts.caller(turn_context, language)

    async def _offer_language(
        self,
        turn_context: TurnContext,
        caller: Caller,
        stored: LanguageChoice | None,
        card: dict[str, Any],
    ) -> None:
        """The first answer to someone whose Teams is not in Norwegian ends with one line offering
        Bokmål, Nynorsk and English (once per person, in the personal chat)."""
        if (
            not caller.user_key
            or not caller.conversation.is_personal
            or is_norwegian_locale(turn_context.activity.locale)
            or (stored is not None and (stored.offered or stored.language))
        ):
            return
        try:
            await self._languages.mark_offered(caller.user_key)
        except StorageUnavailableError:
            return  # offered next time instead
        offer = self._render(caller.language, LANGUAGE_OFFER)
        card.setdefault("body", []).extend(offer.get("body", []))
        _note(turn_context, f"{_route(turn_context)}:language_offered")

    async def _after(
        self, turn_context: TurnContext, caller: Caller, answer: Reply, route: str
    ) -> None:
        if answer.route:
            _note(turn_context, answer.route if ":" in answer.route else f"{route}:{answer.route}")
        if answer.remember_conversation:
            await self._references.remember(turn_context, force=True)
        conversation = turn_context.activity.conversation
        if answer.conversation_forgotten and conversation is not None and conversation.id:
            self._references.forget_memo(conversation.id)
        if answer.person_erased:
            self._languages.forget(caller.user_key)

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """The adapter's on_turn_error: log the detail, tell the user kindly."""
        await send_error_card(turn_context, error, self._renderer, self._catalog, self._facts)


def _includes_bot(members: list[ChannelAccount] | None, turn_context: TurnContext) -> bool:
    recipient = turn_context.activity.recipient
    bot_id = recipient.id if recipient is not None else None
    return any(member.id == bot_id for member in members or [])


def _route(turn_context: TurnContext) -> str:
    record = turn_context.turn_state.get(TURN_LOG_KEY)
    return record.route if isinstance(record, TurnLog) else ""


def _note(turn_context: TurnContext, route: str) -> None:
    record = turn_context.turn_state.get(TURN_LOG_KEY)
    if isinstance(record, TurnLog):
        record.route = route

"""The Teams router: turns an activity into a `Caller` and a command or card action, looks the
handler up in the flows' table, and sends the card it gets back. No feature logic lives here."""

from __future__ import annotations

from typing import Any

from botbuilder.core import ActivityHandler, ConversationState, TurnContext
from botbuilder.schema import ChannelAccount

from bot.core.caller import Caller
from bot.core.commands import CommandName, parse_command
from bot.logs import get_logger
from bot.teams.activity import TurnFacts, message_text
from bot.teams.references import ReferenceKeeper
from bot.teams.replies import card_invoke_response, card_message, send_error_card
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import CardView
from content import Catalog
from dialogs.actions import CardAction, RejectedAction, parse_action
from dialogs.flow import Reply, Request, Routes

_log = get_logger("router")

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"


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

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    # -- messages -------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        # A message reads and writes no conversation state: each flow keeps its own state in its
        # card, so an ordinary message costs no storage round trip.
        await self._references.remember(turn_context)
        text = message_text(turn_context)
        command = parse_command(text)
        _note(turn_context, f"command:{command.name.value}")
        caller = self._facts.caller(turn_context)
        handler = (
            self._routes.commands.get(command.name) or self._routes.commands[CommandName.UNKNOWN]
        )
        answer = await handler(self._request(caller, text=text))
        await self._after(turn_context, answer, f"command:{command.name.value}")
        await turn_context.send_activity(card_message(self._render(caller, answer.view)))

    # -- card actions ---------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        caller = self._facts.caller(turn_context)
        if turn_context.activity.name != ADAPTIVE_CARD_ACTION:
            _note(turn_context, "invoke:ignored")
            return card_invoke_response(None)
        action = parse_action(turn_context.activity.value)
        view = await self._view_for(turn_context, caller, action)
        return card_invoke_response(self._render(caller, view))

    async def _view_for(
        self, turn_context: TurnContext, caller: Caller, action: CardAction | RejectedAction
    ) -> CardView:
        if isinstance(action, RejectedAction):
            _note(turn_context, f"action:rejected:{action.problem}")
            return self._rejected
        route = f"action:{action.verb.value}"
        _note(turn_context, route)
        handler = self._routes.verbs.get(action.verb)
        if handler is None:
            return self._unknown_verb
        answer = await handler(self._request(caller, data=action.data, verb=action.verb))
        await self._after(turn_context, answer, route)
        return answer.view

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
        caller = self._facts.caller(turn_context)
        if not caller.conversation.is_personal:
            return
        data = await self._welcomed.get(turn_context, dict)
        if not isinstance(data, dict):  # state written by something else: start clean
            data = {}
            await self._welcomed.set(turn_context, data)
        if data.get("welcomed"):
            return
        data["welcomed"] = True
        await turn_context.send_activity(card_message(self._render(caller, self._welcome)))
        _note(turn_context, "welcome")

    # -- plumbing -------------------------------------------------------------------------------

    def _request(
        self, caller: Caller, *, text: str = "", data: Any = None, verb: Verb | None = None
    ) -> Request:
        texts = self._catalog.texts(caller.language)
        return Request(caller=caller, texts=texts, data=data or {}, text=text, verb=verb)

    def _render(self, caller: Caller, view: CardView) -> dict[str, Any]:
        return self._renderer.render(view, self._catalog.texts(caller.language))

    async def _after(self, turn_context: TurnContext, answer: Reply, route: str) -> None:
        if answer.route:
            _note(turn_context, answer.route if ":" in answer.route else f"{route}:{answer.route}")
        if answer.remember_conversation:
            await self._references.remember(turn_context, force=True)
        conversation = turn_context.activity.conversation
        if answer.conversation_forgotten and conversation is not None and conversation.id:
            self._references.forget_memo(conversation.id)

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """The adapter's on_turn_error: log the detail, tell the user kindly."""
        await send_error_card(turn_context, error, self._renderer, self._catalog, self._facts)


def _includes_bot(members: list[ChannelAccount] | None, turn_context: TurnContext) -> bool:
    recipient = turn_context.activity.recipient
    bot_id = recipient.id if recipient is not None else None
    return any(member.id == bot_id for member in members or [])


def _note(turn_context: TurnContext, route: str) -> None:
    record = turn_context.turn_state.get(TURN_LOG_KEY)
    if isinstance(record, TurnLog):
        record.route = route

"""How cards leave the bot: as a message, as the answer to a card action, or as the kind error card
after a turn failed."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from botbuilder.core import (
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
    serializer_helper,
)
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse

from bot.logs import get_logger
from bot.ports import StorageUnavailableError
from bot.teams.activity import TurnFacts
from bot.teams.turnlog import TURN_LOG_KEY, TurnLog
from cards.renderer import CARD_CONTENT_TYPE, CardRenderer
from cards.views import ErrorView
from content import Catalog

_log = get_logger("router")


def card_message(card: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def card_invoke_response(card: dict[str, Any] | None) -> InvokeResponse:
    """The answer to `adaptiveCard/action`: the card that replaces the pressed one (CloudAdapter
    needs an `AdaptiveCardInvokeResponse`; a plain dict becomes HTTP 500). None: a plain 200."""
    if card is None:
        return InvokeResponse(status=int(HTTPStatus.OK))
    body = AdaptiveCardInvokeResponse(
        status_code=int(HTTPStatus.OK), type=CARD_CONTENT_TYPE, value=card
    )
    return InvokeResponse(status=int(HTTPStatus.OK), body=serializer_helper(body))


async def send_error_card(
    turn_context: TurnContext,
    error: Exception,
    renderer: CardRenderer,
    catalog: Catalog,
    facts: TurnFacts,
) -> None:
    """Log the detail, tell the user kindly (never the exception's text)."""
    activity = turn_context.activity
    _log.error(
        "turn_failed",
        exc_info=(type(error), error, error.__traceback__),
        extra={"fields": {"activity_type": activity.type or ""}},
    )
    record = turn_context.turn_state.get(TURN_LOG_KEY)
    if isinstance(record, TurnLog):
        record.route = f"{record.route or 'turn'}:failed"
    texts = catalog.texts(facts.language(turn_context))
    card = renderer.render(ErrorView(storage_down=storage_down(error)), texts)
    try:
        if activity.type == ActivityTypes.invoke:
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=card_invoke_response(card))
            )
        elif activity.type == ActivityTypes.message:
            await turn_context.send_activity(card_message(card))
    except Exception as send_error:  # Teams unreachable too: the log is all we can do
        _log.error(
            "error_reply_failed", exc_info=(type(send_error), send_error, send_error.__traceback__)
        )


def storage_down(error: BaseException) -> bool:
    """Whether the store being unreachable caused this error (directly or further down)."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, StorageUnavailableError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

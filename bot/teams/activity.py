"""What the router reads off an activity: the typed `Caller`, and the message text without the
@mention of the bot. The only place that knows where Teams puts these facts."""

from __future__ import annotations

import re
from collections.abc import Collection

from botbuilder.core import TurnContext

from bot.core.caller import PERSONAL, Caller, Conversation, roles_for
from bot.core.commands import parse_command
from bot.core.language import as_language, choose_language
from cards.renderer import LANGUAGE_KEY
from content import Language


class TurnFacts:
    """Builds the `Caller` of a turn from the activity and the role settings."""

    def __init__(
        self, *, default_language: Language, champions: Collection[str], leads: Collection[str]
    ) -> None:
        self._default_language = default_language
        self._champions = frozenset(champions)
        self._leads = frozenset(leads)

    @property
    def malform(self) -> Language:
        """The municipality's målform (`KIVETT_DEFAULT_LANGUAGE`)."""
        return self._default_language

    def user_key(self, turn_context: TurnContext) -> str:
        """Whom the turn's person is stored under: Entra object id, else Teams id."""
        sender = turn_context.activity.from_property
        object_id = str(getattr(sender, "aad_object_id", None) or "")
        return object_id or str(getattr(sender, "id", None) or "")

    def caller(self, turn_context: TurnContext, language: Language | None = None) -> Caller:
        """The turn's caller, answered in `language` (worked out by the router; without it, from
        the client's locale and the målform only)."""
        activity = turn_context.activity
        sender = activity.from_property
        object_id = str(getattr(sender, "aad_object_id", None) or "")
        user_key = self.user_key(turn_context)
        conversation = activity.conversation
        return Caller(
            user_key=user_key,
            object_id=object_id,
            display_name=str(getattr(sender, "name", None) or ""),
            language=language or self.language(turn_context),
            conversation=Conversation(
                id=str(getattr(conversation, "id", None) or ""),
                kind=str(getattr(conversation, "conversation_type", None) or PERSONAL),
                tenant_id=str(getattr(conversation, "tenant_id", None) or ""),
                service_url=str(activity.service_url or ""),
                card_activity_id=str(activity.reply_to_id or ""),
            ),
            roles=roles_for(object_id=object_id, champions=self._champions, leads=self._leads),
        )

    def language(self, turn_context: TurnContext) -> Language:
        """The language when nothing else is known (no stored choice looked up): the order of
        `bot.core.language`, from the locale and the words of a message."""
        activity = turn_context.activity
        text = activity.text if activity.type == "message" else None
        return choose_language(
            malform=self._default_language,
            card=card_language(turn_context),
            locale=activity.locale,
            written=parse_command(text).written if isinstance(text, str) else None,
        )


def card_language(turn_context: TurnContext) -> Language | None:
    """For a card action: the language of the card the button sat on (the renderer puts it in
    every button's data); None for anything else, an old card or a damaged payload."""
    activity = turn_context.activity
    if activity.type != "invoke" or not isinstance(activity.value, dict):
        return None
    action = activity.value.get("action")
    data = action.get("data") if isinstance(action, dict) else None
    return as_language(data.get(LANGUAGE_KEY)) if isinstance(data, dict) else None


_AT_TAG = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def message_text(turn_context: TurnContext) -> str:
    """The message's text without the @mention of the bot (group chats and channels).

    botbuilder's `remove_recipient_mention` trusts the mention entities the client sends and
    throws on malformed ones; then every <at>…</at> tag is dropped here instead."""
    try:
        raw = TurnContext.remove_recipient_mention(turn_context.activity)
    except (KeyError, TypeError, AttributeError, ValueError, re.error):
        text = turn_context.activity.text
        raw = _AT_TAG.sub(" ", text) if isinstance(text, str) else ""
    return raw if isinstance(raw, str) else ""

"""What the router reads off an activity: the typed `Caller`, and the message text without the
@mention of the bot. The only place that knows where Teams puts these facts."""

from __future__ import annotations

import re
from collections.abc import Collection

from botbuilder.core import TurnContext

from bot.core.caller import PERSONAL, Caller, Conversation, roles_for
from bot.core.language import language_for_locale
from content import Language


class TurnFacts:
    """Builds the `Caller` of a turn from the activity and the role settings."""

    def __init__(
        self, *, default_language: Language, champions: Collection[str], leads: Collection[str]
    ) -> None:
        self._default_language = default_language
        self._champions = frozenset(champions)
        self._leads = frozenset(leads)

    def caller(self, turn_context: TurnContext) -> Caller:
        activity = turn_context.activity
        sender = activity.from_property
        object_id = str(getattr(sender, "aad_object_id", None) or "")
        user_key = object_id or str(getattr(sender, "id", None) or "")
        conversation = activity.conversation
        return Caller(
            user_key=user_key,
            object_id=object_id,
            display_name=str(getattr(sender, "name", None) or ""),
            language=language_for_locale(activity.locale, self._default_language),
            conversation=Conversation(
                id=str(getattr(conversation, "id", None) or ""),
                kind=str(getattr(conversation, "conversation_type", None) or PERSONAL),
                tenant_id=str(getattr(conversation, "tenant_id", None) or ""),
                service_url=str(activity.service_url or ""),
                card_activity_id=str(activity.reply_to_id or ""),
            ),
            roles=roles_for(
                object_id=object_id,
                user_key=user_key,
                champions=self._champions,
                leads=self._leads,
            ),
        )

    def language(self, turn_context: TurnContext) -> Language:
        return language_for_locale(turn_context.activity.locale, self._default_language)


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

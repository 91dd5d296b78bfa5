"""Conversation references: saved when the bot is installed or spoken to, so workers can write to
the conversation later; forgotten when the bot is removed."""

from __future__ import annotations

from collections import OrderedDict

from botbuilder.core import TurnContext

from bot.core.caller import PERSONAL
from bot.core.records import StoredReference
from bot.ports import ConversationReferenceStore

MEMO_SIZE = 10_000


class ReferenceKeeper:
    def __init__(self, store: ConversationReferenceStore) -> None:
        self._store = store
        # conversation id → what was last saved for it, so plain messages skip an unchanged write
        self._saved: OrderedDict[str, tuple[str, str, str]] = OrderedDict()

    async def remember(self, turn_context: TurnContext, *, force: bool = False) -> None:
        """Save the conversation reference. Install events (and `force`) always write; ordinary
        messages only when something the reference depends on changed since this process last
        saved it."""
        activity = turn_context.activity
        conversation = activity.conversation
        if conversation is None or not conversation.id:
            return
        kind = conversation.conversation_type or PERSONAL
        fingerprint = (str(activity.service_url), kind, conversation.tenant_id or "")
        if not force and self._saved.get(conversation.id) == fingerprint:
            self._saved.move_to_end(conversation.id)
            return
        reference = TurnContext.get_conversation_reference(activity)
        await self._store.save(
            StoredReference(
                conversation_id=conversation.id,
                conversation_type=kind,
                tenant_id=conversation.tenant_id or "",
                reference=reference.serialize(),
            )
        )
        self._saved[conversation.id] = fingerprint
        if len(self._saved) > MEMO_SIZE:
            self._saved.popitem(last=False)

    async def forget(self, turn_context: TurnContext) -> None:
        conversation = turn_context.activity.conversation
        if conversation is not None and conversation.id:
            self._saved.pop(conversation.id, None)
            await self._store.remove(conversation.id)

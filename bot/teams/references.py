"""Conversation references: saved when the bot is installed or spoken to, so workers can write to
the conversation later; forgotten when the bot is removed.

Only what writing later needs is kept: never the person's display name, and in group chats and
channels nobody at all (there the reference would otherwise name whoever spoke last). A reference
is saved again at most once per UTC day while nothing in it changes, so its `last_seen` stays true
for the retention limit without a write for every message.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from botbuilder.core import TurnContext

from bot.core.caller import PERSONAL
from bot.core.records import StoredReference
from bot.ports import ConversationReferenceStore

MEMO_SIZE = 10_000
"""Conversations this process remembers having saved (least recently seen forgotten first)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def minimal_reference(reference: Mapping[str, Any], conversation_type: str) -> dict[str, Any]:
    """The serialized reference without the display name, and without the user outside a
    personal chat (the bot writes to the conversation, not to whoever spoke last)."""
    kept = dict(reference)
    user = kept.pop("user", None)
    if conversation_type == PERSONAL and isinstance(user, Mapping):
        kept["user"] = {key: value for key, value in user.items() if key != "name"}
    return kept


class ReferenceKeeper:
    def __init__(
        self,
        store: ConversationReferenceStore,
        *,
        clock: Callable[[], datetime] = _utc_now,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self._store = store
        self._clock = clock
        self._memo_size = memo_size
        # conversation id → what was last saved for it, and the UTC day it was saved, so plain
        # messages skip an unchanged write until the next day
        self._saved: OrderedDict[str, tuple[tuple[str, str, str], date]] = OrderedDict()

    async def remember(self, turn_context: TurnContext, *, force: bool = False) -> None:
        """Save the conversation reference. Install events (and `force`) always write; ordinary
        messages only when something the reference depends on changed since this process last
        saved it, or when it was last saved on an earlier UTC day."""
        activity = turn_context.activity
        conversation = activity.conversation
        if conversation is None or not conversation.id:
            return
        now = self._clock().astimezone(UTC)
        kind = conversation.conversation_type or PERSONAL
        fingerprint = (str(activity.service_url), kind, conversation.tenant_id or "")
        if not force and self._saved.get(conversation.id) == (fingerprint, now.date()):
            self._saved.move_to_end(conversation.id)
            return
        reference = TurnContext.get_conversation_reference(activity)
        await self._store.save(
            StoredReference(
                conversation_id=conversation.id,
                conversation_type=kind,
                tenant_id=conversation.tenant_id or "",
                reference=minimal_reference(reference.serialize(), kind),
                last_seen=now,
            )
        )
        self._saved[conversation.id] = (fingerprint, now.date())
        self._saved.move_to_end(conversation.id)
        while len(self._saved) > self._memo_size:
            self._saved.popitem(last=False)  # the least recently seen: saved again next time

    async def forget(self, turn_context: TurnContext) -> None:
        conversation = turn_context.activity.conversation
        if conversation is not None and conversation.id:
            self.forget_memo(conversation.id)
            await self._store.remove(conversation.id)

    def forget_memo(self, conversation_id: str) -> None:
        """Forget that this process saved the conversation (after its reference was erased), so
        the next message saves it again."""
        self._saved.pop(conversation_id, None)

"""The `ProactiveSender` port on the Bot Connector: messages the bot writes on its own.

A stored conversation reference says where to write; the connector posts the card with the bot's
credentials for that service URL (fetched once per URL). One attempt per call: the workers decide
about retries, Retry-After and the rate limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.teams.connector import KiVettCloudAdapter
from cards.renderer import CARD_CONTENT_TYPE

PROGRESS_RETRIES = 1
"""A progress card is replaced again a moment later anyway: one quick retry is enough."""


class TeamsProactiveSender:
    def __init__(self, adapter: KiVettCloudAdapter, bot_app_id: str) -> None:
        self._adapter = adapter
        self._bot_app_id = bot_app_id
        self._credentials: dict[str, Any] = {}

    async def send(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> None:
        payload = {
            "type": "message",
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
            "channelId": reference.get("channelId", "msteams"),
            "serviceUrl": reference.get("serviceUrl"),
            "conversation": reference.get("conversation"),
            "from": reference.get("bot"),
            "recipient": reference.get("user"),
            "locale": reference.get("locale"),
        }
        service_url = str(reference.get("serviceUrl", ""))
        conversation = reference.get("conversation") or {}
        await self._adapter.connector.send(
            service_url=service_url,
            conversation_id=str(conversation.get("id", "")),
            payload={key: value for key, value in payload.items() if value is not None},
            credentials=await self._credentials_for(service_url),
            retries=0,
        )

    async def update(
        self, *, service_url: str, conversation_id: str, activity_id: str, card: Mapping[str, Any]
    ) -> None:
        await self._adapter.connector.send(
            service_url=service_url,
            conversation_id=conversation_id,
            payload={
                "type": "message",
                "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
            },
            credentials=await self._credentials_for(service_url),
            update_id=activity_id,
            retries=PROGRESS_RETRIES,
        )

    async def _credentials_for(self, service_url: str) -> Any:
        if service_url not in self._credentials:
            self._credentials[service_url] = await self._adapter.credentials_for(
                service_url, self._bot_app_id
            )
        return self._credentials[service_url]

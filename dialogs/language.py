"""The language flow: `språk` / `language` shows the choice, a button stores it.

The choice is stored per person and also moves their weekly subscription to the new language, so
lessons and tips follow it. The answer to a choice is rendered in the language just chosen.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.caller import Role
from bot.core.commands import CommandName, parse_command
from bot.core.language import as_language
from bot.logs import get_logger
from bot.ports import LanguageChoices, LessonStore, StorageUnavailableError
from cards.verbs import Verb
from cards.views import ButtonSpec, LanguageChosenView, LanguageView, NoticeView, StaleActionView
from content import Language, Texts
from dialogs.flow import Reply, Request, Routes

_log = get_logger("language")


class LanguageFlow:
    def __init__(self, choices: LanguageChoices, lessons: LessonStore) -> None:
        self._choices = choices
        self._lessons = lessons

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.LANGUAGE: self._command},
            verbs={Verb.LANGUAGE: self._show, Verb.LANGUAGE_SET: self._set},
        )

    async def _command(self, request: Request) -> Reply:
        """`språk` shows the card; `språk nynorsk` (or just `nynorsk`) chooses at once."""
        asked = as_language(parse_command(request.text).argument)
        if asked is not None:
            return await self._choose(request, asked)
        return await self._show(request)

    async def _show(self, request: Request) -> Reply:
        chosen = False
        if request.caller.user_key:
            try:
                stored = await self._choices.get(request.caller.user_key)
            except StorageUnavailableError:
                stored = None
            chosen = stored is not None and as_language(stored.language) is not None
        return Reply(LanguageView(current=request.caller.language, chosen=chosen), route="show")

    async def _set(self, request: Request) -> Reply:
        asked = as_language(request.data.get("choice"))
        if asked is None:  # a forged or damaged button
            return Reply(StaleActionView(), route="language:rejected")
        return await self._choose(request, asked)

    async def _choose(self, request: Request, language: Language) -> Reply:
        user_key = request.caller.user_key
        if not user_key:
            return Reply(_notice(request.texts, "language.no_person"), route="language:no_person")
        try:
            await self._choices.choose(user_key, language)
        except StorageUnavailableError:
            return Reply(_notice(request.texts, "language.storage_down"), route="language:storage")
        await self._move_subscription(user_key, language)
        roles = request.caller.roles
        return Reply(
            LanguageChosenView(champion=Role.CHAMPION in roles, lead=Role.LEAD in roles),
            route=f"language:chosen:{language}",
            language=language,
        )

    async def _move_subscription(self, user_key: str, language: Language) -> None:
        """Weekly lessons and tips go out in the subscription's language: move it along."""
        try:
            subscription = await self._lessons.subscription(user_key)
            if subscription is not None and subscription.language != language:
                await self._lessons.subscribe(replace(subscription, language=language))
        except StorageUnavailableError:
            # The choice is stored; the next weekly card still comes in the old language until
            # the person subscribes again or chooses again. Not worth failing the answer for.
            _log.warning("subscription_language_not_moved", extra={"fields": {"reason": "storage"}})


def _notice(texts: Texts, key: str) -> NoticeView:
    return NoticeView(
        title=texts("language.title"),
        body=texts(key),
        buttons=(ButtonSpec(texts("language.button_help"), Verb.HELP),),
    )

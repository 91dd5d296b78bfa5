"""The language choices, remembered for a minute in this process (wraps any `LanguageChoices`).

The router reads a person's choice on every message; on Azure Storage that would be one blob read
per turn. Choices change rarely and this process writes through the wrapper, so a short memory is
exact for this instance and at most `ttl` seconds behind a choice made on another instance.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from bot.core.records import LanguageChoice
from bot.ports import LanguageChoices

TTL_SECONDS = 60.0
MAX_PEOPLE = 10_000


class CachedLanguageChoices:
    """A `LanguageChoices` that remembers answers (also "nothing stored") for `ttl` seconds, for at
    most `size` people (least recently used forgotten first)."""

    def __init__(
        self,
        inner: LanguageChoices,
        clock: Callable[[], float],
        *,
        ttl: float = TTL_SECONDS,
        size: int = MAX_PEOPLE,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._memo: OrderedDict[str, tuple[float, LanguageChoice | None]] = OrderedDict()

    async def get(self, user_key: str) -> LanguageChoice | None:
        now = self._clock()
        held = self._memo.get(user_key)
        if held is not None and now - held[0] < self._ttl:
            self._memo.move_to_end(user_key)
            return held[1]
        choice = await self._inner.get(user_key)
        self._keep(user_key, choice, now)
        return choice

    async def choose(self, user_key: str, language: str) -> None:
        self.forget(user_key)
        await self._inner.choose(user_key, language)
        self._keep(user_key, LanguageChoice(language=language, offered=True), self._clock())

    async def mark_offered(self, user_key: str) -> None:
        held = self._memo.get(user_key)
        self.forget(user_key)
        await self._inner.mark_offered(user_key)
        language = held[1].language if held is not None and held[1] is not None else None
        if held is not None:
            self._keep(user_key, LanguageChoice(language=language, offered=True), self._clock())

    def forget(self, user_key: str) -> None:
        """Drop what is remembered about one person (after they erased their data)."""
        self._memo.pop(user_key, None)

    def _keep(self, user_key: str, choice: LanguageChoice | None, now: float) -> None:
        self._memo[user_key] = (now, choice)
        self._memo.move_to_end(user_key)
        while len(self._memo) > self._size:
            self._memo.popitem(last=False)

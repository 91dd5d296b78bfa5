"""Reminders about trials: near a trial's end its participants are asked, once, to file a
learning card for it (issue 17).

Every hour the worker looks for trials whose reminder is due (`bot.core.trials.reminder_due`:
from three days before the last day, while the trial is still open, once). For each it queues one
job in the broadcast engine, which sends within Teams' limits like a champion's tip: one card per
participant in their own chat with the bot, in the language they chose (else as the bot would
answer them: their Teams client's language, else the målform). The card has a button that opens
the learning card set to the trial, and one that turns these reminders off for the person.

Who is reached: the trial's owner and participants, each through their personal chat with the bot
(the stored reference naming their Entra object id). A participant the bot has never talked to has
no such chat and cannot be written to: they are counted (`StoredTrial.unreached`, shown with the
trial's summary) and skipped. Someone who turned reminders off is skipped too. The log holds
counts only, never who.

Exactly once, also across a crash: before the job is made the worker claims
"trial-reminder:<trial id>" in the action ledger, settles the claim with what it queued, and then
marks the trial reminded. A restart that finds the claim already made never makes a second job:

- claimed and settled, not yet marked: the job exists; the trial is marked (with the count the
  claim's outcome kept);
- claimed, not settled: the crash (or a store failure while the job was written) came either
  just before or just after the job was stored, and the ledger cannot tell which. The worker
  then marks the trial without a new job, so a crash in that instant can cost the participants
  their reminder but never sends it twice: a reminder is a nudge, and two identical nudges look
  like a fault.

Marking first (`mark_reminded`, then the job) would lose the reminder in the same way but would not
keep the count; making the job first and marking after would send it twice after such a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.caller import PERSONAL
from bot.core.language import as_language, choose_language
from bot.core.records import StoredReference
from bot.core.schedule import DEFAULT_ZONE
from bot.core.trials import StoredTrial, Trial, reminder_due
from bot.logs import get_logger
from bot.ports import (
    ActionLedger,
    BroadcastStore,
    LanguageChoices,
    PersonalData,
    TrialStore,
)
from content import LANGUAGES, Language

_log = get_logger("trial_reminders")

INTERVAL_SECONDS = 3600.0
ACTION_KIND = "trial_reminder"

ReminderCard = Callable[[Trial, Language], Mapping[str, Any]]
"""The reminder card for a trial, rendered in one language."""


def reminder_key(trial_id: str) -> str:
    """The action-ledger id that makes a trial's reminder happen once."""
    return f"trial-reminder:{trial_id}"


@dataclass(frozen=True)
class Reached:
    """Whom one reminder goes to, and how many it leaves out (counts only)."""

    recipients: tuple[tuple[str, str], ...]  # (conversation id, language)
    unreached: int  # the bot never talked with them: no chat to write to
    muted: int  # they turned trial reminders off


def _outcome(reached: Reached) -> str:
    return f"job:{len(reached.recipients)}:{reached.unreached}"


def _unreached_of(outcome: str) -> int:
    """The count an earlier run kept in its claim ("job:<recipients>:<unreached>"), else 0."""
    parts = outcome.split(":")
    if len(parts) == 3 and parts[0] == "job" and parts[2].isdigit():
        return int(parts[2])
    return 0


def _own_chat(references: list[StoredReference]) -> StoredReference | None:
    """The person's own chat with the bot (the one heard from last, if Teams made several)."""
    personal = [r for r in references if r.conversation_type == PERSONAL]
    if not personal:
        return None
    return max(
        personal, key=lambda r: (r.last_seen is not None, r.last_seen or 0, r.conversation_id)
    )


class TrialReminderWorker:
    def __init__(
        self,
        *,
        trials: TrialStore,
        personal: PersonalData,
        languages: LanguageChoices,
        broadcasts: BroadcastStore,
        actions: ActionLedger,
        reminder_card: ReminderCard,
        malform: Language,
        clock: Callable[[], datetime],
        zone: str = DEFAULT_ZONE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._trials = trials
        self._personal = personal
        self._languages = languages
        self._broadcasts = broadcasts
        self._actions = actions
        self._card = reminder_card
        self._malform = malform
        self._clock = clock
        self._zone = ZoneInfo(zone)
        self._sleep = sleep

    async def run_forever(self, interval_seconds: float = INTERVAL_SECONDS) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                _log.exception("trial_reminders_round_failed")
            await self._sleep(interval_seconds)

    async def run_once(self) -> int:
        """Queue the reminders due now; return how many trials were reminded."""
        today = self._clock().astimezone(self._zone).date()
        reminded = 0
        for stored in await self._trials.all():
            if reminder_due(stored, today):
                reminded += int(await self.remind(stored))
        return reminded

    async def remind(self, stored: StoredTrial) -> bool:
        """Queue the trial's one reminder; False if it had been queued (or claimed) before."""
        trial_id = stored.trial.trial_id
        key = reminder_key(trial_id)
        earlier = await self._actions.claim(key, ACTION_KIND)
        if earlier is not None:
            # an earlier run (or another worker) claimed it: never a second job
            await self._trials.mark_reminded(trial_id, unreached=_unreached_of(earlier))
            _log.info("trial_reminder_claimed_before", extra={"fields": {"settled": bool(earlier)}})
            return False
        reached = await self._reach(stored.trial)
        if reached.recipients:
            await self._broadcasts.create_job(
                created_by="",  # the bot's own message: no person made it
                due=self._clock(),
                cards={language: self._card(stored.trial, language) for language in LANGUAGES},
                recipients=reached.recipients,
                progress_service_url="",
                progress_conversation="",
                progress_activity="",
                progress_language=self._malform,
            )
        await self._actions.settle(key, _outcome(reached))
        await self._trials.mark_reminded(trial_id, unreached=reached.unreached)
        _log.info(
            "trial_reminder_queued",
            extra={
                "fields": {
                    "recipients": len(reached.recipients),
                    "unreached": reached.unreached,
                    "muted": reached.muted,
                }
            },
        )
        return True

    async def _reach(self, trial: Trial) -> Reached:
        people = [p for p in dict.fromkeys([trial.owner, *trial.draft.participants]) if p.strip()]
        recipients: dict[str, str] = {}
        unreached = muted = 0
        for person in people:
            if await self._trials.reminders_muted(person):
                muted += 1
                continue
            chat = _own_chat(await self._personal.conversations(person))
            if chat is None:
                unreached += 1
                continue
            if chat.conversation_id not in recipients:
                recipients[chat.conversation_id] = await self._language(person, chat)
        return Reached(tuple(recipients.items()), unreached, muted)

    async def _language(self, person: str, chat: StoredReference) -> Language:
        choice = await self._languages.get(person)
        chosen = as_language(choice.language) if choice is not None else None
        locale = chat.reference.get("locale")
        return choose_language(
            malform=self._malform,
            chosen=chosen,
            locale=locale if isinstance(locale, str) else None,
        )

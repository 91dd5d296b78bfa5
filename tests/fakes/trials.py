"""In-memory `TrialStore` (bot.ports) for unit tests and flows, and `sample_trial`, the trial the
tests build."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from bot.core.learning_cards import DeliveryState
from bot.core.state_keys import require_user_key
from bot.core.trials import StoredTrial, Trial, TrialDraft

_OUTBOX = (DeliveryState.PENDING, DeliveryState.REDACT)


class FakeTrials:
    def __init__(self) -> None:
        self.trials: dict[str, StoredTrial] = {}
        self.next_attempts: dict[str, float] = {}
        self.muted: set[str] = set()  # people who asked for no more reminders

    async def add(self, trial: Trial) -> bool:
        if trial.trial_id in self.trials:
            return False
        self.trials[trial.trial_id] = StoredTrial(trial, DeliveryState.PENDING)
        self.next_attempts[trial.trial_id] = 0.0
        return True

    async def get(self, trial_id: str) -> StoredTrial | None:
        return self.trials.get(trial_id)

    def _ordered(self) -> list[StoredTrial]:
        return sorted(self.trials.values(), key=lambda s: (s.trial.created_at, s.trial.trial_id))

    async def all(self) -> list[StoredTrial]:
        return self._ordered()

    async def of_person(self, user_key: str) -> list[StoredTrial]:
        return [
            s
            for s in self._ordered()
            if user_key and (s.trial.owner == user_key or user_key in s.trial.draft.participants)
        ]

    async def due(self, now: float, limit: int) -> list[StoredTrial]:
        due = [
            s
            for s in self._ordered()
            if s.state in _OUTBOX and self.next_attempts[s.trial.trial_id] <= now
        ]
        due.sort(key=lambda s: self.next_attempts[s.trial.trial_id])
        return due[: max(limit, 0)]

    async def next_attempt(self) -> float | None:
        pending = [
            self.next_attempts[s.trial.trial_id] for s in self.trials.values() if s.state in _OUTBOX
        ]
        return min(pending, default=None)

    async def delivered(self, trial_id: str, item_id: str) -> None:
        stored = self.trials[trial_id]
        erased = stored.state is DeliveryState.PENDING and not stored.trial.owner
        if erased:
            self.next_attempts[trial_id] = 0.0
        self.trials[trial_id] = replace(
            stored,
            state=DeliveryState.REDACT if erased else DeliveryState.DELIVERED,
            item_id=item_id,
            reason="",
            attempts=stored.attempts + 1,
        )

    async def retry(self, trial_id: str, at: float, reason: str) -> None:
        stored = self.trials[trial_id]
        if stored.state not in _OUTBOX:
            return
        self.trials[trial_id] = replace(stored, reason=reason, attempts=stored.attempts + 1)
        self.next_attempts[trial_id] = at

    async def park(self, trial_id: str, reason: str) -> None:
        stored = self.trials[trial_id]
        self.trials[trial_id] = replace(
            stored, state=DeliveryState.PARKED, reason=reason, attempts=stored.attempts + 1
        )

    async def requeue_parked(self) -> int:
        parked = [k for k, s in self.trials.items() if s.state is DeliveryState.PARKED]
        for trial_id in parked:
            stored = self.trials[trial_id]
            again = DeliveryState.REDACT if stored.item_id else DeliveryState.PENDING
            self.trials[trial_id] = replace(stored, state=again)
            self.next_attempts[trial_id] = 0.0
        return len(parked)

    async def mark_reminded(self, trial_id: str, *, unreached: int = 0) -> bool:
        stored = self.trials.get(trial_id)
        if stored is None or stored.reminded:
            return False
        self.trials[trial_id] = replace(stored, reminded=True, unreached=max(unreached, 0))
        return True

    async def mute_reminders(self, user_key: str) -> None:
        require_user_key(user_key)
        self.muted.add(user_key)

    async def unmute_reminders(self, user_key: str) -> bool:
        require_user_key(user_key)
        if user_key not in self.muted:
            return False
        self.muted.discard(user_key)
        return True

    async def reminders_muted(self, user_key: str) -> bool:
        return user_key in self.muted

    async def forget_person(self, user_key: str) -> int:
        changed = 0
        for trial_id, stored in list(self.trials.items()):
            trial = stored.trial
            kept = tuple(p for p in trial.draft.participants if p != user_key)
            if trial.owner != user_key and kept == trial.draft.participants:
                continue
            owner = "" if trial.owner == user_key else trial.owner
            new = replace(trial, owner=owner, draft=replace(trial.draft, participants=kept))
            state = stored.state
            if not owner and state is DeliveryState.DELIVERED and stored.item_id:
                state = DeliveryState.REDACT
                self.next_attempts[trial_id] = 0.0
            self.trials[trial_id] = replace(stored, trial=new, state=state)
            changed += 1
        return changed


def sample_trial(
    trial_id: str = "t1",
    *,
    owner: str = "aad-champion",
    participants: tuple[str, ...] = ("aad-champion", "aad-kari"),
    title: str = "Referater med Copilot",
    unit: str = "Hjemmetjenesten",
    created_at: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    starts: date = date(2026, 11, 2),
    ends: date = date(2027, 1, 31),
    success: str = "Referatet er klart samme dag.",
) -> Trial:
    """A registered (green) trial of summarising with Copilot Chat in a health unit."""
    return Trial(
        trial_id=trial_id,
        created_at=created_at,
        owner=owner,
        language="nb",
        draft=TrialDraft(
            title=title,
            task="summarize",
            service_area="helse",
            unit=unit,
            tool="copilot_chat",
            tool_other="",
            category="apen",
            participants=participants,
            starts=starts,
            ends=ends,
            success=success,
        ),
        verdict="green",
        risk_level="minimal",
    )

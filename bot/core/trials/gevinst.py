"""The material for a gevinstverksted: what the learning cards filed under one trial, or under
every trial of a unit, say together.

The KI-veikart has a unit turn experienced benefit into benefits to realise in a gevinstverksted.
Every figure here comes from what employees wrote on their learning cards: the benefit they
experienced (1–5) and the time they reported saving (minutes each time × times a month). They are
experienced and reported figures, never measured gains, and every card and export says so.

Pure: trials and stored cards in, a `Gevinst` out. No I/O.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.core.learning_cards import BENEFIT_RANGE, RECOMMEND, FollowUp, Labels, StoredCard
from bot.core.trials.model import StoredTrial, Trial

BENEFIT_SCORES: tuple[int, ...] = tuple(range(BENEFIT_RANGE[0], BENEFIT_RANGE[1] + 1))
"""The scores a card's experienced benefit can have (1–5), in order."""


class ScopeKind(StrEnum):
    TRIAL = "trial"
    UNIT = "unit"


@dataclass(frozen=True)
class Scope:
    """What a summary covers: one trial (by id) or a unit (by its name as trials give it, or a
    service area id: every trial of it)."""

    kind: ScopeKind
    key: str

    def encode(self) -> str:
        """As a card's choice value: `trial:<id>` or `unit:<name>`."""
        return f"{self.kind.value}:{self.key}"

    @staticmethod
    def decode(value: object) -> Scope | None:
        """A choice value back; None for anything else (a card's data can be forged)."""
        if not isinstance(value, str):
            return None
        kind, sep, key = value.partition(":")
        key = key.strip()
        if not sep or not key or kind not in {k.value for k in ScopeKind}:
            return None
        return Scope(ScopeKind(kind), key)


@dataclass(frozen=True)
class CardHours:
    """One card's reported time: minutes saved each time × times a month, in hours a month."""

    card_id: str
    title: str
    task: str
    hours_per_month: float


@dataclass(frozen=True)
class RiskMet:
    """A card that met a risk: its challenges as written, and the follow-up flags it got."""

    card_id: str
    title: str
    challenges: str
    follow_up: tuple[FollowUp, ...]


@dataclass(frozen=True)
class Quote:
    """The result a sender allowed to be shared (the card's `share`), without who wrote it."""

    card_id: str
    title: str
    result: str


@dataclass(frozen=True)
class Gevinst:
    """What the learning cards of a trial or a unit say. Benefit and time are what employees
    experienced and reported on their cards, not measured gains."""

    trials: tuple[Trial, ...]
    cards: tuple[StoredCard, ...]
    average_benefit: float | None  # experienced benefit, 1–5; None without cards
    benefit_counts: tuple[tuple[int, int], ...]  # (score, cards) for every score 1–5
    reported_hours_per_month: float  # summed over the cards, as reported
    hours_by_card: tuple[CardHours, ...]  # most first
    hours_by_task: tuple[tuple[str, float], ...]  # task id → reported hours a month, most first
    recommend: tuple[tuple[str, int], ...]  # "yes", "maybe", "no" → cards, in that order
    recommended_tasks: tuple[tuple[str, int], ...]  # task id → cards saying "yes", most first
    risks: tuple[RiskMet, ...]
    quotes: tuple[Quote, ...]

    @property
    def total(self) -> int:
        return len(self.cards)


def reported_hours(card: StoredCard) -> float:
    """Hours a month the card reports: minutes saved each time × times a month / 60."""
    draft = card.card.draft
    return draft.minutes_saved * draft.times_per_month / 60


def unit_key(name: str) -> str:
    """A unit's name compared loosely: NFKC, case-folded, spaces collapsed (people type "NAV
    Trondheim" and "nav  trondheim" for the same unit)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def units(trials: Iterable[StoredTrial | Trial]) -> tuple[str, ...]:
    """Every unit named by a trial, once each (the first spelling), sorted by name."""
    seen: dict[str, str] = {}
    for item in trials:
        name = _trial(item).draft.unit.strip()
        if name:
            seen.setdefault(unit_key(name), name)
    return tuple(sorted(seen.values(), key=unit_key))


def in_scope(trials: Iterable[StoredTrial | Trial], scope: Scope) -> tuple[Trial, ...]:
    """The trials a scope covers: the trial with that id, or every trial whose unit has that
    name (compared loosely) or whose service area has that id."""
    found = [_trial(item) for item in trials]
    if scope.kind is ScopeKind.TRIAL:
        return tuple(t for t in found if t.trial_id == scope.key)
    key = unit_key(scope.key)
    return tuple(
        t for t in found if unit_key(t.draft.unit) == key or t.draft.service_area == scope.key
    )


def summarize_trials(trials: Sequence[Trial], cards: Iterable[StoredCard]) -> Gevinst:
    """The figures for the workshop from the learning cards filed under `trials` (a card names
    its trial by id); cards of other trials, or of none, are left out."""
    ids = {t.trial_id for t in trials}
    mine = tuple(c for c in cards if c.card.draft.trial and c.card.draft.trial in ids)
    drafts = [c.card.draft for c in mine]
    scores = Counter(d.benefit for d in drafts)
    by_task: dict[str, float] = {}
    for stored in mine:  # a task with no time reported still shows, with 0
        task = stored.card.draft.task
        by_task[task] = by_task.get(task, 0.0) + reported_hours(stored)
    hours = tuple(
        sorted(
            (
                CardHours(c.card.card_id, c.card.draft.title, c.card.draft.task, reported_hours(c))
                for c in mine
            ),
            key=lambda h: (-h.hours_per_month, h.card_id),
        )
    )
    recommends = Counter(d.recommend for d in drafts)
    return Gevinst(
        trials=tuple(trials),
        cards=mine,
        average_benefit=sum(d.benefit for d in drafts) / len(drafts) if drafts else None,
        benefit_counts=tuple((score, scores.get(score, 0)) for score in BENEFIT_SCORES),
        reported_hours_per_month=sum(h.hours_per_month for h in hours),
        hours_by_card=hours,
        hours_by_task=tuple(sorted(by_task.items(), key=lambda item: (-item[1], item[0]))),
        recommend=tuple((answer, recommends.get(answer, 0)) for answer in RECOMMEND),
        recommended_tasks=tuple(
            sorted(
                Counter(d.task for d in drafts if d.recommend == "yes").items(),
                key=lambda item: (-item[1], item[0]),
            )
        ),
        risks=tuple(
            RiskMet(c.card.card_id, c.card.draft.title, c.card.draft.challenges, c.card.follow_up)
            for c in mine
            if c.card.draft.challenges.strip() or c.card.follow_up
        ),
        quotes=tuple(
            Quote(c.card.card_id, c.card.draft.title, c.card.draft.result)
            for c in mine
            if c.card.draft.share and c.card.draft.result.strip()
        ),
    )


def gevinst(
    trials: Iterable[StoredTrial | Trial], cards: Iterable[StoredCard], scope: Scope
) -> Gevinst:
    """The summary for one trial or one unit, from every trial and every card stored."""
    return summarize_trials(in_scope(trials, scope), cards)


def unit_name(scope: Scope, covered: Sequence[Trial], labels: Labels) -> str:
    """The unit as its trials spell it, or the service area's name when the scope names one."""
    key = unit_key(scope.key)
    for trial in covered:
        if unit_key(trial.draft.unit) == key:
            return trial.draft.unit.strip()
    return labels.service_areas.get(scope.key, scope.key)


def _trial(item: StoredTrial | Trial) -> Trial:
    return item.trial if isinstance(item, StoredTrial) else item

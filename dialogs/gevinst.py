"""`gevinst` / `benefits`: the material for a gevinstverksted, for champions and project leads.

The card lists the trials and the units to choose from; the choice shows what the learning cards
filed for it say together (`bot.core.trials.gevinst`): how many cards, the experienced benefit
and its spread as a chart, the time employees reported saving (per task, or per card), what they
recommend, the risks they met and the results they agreed to share. Every figure is labelled as
experienced and reported by employees, never as a measured gain. Roles come from the caller
(Entra object ids in the settings), as for the leads' learning-card summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.core.caller import Caller, Role
from bot.core.commands import CommandName
from bot.core.learning_cards import Labels
from bot.core.trials import StoredTrial, Trial
from bot.core.trials.gevinst import (
    Gevinst,
    Scope,
    ScopeKind,
    in_scope,
    summarize_trials,
    unit_name,
    units,
)
from bot.ports import LearningCardStore, StorageUnavailableError, TrialStore
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import ButtonSpec, Choice, Fact, GevinstBar, NoticeView, TrialSummaryView
from content import Texts
from dialogs.flow import Reply, Request, Routes
from dialogs.learning_card import LearningCardDialog
from dialogs.trials import show_date

GEVINST_COMMAND = CommandName.GEVINST
GEVINST_VERB = Verb.GEVINST
"""The typed command (`gevinst` / `benefits`) and the card's verb (`gevinst.show`)."""
VERB = GEVINST_VERB.value

SCOPE = "scope"
"""The card's choice: `trial:<id>` or `unit:<name>` (bot.core.trials.gevinst.Scope)."""
MAX_LISTED = 10
MAX_TEXTS = 8  # risks and quotes shown (the newest); the export has them all
MAX_CHOICES = 20  # trials (the newest) and units each in the list
LABEL = 60  # characters of a trial, unit or card title in the list and the charts
CLIP = 240
"""Characters of a challenge or a result the card shows (the export has the whole text): with
the limits above a card stays well under the 28 KB Teams accepts."""
MAX_TASKS = 5
MAX_BARS = 8  # rows of the time chart (the most first)
ROLES = (Role.CHAMPION, Role.LEAD)


def may_see(caller: Caller) -> bool:
    """Champions and project leads see the material (by their Entra object id)."""
    return any(caller.has(role) for role in ROLES)


def clip(text: str, limit: int = CLIP) -> str:
    """`text` on one line, cut at a word with "…" when longer than `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " …"


def number(value: float, language: str) -> str:
    """One decimal, with a decimal comma in Norwegian."""
    text = f"{value:.1f}"
    return text.replace(".", ",") if language in ("nb", "nn") else text


class GevinstDialog:
    """Builds the gevinstverksted card from content; no I/O."""

    def __init__(self, cards: LearningCardDialog) -> None:
        self._cards = cards

    def labels(self, texts: Texts) -> Labels:
        return self._cards.labels(texts)

    def refused(self, texts: Texts) -> NoticeView:
        return NoticeView(
            title=texts("gevinst.title"),
            body=texts("gevinst.for_roles"),
            buttons=(
                ButtonSpec(texts("learning.button_new"), Verb.CARD_OPEN.value, style="positive"),
                ButtonSpec(texts("learning.button_help"), Verb.HELP.value),
            ),
        )

    def choices(self, texts: Texts, trials: Sequence[StoredTrial]) -> tuple[Choice, ...]:
        """Every trial (newest first), then every unit (all its trials)."""
        newest = sorted(
            (s.trial for s in trials), key=lambda t: (t.created_at, t.trial_id), reverse=True
        )
        return tuple(
            Choice(
                Scope(ScopeKind.TRIAL, t.trial_id).encode(),
                texts(
                    "gevinst.choice_trial",
                    title=clip(t.draft.title, LABEL),
                    unit=clip(t.draft.unit, LABEL),
                ),
            )
            for t in newest[:MAX_CHOICES]
        ) + tuple(
            Choice(
                Scope(ScopeKind.UNIT, unit).encode(),
                texts("gevinst.choice_unit", unit=clip(unit, LABEL)),
            )
            for unit in units(trials)[:MAX_CHOICES]
        )

    def pick(
        self, texts: Texts, trials: Sequence[StoredTrial], *, notice: str = ""
    ) -> TrialSummaryView:
        """The list to choose from (or why there is nothing to choose)."""
        return TrialSummaryView(
            verb=VERB,
            title=texts("gevinst.title"),
            choices=self.choices(texts, trials),
            notice=notice or ("" if trials else texts("gevinst.no_trials")),
        )

    def unavailable(self, texts: Texts) -> TrialSummaryView:
        return TrialSummaryView(
            verb=VERB,
            title=texts("gevinst.title"),
            choices=(),
            notice=texts("gevinst.storage_down"),
        )

    def title(self, texts: Texts, scope: Scope, covered: Sequence[Trial]) -> str:
        if scope.kind is ScopeKind.TRIAL:
            return texts("gevinst.title_trial", name=UserText(covered[0].draft.title))
        return texts(
            "gevinst.title_unit", name=UserText(unit_name(scope, covered, self.labels(texts)))
        )

    def trial_line(self, texts: Texts, trial: Trial) -> str:
        verdict = f"gevinst.verdict.{trial.verdict}"
        return texts(
            "gevinst.trial_line",
            title=UserText(trial.draft.title),
            unit=UserText(trial.draft.unit),
            starts=show_date(trial.draft.starts, texts.language),
            ends=show_date(trial.draft.ends, texts.language),
            verdict=texts(verdict) if texts.has(verdict) else UserText(trial.verdict),
            id=trial.trial_id,
        )

    def summary(
        self,
        texts: Texts,
        trials: Sequence[StoredTrial],
        scope: Scope,
        found: Gevinst,
    ) -> TrialSummaryView:
        """The figures for `scope` with the list to choose again; `found.trials` empty: nothing
        by that name or id."""
        choices = self.choices(texts, trials)
        if not found.trials:
            return self.pick(texts, trials, notice=texts("gevinst.not_found"))
        language = texts.language
        labels = self.labels(texts)
        base = TrialSummaryView(
            verb=VERB,
            title=self.title(texts, scope, found.trials),
            choices=choices,
            chosen=scope.encode() if any(c.value == scope.encode() for c in choices) else "",
            trials=tuple(self.trial_line(texts, t) for t in found.trials[:MAX_LISTED]),
        )
        if not found.total:
            return replace(base, notice=texts("gevinst.no_cards"))
        recommend = dict(found.recommend)
        facts = (
            Fact(texts("gevinst.cards"), str(found.total)),
            Fact(
                texts("gevinst.average_benefit"),
                texts(
                    "gevinst.average_value", value=number(found.average_benefit or 0.0, language)
                ),
            ),
            Fact(
                texts("gevinst.hours"),
                texts(
                    "gevinst.hours_value", hours=number(found.reported_hours_per_month, language)
                ),
            ),
            Fact(
                texts("gevinst.recommend"),
                texts(
                    "gevinst.recommend_value",
                    yes=recommend.get("yes", 0),
                    maybe=recommend.get("maybe", 0),
                    no=recommend.get("no", 0),
                ),
            ),
        )
        top_count = max((n for _, n in found.benefit_counts), default=0)
        benefit = tuple(
            GevinstBar(texts(f"learning.benefit.{score}"), str(n), _percent(n, top_count))
            for score, n in found.benefit_counts
        )
        by_task = len(found.hours_by_task) > 1
        rows: Sequence[tuple[str | UserText, float]] = (
            [(labels.tasks.get(task, UserText(task)), h) for task, h in found.hours_by_task]
            if by_task
            else [(UserText(clip(c.title, LABEL)), c.hours_per_month) for c in found.hours_by_card]
        )
        top_hours = max((h for _, h in rows), default=0.0)
        hours = tuple(
            GevinstBar(
                label,
                texts("gevinst.hours_bar", hours=number(h, language)),
                _percent(h, top_hours),
            )
            for label, h in rows[:MAX_BARS]
        )
        risks: list[str] = []
        for risk in found.risks[-MAX_TEXTS:]:
            if risk.challenges.strip():
                risks.append(
                    texts(
                        "gevinst.risk_line",
                        title=UserText(risk.title),
                        challenges=UserText(clip(risk.challenges)),
                    )
                )
            if risk.follow_up:
                risks.append(
                    texts(
                        "gevinst.flagged_line",
                        title=UserText(risk.title),
                        flags=", ".join(texts(f"gevinst.flag.{f.value}") for f in risk.follow_up),
                    )
                )
        return replace(
            base,
            facts=facts,
            benefit=benefit,
            hours_title=texts("gevinst.hours_by_task" if by_task else "gevinst.hours_by_card"),
            hours=hours,
            recommended=tuple(
                texts.count("gevinst.recommended_line", n, task=labels.tasks.get(t, UserText(t)))
                for t, n in found.recommended_tasks[:MAX_TASKS]
            ),
            risks=tuple(risks),
            quotes=tuple(
                texts(
                    "gevinst.quote_line", result=UserText(clip(q.result)), title=UserText(q.title)
                )
                for q in found.quotes[-MAX_TEXTS:]
            ),
        )


def _percent(value: float, top: float) -> int:
    if top <= 0 or value <= 0:
        return 0
    return max(1, min(100, round(100 * value / top)))


class GevinstFlow:
    """`gevinst` / `benefits` and the card's button: read the trials and the cards, sum up."""

    def __init__(
        self, *, dialog: GevinstDialog, trials: TrialStore, cards: LearningCardStore
    ) -> None:
        self._dialog = dialog
        self._trials = trials
        self._cards = cards

    def routes(self) -> Routes:
        return Routes(
            commands={GEVINST_COMMAND: self.show},
            verbs={GEVINST_VERB: self.show},
        )

    async def show(self, request: Request) -> Reply:
        texts = request.texts
        if not may_see(request.caller):
            return Reply(self._dialog.refused(texts), route="gevinst:refused")
        return await self.view(texts, request.data)

    async def view(self, texts: Texts, data: Mapping[str, object]) -> Reply:
        """The list, or the figures for the scope the card's choice names."""
        scope = Scope.decode(data.get(SCOPE))
        try:
            trials = await self._trials.all()
            if scope is None:
                return Reply(self._dialog.pick(texts, trials), route="gevinst:list")
            covered = in_scope(trials, scope)
            cards = await self._cards.all() if covered else []
        except StorageUnavailableError:
            return Reply(self._dialog.unavailable(texts), route="gevinst:storage_down")
        found = summarize_trials(covered, cards)
        view = self._dialog.summary(texts, trials, scope, found)
        return Reply(view, route=f"gevinst:{scope.kind.value}" if covered else "gevinst:unknown")

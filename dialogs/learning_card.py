"""Læringskort: the form, the submit, the thank-you card and the project leads' summary.

The flow holds no rules of its own: validation, the personal-data check, the follow-up flag and the
summary figures come from `bot.core.learning_cards`. A card is stored (and so queued for
SharePoint) before the employee is told it is saved.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence

from bot.core.learning_cards import (
    OTHER_TOOL,
    CardOptions,
    DeliveryState,
    FieldError,
    FieldFindings,
    Labels,
    LearningCard,
    Summary,
    card_options,
)
from bot.core.learning_cards.checks import PersonalData
from bot.core.policy import UNSURE, Policy
from bot.core.records import UsageSnapshot
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import (
    Bar,
    ButtonSpec,
    Choice,
    Fact,
    LearningFormView,
    LearningSavedView,
    LearningSummaryView,
    NoticeView,
)
from content import Texts
from dialogs.ki_verdict import tool_name

CARD_ID = re.compile(r"^[0-9a-f]{32}$")
FORM_FIELDS = (
    "title",
    "area",
    "task",
    "tool",
    "tool_other",
    "what",
    "result",
    "benefit",
    "minutes",
    "per_month",
    "category",
    "challenges",
    "recommend",
    "share",
)
NOT_PERSON = "not_person"
"""The toggle "this is not a person": confirms the possible names the form showed."""
NAMES_STATE = "names"
"""The submit button's data: the keys of the names the form showed (never the names)."""
TRIAL_FIELD = "trial"
"""The trial (utprøving) the card belongs to: a choice among the person's open trials."""
NO_TRIAL = "none"
"""The form's "Ingen" choice (Microsoft's parser wants a value on every choice): no trial."""
MAX_EXAMPLES = 3
MAX_LISTED = 10
VALUE_LIMIT = 4000  # what a returned form may hold per field; longer input was refused anyway


def new_card_id() -> str:
    return uuid.uuid4().hex


def reference(card_id: str) -> str:
    """The short reference an employee sees (and can quote to a project lead)."""
    return card_id[:8].upper()


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language in ("nb", "nn") else text


class LearningCardDialog:
    """Builds the learning-card views from content; no I/O."""

    def __init__(self, policy: Policy, service_areas: Sequence[str]) -> None:
        self._policy = policy
        self.options: CardOptions = card_options(policy, service_areas)

    def labels(self, texts: Texts) -> Labels:
        tools = {tool.id: tool_name(texts, tool) for tool in self._policy.tools}
        tools[OTHER_TOOL] = texts("learning.tool_other_choice")
        return Labels(
            service_areas={a: texts(f"learning.area.{a}") for a in self.options.service_areas},
            tasks={task: texts(f"task.{task}") for task in self.options.tasks},
            tools={tool: tools[tool] for tool in self.options.tools},
            categories={c: texts(f"category.{c}.name") for c in self.options.categories},
            recommend={r: texts(f"learning.recommend.{r}") for r in ("yes", "maybe", "no")},
            delivery={s.value: texts(f"learning.delivery.{s.value}") for s in DeliveryState},
        )

    def form(
        self,
        texts: Texts,
        card_id: str,
        values: Mapping[str, str] | None = None,
        *,
        problems: Sequence[str] = (),
        findings: Sequence[str] = (),
        prefilled: bool = False,
        notice: str = "",
        names: Sequence[str] = (),
        name_keys: Sequence[str] = (),
        names_again: bool = False,
        trials: Sequence[Choice] = (),
    ) -> LearningFormView:
        """`trials`: the person's open trials the card may be filed under (none: not asked)."""
        labels = self.labels(texts)

        def choices(mapping: Mapping[str, str]) -> tuple[Choice, ...]:
            return tuple(Choice(key, title) for key, title in mapping.items())

        kept = dict(values or {})
        if kept.get(TRIAL_FIELD) not in (None, "", *(choice.value for choice in trials)):
            kept[TRIAL_FIELD] = ""  # a trial the person may not choose is never shown back
        return LearningFormView(
            card_id=card_id,
            areas=choices(labels.service_areas),
            tasks=choices(labels.tasks),
            tools=choices(labels.tools),
            categories=choices(labels.categories),
            values=tuple(kept.items()),
            problems=tuple(problems),
            findings=tuple(findings),
            prefilled=prefilled,
            notice=notice,
            names=tuple(names),
            name_keys=" ".join(name_keys),
            names_again=names_again,
            trials=tuple(trials),
        )

    def checked_form(
        self,
        texts: Texts,
        card_id: str,
        values: Mapping[str, str],
        found: PersonalData,
        *,
        confirmed: bool,
        notice: str = "",
        trials: Sequence[Choice] = (),
    ) -> LearningFormView:
        """The form back with what the personal-data check found: hard findings to remove, and
        possible names to remove or confirm. `confirmed`: the names shown are all confirmed, so
        the confirmation box stays ticked; otherwise it is cleared and must be ticked again."""
        kept = dict(values)
        again = kept.get(NOT_PERSON) == "true" and bool(found.names) and not confirmed
        if found.names and not confirmed:
            kept[NOT_PERSON] = "false"
        return self.form(
            texts,
            card_id,
            kept,
            findings=self.finding_lines(texts, found.hard),
            names=self.name_lines(texts, found.names),
            name_keys=found.name_keys,
            names_again=again,
            notice=notice,
            trials=trials,
        )

    def prefill(self, data: Mapping[str, object]) -> dict[str, str]:
        """Task, tool and information category from a KI-sjekk verdict, where they are valid."""
        values: dict[str, str] = {}
        task, tool, category = data.get("task"), data.get("tool"), data.get("category")
        if isinstance(task, str) and task in self.options.tasks:
            values["task"] = task
        if isinstance(tool, str):
            if tool in self.options.tools:
                values["tool"] = tool
            elif any(t.id == tool for t in self._policy.tools):  # the policy's "unknown tool"
                values["tool"] = OTHER_TOOL
        if isinstance(category, str) and category != UNSURE and category in self.options.categories:
            values["category"] = category
        return values

    @staticmethod
    def returned_values(data: Mapping[str, object]) -> dict[str, str]:
        """What the employee wrote, to put back in the form when it needs correcting."""
        values: dict[str, str] = {}
        for name in (*FORM_FIELDS, NOT_PERSON, TRIAL_FIELD):
            value = data.get(name)
            if isinstance(value, bool):
                values[name] = "true" if value else "false"
            elif isinstance(value, int | float | str):
                values[name] = str(value)[:VALUE_LIMIT]
        if values.get(TRIAL_FIELD) == NO_TRIAL:
            values[TRIAL_FIELD] = ""
        return values

    def problem_lines(self, texts: Texts, errors: Sequence[FieldError]) -> tuple[str, ...]:
        return tuple(
            (
                texts("trials.label.trial_choice")
                if error.field == TRIAL_FIELD
                else texts(f"learning.label.{error.field}")
            )
            + ": "
            + texts(f"learning.problem.{error.problem}")
            for error in errors
        )

    def finding_lines(self, texts: Texts, found: Sequence[FieldFindings]) -> tuple[str, ...]:
        """One line per field: its label, the kinds found and masked examples (inert)."""
        return tuple(
            texts(
                "learning.findings_line",
                field=texts(f"learning.label.{item.field}"),
                kinds=", ".join(texts(f"tekstsjekk.kind.{kind.value}") for kind in item.kinds),
                examples=_examples(item.masked),
            )
            for item in found
        )

    def name_lines(self, texts: Texts, found: Sequence[FieldFindings]) -> tuple[str, ...]:
        """One line per field with possible names: its label and the names masked (inert)."""
        return tuple(
            texts(
                "learning.names_line",
                field=texts(f"learning.label.{item.field}"),
                names=_examples(tuple(dict.fromkeys(item.masked))),
            )
            for item in found
        )

    def saved(
        self,
        texts: Texts,
        card: LearningCard,
        *,
        to_sharepoint: bool,
        repeated: bool,
        delayed: bool = False,
        trial_title: str = "",
    ) -> LearningSavedView:
        """`trial_title`: the name of the trial the card belongs to ("" for none)."""
        draft = card.draft
        labels = self.labels(texts)
        hours = draft.minutes_saved * draft.times_per_month / 60
        body = texts("learning.saved_body", reference=reference(card.card_id))
        if repeated:
            body = f"{texts('learning.already_saved')} {body}"
        contact = self._policy.contacts.get("privacy_officer")
        return LearningSavedView(
            title=texts("learning.saved_title"),
            body=body,
            destination=texts(
                "learning.saved_delayed"
                if delayed
                else "learning.saved_sharepoint"
                if to_sharepoint
                else "learning.saved_local"
            ),
            facts=(
                *(
                    (Fact(texts("trials.fact_trial"), UserText(trial_title)),)
                    if trial_title
                    else ()
                ),
                Fact(texts("learning.fact_title"), UserText(draft.title)),
                Fact(
                    texts("learning.fact_tool"), labels.tools.get(draft.tool, UserText(draft.tool))
                ),
                Fact(texts("learning.fact_benefit"), f"{draft.benefit} / 5"),
                Fact(
                    texts("learning.fact_saved"),
                    texts("learning.saved_hours", hours=_number(hours, texts.language)),
                ),
            ),
            follow_up=tuple(texts(f"learning.follow_up.{flag.value}") for flag in card.follow_up),
            contact=(
                texts("learning.follow_up_contact", email=contact.email)
                if card.follow_up and contact is not None
                else ""
            ),
        )

    def leads_only(self, texts: Texts) -> NoticeView:
        return NoticeView(
            title=texts("learning.summary.title"),
            body=texts("learning.summary.leads_only"),
            buttons=(
                ButtonSpec(texts("learning.button_new"), Verb.CARD_OPEN.value, style="positive"),
                ButtonSpec(texts("learning.button_help"), Verb.HELP.value),
            ),
        )

    def summary(
        self,
        texts: Texts,
        summary: Summary,
        usage: UsageSnapshot,
        *,
        to_sharepoint: bool,
        list_url: str,
    ) -> LearningSummaryView:
        labels = self.labels(texts)
        usage_facts = _usage_facts(texts, usage)
        if summary.total == 0:
            return LearningSummaryView((), (), (), (), (), (), (), usage_facts, list_url, True)
        language = texts.language
        facts = [
            Fact(texts("learning.summary.cards"), str(summary.total)),
            Fact(
                texts("learning.summary.average_benefit"),
                f"{_number(summary.average_benefit or 0.0, language)} / 5",
            ),
            Fact(
                texts("learning.summary.hours"),
                texts(
                    "learning.summary.hours_value",
                    hours=_number(summary.hours_saved_per_month, language),
                ),
            ),
            Fact(
                texts("learning.summary.pending" if to_sharepoint else "learning.summary.local"),
                str(summary.pending),
            ),
        ]
        if summary.parked:
            facts.append(Fact(texts("learning.summary.parked"), str(len(summary.parked))))
        return LearningSummaryView(
            facts=tuple(facts),
            by_area=_bars(summary.by_area, labels.service_areas),
            by_tool=_bars(summary.by_tool, labels.tools),
            recommended=tuple(
                texts.count("learning.summary.recommended_line", n, task=labels.tasks.get(t, t))
                for t, n in summary.recommended[:5]
            ),
            flagged=tuple(
                f"{UserText(s.card.draft.title)} "
                f"({labels.tools.get(s.card.draft.tool, UserText(s.card.draft.tool))}, "
                f"{labels.categories.get(s.card.draft.category, UserText(s.card.draft.category))}) "
                f"· {reference(s.card.card_id)}"
                for s in summary.flagged[-MAX_LISTED:]
            ),
            parked=tuple(
                texts(
                    "learning.summary.parked_line",
                    title=UserText(s.card.draft.title),
                    reason=UserText(s.reason),
                )
                for s in summary.parked[:MAX_LISTED]
            ),
            # the leads' status lives in the SharePoint list; without one it says nothing
            statuses=tuple(
                Fact(UserText(status), str(count)) for status, count in summary.by_status
            )
            if to_sharepoint
            else (),
            usage=usage_facts,
            list_url=list_url,
        )


def _examples(masked: Sequence[str]) -> str:
    shown = str(UserText(", ".join(masked[:MAX_EXAMPLES])))
    return shown + (" …" if len(masked) > MAX_EXAMPLES else "")


def _bars(counts: Sequence[tuple[str, int]], labels: Mapping[str, str]) -> tuple[Bar, ...]:
    top = max((count for _, count in counts), default=0)
    return tuple(
        Bar(labels.get(key, UserText(key)), count, max(1, round(100 * count / top)) if top else 1)
        for key, count in counts[:MAX_LISTED]
    )


def _usage_facts(texts: Texts, usage: UsageSnapshot) -> tuple[Fact, ...]:
    by_verdict: dict[str, int] = {"green": 0, "yellow": 0, "red": 0}
    for (verdict, _task, _tool, _category), count in usage.verdicts.items():
        by_verdict[verdict] = by_verdict.get(verdict, 0) + count
    answered = sum(usage.feedback.values())
    useful = usage.feedback.get(True, 0)
    return (
        Fact(texts("learning.summary.usage_green"), str(by_verdict["green"])),
        Fact(texts("learning.summary.usage_yellow"), str(by_verdict["yellow"])),
        Fact(texts("learning.summary.usage_red"), str(by_verdict["red"])),
        Fact(texts("learning.summary.usage_useful"), f"{useful} / {answered}"),
    )

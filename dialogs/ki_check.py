"""KI-sjekken as one card that moves step by step: task → tool → information → use and
publishing → red flags → verdict.

The flow's state travels in the card's button data (flat strings) and is validated on every press,
so the server keeps nothing between steps and any instance can serve the next one. A payload that
does not fit (unknown choice, missing step, an answer that is not in the policy) gets a card that
says so and offers a fresh start.

A verdict card carries an action id (dialogs/once.py): its "nyttig?" vote counts once per card,
whatever the replays; a second press shows that the answer is already recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from bot.core.commands import CommandName
from bot.core.extraction import Extraction, Lexicon, extract, looks_like_question
from bot.core.policy import UNSURE, Answers, Assessment, Policy, assess
from bot.logs import get_logger
from bot.ports import ActionLedger, StorageUnavailableError, UsageStats
from cards.verbs import Verb
from cards.views import (
    CardView,
    Choice,
    Fact,
    KiFlagsView,
    KiMoreView,
    KiStepView,
    KiUnderstoodView,
    KiVerdictView,
    StaleActionView,
)
from content import Texts
from dialogs.actions import CardAction
from dialogs.flow import Handler, Reply, Request, Routes
from dialogs.ki_payload import (
    CHOICE_STEPS,
    COMPLETE,
    NO_FLAGS,
    STEPS,
    VERDICT,
    YES_NO,
    Payload,
    Step,
    button_state,
    flags_answer,
)
from dialogs.ki_verdict import VERDICT_NAMES, tool_name, verdict_view
from dialogs.once import ledger_key, new_action_id

FEEDBACK = "feedback"
"""The ledger kind of the verdict card's "nyttig?" buttons."""

_log = get_logger("ki_check")


@dataclass(frozen=True)
class Outcome:
    """The card to show, and what happened (for the anonymous usage figures)."""

    view: CardView
    assessment: Assessment | None = None
    answers: Answers | None = None
    feedback: bool | None = None


class KiCheckDialog:
    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    # -- entry points ---------------------------------------------------------------------------

    def start(self, texts: Texts) -> CardView:
        return self._step_view(texts, "task", Payload())

    def understood(self, texts: Texts, extraction: Extraction) -> CardView:
        """Show what a free-text question said, to confirm or correct before any verdict."""
        payload = Payload(
            task=extraction.task or "",
            tool=extraction.tool or "",
            category=extraction.category or "",
        )
        return KiUnderstoodView(
            facts=self._facts(texts, payload, with_missing=True),
            state=button_state(payload, "task"),
        )

    def handle(self, texts: Texts, action: CardAction) -> Outcome:
        stale = Outcome(StaleActionView(restart_verb=Verb.KI_START.value))
        try:
            payload = Payload.model_validate(action.data)
        except ValidationError:
            return stale
        if not self._answers_valid(payload):
            return stale
        match action.verb:
            case Verb.KI_START:
                return Outcome(self.start(texts))
            case Verb.KI_CORRECT:
                return Outcome(self._step_view(texts, "task", payload))
            case Verb.KI_CONFIRM:
                missing = self._first_missing(payload)
                step: Step = "flags" if missing == "complete" else missing
                return Outcome(self._step_view(texts, step, payload))
            case Verb.KI_BACK:
                if payload.step == VERDICT:
                    return Outcome(self._step_view(texts, "flags", payload))
                index = STEPS.index(payload.step)
                return Outcome(self._step_view(texts, STEPS[max(0, index - 1)], payload))
            case Verb.KI_NEXT:
                return self._next(texts, payload) or stale
            case Verb.KI_FEEDBACK:
                if payload.useful not in YES_NO or self._first_missing(payload) != COMPLETE:
                    return stale
                answers = self._answers(payload)
                if answers is None:
                    return stale
                view = self._verdict_view(texts, payload, assess(self._policy, answers))
                return Outcome(_thanked(view), feedback=payload.useful == "yes")
        return stale

    # -- steps ----------------------------------------------------------------------------------

    def _next(self, texts: Texts, payload: Payload) -> Outcome | None:
        step = payload.step
        if step == "verdict":  # == VERDICT, spelled out so the type checker narrows it
            return None  # a verdict card has no "next"
        if self._first_missing(payload) not in (*STEPS[STEPS.index(step) :], COMPLETE):
            return None  # a step before this one has no answer: not something our cards send
        if step == "more":
            if payload.decision not in self._use_ids() or payload.publish not in YES_NO:
                return None
            return Outcome(self._step_view(texts, "flags", payload))
        if step == "flags":
            flags = flags_answer(payload.flags, self._policy.red_flags)
            if flags is None:
                return None
            answered = payload.model_copy(update={"flags": flags})
            answers = self._answers(answered)
            if answers is None:
                return None
            assessment = assess(self._policy, answers)
            return Outcome(self._verdict_view(texts, answered, assessment), assessment, answers)
        if payload.choice not in self._choices_for(step):
            return None
        updated = payload.model_copy(update={step: payload.choice, "choice": ""})
        following = STEPS[STEPS.index(step) + 1]
        return Outcome(self._step_view(texts, following, updated))

    def _use_ids(self) -> tuple[str, ...]:
        return tuple(use.id for use in self._policy.uses)

    def _choices_for(self, step: Step) -> tuple[str, ...]:
        if step == "task":
            return tuple(t.id for t in self._policy.tasks)
        if step == "tool":
            return tuple(t.id for t in self._policy.tools)
        if step == "category":
            return self._policy.category_answers
        return ()

    def _answers_valid(self, payload: Payload) -> bool:
        checks = (
            (payload.task, self._choices_for("task")),
            (payload.tool, self._choices_for("tool")),
            (payload.category, self._choices_for("category")),
            (payload.decision, self._use_ids()),
            (payload.publish, YES_NO),
        )
        if not all(value == "" or value in allowed for value, allowed in checks):
            return False
        return (
            payload.flags == ""
            or payload.step == "flags"
            or (flags_answer(payload.flags, self._policy.red_flags) == payload.flags)
        )

    @staticmethod
    def _first_missing(payload: Payload) -> Step | Literal["complete"]:
        for step in CHOICE_STEPS:
            if not getattr(payload, step):
                return step
        if not (payload.decision and payload.publish):
            return "more"
        if not payload.flags:
            return "flags"
        return "complete"

    def _answers(self, payload: Payload) -> Answers | None:
        if self._first_missing(payload) != COMPLETE:
            return None
        return Answers(
            task=payload.task,
            tool=payload.tool,
            category=payload.category,
            decision=payload.decision,
            published=payload.publish == "yes",
            flags=payload.flag_set(),
        )

    # -- views ----------------------------------------------------------------------------------

    def _step_view(self, texts: Texts, step: Step, payload: Payload) -> CardView:
        number = STEPS.index(step) + 1
        facts = self._facts(texts, payload, upto=step)
        if step == "more":
            return KiMoreView(
                step_number=number,
                total=len(STEPS),
                facts=facts,
                decisions=tuple(Choice(u, texts(f"use.{u}")) for u in self._use_ids()),
                decision=payload.decision,
                publish=payload.publish,
                state=button_state(payload, "more"),
            )
        if step == "flags":
            return KiFlagsView(
                step_number=number,
                total=len(STEPS),
                facts=facts,
                flags=(
                    *(Choice(f, texts(f"flag.{f}")) for f in self._policy.red_flags),
                    Choice(NO_FLAGS, texts("kisjekk.flags_none")),
                ),
                selected=payload.flags,
                state=button_state(payload, "flags"),
            )
        question = {"task": "q_task", "tool": "q_tool", "category": "q_category"}[step]
        return KiStepView(
            step_number=number,
            total=len(STEPS),
            question=texts(f"kisjekk.{question}"),
            choices=self._choice_views(texts, step),
            selected=getattr(payload, step),
            facts=facts,
            state=button_state(payload, step),
            can_go_back=step != "task",
            category_help=self._category_help(texts) if step == "category" else (),
            help_text=texts("kisjekk.tool_help") if step == "tool" else "",
        )

    def _choice_views(self, texts: Texts, step: Step) -> tuple[Choice, ...]:
        if step == "task":
            return tuple(Choice(t.id, texts(f"task.{t.id}")) for t in self._policy.tasks)
        if step == "tool":
            return tuple(Choice(t.id, tool_name(texts, t)) for t in self._policy.tools)
        return (
            *(
                Choice(c, f"{texts(f'category.{c}.name')} – {texts(f'category.{c}.description')}")
                for c in self._policy.categories
            ),
            Choice(UNSURE, texts("kisjekk.category_unsure")),
        )

    def _category_help(self, texts: Texts) -> tuple[Fact, ...]:
        return tuple(
            Fact(texts(f"category.{c}.name"), texts(f"category.{c}.examples"))
            for c in self._policy.categories
        )

    def _facts(
        self, texts: Texts, payload: Payload, upto: Step = "more", with_missing: bool = False
    ) -> tuple[Fact, ...]:
        shown = CHOICE_STEPS[: STEPS.index(upto)] if upto in CHOICE_STEPS else CHOICE_STEPS
        facts: list[Fact] = []
        for step in shown:
            value = getattr(payload, step)
            if not value and not with_missing:
                continue
            facts.append(Fact(texts(f"kisjekk.fact_{step}"), self._label(texts, step, value)))
        return tuple(facts)

    def _label(self, texts: Texts, step: str, value: str) -> str:
        if not value:
            return texts("kisjekk.not_said")
        if step == "task":
            return texts(f"task.{value}")
        if step == "tool":
            return tool_name(texts, self._policy.tool(value))
        if value == UNSURE:
            return texts("kisjekk.category_unsure")
        return texts(f"category.{value}.name")

    def _verdict_view(self, texts: Texts, payload: Payload, result: Assessment) -> KiVerdictView:
        yes_no = {"yes": texts("kisjekk.answer_yes"), "no": texts("kisjekk.answer_no")}
        flags = payload.flag_set()
        facts = (
            *self._facts(texts, payload),
            Fact(texts("kisjekk.fact_use"), texts(f"use.{payload.decision}")),
            Fact(texts("kisjekk.fact_publish"), yes_no[payload.publish or "no"]),
            Fact(
                texts("kisjekk.fact_flags"),
                "; ".join(texts(f"flag.{f}") for f in self._policy.red_flags if f in flags)
                or texts("kisjekk.flags_none"),
            ),
        )
        state = button_state(payload, VERDICT)
        return verdict_view(self._policy, texts, facts, result, state)


def _thanked(view: KiVerdictView) -> KiVerdictView:
    return replace(view, thanked=True)


KI_VERBS = (
    Verb.KI_START,
    Verb.KI_NEXT,
    Verb.KI_BACK,
    Verb.KI_CONFIRM,
    Verb.KI_CORRECT,
    Verb.KI_FEEDBACK,
)


class KiCheckFlow:
    """KI-sjekken: the guided card, a question in plain words, and the anonymous figures."""

    def __init__(
        self,
        *,
        dialog: KiCheckDialog,
        policy: Policy,
        lexicon: Lexicon,
        usage: UsageStats,
        fallback: Handler,
        actions: ActionLedger | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`actions`: where votes are claimed (the composition root passes the store's); without
        one, every vote is counted as it comes (tests of other behaviour)."""
        self._dialog = dialog
        self._actions = actions
        self._clock = clock or _utc_now
        self._lexicon = lexicon
        self._tool_aliases = {tool.id: tool.aliases for tool in policy.tools}
        self._usage = usage
        self._fallback = fallback

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.KI_CHECK: self.start, CommandName.UNKNOWN: self.question},
            verbs=dict.fromkeys(KI_VERBS, self.action),
        )

    async def start(self, request: Request) -> Reply:
        return Reply(self._dialog.start(request.texts))

    async def question(self, request: Request) -> Reply:
        """Text that is no command: a question about AI starts KI-sjekken with what it says
        filled in; anything else gets the fallback."""
        text = request.text
        if not looks_like_question(text, self._lexicon, self._tool_aliases):
            return await self._fallback(request)
        extraction = extract(text, self._lexicon, self._tool_aliases)
        if extraction.tool or extraction.task or extraction.category:
            return Reply(self._dialog.understood(request.texts, extraction), "question:understood")
        return Reply(self._dialog.start(request.texts), "question:open")

    async def action(self, request: Request) -> Reply:
        if request.verb is None:
            return Reply(self._dialog.start(request.texts))
        outcome = self._dialog.handle(request.texts, CardAction(request.verb, dict(request.data)))
        if isinstance(outcome.view, KiVerdictView) and not outcome.view.thanked:
            # a fresh id for the card's vote buttons
            outcome = replace(outcome, view=replace(outcome.view, action_id=new_action_id()))
        if outcome.feedback is not None and self._actions is not None:
            key = ledger_key(request.data, request.caller.user_key, self._clock())
            if key is None:  # an id we never made: forged or garbage
                return Reply(StaleActionView(restart_verb=Verb.KI_START.value), route="rejected")
            outcome = await self._vote_once(key, outcome, self._actions)
        try:  # anonymous figures are best effort: the employee's answer comes first
            if outcome.assessment is not None and outcome.answers is not None:
                answers = outcome.answers
                await self._usage.record_verdict(
                    VERDICT_NAMES[outcome.assessment.verdict],
                    answers.task,
                    answers.tool,
                    answers.category,
                )
            if outcome.feedback is not None:
                await self._usage.record_feedback(outcome.feedback)
        except StorageUnavailableError:
            _log.warning("usage_not_recorded", extra={"fields": {"reason": "storage"}})
        rejected = isinstance(outcome.view, StaleActionView)
        return Reply(outcome.view, route="rejected" if rejected else "")

    @staticmethod
    async def _vote_once(key: str, outcome: Outcome, actions: ActionLedger) -> Outcome:
        """The vote counts only for the first claim of the card's id; a replay shows it was
        recorded already. The ledger is best effort like the figures: when it cannot be reached,
        the vote is not counted rather than counted twice."""
        try:
            before = await actions.claim(key, FEEDBACK)
            if before is None:
                await actions.settle(key, "done")
                return outcome
        except StorageUnavailableError:
            _log.warning("usage_not_recorded", extra={"fields": {"reason": "storage"}})
        view = outcome.view
        if isinstance(view, KiVerdictView):
            view = replace(view, thanked_before=True)
        return replace(outcome, view=view, feedback=None)


def _utc_now() -> datetime:
    return datetime.now(UTC)

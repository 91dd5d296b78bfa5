"""KI-sjekken as one card that moves step by step: task → tool → information → more → verdict.

The flow's state travels in the card's button data (flat strings) and is validated on every press,
so the server keeps nothing between steps and any instance can serve the next one. A payload that
does not fit (unknown choice, missing step, an answer that is not in the policy) gets a card that
says so and offers a fresh start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.commands import CommandName
from bot.core.extraction import Extraction, Lexicon, extract, looks_like_question
from bot.core.policy import UNSURE, Answers, Assessment, Policy, Verdict, assess
from bot.logs import get_logger
from bot.ports import StorageUnavailableError, UsageStats
from cards.verbs import Verb
from cards.views import (
    CardView,
    Choice,
    Fact,
    KiMoreView,
    KiStepView,
    KiUnderstoodView,
    KiVerdictView,
    ReasonLine,
    StaleActionView,
    State,
)
from content import Texts
from dialogs.actions import CardAction
from dialogs.flow import Handler, Reply, Request, Routes

_log = get_logger("ki_check")

Step = Literal["task", "tool", "category", "more"]
STEPS: tuple[Step, ...] = ("task", "tool", "category", "more")
VERDICT = "verdict"  # the state a verdict card carries: back from it returns to the last question
YES_NO = ("yes", "no")


class _Payload(BaseModel):
    """What a KI-sjekk button sends back: our state plus the card's inputs."""

    model_config = ConfigDict(extra="ignore")
    step: Literal["task", "tool", "category", "more", "verdict"] = "task"
    task: str = ""
    tool: str = ""
    category: str = ""
    people: str = ""
    publish: str = ""
    choice: str = ""
    useful: str = ""


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
        return self._step_view(texts, "task", _Payload())

    def understood(self, texts: Texts, extraction: Extraction) -> CardView:
        """Show what a free-text question said, to confirm or correct before any verdict."""
        payload = _Payload(
            task=extraction.task or "",
            tool=extraction.tool or "",
            category=extraction.category or "",
        )
        return KiUnderstoodView(
            facts=self._facts(texts, payload, with_missing=True), state=_state(payload, "task")
        )

    def handle(self, texts: Texts, action: CardAction) -> Outcome:
        stale = Outcome(StaleActionView(restart_verb=Verb.KI_START.value))
        try:
            payload = _Payload.model_validate(action.data)
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
                return Outcome(self._step_view(texts, self._first_missing(payload), payload))
            case Verb.KI_BACK:
                if payload.step == VERDICT:
                    return Outcome(self._step_view(texts, "more", payload))
                index = STEPS.index(payload.step)
                return Outcome(self._step_view(texts, STEPS[max(0, index - 1)], payload))
            case Verb.KI_NEXT:
                return self._next(texts, payload) or stale
            case Verb.KI_FEEDBACK:
                if payload.useful not in YES_NO or self._first_missing(payload) != "more":
                    return stale
                answers = self._answers(payload)
                if answers is None:
                    return stale
                view = self._verdict_view(texts, payload, assess(self._policy, answers))
                return Outcome(_thanked(view), feedback=payload.useful == "yes")
        return stale

    # -- steps ----------------------------------------------------------------------------------

    def _next(self, texts: Texts, payload: _Payload) -> Outcome | None:
        step = payload.step
        if step == "verdict":  # == VERDICT, spelled out so the type checker narrows it
            return None  # a verdict card has no "next"
        earlier = STEPS[: STEPS.index(step)]
        if not all(getattr(payload, step) for step in earlier):
            return None  # a step before this one has no answer: not something our cards send
        if step == "more":
            if payload.people not in YES_NO or payload.publish not in YES_NO:
                return None
            answers = self._answers(payload)
            if answers is None:
                return None
            assessment = assess(self._policy, answers)
            return Outcome(self._verdict_view(texts, payload, assessment), assessment, answers)
        if payload.choice not in self._choices_for(step):
            return None
        updated = payload.model_copy(update={step: payload.choice, "choice": ""})
        following = STEPS[STEPS.index(step) + 1]
        return Outcome(self._step_view(texts, following, updated))

    def _choices_for(self, step: Step) -> tuple[str, ...]:
        if step == "task":
            return tuple(t.id for t in self._policy.tasks)
        if step == "tool":
            return tuple(t.id for t in self._policy.tools)
        if step == "category":
            return self._policy.category_answers
        return ()

    def _answers_valid(self, payload: _Payload) -> bool:
        checks = (
            (payload.task, self._choices_for("task")),
            (payload.tool, self._choices_for("tool")),
            (payload.category, self._choices_for("category")),
            (payload.people, YES_NO),
            (payload.publish, YES_NO),
        )
        return all(value == "" or value in allowed for value, allowed in checks)

    @staticmethod
    def _first_missing(payload: _Payload) -> Step:
        for step in STEPS[:3]:
            if not getattr(payload, step):
                return step
        return "more"

    def _answers(self, payload: _Payload) -> Answers | None:
        if not (payload.task and payload.tool and payload.category):
            return None
        return Answers(
            task=payload.task,
            tool=payload.tool,
            category=payload.category,
            affects_people=payload.people == "yes",
            published=payload.publish == "yes",
        )

    # -- views ----------------------------------------------------------------------------------

    def _step_view(self, texts: Texts, step: Step, payload: _Payload) -> CardView:
        number = STEPS.index(step) + 1
        facts = self._facts(texts, payload, upto=step)
        if step == "more":
            return KiMoreView(
                step_number=number,
                total=len(STEPS),
                facts=facts,
                people=payload.people,
                publish=payload.publish,
                state=_state(payload, "more"),
            )
        question = {"task": "q_task", "tool": "q_tool", "category": "q_category"}[step]
        return KiStepView(
            step_number=number,
            total=len(STEPS),
            question=texts(f"kisjekk.{question}"),
            choices=self._choice_views(texts, step),
            selected=getattr(payload, step),
            facts=facts,
            state=_state(payload, step),
            can_go_back=step != "task",
            category_help=self._category_help(texts) if step == "category" else (),
        )

    def _choice_views(self, texts: Texts, step: Step) -> tuple[Choice, ...]:
        if step == "task":
            return tuple(Choice(t.id, texts(f"task.{t.id}")) for t in self._policy.tasks)
        if step == "tool":
            return tuple(Choice(t.id, t.name) for t in self._policy.tools)
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
        self, texts: Texts, payload: _Payload, upto: Step = "more", with_missing: bool = False
    ) -> tuple[Fact, ...]:
        shown = STEPS[: STEPS.index(upto)] if upto != "more" else STEPS[:3]
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
            return self._policy.tool(value).name
        if value == UNSURE:
            return texts("kisjekk.category_unsure")
        return texts(f"category.{value}.name")

    def _verdict_view(self, texts: Texts, payload: _Payload, result: Assessment) -> KiVerdictView:
        yes_no = {"yes": texts("kisjekk.answer_yes"), "no": texts("kisjekk.answer_no")}
        facts = (
            *self._facts(texts, payload),
            Fact(texts("kisjekk.fact_people"), yes_no[payload.people or "no"]),
            Fact(texts("kisjekk.fact_publish"), yes_no[payload.publish or "no"]),
        )
        contacts = self._policy.contacts
        next_steps = tuple(
            texts(
                f"next.{step.value}",
                email=(
                    contacts["information_security"].email
                    if step.value == "contact_infosec"
                    else contacts["privacy_officer"].email
                ),
            )
            if step.value in ("contact_privacy_officer", "contact_infosec")
            else texts(f"next.{step.value}")
            for step in result.next_steps
        )
        return KiVerdictView(
            verdict={Verdict.GREEN: "green", Verdict.YELLOW: "yellow", Verdict.RED: "red"}[
                result.verdict
            ],
            facts=facts,
            reasons=tuple(
                ReasonLine(
                    text=texts(reason.text_key),
                    sources=", ".join(
                        f"[{texts(f'source.{s}')}]({self._policy.sources[s]})"
                        for s in reason.sources
                    ),
                )
                for reason in result.reasons
            ),
            conditions=tuple(texts(key) for key in result.conditions),
            next_steps=next_steps,
            alternatives=", ".join(self._policy.tool(t).name for t in result.alternatives),
            vettregler=tuple(f"{n}. {texts(f'vettregel.{n}.title')}" for n in result.vettregler),
            state=_state(payload, VERDICT, with_flags=True),
            offer_text_check=any(
                step.value == "remove_personal_data" for step in result.next_steps
            ),
        )


def _state(payload: _Payload, step: str, *, with_flags: bool = False) -> State:
    """Button data for a card. `people`/`publish` only on the verdict card: on the last question
    card they are the ids of its inputs, which the client adds to the data itself."""
    return (
        ("step", step),
        ("task", payload.task),
        ("tool", payload.tool),
        ("category", payload.category),
        *((("people", payload.people), ("publish", payload.publish)) if with_flags else ()),
    )


def _thanked(view: KiVerdictView) -> KiVerdictView:
    return replace(view, thanked=True)


VERDICT_NAMES = {Verdict.GREEN: "green", Verdict.YELLOW: "yellow", Verdict.RED: "red"}
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
    ) -> None:
        self._dialog = dialog
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

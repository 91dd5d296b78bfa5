"""The KI-sjekk verdict card: the assessment in the employee's language, with every reason's
sources (article or section, linked), the steps that answer its cause, and the law's status."""

from __future__ import annotations

from bot.core.policy import Assessment, NextStep, Policy, Tool, Verdict
from cards.views import Fact, KiVerdictView, ReasonLine, State
from content import Texts

VERDICT_NAMES = {Verdict.GREEN: "green", Verdict.YELLOW: "yellow", Verdict.RED: "red"}
AI_ACT = "ai_act_"
INFOSEC_STEPS = frozenset({NextStep.CONTACT_INFOSEC, NextStep.SECURITY_ROUTINE})
PRIVACY_STEPS = frozenset({NextStep.CONTACT_PRIVACY_OFFICER, NextStep.IMPACT_ASSESSMENT})


def tool_name(texts: Texts, tool: Tool) -> str:
    """The tool's name as the reader sees it. Product names stay as policy.yaml has them; a tool
    whose name is a description ("Et annet verktøy") is translated as `tool_name.<id>`."""
    key = f"tool_name.{tool.id}"
    return texts(key) if texts.has(key) else tool.name


def step_text(policy: Policy, texts: Texts, step: NextStep, reference: str) -> str:
    contacts = policy.contacts
    key = f"next.{step.value}"
    if step in INFOSEC_STEPS:
        return texts(key, email=contacts["information_security"].email)
    if step in PRIVACY_STEPS:
        return texts(key, email=contacts["privacy_officer"].email)
    if step is NextStep.FOLLOW_ASSESSMENT:
        return texts(key, reference=reference)
    return texts(key)


def law_notes(policy: Policy, texts: Texts, result: Assessment) -> tuple[str, ...]:
    """The AI Act's status in Norway and its dates, when a reason rests on it."""
    if not any(s.startswith(AI_ACT) for reason in result.reasons for s in reason.sources):
        return ()
    notes = [texts("law.ai_act_status"), texts("law.ai_act_dates")]
    if policy.law_checked:
        notes.append(texts("law.checked", date=_norwegian_date(policy.law_checked)))
    return tuple(notes)


def verdict_view(
    policy: Policy, texts: Texts, facts: tuple[Fact, ...], result: Assessment, state: State
) -> KiVerdictView:
    reference = result.assessment_reference
    return KiVerdictView(
        verdict=VERDICT_NAMES[result.verdict],
        facts=facts,
        reasons=tuple(
            ReasonLine(
                text=texts(reason.text_key),
                sources=", ".join(
                    f"[{texts(f'source.{s}')}]({policy.sources[s]})" for s in reason.sources
                ),
            )
            for reason in result.reasons
        ),
        conditions=tuple(
            texts(key, reference=reference) if key == "condition.assessed_use" else texts(key)
            for key in result.conditions
        ),
        next_steps=tuple(step_text(policy, texts, s, reference) for s in result.next_steps),
        alternatives=", ".join(tool_name(texts, policy.tool(t)) for t in result.alternatives),
        vettregler=tuple(f"{n}. {texts(f'vettregel.{n}.title')}" for n in result.vettregler),
        state=state,
        offer_text_check=NextStep.REMOVE_PERSONAL_DATA in result.next_steps,
        law_notes=law_notes(policy, texts, result),
    )


def _norwegian_date(iso: str) -> str:
    """2026-11-22 → 22.11.2026 (as Norwegian readers write it); anything else as it is."""
    parts = iso.split("-")
    if len(parts) == 3 and all(part.isdigit() for part in parts):
        return f"{parts[2]}.{parts[1]}.{parts[0]}"
    return iso

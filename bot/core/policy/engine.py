"""`assess(policy, answers)`: the rules, which of them apply, and the verdict, steps and conditions
that follow. Also `text_keys`, every text the rules and the policy need."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.policy.model import (
    UNSURE,
    Answers,
    Assessment,
    NextStep,
    Policy,
    Reason,
    RiskLevel,
    Task,
    Tool,
    ToolClass,
    Verdict,
)

# rule id → (verdict, sources, vettregler)
RULES: Mapping[str, tuple[Verdict, tuple[str, ...], tuple[int, ...]]] = {
    "open_info": (Verdict.GREEN, ("storage_guide",), (1,)),
    "approved_for_category": (Verdict.GREEN, ("guideline", "storage_guide"), (1, 4)),
    "unknown_tool": (Verdict.YELLOW, ("digdir", "guideline"), (4, 7)),
    "personal_data_open_tool": (Verdict.RED, ("guideline", "gdpr", "digdir"), (2, 7)),
    "personal_data_unknown_tool": (Verdict.RED, ("guideline", "gdpr"), (2, 4, 7)),
    "not_approved_for_category": (Verdict.RED, ("guideline", "storage_guide"), (2, 7)),
    "unsure_open_tool": (Verdict.RED, ("storage_guide", "guideline"), (1, 2)),
    "unsure_classify_first": (Verdict.YELLOW, ("storage_guide",), (1, 3)),
    "high_risk_open_tool": (
        Verdict.RED,
        ("ai_act_annex3", "forvaltningsloven", "gdpr"),
        (2, 6),
    ),
    "high_risk_human_decides": (
        Verdict.YELLOW,
        ("ai_act_annex3", "forvaltningsloven", "gdpr"),
        (6,),
    ),
    "monitoring_people": (Verdict.RED, ("ai_act_art5", "ai_act_annex3", "gdpr"), (2, 9)),
    "publish_transparency": (Verdict.YELLOW, ("ai_act_art50", "guideline"), (6,)),
    "minimal_risk": (Verdict.GREEN, ("guideline",), (5,)),
}

TASK_CONDITIONS: Mapping[str, tuple[str, ...]] = {
    "translate": ("condition.translation",),
    "code": ("condition.code",),
    "images": ("condition.images",),
    "analyse_data": ("condition.analysis",),
    "summarise": ("condition.summary",),
}


def _reason(rule: str) -> Reason:
    verdict, sources, _ = RULES[rule]
    return Reason(rule=rule, verdict=verdict, sources=sources, text_key=f"rule.{rule}")


def _data_reasons(policy: Policy, tool: Tool, category: str) -> list[str]:
    """Rules about the information and the tool."""
    if category == UNSURE:
        return ["unsure_classify_first" if tool.sanctioned else "unsure_open_tool"]
    if category == policy.categories[0]:
        return ["unknown_tool"] if tool.tool_class is ToolClass.UNKNOWN else ["open_info"]
    if tool.tool_class is ToolClass.OPEN_SERVICE:
        return ["personal_data_open_tool"]
    if tool.tool_class is ToolClass.UNKNOWN:
        return ["personal_data_unknown_tool"]
    if category in tool.approved_for:
        return ["approved_for_category"]
    return ["not_approved_for_category"]


def _risk(task: Task, answers: Answers) -> RiskLevel:
    if task.prohibited_or_high_risk:
        return RiskLevel.PROHIBITED_OR_HIGH
    if task.high_risk or answers.affects_people:
        return RiskLevel.HIGH
    if answers.published:
        return RiskLevel.TRANSPARENCY
    return RiskLevel.MINIMAL


def _risk_reasons(level: RiskLevel, tool: Tool, answers: Answers) -> list[str]:
    rules: list[str] = []
    if level is RiskLevel.PROHIBITED_OR_HIGH:
        rules.append("monitoring_people")
    elif level is RiskLevel.HIGH:
        rules.append("high_risk_human_decides" if tool.sanctioned else "high_risk_open_tool")
    if answers.published:
        rules.append("publish_transparency")
    if not rules:
        rules.append("minimal_risk")
    return rules


def assess(policy: Policy, answers: Answers) -> Assessment:
    """The verdict for one set of answers. Raises KeyError only for ids not in the policy."""
    tool = policy.tool(answers.tool)
    task = policy.task(answers.task)
    if answers.category not in policy.category_answers:
        raise KeyError(answers.category)
    level = _risk(task, answers)
    rules = _data_reasons(policy, tool, answers.category) + _risk_reasons(level, tool, answers)
    reasons = tuple(_reason(rule) for rule in rules)
    verdict = max(reason.verdict for reason in reasons)

    steps: list[NextStep] = []
    alternatives: tuple[str, ...] = ()
    data_problem = {
        "personal_data_open_tool",
        "personal_data_unknown_tool",
        "not_approved_for_category",
        "unsure_open_tool",
    } & set(rules)
    if data_problem:
        steps.append(NextStep.REMOVE_PERSONAL_DATA)
        category = policy.categories[1] if answers.category == UNSURE else answers.category
        alternatives = tuple(t.id for t in policy.approved_tools_for(category))
        steps.append(NextStep.USE_APPROVED_TOOL if alternatives else NextStep.NO_TOOL_FOR_CATEGORY)
    if "unsure_classify_first" in rules or "unsure_open_tool" in rules:
        steps.append(NextStep.READ_STORAGE_GUIDE)
    if tool.tool_class is ToolClass.UNKNOWN:
        steps.append(NextStep.CONTACT_INFOSEC)
    sensitive = answers.category in policy.categories[2:]
    if level in (RiskLevel.PROHIBITED_OR_HIGH, RiskLevel.HIGH) or (
        sensitive and verdict is not Verdict.GREEN
    ):
        steps.append(NextStep.CONTACT_PRIVACY_OFFICER)
    if answers.published:
        steps.append(NextStep.LABEL_AI_CONTENT)
    if verdict is not Verdict.RED and not steps:
        steps.append(NextStep.GO_AHEAD)
    elif verdict is Verdict.GREEN:
        steps.insert(0, NextStep.GO_AHEAD)

    conditions: tuple[str, ...] = ()
    if verdict is not Verdict.RED:
        conditions = (
            "condition.check_answers",
            *TASK_CONDITIONS.get(task.id, ()),
            *(("condition.human_decides",) if level is RiskLevel.HIGH else ()),
            *(("condition.no_personal_data",) if answers.category == policy.categories[0] else ()),
        )
    vettregler = tuple(sorted({n for rule in rules for n in RULES[rule][2]} | {6}))
    return Assessment(
        verdict=verdict,
        risk_level=level,
        reasons=reasons,
        conditions=conditions,
        next_steps=tuple(dict.fromkeys(steps)),
        vettregler=vettregler,
        alternatives=alternatives,
    )


def text_keys(policy: Policy) -> frozenset[str]:
    """Every text key the policy needs in each language's texts."""
    keys = {f"rule.{rule}" for rule in RULES}
    keys |= {f"source.{s}" for s in policy.sources}
    keys |= {f"category.{c}.name" for c in policy.categories}
    keys |= {f"category.{c}.description" for c in policy.categories}
    keys |= {f"category.{c}.examples" for c in policy.categories}
    keys |= {f"task.{t.id}" for t in policy.tasks}
    keys |= {f"next.{step.value}" for step in NextStep}
    keys |= {key for conditions in TASK_CONDITIONS.values() for key in conditions}
    keys |= {"condition.check_answers", "condition.human_decides", "condition.no_personal_data"}
    keys |= {f"vettregel.{n}.title" for n in range(1, 11)}
    return frozenset(keys)

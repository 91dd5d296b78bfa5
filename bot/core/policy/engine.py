"""`assess(policy, answers)`: the rules, which of them apply, and the verdict, steps and conditions
that follow. Also `text_keys`, every text the rules and the policy need.

Four things are judged separately, and the verdict is the most severe rule that fired:
- the information and the tool (the storage guide's categories and the tool's approvals);
- what the result is used for (a decision about people; the AI Act's high-risk areas), where an
  approval for the information never counts as an approval for the use;
- red flags, asked whatever the task (biometrics and emotions, realistic images of real people,
  secrets, security-graded material);
- publishing to residents (the AI Act's transparency duty).
Each rule carries its sources (article or section) and the next steps that answer its cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.policy.model import (
    INDIVIDUAL_CASE,
    NO_DECISION,
    UNSURE,
    Answers,
    Assessment,
    NextStep,
    Policy,
    Reason,
    RiskLevel,
    Tool,
    ToolClass,
    Verdict,
)

S = NextStep


@dataclass(frozen=True)
class Rule:
    verdict: Verdict
    sources: tuple[str, ...]
    vettregler: tuple[int, ...]
    steps: tuple[NextStep, ...] = ()


RULES: Mapping[str, Rule] = {
    # the information and the tool
    "open_info": Rule(Verdict.GREEN, ("storage_guide",), (1,)),
    "approved_for_category": Rule(Verdict.GREEN, ("guideline", "storage_guide"), (1, 4)),
    "approved_sensitive": Rule(
        Verdict.YELLOW,
        ("gdpr_art5", "gdpr_art9", "guideline"),
        (1, 2, 8),
        (S.CONTACT_PRIVACY_OFFICER,),
    ),
    "unknown_tool": Rule(Verdict.YELLOW, ("digdir", "guideline"), (4, 7), (S.CONTACT_INFOSEC,)),
    "personal_data_open_tool": Rule(
        Verdict.RED,
        ("gdpr_art5", "gdpr_art6", "gdpr_ch5", "gdpr_art33", "fvl_13", "digdir"),
        (2, 7),
        (S.REMOVE_PERSONAL_DATA, S.USE_APPROVED_TOOL, S.REPORT_BREACH),
    ),
    "personal_data_unknown_tool": Rule(
        Verdict.RED,
        ("gdpr_art5", "gdpr_art6", "gdpr_art33", "fvl_13", "guideline"),
        (2, 4, 7),
        (S.REMOVE_PERSONAL_DATA, S.USE_APPROVED_TOOL, S.REPORT_BREACH, S.CONTACT_INFOSEC),
    ),
    "not_approved_for_category": Rule(
        Verdict.RED,
        ("guideline", "storage_guide", "gdpr_art5"),
        (2, 7),
        (S.REMOVE_PERSONAL_DATA, S.USE_APPROVED_TOOL),
    ),
    "unsure_counts_as_restricted": Rule(
        Verdict.YELLOW, ("storage_guide",), (1, 3), (S.READ_STORAGE_GUIDE,)
    ),
    # what the result is used for
    "individual_decision": Rule(
        Verdict.YELLOW, ("fvl_17", "fvl_24_25", "gdpr_art22"), (6,), (S.OWN_ASSESSMENT,)
    ),
    "high_risk_use": Rule(
        Verdict.RED,
        ("ai_act_annex3", "ai_act_art6", "ai_act_art27", "gdpr_art35"),
        (2, 6),
        (S.OWN_ASSESSMENT, S.IMPACT_ASSESSMENT),
    ),
    "high_risk_use_assessed": Rule(
        Verdict.YELLOW,
        ("ai_act_annex3", "fvl_17", "fvl_24_25", "gdpr_art22"),
        (6,),
        (S.FOLLOW_ASSESSMENT, S.OWN_ASSESSMENT),
    ),
    "monitoring_people": Rule(
        Verdict.RED,
        ("ai_act_art5", "ai_act_annex3", "aml_ch9", "gdpr_art35"),
        (2, 9),
        (S.DO_NOT_USE, S.CONTACT_PRIVACY_OFFICER),
    ),
    # red flags
    "biometrics": Rule(
        Verdict.RED,
        ("ai_act_art5", "ai_act_annex3", "gdpr_art9"),
        (2, 9),
        (S.DO_NOT_USE, S.CONTACT_PRIVACY_OFFICER),
    ),
    "realistic_people": Rule(
        Verdict.RED,
        ("ai_act_art50", "gdpr_art6", "gdpr_art9"),
        (6, 8),
        (S.NO_REAL_PEOPLE, S.CONTACT_PRIVACY_OFFICER),
    ),
    "secrets": Rule(
        Verdict.RED, ("guideline", "digdir"), (1, 2), (S.REMOVE_SECRETS, S.CONTACT_INFOSEC)
    ),
    "security_graded": Rule(
        Verdict.RED, ("sikkerhetsloven", "digdir"), (2, 3), (S.SECURITY_ROUTINE,)
    ),
    # publishing
    "publish_transparency": Rule(
        Verdict.YELLOW, ("ai_act_art50", "guideline"), (6,), (S.LABEL_AI_CONTENT,)
    ),
    "minimal_risk": Rule(Verdict.GREEN, ("ai_act_art6", "ai_act_art4", "guideline"), (5, 10)),
}

FLAG_RULES: Mapping[str, str] = {
    "biometrics": "biometrics",
    "realistic_people": "realistic_people",
    "secrets": "secrets",
    "graded": "security_graded",
}
"""Red-flag answer id → its rule. The red flags a policy may offer are exactly these."""

DATA_RED = frozenset(
    {"personal_data_open_tool", "personal_data_unknown_tool", "not_approved_for_category"}
)
USE_BLOCKED = frozenset({"high_risk_use", "monitoring_people", "biometrics"})
"""Rules that stop the use itself: no other tool and no anonymising makes it fine, so the data
remedies (remove the personal data, use an approved tool) are not offered beside them."""
DATA_REMEDIES = frozenset({S.REMOVE_PERSONAL_DATA, S.USE_APPROVED_TOOL, S.NO_TOOL_FOR_CATEGORY})
PRIORITY: Mapping[str, int] = {
    "monitoring_people": 0,
    "biometrics": 0,
    "high_risk_use": 1,
    "high_risk_use_assessed": 1,
    "individual_decision": 1,
    "realistic_people": 2,
    "secrets": 2,
    "security_graded": 2,
}
"""Among rules of the same severity, what the use is comes before what the data is: a decision
about a child welfare case is first a question of the use, not of anonymising."""
DATA_PRIORITY = 3

TASK_CONDITIONS: Mapping[str, tuple[str, ...]] = {
    "translate": ("condition.translation",),
    "code": ("condition.code",),
    "images": ("condition.images",),
    "analyse_data": ("condition.analysis",),
    "summarise": ("condition.summary",),
}


def _reason(rule: str) -> Reason:
    found = RULES[rule]
    return Reason(rule=rule, verdict=found.verdict, sources=found.sources, text_key=f"rule.{rule}")


def effective_category(policy: Policy, category: str) -> str:
    """Unsure information counts as the storage guide's second category (personal data)."""
    return policy.categories[1] if category == UNSURE else category


def _data_rules(policy: Policy, tool: Tool, category: str) -> list[str]:
    """Rules about the information and the tool."""
    rules = ["unsure_counts_as_restricted"] if category == UNSURE else []
    category = effective_category(policy, category)
    if category == policy.categories[0]:
        rules.append("unknown_tool" if tool.tool_class is ToolClass.UNKNOWN else "open_info")
    elif tool.tool_class is ToolClass.OPEN_SERVICE:
        rules.append("personal_data_open_tool")
    elif tool.tool_class is ToolClass.UNKNOWN:
        rules.append("personal_data_unknown_tool")
    elif category not in tool.approved_for:
        rules.append("not_approved_for_category")
    elif category in policy.categories[2:]:
        rules.append("approved_sensitive")
    else:
        rules.append("approved_for_category")
    return rules


def decision_of(policy: Policy, answers: Answers) -> str:
    """The use the answers describe: a task about deciding on people is at least a decision
    about one person, whatever the use question said."""
    if policy.task(answers.task).high_risk and answers.decision == NO_DECISION:
        return INDIVIDUAL_CASE
    return answers.decision


def _use_rules(policy: Policy, tool: Tool, answers: Answers) -> tuple[list[str], str]:
    """Rules about what the result is used for, and the assessment that covers it (if any)."""
    task = policy.task(answers.task)
    rules: list[str] = []
    reference = ""
    if task.prohibited_or_high_risk:
        rules.append("monitoring_people")
    decision = decision_of(policy, answers)
    use = policy.use(decision)
    if use.high_risk:
        reference = tool.assessed_for.get(use.id, "")
        rules.append("high_risk_use_assessed" if reference else "high_risk_use")
    elif decision != NO_DECISION:
        rules.append("individual_decision")
    rules.extend(FLAG_RULES[flag] for flag in policy.red_flags if flag in answers.flags)
    if answers.published:
        rules.append("publish_transparency")
    return rules, reference


def _risk(rules: list[str]) -> RiskLevel:
    if {"monitoring_people", "biometrics"} & set(rules):
        return RiskLevel.PROHIBITED_OR_HIGH
    if {"high_risk_use", "high_risk_use_assessed"} & set(rules):
        return RiskLevel.HIGH
    if {"publish_transparency", "realistic_people"} & set(rules):
        return RiskLevel.TRANSPARENCY
    return RiskLevel.MINIMAL


def assess(policy: Policy, answers: Answers) -> Assessment:
    """The verdict for one set of answers. Raises KeyError only for ids not in the policy."""
    tool = policy.tool(answers.tool)
    task = policy.task(answers.task)
    if answers.category not in policy.category_answers:
        raise KeyError(answers.category)
    unknown_flags = answers.flags - set(policy.red_flags)
    if unknown_flags:
        raise KeyError(sorted(unknown_flags)[0])
    use_rules, reference = _use_rules(policy, tool, answers)
    rules = _data_rules(policy, tool, answers.category) + use_rules
    level = _risk(rules)
    if level is RiskLevel.MINIMAL:
        rules.append("minimal_risk")
    verdict = max(RULES[rule].verdict for rule in rules)
    if verdict is Verdict.RED:  # a red card lists what is wrong, never what is fine
        rules = [rule for rule in rules if RULES[rule].verdict is not Verdict.GREEN]
    # the rule that decided comes first; the use before the data among equals
    rules.sort(key=lambda rule: (-RULES[rule].verdict, PRIORITY.get(rule, DATA_PRIORITY)))
    reasons = tuple(_reason(rule) for rule in rules)

    steps: list[NextStep] = [step for rule in rules for step in RULES[rule].steps]
    alternatives: tuple[str, ...] = ()
    if USE_BLOCKED & set(rules):
        steps = [step for step in steps if step not in DATA_REMEDIES]
    elif DATA_RED & set(rules):
        category = effective_category(policy, answers.category)
        alternatives = tuple(t.id for t in policy.approved_tools_for(category))
        if not alternatives:
            steps = [S.NO_TOOL_FOR_CATEGORY if s is S.USE_APPROVED_TOOL else s for s in steps]
    if verdict is Verdict.GREEN:
        steps.insert(0, S.GO_AHEAD)
    elif verdict is Verdict.YELLOW and not steps:
        steps.append(S.GO_AHEAD)

    conditions: tuple[str, ...] = ()
    if verdict is not Verdict.RED:
        category = effective_category(policy, answers.category)
        conditions = (
            "condition.check_answers",
            *TASK_CONDITIONS.get(task.id, ()),
            *(
                ("condition.human_decides",)
                if {"individual_decision", "high_risk_use_assessed"} & set(rules)
                else ()
            ),
            *(("condition.assessed_use",) if reference else ()),
            *(("condition.minimise",) if "approved_sensitive" in rules else ()),
            *(("condition.no_personal_data",) if category == policy.categories[0] else ()),
            *(("condition.disclose_ai",) if answers.published else ()),
        )
    vettregler = tuple(sorted({n for rule in rules for n in RULES[rule].vettregler} | {6}))
    return Assessment(
        verdict=verdict,
        risk_level=level,
        reasons=reasons,
        conditions=conditions,
        next_steps=tuple(dict.fromkeys(steps)),
        vettregler=vettregler,
        alternatives=alternatives,
        assessment_reference=reference,
    )


def text_keys(policy: Policy) -> frozenset[str]:
    """Every text key the policy needs in each language's texts."""
    keys = {f"rule.{rule}" for rule in RULES}
    keys |= {f"source.{s}" for s in policy.sources}
    keys |= {f"category.{c}.name" for c in policy.categories}
    keys |= {f"category.{c}.description" for c in policy.categories}
    keys |= {f"category.{c}.examples" for c in policy.categories}
    keys |= {f"task.{t.id}" for t in policy.tasks}
    keys |= {f"use.{u.id}" for u in policy.uses}
    keys |= {f"flag.{f}" for f in policy.red_flags}
    keys |= {f"next.{step.value}" for step in NextStep}
    keys |= {key for conditions in TASK_CONDITIONS.values() for key in conditions}
    keys |= {
        "condition.check_answers",
        "condition.human_decides",
        "condition.no_personal_data",
        "condition.assessed_use",
        "condition.minimise",
        "condition.disclose_ai",
    }
    keys |= {f"vettregel.{n}.title" for n in range(1, 11)}
    return frozenset(keys)

"""KI-sjekken's decision engine: the municipality's policy (as data) and `assess(answers)`.

Pure and total: every combination of answers gets exactly one verdict and at least one reason.
The verdict is the most severe of the reasons that apply. Each reason names its rule, its source
and the text key that explains it; texts live in content/, rules in `engine`, approvals in
policy.yaml.
"""

from __future__ import annotations

from bot.core.policy.engine import (
    FLAG_RULES,
    RULES,
    TASK_CONDITIONS,
    Rule,
    assess,
    effective_category,
    text_keys,
)
from bot.core.policy.matrix import all_answers, flag_options
from bot.core.policy.model import (
    INDIVIDUAL_CASE,
    NO_DECISION,
    UNSURE,
    Answers,
    Assessment,
    Contact,
    NextStep,
    Policy,
    Reason,
    RiskLevel,
    Task,
    Tool,
    ToolClass,
    Use,
    Verdict,
)
from bot.core.policy.parsing import PolicyError, parse_policy

__all__ = [
    "FLAG_RULES",
    "INDIVIDUAL_CASE",
    "NO_DECISION",
    "RULES",
    "TASK_CONDITIONS",
    "UNSURE",
    "Answers",
    "Assessment",
    "Contact",
    "NextStep",
    "Policy",
    "PolicyError",
    "Reason",
    "RiskLevel",
    "Rule",
    "Task",
    "Tool",
    "ToolClass",
    "Use",
    "Verdict",
    "all_answers",
    "assess",
    "effective_category",
    "flag_options",
    "parse_policy",
    "text_keys",
]

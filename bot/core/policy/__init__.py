"""KI-sjekken's decision engine: the municipality's policy (as data) and `assess(answers)`.

Pure and total: every combination of answers gets exactly one verdict and at least one reason.
The verdict is the most severe of the reasons that apply. Each reason names its rule, its source
and the text key that explains it; texts live in content/, rules in `engine`, approvals in
policy.yaml.
"""

from __future__ import annotations

from bot.core.policy.engine import RULES, TASK_CONDITIONS, assess, text_keys
from bot.core.policy.model import (
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
    Verdict,
)
from bot.core.policy.parsing import PolicyError, parse_policy

__all__ = [
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
    "Task",
    "Tool",
    "ToolClass",
    "Verdict",
    "assess",
    "parse_policy",
    "text_keys",
]

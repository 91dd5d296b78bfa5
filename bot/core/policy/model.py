"""The policy as data (tools, tasks, categories, sources, contacts) and the engine's answers and
verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

UNSURE = "unsure"
"""The information answer for "I don't know which category this is"."""
NO_DECISION = "none"
"""The use answer for "the result is not used in a decision about people"."""
INDIVIDUAL_CASE = "individual_case"
"""The use answer for a decision about one person outside the AI Act's high-risk areas."""


class Verdict(IntEnum):
    GREEN = 0
    YELLOW = 1
    RED = 2


class ToolClass(StrEnum):
    OPEN_SERVICE = "open_service"  # public services anyone can sign up to
    APPROVED = "approved"  # tools the municipality has approved, each for some categories
    BUILTIN = "builtin"  # AI built into a case-management system
    UNKNOWN = "unknown"


class RiskLevel(StrEnum):
    """The AI Act's levels as they apply to the answers."""

    PROHIBITED = "prohibited"
    PROHIBITED_OR_HIGH = "prohibited_or_high"
    HIGH = "high"
    TRANSPARENCY = "transparency"
    MINIMAL = "minimal"


@dataclass(frozen=True)
class Tool:
    id: str
    tool_class: ToolClass
    name: str
    aliases: tuple[str, ...]
    approved_for: frozenset[str]
    assessed_for: Mapping[str, str] = field(default_factory=dict)
    """High-risk use id → the reference to the assessment (DPIA / FRIA) that covers it."""

    @property
    def sanctioned(self) -> bool:
        """Approved by the municipality (as a tool or as part of a case system)."""
        return self.tool_class in (ToolClass.APPROVED, ToolClass.BUILTIN)


@dataclass(frozen=True)
class Task:
    id: str
    high_risk: bool = False
    prohibited_or_high_risk: bool = False


@dataclass(frozen=True)
class Use:
    """What the result is used for, as far as decisions about people go."""

    id: str
    high_risk: bool = False
    """An area of the AI Act's Annex III (or profiling): red unless the tool is assessed for it."""


@dataclass(frozen=True)
class Contact:
    email: str
    url: str


@dataclass(frozen=True)
class Policy:
    municipality: str
    categories: tuple[str, ...]  # least to most sensitive
    tools: tuple[Tool, ...]
    tasks: tuple[Task, ...]
    sources: Mapping[str, str]  # id → url
    contacts: Mapping[str, Contact]
    uses: tuple[Use, ...] = (Use(NO_DECISION), Use(INDIVIDUAL_CASE))
    red_flags: tuple[str, ...] = ()
    law_checked: str = ""
    """When the legal statements in the content were last checked (ISO date)."""

    def tool(self, tool_id: str) -> Tool:
        for tool in self.tools:
            if tool.id == tool_id:
                return tool
        raise KeyError(tool_id)

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    @property
    def category_answers(self) -> tuple[str, ...]:
        return (*self.categories, UNSURE)

    def use(self, use_id: str) -> Use:
        for use in self.uses:
            if use.id == use_id:
                return use
        raise KeyError(use_id)

    def approved_tools_for(self, category: str) -> tuple[Tool, ...]:
        return tuple(t for t in self.tools if t.sanctioned and category in t.approved_for)


@dataclass(frozen=True)
class Answers:
    task: str
    tool: str
    category: str  # a category id or UNSURE
    decision: str = NO_DECISION  # a use id: what the result is used for
    published: bool = False
    flags: frozenset[str] = frozenset()  # red flags the person ticked


@dataclass(frozen=True)
class Reason:
    rule: str
    verdict: Verdict
    sources: tuple[str, ...]
    text_key: str


class NextStep(StrEnum):
    GO_AHEAD = "go_ahead"
    REMOVE_PERSONAL_DATA = "remove_personal_data"
    USE_APPROVED_TOOL = "use_approved_tool"
    NO_TOOL_FOR_CATEGORY = "no_tool_for_category"
    CONTACT_PRIVACY_OFFICER = "contact_privacy_officer"
    CONTACT_INFOSEC = "contact_infosec"
    READ_STORAGE_GUIDE = "read_storage_guide"
    LABEL_AI_CONTENT = "label_ai_content"
    OWN_ASSESSMENT = "own_assessment"
    IMPACT_ASSESSMENT = "impact_assessment"
    FOLLOW_ASSESSMENT = "follow_assessment"
    REMOVE_SECRETS = "remove_secrets"
    SECURITY_ROUTINE = "security_routine"
    NO_REAL_PEOPLE = "no_real_people"
    DO_NOT_USE = "do_not_use"
    REPORT_BREACH = "report_breach"


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    risk_level: RiskLevel
    reasons: tuple[Reason, ...]
    conditions: tuple[str, ...]  # text keys
    next_steps: tuple[NextStep, ...]
    vettregler: tuple[int, ...]  # numbers 1–10
    alternatives: tuple[str, ...] = field(default=())  # tool ids approved for this category
    assessment_reference: str = ""  # the tool's assessment for this high-risk use, if any

"""The policy as data (tools, tasks, categories, sources, contacts) and the engine's answers and
verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

UNSURE = "unsure"
"""The information answer for "I don't know which category this is"."""


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

    def approved_tools_for(self, category: str) -> tuple[Tool, ...]:
        return tuple(t for t in self.tools if t.sanctioned and category in t.approved_for)


@dataclass(frozen=True)
class Answers:
    task: str
    tool: str
    category: str  # a category id or UNSURE
    affects_people: bool
    published: bool


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


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    risk_level: RiskLevel
    reasons: tuple[Reason, ...]
    conditions: tuple[str, ...]  # text keys
    next_steps: tuple[NextStep, ...]
    vettregler: tuple[int, ...]  # numbers 1–10
    alternatives: tuple[str, ...] = field(default=())  # tool ids approved for this category

"""KI-sjekken's decision engine: the municipality's policy (as data) and `assess(answers)`.

Pure and total: every combination of answers gets exactly one verdict and at least one reason.
The verdict is the most severe of the reasons that apply. Each reason names its rule, its source
and the text key that explains it; texts live in content/, rules here, approvals in policy.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


class PolicyError(ValueError):
    """policy.yaml is inconsistent; the message says what to fix."""


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


# -- reading policy.yaml (already parsed) -----------------------------------------------------


def _items(raw: Mapping[str, object], key: str) -> Sequence[Mapping[str, object]]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise PolicyError(f"policy.yaml: '{key}' must be a non-empty list")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise PolicyError(f"policy.yaml: {key}[{index}] needs an 'id'")
    return value


def _unique(ids: Sequence[str], what: str) -> None:
    seen = set()
    for item in ids:
        if item in seen:
            raise PolicyError(f"policy.yaml: {what} '{item}' appears twice")
        seen.add(item)


def parse_policy(raw: object) -> Policy:
    """Validate the parsed policy.yaml; every problem is one clear sentence."""
    if not isinstance(raw, Mapping):
        raise PolicyError("policy.yaml must be a mapping")
    categories = tuple(str(item["id"]) for item in _items(raw, "categories"))
    _unique(categories, "category")
    if UNSURE in categories:
        raise PolicyError(f"policy.yaml: '{UNSURE}' is reserved and cannot be a category id")
    tools: list[Tool] = []
    for item in _items(raw, "tools"):
        tool_id = str(item["id"])
        try:
            tool_class = ToolClass(str(item.get("class")))
        except ValueError:
            allowed = ", ".join(c.value for c in ToolClass)
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' class must be one of {allowed}"
            ) from None
        approved = item.get("approved_for", [])
        if not isinstance(approved, list) or not all(isinstance(c, str) for c in approved):
            raise PolicyError(f"policy.yaml: tool '{tool_id}' approved_for must be a list of ids")
        unknown = [c for c in approved if c not in categories]
        if unknown:
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' approved for unknown category '{unknown[0]}'"
            )
        if approved and tool_class not in (ToolClass.APPROVED, ToolClass.BUILTIN):
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' is {tool_class.value}; "
                "only approved or builtin tools can be approved_for categories"
            )
        if tool_class in (ToolClass.APPROVED, ToolClass.BUILTIN) and not approved:
            raise PolicyError(f"policy.yaml: tool '{tool_id}' needs approved_for (at least 'open')")
        # approvals must cover the less sensitive categories too: approving for Fortrolig but not
        # for Begrenset would make a more sensitive answer more permissive
        if set(approved) != set(categories[: len(approved)]):
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' approved_for must list categories from the least "
                f"sensitive upwards without gaps ({', '.join(categories)})"
            )
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            raise PolicyError(f"policy.yaml: tool '{tool_id}' aliases must be a list of words")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise PolicyError(f"policy.yaml: tool '{tool_id}' needs a name")
        tools.append(
            Tool(
                id=tool_id,
                tool_class=tool_class,
                name=name.strip(),
                aliases=tuple(a.casefold() for a in aliases),
                approved_for=frozenset(approved),
            )
        )
    _unique([t.id for t in tools], "tool")
    if not any(t.tool_class is ToolClass.UNKNOWN for t in tools):
        raise PolicyError("policy.yaml: one tool must have class 'unknown' (for tools not listed)")
    tasks = tuple(
        Task(
            id=str(item["id"]),
            high_risk=bool(item.get("high_risk", False)),
            prohibited_or_high_risk=bool(item.get("prohibited_or_high_risk", False)),
        )
        for item in _items(raw, "tasks")
    )
    _unique([t.id for t in tasks], "task")
    sources = {str(item["id"]): str(item.get("url", "")) for item in _items(raw, "sources")}
    for source_id, url in sources.items():
        if not url.startswith("https://"):
            raise PolicyError(f"policy.yaml: source '{source_id}' needs an https:// url")
    needed = {s for verdict_sources in RULES.values() for s in verdict_sources[1]}
    missing = sorted(needed - set(sources))
    if missing:
        raise PolicyError(f"policy.yaml: sources missing: {', '.join(missing)}")
    contacts_raw = raw.get("contacts")
    if not isinstance(contacts_raw, Mapping):
        raise PolicyError(
            "policy.yaml: 'contacts' must name privacy_officer and information_security"
        )
    contacts: dict[str, Contact] = {}
    for key in ("privacy_officer", "information_security"):
        entry = contacts_raw.get(key)
        if not isinstance(entry, Mapping) or "@" not in str(entry.get("email", "")):
            raise PolicyError(f"policy.yaml: contacts.{key} needs an email")
        contacts[key] = Contact(email=str(entry["email"]), url=str(entry.get("url", "")))
    municipality = raw.get("municipality")
    name = municipality.get("name") if isinstance(municipality, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise PolicyError("policy.yaml: municipality.name is required")
    return Policy(
        municipality=name.strip(),
        categories=categories,
        tools=tuple(tools),
        tasks=tasks,
        sources=sources,
        contacts=contacts,
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

"""`parse_policy`: validate the parsed policy.yaml and build a `Policy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.policy.engine import FLAG_RULES, RULES
from bot.core.policy.model import (
    INDIVIDUAL_CASE,
    NO_DECISION,
    UNSURE,
    Contact,
    Policy,
    Task,
    Tool,
    ToolClass,
    Use,
)


class PolicyError(ValueError):
    """policy.yaml is inconsistent; the message says what to fix."""


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
    trusted: dict[str, object] = {}
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
        if "trust_as" in item:
            approved = []  # taken from the tool it is trusted as
        elif approved and tool_class not in (ToolClass.APPROVED, ToolClass.BUILTIN):
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' is {tool_class.value}; "
                "only approved or builtin tools can be approved_for categories"
            )
        if (
            "trust_as" not in item
            and tool_class in (ToolClass.APPROVED, ToolClass.BUILTIN)
            and not approved
        ):
            raise PolicyError(f"policy.yaml: tool '{tool_id}' needs approved_for (at least 'open')")
        # approvals must cover the less sensitive categories too: approving for Fortrolig but not
        # for Begrenset would make a more sensitive answer more permissive
        if approved and set(approved) != set(categories[: len(approved)]):
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
                assessed_for=_assessed_for(tool_id, item.get("assessed_for", [])),
            )
        )
        trusted[tool_id] = item.get("trust_as")
    _unique([t.id for t in tools], "tool")
    tools = _resolve_trust(tools, trusted)
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
    uses = _uses(raw)
    assessed = {use for tool in tools for use in tool.assessed_for}
    high_risk = {use.id for use in uses if use.high_risk}
    if assessed - high_risk:
        raise PolicyError(
            f"policy.yaml: assessed_for names '{sorted(assessed - high_risk)[0]}', "
            "which is not a high-risk use under 'uses'"
        )
    red_flags = _red_flags(raw)
    sources = {str(item["id"]): str(item.get("url", "")) for item in _items(raw, "sources")}
    for source_id, url in sources.items():
        if not url.startswith("https://"):
            raise PolicyError(f"policy.yaml: source '{source_id}' needs an https:// url")
    needed = {s for rule in RULES.values() for s in rule.sources}
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
    law = raw.get("law")
    checked = law.get("checked") if isinstance(law, Mapping) else None
    return Policy(
        municipality=name.strip(),
        categories=categories,
        tools=tuple(tools),
        tasks=tasks,
        sources=sources,
        contacts=contacts,
        uses=uses,
        red_flags=red_flags,
        law_checked=str(checked or ""),
    )


def _assessed_for(tool_id: str, raw: object) -> dict[str, str]:
    """`assessed_for: [{use: services, reference: "DPIA …"}]` → use id → reference."""
    if not isinstance(raw, list):
        raise PolicyError(f"policy.yaml: tool '{tool_id}' assessed_for must be a list")
    found: dict[str, str] = {}
    for entry in raw:
        use = entry.get("use") if isinstance(entry, Mapping) else None
        reference = entry.get("reference") if isinstance(entry, Mapping) else None
        if not isinstance(use, str) or not isinstance(reference, str) or not reference.strip():
            raise PolicyError(
                f"policy.yaml: tool '{tool_id}' assessed_for entries need 'use' and 'reference' "
                "(where the assessment of that use is filed)"
            )
        found[use] = reference.strip()
    return found


def _resolve_trust(tools: list[Tool], trusted: Mapping[str, object]) -> list[Tool]:
    """A tool with `trust_as: other` ("I don't know which Copilot") gets the other tool's class,
    approvals and assessments: the less trusted choice decides."""
    by_id = {tool.id: tool for tool in tools}
    resolved: list[Tool] = []
    for tool in tools:
        target = trusted.get(tool.id)
        if target is None:
            resolved.append(tool)
            continue
        base = by_id.get(str(target))
        if base is None or trusted.get(base.id) is not None:
            raise PolicyError(
                f"policy.yaml: tool '{tool.id}' trust_as must name another listed tool "
                "that has no trust_as itself"
            )
        resolved.append(
            Tool(
                id=tool.id,
                tool_class=base.tool_class,
                name=tool.name,
                aliases=tool.aliases,
                approved_for=base.approved_for,
                assessed_for=base.assessed_for,
            )
        )
    return resolved


def _uses(raw: Mapping[str, object]) -> tuple[Use, ...]:
    uses = tuple(
        Use(id=str(item["id"]), high_risk=bool(item.get("high_risk", False)))
        for item in _items(raw, "uses")
    )
    _unique([use.id for use in uses], "use")
    ids = {use.id for use in uses}
    for required in (NO_DECISION, INDIVIDUAL_CASE):
        if required not in ids:
            raise PolicyError(f"policy.yaml: uses must include '{required}'")
    if any(use.high_risk for use in uses if use.id in (NO_DECISION, INDIVIDUAL_CASE)):
        raise PolicyError("policy.yaml: 'none' and 'individual_case' cannot be high_risk")
    return uses


def _red_flags(raw: Mapping[str, object]) -> tuple[str, ...]:
    flags = raw.get("red_flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise PolicyError("policy.yaml: red_flags must be a list of ids")
    unknown = [f for f in flags if f not in FLAG_RULES]
    if unknown:
        allowed = ", ".join(FLAG_RULES)
        raise PolicyError(f"policy.yaml: red flag '{unknown[0]}' is not one of {allowed}")
    _unique(list(flags), "red flag")
    return tuple(flags)

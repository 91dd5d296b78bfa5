"""`parse_policy`: validate the parsed policy.yaml and build a `Policy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.policy.engine import RULES
from bot.core.policy.model import UNSURE, Contact, Policy, Task, Tool, ToolClass


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

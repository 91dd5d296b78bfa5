"""Learning cards (læringskort): what an employee tried with AI, checked and ready to store.

Pure: validation of a submitted card (every field again, since a card payload can be forged),
the personal-data check of its free-text fields, the follow-up flag, the SharePoint fields, CSV
rows with spreadsheet formulas neutralised, and the project leads' summary. No I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.policy import Policy, ToolClass
from bot.core.privacy import Finding, FindingKind, scan
from bot.core.sharepoint_schema import CARD_ID_COLUMN, LEAD_STATUSES, STATUS_COLUMN, ListChoices

OTHER_TOOL = "other"
RECOMMEND = ("yes", "maybe", "no")
TITLE_MAX = 120
SHORT_MAX = 100
LONG_MAX = 2000
BENEFIT_RANGE = (1, 5)
MINUTES_RANGE = (0, 600)
PER_MONTH_RANGE = (0, 500)

TEXT_FIELDS = ("title", "tool_other", "what", "result", "challenges")
"""Free-text fields: each goes through the personal-data check before a card is saved."""


class Problem(StrEnum):
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_CHOICE = "unknown_choice"


class DeliveryState(StrEnum):
    PENDING = "pending"  # stored; waiting for (or retrying) the write to SharePoint
    DELIVERED = "delivered"  # an item exists in the SharePoint list
    PARKED = "parked"  # SharePoint refused it for good; a lead must look


class FollowUp(StrEnum):
    SENSITIVE_IN_OPEN_TOOL = "sensitive_in_open_tool"
    SENSITIVE_IN_UNKNOWN_TOOL = "sensitive_in_unknown_tool"
    NOT_APPROVED_FOR_CATEGORY = "not_approved_for_category"


@dataclass(frozen=True)
class CardOptions:
    """The choices a card offers, all from content: service areas, tasks, tools, categories."""

    service_areas: tuple[str, ...]
    tasks: tuple[str, ...]
    tools: tuple[str, ...]  # the policy's tool ids (without its "unknown" entry) + OTHER_TOOL
    categories: tuple[str, ...]


def card_options(policy: Policy, service_areas: Sequence[str]) -> CardOptions:
    tools = tuple(t.id for t in policy.tools if t.tool_class is not ToolClass.UNKNOWN)
    return CardOptions(
        service_areas=tuple(service_areas),
        tasks=tuple(task.id for task in policy.tasks),
        tools=(*tools, OTHER_TOOL),
        categories=tuple(policy.categories),
    )


@dataclass(frozen=True)
class CardDraft:
    """A submitted card whose every field is valid."""

    title: str
    service_area: str
    task: str
    tool: str
    tool_other: str
    what: str
    result: str
    benefit: int
    minutes_saved: int
    times_per_month: int
    category: str
    challenges: str
    recommend: str
    share: bool

    def texts(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in TEXT_FIELDS}


@dataclass(frozen=True)
class FieldError:
    field: str
    problem: Problem


@dataclass(frozen=True)
class FieldFindings:
    """Personal data found in one free-text field: kinds and masked excerpts (never the value)."""

    field: str
    kinds: tuple[FindingKind, ...]
    masked: tuple[str, ...]


@dataclass(frozen=True)
class LearningCard:
    card_id: str
    submitted_at: datetime  # UTC
    author: str  # Entra object id (or the Teams id in the Playground)
    language: str
    draft: CardDraft
    follow_up: tuple[FollowUp, ...]


@dataclass(frozen=True)
class StoredCard:
    card: LearningCard
    state: DeliveryState
    attempts: int = 0
    reason: str = ""
    item_id: str = ""
    lead_status: str = ""


def _text(
    data: Mapping[str, object], name: str, limit: int, errors: list[FieldError], *, required: bool
) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(name, Problem.REQUIRED if required else Problem.TOO_LONG))
        return ""
    value = value.strip()
    if required and not value:
        errors.append(FieldError(name, Problem.REQUIRED))
    elif len(value) > limit:
        errors.append(FieldError(name, Problem.TOO_LONG))
    return value


def _choice(
    data: Mapping[str, object], name: str, allowed: Sequence[str], errors: list[FieldError]
) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, Problem.REQUIRED))
        return ""
    if value.strip() not in allowed:
        errors.append(FieldError(name, Problem.UNKNOWN_CHOICE))
        return ""
    return value.strip()


def _number(
    data: Mapping[str, object], name: str, bounds: tuple[int, int], errors: list[FieldError]
) -> int:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(name, Problem.REQUIRED))
        return 0
    number: float
    if isinstance(value, bool):
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 20:
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            errors.append(FieldError(name, Problem.NOT_A_NUMBER))
            return 0
    else:
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    if not math.isfinite(number) or number != int(number):
        errors.append(FieldError(name, Problem.NOT_A_NUMBER))
        return 0
    low, high = bounds
    if not low <= number <= high:
        errors.append(FieldError(name, Problem.OUT_OF_RANGE))
        return 0
    return int(number)


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def validate(
    data: Mapping[str, object], options: CardOptions
) -> CardDraft | tuple[FieldError, ...]:
    """Check every field of a submitted card: type, range, length and choice. Total: any mapping
    gives either a valid draft or the list of what is wrong, field by field."""
    errors: list[FieldError] = []
    title = _text(data, "title", TITLE_MAX, errors, required=True)
    area = _choice(data, "area", options.service_areas, errors)
    task = _choice(data, "task", options.tasks, errors)
    tool = _choice(data, "tool", options.tools, errors)
    tool_other = _text(data, "tool_other", SHORT_MAX, errors, required=tool == OTHER_TOOL)
    what = _text(data, "what", LONG_MAX, errors, required=True)
    result = _text(data, "result", LONG_MAX, errors, required=True)
    benefit = _number(data, "benefit", BENEFIT_RANGE, errors)
    minutes = _number(data, "minutes", MINUTES_RANGE, errors)
    per_month = _number(data, "per_month", PER_MONTH_RANGE, errors)
    category = _choice(data, "category", options.categories, errors)
    challenges = _text(data, "challenges", LONG_MAX, errors, required=False)
    recommend = _choice(data, "recommend", RECOMMEND, errors)
    share = _flag(data.get("share"))
    if share is None:
        errors.append(FieldError("share", Problem.UNKNOWN_CHOICE))
    if errors:
        return tuple(errors)
    return CardDraft(
        title=title,
        service_area=area,
        task=task,
        tool=tool,
        tool_other=tool_other if tool == OTHER_TOOL else "",
        what=what,
        result=result,
        benefit=benefit,
        minutes_saved=minutes,
        times_per_month=per_month,
        category=category,
        challenges=challenges,
        recommend=recommend,
        share=bool(share),
    )


def personal_data(draft: CardDraft) -> tuple[FieldFindings, ...]:
    """Personal data in the free-text fields, per field, masked. Empty: the card may be saved."""
    found: list[FieldFindings] = []
    for name, text in draft.texts().items():
        if not text:
            continue
        findings: tuple[Finding, ...] = scan(text).findings
        if findings:
            found.append(
                FieldFindings(
                    field=name,
                    kinds=tuple(dict.fromkeys(f.kind for f in findings)),
                    masked=tuple(f.masked for f in findings),
                )
            )
    return tuple(found)


def follow_up(draft: CardDraft, policy: Policy) -> tuple[FollowUp, ...]:
    """Why a lead should follow this card up: information more sensitive than the tool allows."""
    if draft.category == policy.categories[0]:
        return ()
    if draft.tool == OTHER_TOOL:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    try:
        tool = policy.tool(draft.tool)
    except KeyError:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    if tool.tool_class is ToolClass.OPEN_SERVICE:
        return (FollowUp.SENSITIVE_IN_OPEN_TOOL,)
    if tool.tool_class is ToolClass.UNKNOWN:
        return (FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,)
    if draft.category not in tool.approved_for:
        return (FollowUp.NOT_APPROVED_FOR_CATEGORY,)
    return ()


# -- where cards go ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Display labels (bokmål) for the ids a card holds, as the list and the export show them."""

    service_areas: Mapping[str, str]
    tasks: Mapping[str, str]
    tools: Mapping[str, str]
    categories: Mapping[str, str]
    recommend: Mapping[str, str]

    def list_choices(self) -> ListChoices:
        return ListChoices(
            service_areas=tuple(self.service_areas.values()),
            tools=tuple(self.tools.values()),
            tasks=tuple(self.tasks.values()),
            categories=tuple(self.categories.values()),
            recommend=tuple(self.recommend.values()),
        )


def list_fields(card: LearningCard, labels: Labels) -> dict[str, object]:
    """The SharePoint list item's fields for a card (columns of `sharepoint_schema.columns`)."""
    draft = card.draft
    return {
        "Title": draft.title,
        CARD_ID_COLUMN: card.card_id,
        "Tjenesteomrade": labels.service_areas.get(draft.service_area, draft.service_area),
        "Oppgave": labels.tasks.get(draft.task, draft.task),
        "Verktoy": labels.tools.get(draft.tool, draft.tool),
        "VerktoyAnnet": draft.tool_other,
        "HvaGjort": draft.what,
        "Resultat": draft.result,
        "Nytte": draft.benefit,
        "MinutterSpart": draft.minutes_saved,
        "GangerPerManed": draft.times_per_month,
        "Informasjonskategori": labels.categories.get(draft.category, draft.category),
        "Utfordringer": draft.challenges,
        "Anbefaler": labels.recommend.get(draft.recommend, draft.recommend),
        "KanDeles": draft.share,
        "Oppfolging": bool(card.follow_up),
        "Innsendt": card.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Innsender": card.author,
        STATUS_COLUMN: LEAD_STATUSES[0],
    }


CSV_HEADER = (
    "kort_id",
    "innsendt",
    "tittel",
    "tjenesteomrade",
    "oppgave",
    "verktoy",
    "annet_verktoy",
    "hva_ble_gjort",
    "resultat",
    "nytte",
    "minutter_spart",
    "ganger_per_maned",
    "informasjonskategori",
    "utfordringer",
    "anbefaler",
    "kan_deles",
    "til_oppfolging",
    "leveranse",
    "status",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def neutralise(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice): text that
    starts with a formula character gets a leading apostrophe."""
    stripped = value.lstrip(" ")
    if stripped.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(stored: StoredCard, labels: Labels) -> tuple[str, ...]:
    card, draft = stored.card, stored.card.draft
    cells: tuple[object, ...] = (
        card.card_id,
        card.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        draft.title,
        labels.service_areas.get(draft.service_area, draft.service_area),
        labels.tasks.get(draft.task, draft.task),
        labels.tools.get(draft.tool, draft.tool),
        draft.tool_other,
        draft.what,
        draft.result,
        draft.benefit,
        draft.minutes_saved,
        draft.times_per_month,
        labels.categories.get(draft.category, draft.category),
        draft.challenges,
        labels.recommend.get(draft.recommend, draft.recommend),
        "ja" if draft.share else "nei",
        "ja" if card.follow_up else "nei",
        stored.state.value,
        stored.lead_status or LEAD_STATUSES[0],
    )
    return tuple(neutralise(str(cell)) for cell in cells)


# -- the project leads' summary ---------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    total: int
    by_area: tuple[tuple[str, int], ...]  # id → count, most first
    by_tool: tuple[tuple[str, int], ...]
    average_benefit: float | None
    hours_saved_per_month: float
    recommended: tuple[tuple[str, int], ...]  # task id → cards that would recommend it
    flagged: tuple[StoredCard, ...]
    by_status: tuple[tuple[str, int], ...]
    pending: int
    parked: tuple[StoredCard, ...] = field(default=())


def _most_first(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def summarize(cards: Iterable[StoredCard]) -> Summary:
    items = list(cards)
    drafts = [stored.card.draft for stored in items]
    benefit = sum(d.benefit for d in drafts) / len(drafts) if drafts else None
    minutes = sum(d.minutes_saved * d.times_per_month for d in drafts)
    statuses = Counter(stored.lead_status or LEAD_STATUSES[0] for stored in items)
    return Summary(
        total=len(items),
        by_area=_most_first(Counter(d.service_area for d in drafts)),
        by_tool=_most_first(Counter(d.tool for d in drafts)),
        average_benefit=benefit,
        hours_saved_per_month=minutes / 60,
        recommended=_most_first(Counter(d.task for d in drafts if d.recommend == "yes")),
        flagged=tuple(stored for stored in items if stored.card.follow_up),
        by_status=tuple((status, statuses.get(status, 0)) for status in LEAD_STATUSES)
        + tuple(
            sorted((s, n) for s, n in statuses.items() if s not in LEAD_STATUSES)  # set in the list
        ),
        pending=sum(1 for stored in items if stored.state is DeliveryState.PENDING),
        parked=tuple(stored for stored in items if stored.state is DeliveryState.PARKED),
    )


# -- retries ----------------------------------------------------------------------------------

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0


def retry_delay(attempts: int, retry_after: float | None, jitter: float) -> float:
    """Seconds to wait before the next try: the server's Retry-After when it gave one, else
    exponential backoff (2 s, 4 s, 8 s … capped at 15 min) with jitter in [0.5, 1] of the step.
    Transient failures are retried without end: a card is never dropped for being unlucky."""
    if retry_after is not None and retry_after >= 0:
        return min(max(retry_after, 0.0), BACKOFF_CAP_SECONDS)
    exponent = min(max(attempts - 1, 0), 20)
    step = min(BACKOFF_BASE_SECONDS * float(2**exponent), BACKOFF_CAP_SECONDS)
    return step * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))

"""The SharePoint lists KI-vett writes to, learning cards and trials (utprøvinger): their columns,
as plain data, and a trial's item fields.

Pure: no Graph types here. The SharePoint adapter turns each `ColumnSpec` into a Graph
`columnDefinition`, and `kivett sharepoint setup` adds the columns a list lacks. Internal column
names are ASCII (SharePoint encodes other characters in internal names); display names are
Norwegian, for the project leads who read the list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.learning_cards.export import Labels
    from bot.core.trials.model import Trial

LIST_NAME_DEFAULT = "Læringskort"
TRIALS_LIST_DEFAULT = "Utprøvinger"

CARD_ID_COLUMN = "KortId"
STATUS_COLUMN = "Status"
LEAD_STATUSES: tuple[str, ...] = ("Ny", "Vurdert", "Til gevinstverksted", "Realisert")
"""The status column project leads set in SharePoint; a new item starts as "Ny"."""


class ColumnKind(StrEnum):
    TEXT = "text"
    MULTILINE = "multiline"
    CHOICE = "choice"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"  # a dateTime column that shows the day only
    LOOKUP = "lookup"  # an item of another list, by its `lookup_column`


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # internal name, ASCII, the key in a list item's `fields`
    display_name: str
    kind: ColumnKind
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    unique: bool = False  # enforceUniqueValues; SharePoint requires the column to be indexed
    default: str | None = None
    lookup_column: str = ""  # LOOKUP: the column of the other list it shows ("Title")


@dataclass(frozen=True)
class ListChoices:
    """The display labels (bokmål) the list's choice columns offer."""

    service_areas: Sequence[str]
    tools: Sequence[str]
    tasks: Sequence[str]
    categories: Sequence[str]
    recommend: Sequence[str]


def columns(choices: ListChoices) -> tuple[ColumnSpec, ...]:
    """Every column KI-vett writes, in the order a lead reads them. `Title` is SharePoint's own."""
    text, multi, choice = ColumnKind.TEXT, ColumnKind.MULTILINE, ColumnKind.CHOICE
    categories = tuple(choices.categories)
    number, boolean = ColumnKind.NUMBER, ColumnKind.BOOLEAN
    return (
        ColumnSpec(CARD_ID_COLUMN, "Kort-id", text, required=True, unique=True),
        ColumnSpec("Tjenesteomrade", "Tjenesteområde", choice, tuple(choices.service_areas)),
        ColumnSpec("Oppgave", "Oppgave", choice, tuple(choices.tasks)),
        ColumnSpec("Verktoy", "Verktøy", choice, tuple(choices.tools)),
        ColumnSpec("VerktoyAnnet", "Annet verktøy", text),
        ColumnSpec("HvaGjort", "Hva ble gjort", multi),
        ColumnSpec("Resultat", "Resultat", multi),
        ColumnSpec("Nytte", "Opplevd nytte (1–5)", number, minimum=1, maximum=5),
        ColumnSpec("MinutterSpart", "Minutter spart per gang", number, minimum=0),
        ColumnSpec("GangerPerManed", "Ganger per måned", number, minimum=0),
        ColumnSpec("Informasjonskategori", "Informasjonskategori", choice, categories),
        ColumnSpec("Utfordringer", "Utfordringer og risiko", multi),
        ColumnSpec("Anbefaler", "Anbefaler", choice, tuple(choices.recommend)),
        ColumnSpec("KanDeles", "Kan deles som godt eksempel", boolean),
        ColumnSpec("Oppfolging", "Til oppfølging", boolean),
        ColumnSpec("Innsendt", "Innsendt", ColumnKind.DATETIME),
        ColumnSpec("Innsender", "Innsender (Entra-id)", text),
        ColumnSpec(STATUS_COLUMN, "Status", choice, LEAD_STATUSES, default=LEAD_STATUSES[0]),
    )


TRIAL_ID_COLUMN = "UtprovingId"
TRIAL_LOOKUP_COLUMN = "Utproving"
TRIAL_LOOKUP_FIELD = TRIAL_LOOKUP_COLUMN + "LookupId"
"""The field a learning card's item sets to the trial's item id (Graph's name for a lookup's
value)."""
TRIAL_OWNER_COLUMN = "Padriver"
VERDICT_LABELS: dict[str, str] = {"green": "Grønn", "yellow": "Gul", "red": "Rød"}
"""The KI-sjekk verdict a trial was registered with, as the trials list shows it."""

TRIAL_LOOKUP = ColumnSpec(
    TRIAL_LOOKUP_COLUMN, "Utprøving", ColumnKind.LOOKUP, lookup_column="Title"
)
"""The learning-card list's link to the trial a card belongs to (the trials list's `Title`).
`kivett sharepoint setup` adds it once the trials list exists: it needs that list's id."""


def trial_columns(choices: ListChoices) -> tuple[ColumnSpec, ...]:
    """Every column of the trials list. `Title` (SharePoint's own) holds the task as described.
    Who takes part is personal data and stays in the bot: the list has only how many."""
    text, choice, date = ColumnKind.TEXT, ColumnKind.CHOICE, ColumnKind.DATE
    categories = tuple(choices.categories)
    return (
        ColumnSpec(TRIAL_ID_COLUMN, "Utprøving-id", text, required=True, unique=True),
        ColumnSpec("Oppgave", "Oppgave", choice, tuple(choices.tasks)),
        ColumnSpec("Tjenesteomrade", "Tjenesteområde", choice, tuple(choices.service_areas)),
        ColumnSpec("Enhet", "Enhet", text),
        ColumnSpec("Verktoy", "Verktøy", choice, tuple(choices.tools)),
        ColumnSpec("VerktoyAnnet", "Annet verktøy", text),
        ColumnSpec("Informasjonskategori", "Informasjonskategori", choice, categories),
        ColumnSpec("PeriodeStart", "Periode start", date),
        ColumnSpec("PeriodeSlutt", "Periode slutt", date),
        ColumnSpec("Suksesskriterier", "Suksesskriterier", ColumnKind.MULTILINE),
        ColumnSpec("KiSjekk", "KI-sjekk", choice, tuple(VERDICT_LABELS.values())),
        ColumnSpec("Risikoniva", "Risikonivå", text),
        ColumnSpec("AntallDeltakere", "Antall deltakere", ColumnKind.NUMBER, minimum=0),
        ColumnSpec("Registrert", "Registrert", ColumnKind.DATETIME),
        ColumnSpec(TRIAL_OWNER_COLUMN, "Pådriver (Entra-id)", text),
    )


def trial_fields(trial: Trial, labels: Labels) -> dict[str, object]:
    """The trials list item's fields for a trial (columns of `trial_columns`), with the same
    labels as the learning-card list. The participants' ids are not written, only their number;
    the champion's id (`Padriver`) is "" once erased."""
    draft = trial.draft
    return {
        "Title": draft.title,
        TRIAL_ID_COLUMN: trial.trial_id,
        "Oppgave": _label(labels.tasks, draft.task),
        "Tjenesteomrade": _label(labels.service_areas, draft.service_area),
        "Enhet": draft.unit,
        "Verktoy": _label(labels.tools, draft.tool),
        "VerktoyAnnet": draft.tool_other,
        "Informasjonskategori": _label(labels.categories, draft.category),
        "PeriodeStart": draft.starts.isoformat(),
        "PeriodeSlutt": draft.ends.isoformat(),
        "Suksesskriterier": draft.success,
        "KiSjekk": VERDICT_LABELS.get(trial.verdict, trial.verdict),
        "Risikoniva": trial.risk_level,
        "AntallDeltakere": len(draft.participants),
        "Registrert": trial.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        TRIAL_OWNER_COLUMN: trial.owner,
    }


def _label(labels: Mapping[str, str], value: str) -> str:
    """The display label for an id (the id itself when content no longer has it)."""
    return labels.get(value, value)

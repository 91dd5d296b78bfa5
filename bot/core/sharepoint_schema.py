"""The SharePoint list that learning cards go to: its columns, as plain data.

Pure: no Graph types here. The SharePoint adapter turns each `ColumnSpec` into a Graph
`columnDefinition`, and `kivett sharepoint setup` adds the columns a list lacks. Internal column
names are ASCII (SharePoint encodes other characters in internal names); display names are
Norwegian, for the project leads who read the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

LIST_NAME_DEFAULT = "Læringskort"

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

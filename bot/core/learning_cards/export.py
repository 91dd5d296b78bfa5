"""Where cards go: the SharePoint list item's fields and CSV rows with spreadsheet formulas
neutralised."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.learning_cards.model import LearningCard, StoredCard
from bot.core.sharepoint_schema import CARD_ID_COLUMN, LEAD_STATUSES, STATUS_COLUMN, ListChoices


@dataclass(frozen=True)
class Labels:
    """Display labels (bokmål) for the ids a card holds, as the list and the export show them."""

    service_areas: Mapping[str, str]
    tasks: Mapping[str, str]
    tools: Mapping[str, str]
    categories: Mapping[str, str]
    recommend: Mapping[str, str]
    delivery: Mapping[str, str]
    """Delivery state (`pending`, `delivered`, …) → the word the export's "leveranse" shows."""

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

_FORMULA_START = frozenset("=+-@\t\r\n|%\u2212")
"""What a cell may not start with (OWASP's CSV injection list, and the minus sign U+2212), after
NFKC has turned the full-width (＝ ＋ － ＠) and small (﹦ ﹢ ﹣ ﹫) forms into these."""


def neutralise(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice): text that
    starts with a formula character, after NFKC normalisation and any leading spaces or invisible
    characters a spreadsheet may skip, gets a leading apostrophe."""
    for char in unicodedata.normalize("NFKC", value):
        if char in _FORMULA_START:
            return "'" + value
        if char.isspace() or unicodedata.category(char) in {"Cf", "Cc", "Zs"}:
            continue
        return value
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
        labels.delivery.get(stored.state.value, stored.state.value),
        stored.lead_status or LEAD_STATUSES[0],
    )
    return tuple(neutralise(str(cell)) for cell in cells)

"""Learning cards (læringskort): what an employee tried with AI, checked and ready to store.

Pure: validation of a submitted card (every field again, since a card payload can be forged),
the personal-data check of its free-text fields, the follow-up flag, the SharePoint fields, CSV
rows with spreadsheet formulas neutralised, and the project leads' summary. No I/O.
"""

from __future__ import annotations

from bot.core.learning_cards.checks import FieldFindings, follow_up, personal_data
from bot.core.learning_cards.export import CSV_HEADER, Labels, csv_row, list_fields, neutralise
from bot.core.learning_cards.model import (
    OTHER_TOOL,
    TEXT_FIELDS,
    CardDraft,
    CardOptions,
    DeliveryState,
    FollowUp,
    LearningCard,
    StoredCard,
    card_options,
)
from bot.core.learning_cards.retry import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, retry_delay
from bot.core.learning_cards.summary import Summary, summarize
from bot.core.learning_cards.validation import (
    BENEFIT_RANGE,
    LONG_MAX,
    MINUTES_RANGE,
    PER_MONTH_RANGE,
    RECOMMEND,
    SHORT_MAX,
    TITLE_MAX,
    FieldError,
    Problem,
    validate,
)

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_CAP_SECONDS",
    "BENEFIT_RANGE",
    "CSV_HEADER",
    "LONG_MAX",
    "MINUTES_RANGE",
    "OTHER_TOOL",
    "PER_MONTH_RANGE",
    "RECOMMEND",
    "SHORT_MAX",
    "TEXT_FIELDS",
    "TITLE_MAX",
    "CardDraft",
    "CardOptions",
    "DeliveryState",
    "FieldError",
    "FieldFindings",
    "FollowUp",
    "Labels",
    "LearningCard",
    "Problem",
    "StoredCard",
    "Summary",
    "card_options",
    "csv_row",
    "follow_up",
    "list_fields",
    "neutralise",
    "personal_data",
    "retry_delay",
    "summarize",
    "validate",
]

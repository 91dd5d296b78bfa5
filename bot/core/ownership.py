"""Who may touch a stored learning card."""

from __future__ import annotations

from bot.core.learning_cards import LearningCard


def owns(card: LearningCard, user_key: str) -> bool:
    """A card belongs to the person who filed it. A resubmitted form whose card id belongs to
    someone else (copied or forged) must never show or change that card; an empty key owns
    nothing."""
    return bool(user_key) and card.author == user_key

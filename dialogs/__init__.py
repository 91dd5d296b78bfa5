"""Dialogs: translate a user's action into a core call and the next card. No business rules."""

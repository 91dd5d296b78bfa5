"""Adapters: the only code that does I/O. Each implements a Protocol from bot.ports."""

"""The embedded store: every store Protocol on one SQLite file."""

"""Structured logs: one JSON object per line. Never user text, never a token.

Log calls pass facts as `extra={"fields": {...}}`; the formatter writes the fields, the event
name (the message) and, for errors, the exception's type and stack frames but not its message
(an exception message can carry what a user typed).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER_NAME = "kivett"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            entry["error_type"] = exc_type.__name__
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ][-8:]
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send our and the SDK's logs as JSON lines to stderr at the given level."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(level)
    # aiohttp's access log repeats what our turn log says, with less care: keep it quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")

"""What one turn's log line says. The HTTP layer writes it; the handler fills in the route."""

from __future__ import annotations

from dataclasses import dataclass

TURN_LOG_KEY = "kivett.turn_log"


@dataclass
class TurnLog:
    request_id: str
    activity_type: str = ""
    activity_name: str = ""
    conversation_type: str = ""
    route: str = ""
    status: int = 0

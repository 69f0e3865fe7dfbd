"""The chat domain: one turn from prompt to stored history, independent of HTTP."""

from .events import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from .replacement import replaced_turn_start
from .service import ChatService, StopRequest, Turn, TurnOutcome, TurnReport, failed

__all__ = [
    "ChatService",
    "End",
    "Error",
    "RoundStarted",
    "Sources",
    "StopRequest",
    "TextDelta",
    "ToolCalled",
    "ToolOutput",
    "Turn",
    "TurnEvent",
    "TurnOutcome",
    "TurnReport",
    "failed",
    "replaced_turn_start",
]

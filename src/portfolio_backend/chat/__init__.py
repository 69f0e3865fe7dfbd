"""The chat domain: one turn from prompt to stored history, independent of HTTP."""

from .events import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from .replacement import replaced_turn_start
from .turn import ChatService, Turn, TurnOutcome, TurnReport

__all__ = [
    "ChatService",
    "End",
    "Error",
    "RoundStarted",
    "Sources",
    "TextDelta",
    "ToolCalled",
    "ToolOutput",
    "Turn",
    "TurnEvent",
    "TurnOutcome",
    "TurnReport",
    "replaced_turn_start",
]

"""The chat domain: one turn from prompt to stored history, independent of HTTP."""

from .events import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from .turn import ChatService, Turn, TurnOutcome, TurnReport, before_last_turn

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
    "before_last_turn",
]

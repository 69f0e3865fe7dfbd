"""The chat domain: one turn from prompt to stored history, independent of HTTP."""

from .events import End, Error, Sources, TextDelta, ToolOutput, TurnEvent
from .turn import ChatService, Turn, TurnOutcome, TurnReport, before_last_turn

__all__ = [
    "ChatService",
    "End",
    "Error",
    "Sources",
    "TextDelta",
    "ToolOutput",
    "Turn",
    "TurnEvent",
    "TurnOutcome",
    "TurnReport",
    "before_last_turn",
]

"""The chat domain: one turn from prompt to stored history, independent of HTTP."""

from .turn import ChatService, Turn, TurnReport

__all__ = ["ChatService", "Turn", "TurnReport"]

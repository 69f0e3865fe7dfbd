"""The chat turn's lifecycle: admitted once, run, settled once, for every entry point (lifecycle.py)."""

from .lifecycle import TURN_ID_HEADER, Answer, TurnLifecycle, TurnRequest

__all__ = ["TURN_ID_HEADER", "Answer", "TurnLifecycle", "TurnRequest"]

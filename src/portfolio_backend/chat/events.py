"""What a turn yields: typed events, independent of any wire format.

`ChatService.run_turn` yields these; each HTTP protocol encodes them in its own module under
`portfolio_backend/wire/` (POST /stream's `data:` JSON lines in `wire/seed_events.py`). A turn always
ends with exactly one `End` or `Error`. Keep-alives are not events: the transport sends them.

A turn's events, in order:

    RoundStarted                       each model round begins with one
      TextDelta...                     the round's text
      Sources?                         after the last round's text: the passages the answer used
      ToolCalled...                    the round's tool calls, complete, before any of them runs
      ToolOutput...                    each call's result, once the tools have answered
    RoundStarted ...                   the next round, after tool calls
    End | Error

A format may write nothing for an event (POST /stream writes nothing for `RoundStarted` and
`ToolCalled`): the events still count in the turn's numbering (`seq`).

The hot path is the text: a model's `TextDelta` passes through a turn unchanged, so a token
costs one object (the delta the model client built) and one serialisation (in the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..llm import TextDelta


@dataclass(frozen=True, slots=True)
class RoundStarted:
    """A model round begins: the model is asked (again, after tool calls). One per round, so a
    format can mark each round (the AI SDK's steps)."""


@dataclass(frozen=True, slots=True)
class ToolCalled:
    """The model called a tool: its round's calls are complete and the tool is about to run."""

    call_id: str  # the model's id for the call, unique within the turn
    tool_name: str
    arguments: str  # the JSON text the model sent


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """A tool the model called has run: what it was asked and what it answered."""

    call_id: str  # the model's id for the call, unique within the turn
    tool_name: str
    arguments: str  # the JSON text the model sent
    result: str  # what the model reads, also on failure (then `ok` is False)
    ok: bool


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the answer came from: the owner's passages it cited, else those its text used
    (knowledge/attribution.py), sent after its text and before `End`. Each source is {"title",
    "url" or "file", "snippet"}, and "n", the passage's number a citation marker names, for the
    passages the prompt carried (knowledge/context.py)."""

    sources: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class End:
    """The turn completed and, with a session, is stored; or, `stopped`, the visitor stopped it and
    what it had answered so far is stored, marked stopped."""

    stopped: bool = False


@dataclass(frozen=True, slots=True)
class Error:
    """The turn failed; `message` is safe to show a visitor. Nothing of the turn was stored."""

    message: str


TurnEvent = TextDelta | RoundStarted | ToolCalled | ToolOutput | Sources | End | Error

__all__ = ["End", "Error", "RoundStarted", "Sources", "TextDelta", "ToolCalled", "ToolOutput", "TurnEvent"]

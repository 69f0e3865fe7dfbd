"""A turn's events as the turn buffer keeps them (store/turn_buffers/): one JSON text per event.

Protocol-neutral, so a follower on another process can re-encode them for whichever wire format
it serves. A text delta, nearly every event, is just its JSON string (`"Hel"`): the cheapest
form, written by the sync task in batches, never on the send path. The rest are small objects
with a `t` (type) field.
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from ..chat import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent

# ASCII: a lone surrogate an upstream sent (JSON allows "\ud800") stays an escape, which every
# store can take and decoding gives back exactly; as raw text it fails the store's UTF-8
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def encode_event(event: TurnEvent) -> str:
    if isinstance(event, TextDelta):
        return _dumps(event.content)
    body: dict[str, Any]
    if isinstance(event, RoundStarted):
        body = {"t": "round"}
    elif isinstance(event, ToolCalled):
        body = {"t": "call", "call_id": event.call_id, "tool_name": event.tool_name, "arguments": event.arguments}
    elif isinstance(event, ToolOutput):
        body = {
            "t": "tool",
            "call_id": event.call_id,
            "tool_name": event.tool_name,
            "arguments": event.arguments,
            "result": event.result,
            "ok": event.ok,
        }
    elif isinstance(event, Sources):
        body = {"t": "sources", "sources": list(event.sources)}
    elif isinstance(event, End):
        body = {"t": "end", "stopped": event.stopped}
    elif isinstance(event, Error):
        body = {"t": "error", "message": event.message}
    else:
        assert_never(event)
    return _dumps(body)


def decode_event(text: str) -> TurnEvent:
    """The event `encode_event` wrote. Raises ValueError on anything else."""
    value = json.loads(text)
    if isinstance(value, str):
        return TextDelta(value)
    kind = value.get("t") if isinstance(value, dict) else None
    if kind == "round":
        return RoundStarted()
    if kind == "call":
        return ToolCalled(value["call_id"], value["tool_name"], value["arguments"])
    if kind == "tool":
        return ToolOutput(value["call_id"], value["tool_name"], value["arguments"], value["result"], bool(value["ok"]))
    if kind == "sources":
        return Sources(tuple(value["sources"]))
    if kind == "end":
        return End(stopped=bool(value.get("stopped")))
    if kind == "error":
        return Error(str(value["message"]))
    raise ValueError(f"not a stored turn event: {text[:80]!r}")

"""POST /stream's wire format: each event is one `data: <json>` line, serialised once, here.

Existing clients (the README's examples among them) parse every non-empty line as JSON, so only
`data:` lines are ever written: no comments, no `event:` or `id:` lines, and keep-alives are data
events too. Every event is `{"type": ..., <fields>, "timestamp": <ms when sent>}`:

    chunk        {"type":"chunk","content":"Hel","timestamp":...}
    tool_result  {"type":"tool_result","tool_name":"calculate","result":"25^2 = 625","timestamp":...}
    sources      {"type":"sources","sources":[{"title":...,"url"|"file":...,"snippet":...}],"timestamp":...}
                 (before the first chunk of an answer given from the owner's knowledge; clients
                 that do not know the type ignore it)
    end          {"type":"end","timestamp":...}
    error        {"type":"error","error":"<message>","timestamp":...}
    keepalive    {"type":"keepalive","timestamp":...}
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from ..chat.events import End, Error, Sources, TextDelta, ToolOutput, TurnEvent
from ..clock import now_ms

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _line(event_type: str, **fields: Any) -> bytes:
    payload = {"type": event_type, **fields, "timestamp": now_ms()}
    return b"data: " + _dumps(payload).encode() + b"\n\n"


class StreamEncoder:
    """The `EventEncoder` of POST /stream. It keeps no state, so one instance serves every stream."""

    __slots__ = ()

    def encode(self, event: TurnEvent) -> bytes:
        if isinstance(event, TextDelta):
            # the hot path: the line is built directly, with no dict per token
            return b'data: {"type":"chunk","content":%s,"timestamp":%d}\n\n' % (
                _dumps(event.content).encode(),
                now_ms(),
            )
        if isinstance(event, ToolOutput):
            return _line("tool_result", tool_name=event.tool_name, result=event.result)
        if isinstance(event, Sources):
            return _line("sources", sources=event.sources)
        if isinstance(event, End):
            return _line("end")
        if isinstance(event, Error):
            return _line("error", error=event.message)
        assert_never(event)

    def keepalive(self) -> bytes:
        return _line("keepalive")


STREAM_ENCODER = StreamEncoder()

"""POST /stream's wire format: each event is one `data: <json>` line, serialised once, here.

Existing clients (the README's examples among them) parse every non-empty line as JSON, so only
`data:` lines are ever written: no comments, no `event:` or `id:` lines, and keep-alives are data
events too. Every event is `{"type": ..., <fields>, "seq": N, "timestamp": <ms when sent>}`:

    chunk        {"type":"chunk","content":"Hel","seq":1,"timestamp":...}
    tool_result  {"type":"tool_result","tool_name":"calculate","result":"25^2 = 625","seq":2,"timestamp":...}
    sources      {"type":"sources","sources":[{"title":...,"url"|"file":...,"snippet":...}],"seq":3,"timestamp":...}
                 (after an answer's last chunk, before `end`: the passages it cited or drew on;
                 clients that do not know the type ignore it)
    end          {"type":"end","seq":4,"timestamp":...}            (+ "stopped":true when Stop ended it)
    error        {"type":"error","error":"<message>","seq":4,"timestamp":...}
    keepalive    {"type":"keepalive","timestamp":...}              (no seq: it is not part of the turn)

`seq` numbers the turn's events 1, 2, 3...: a client that lost the connection reattaches with
GET /stream/{turn_id}?after=<last seq it saw>. It counts every event of the turn, including those
this format writes nothing for (the start of each model round, a tool call before it runs: the
AI SDK's format shows them), so it is the turn's own numbering whichever response carries it, and
the numbers a client sees may skip: a turn's first chunk is seq 2.
"""

from __future__ import annotations

import json
from typing import Any, assert_never

from ..chat.events import End, Error, RoundStarted, Sources, TextDelta, ToolCalled, ToolOutput, TurnEvent
from ..clock import now_ms

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _line(event_type: str, **fields: Any) -> bytes:
    payload = {"type": event_type, **fields, "timestamp": now_ms()}
    return b"data: " + _dumps(payload).encode() + b"\n\n"


class StreamEncoder:
    """The `EventEncoder` of POST /stream, one per response: it numbers the events it is given.

    `after`: the seq of the event before the first one this response carries (a reattach's
    `after`; 0 for a whole turn).
    """

    __slots__ = ("seq",)

    def __init__(self, after: int = 0) -> None:
        self.seq = after

    def encode(self, event: TurnEvent) -> bytes:
        self.seq = seq = self.seq + 1
        if isinstance(event, TextDelta):
            # the hot path: the line is built directly, with no dict per token
            return b'data: {"type":"chunk","content":%s,"seq":%d,"timestamp":%d}\n\n' % (
                _dumps(event.content).encode(),
                seq,
                now_ms(),
            )
        if isinstance(event, (RoundStarted, ToolCalled)):
            return b""  # not part of this format: clients learn of a tool from its result
        if isinstance(event, ToolOutput):
            return _line("tool_result", tool_name=event.tool_name, result=event.result, seq=seq)
        if isinstance(event, Sources):
            return _line("sources", sources=event.sources, seq=seq)
        if isinstance(event, End):
            return _line("end", stopped=True, seq=seq) if event.stopped else _line("end", seq=seq)
        if isinstance(event, Error):
            return _line("error", error=event.message, seq=seq)
        assert_never(event)

    def keepalive(self) -> bytes:
        return _line("keepalive")

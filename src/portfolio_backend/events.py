"""The SSE events of POST /stream and their single serialisation.

Clients parse every non-empty line as `data: <json>`, so only `data:` lines are ever written:
no comments, no `event:` or `id:` lines. Each event is serialised exactly once, here.
"""

from __future__ import annotations

import json
import time
from typing import Any

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def sse(event_type: str, **fields: Any) -> bytes:
    """One event as a `data:` line: {"type": ..., **fields, "timestamp": <ms>}."""
    payload = {"type": event_type, **fields, "timestamp": now_ms()}
    return b"data: " + _dumps(payload).encode() + b"\n\n"


def chunk(content: str) -> bytes:
    """The hot path: one text delta. Builds the line directly to avoid a dict per token."""
    return b'data: {"type":"chunk","content":%s,"timestamp":%d}\n\n' % (
        _dumps(content).encode(),
        now_ms(),
    )


def tool_result(tool_name: str, result: str) -> bytes:
    return sse("tool_result", tool_name=tool_name, result=result)


def end(**fields: Any) -> bytes:
    return sse("end", **fields)


def error(message: str) -> bytes:
    return sse("error", error=message)


def keepalive() -> bytes:
    return sse("keepalive")

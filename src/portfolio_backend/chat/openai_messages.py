"""How a stored message is sent to the model: the chat completions API's message shape."""

from __future__ import annotations

from typing import Any

from ..store import Message


def upstream_message(message: Message) -> dict[str, Any]:
    """The shape the chat completions API takes (no timestamps, no tool names)."""
    body: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        body["tool_calls"] = message.tool_calls
    if message.tool_call_id:
        body["tool_call_id"] = message.tool_call_id
    return body

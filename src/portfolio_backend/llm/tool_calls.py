"""Assemble streamed tool-call fragments into whole calls, defensively.

OpenAI sends `index` on every fragment and `id`/`name` on the first. Some compatible servers omit
`index` or `id`, repeat the name, send empty argument fragments, or say index 0 for every call of
a parallel batch (Ollama), and naive assembly then loses arguments or crashes; so fragments are
matched by id, else by index, else continue the last call.
"""

from __future__ import annotations

import uuid
from typing import Any

from .base import ToolCall


class ToolCallAssembler:
    def __init__(self) -> None:
        self._calls: list[dict[str, Any]] = []
        self._by_index: dict[int, dict[str, Any]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}

    def add(self, fragment: dict[str, Any]) -> None:
        """One `tool_calls` entry of a streamed delta, as the JSON the server sent."""
        index = fragment.get("index")
        call_id = fragment.get("id") or None
        function = fragment.get("function") or {}
        name = function.get("name") or ""
        arguments = function.get("arguments") or ""

        call = None
        if call_id:
            call = self._by_id.get(call_id)
        if call is None and index is not None:
            call = self._by_index.get(index)
            if call is not None and call_id and call["id"] and call["id"] != call_id:
                call = None  # a new id at a used index is a new call (Ollama says index 0 for each one)
        if call is None and index is None and not call_id and self._calls and not name:
            call = self._calls[-1]
        if call is None:
            call = {"id": call_id, "name": "", "arguments": ""}
            self._calls.append(call)
        if index is not None:
            self._by_index[index] = call  # fragments without an id continue the latest call at this index
        if call_id:
            call["id"] = call["id"] or call_id
            self._by_id.setdefault(call_id, call)
        if name and not call["name"].endswith(name):
            call["name"] += name
        call["arguments"] += arguments

    def calls(self) -> list[ToolCall]:
        return [
            ToolCall(
                call["id"] or f"call_{uuid.uuid4().hex[:24]}",
                call["name"],
                call["arguments"] or "{}",
            )
            for call in self._calls
            if call["name"]
        ]

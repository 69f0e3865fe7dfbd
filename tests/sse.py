"""Read our two streaming protocols the way their clients do, written once for every test:
POST /stream's events (the seed's clients: every non-empty line is `data: <json>`) and POST
/api/chat's UI message stream (the AI SDK: one `data:` line per event, `[DONE]` last)."""

from __future__ import annotations

import json
from typing import Any

import httpx2


def parse_events(body: str) -> list[dict[str, Any]]:
    events = []
    for line in body.splitlines():
        if not line:
            continue
        assert line.startswith("data: "), f"a non-data line would break clients that parse every line: {line!r}"
        events.append(json.loads(line[6:]))
    return events


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(event["content"] for event in events if event["type"] == "chunk")


class Events:
    """A /stream response read the way the seed's clients read it, in as many steps as a test needs
    (keep-alives skipped)."""

    def __init__(self, response: httpx2.Response) -> None:
        assert response.status_code == 200, response.status_code
        self._lines = response.aiter_lines()

    async def take(self, count: int | None = None) -> list[dict[str, Any]]:
        """The next events: all the rest, or the next `count`."""
        events: list[dict[str, Any]] = []
        async for line in self._lines:
            if not line:
                continue
            assert line.startswith("data: "), f"a non-data line would break the seed's clients: {line!r}"
            event = json.loads(line[6:])
            if event["type"] == "keepalive":
                continue
            events.append(event)
            if count is not None and len(events) == count:
                break
        return events


def ui_chunk(data: str) -> Any:
    """One UI message stream event's data: its chunk, or `[DONE]` kept as the string it is."""
    return data if data == "[DONE]" else json.loads(data)


def parse_ui_chunks(body: httpx2.Response | str | bytes) -> list[Any]:
    """A whole POST /api/chat response (or an encoder's bytes), as the AI SDK's parser insists on:
    each event one `data:` line ended by a blank line; keep-alive comments skipped."""
    if isinstance(body, httpx2.Response):
        body = body.text
    text = body.decode() if isinstance(body, bytes) else body
    assert text.endswith("\n\n"), f"an unterminated event: {text[-80:]!r}"
    parsed: list[Any] = []
    for event in text.split("\n\n")[:-1]:
        if event.startswith(":"):
            continue
        assert event.startswith("data: "), event
        assert "\n" not in event, f"one event is one line: {event!r}"
        parsed.append(ui_chunk(event[6:]))
    return parsed


class UIChunks:
    """A POST /api/chat response read the way the AI SDK reads it, chunk by chunk: `data:` events
    (`[DONE]` as the string), keep-alive comments skipped. `raw` holds the bytes read so far."""

    def __init__(self, response: httpx2.Response) -> None:
        assert response.status_code == 200, response.status_code
        self._lines = response.aiter_lines()
        self.raw = ""

    async def take(self, until: str | None = None) -> list[Any]:
        """The next chunks: all the rest, or up to and including the next of type `until`."""
        chunks: list[Any] = []
        async for line in self._lines:
            self.raw += line + "\n"
            if not line or line.startswith(":"):
                continue
            assert line.startswith("data: "), line
            chunk = ui_chunk(line[6:])
            chunks.append(chunk)
            if until is not None and isinstance(chunk, dict) and chunk["type"] == until:
                break
        return chunks


def ui_text_of(chunks: list[Any]) -> str:
    return "".join(chunk["delta"] for chunk in chunks if isinstance(chunk, dict) and chunk["type"] == "text-delta")

"""Parse a /stream body the way existing clients do: every non-empty line is `data: <json>`."""

from __future__ import annotations

import json
from typing import Any


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

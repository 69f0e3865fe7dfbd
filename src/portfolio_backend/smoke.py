"""Shared helpers of the smoke scripts (`test_client.py`, `test_streaming.py` ...) at the repo root.

Those scripts check a running server, as the README describes, and exit non-zero when what
they check fails. They read the server's address from BASE_URL (default http://localhost:8000).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import httpx2

BASE_URL = os.environ.get("BASE_URL", "http://localhost:8000").rstrip("/")


class SmokeFailure(AssertionError):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)
    print(f"  ok  {message}")


def client() -> httpx2.Client:
    return httpx2.Client(base_url=BASE_URL, timeout=httpx2.Timeout(60.0, connect=5.0))


def stream(
    http: httpx2.Client, prompt: str, session_id: str | None = None
) -> tuple[httpx2.Response, list[dict[str, Any]]]:
    """POST /stream and parse every `data:` line, printing the answer as it arrives."""
    body: dict[str, Any] = {"prompt": prompt}
    if session_id:
        body["session_id"] = session_id
    events: list[dict[str, Any]] = []
    with http.stream("POST", "/stream", json=body) as response:
        if response.status_code != 200:
            response.read()
            return response, events
        for line in response.iter_lines():
            if not line:
                continue
            event = json.loads(line.removeprefix("data: "))
            events.append(event)
            if event["type"] == "chunk":
                print(event["content"], end="", flush=True)
            elif event["type"] == "tool_result":
                print(f"\n  [tool {event['tool_name']}] {event['result']}")
        print()
    return response, events


def run(main: Any) -> None:
    """Run a smoke check: exit 1 with the reason when a check fails or the server is unreachable."""
    try:
        main()
    except SmokeFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except httpx2.HTTPError as exc:
        print(f"FAILED: cannot talk to {BASE_URL}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print("all checks passed")

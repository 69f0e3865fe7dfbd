"""No blocking call on the event loop: chat turns run under asyncio's slow-callback detector.

In debug mode asyncio times every callback and logs "Executing <Handle ...> took 0.123 seconds" on
the `asyncio` logger when one runs longer than `loop.slow_callback_duration`. A synchronous Redis or
HTTP client, a file read, a `time.sleep` or a CPU-heavy loop in a request would show up here; a
healthy callback of this service takes well under a millisecond, so 50 ms leaves room for a slow CI
machine without hiding a real blocking call (a sync Redis round trip under load, a first-request
import). This is the only timing in the test: nothing waits on a clock.

The turns cover the code between the socket and the store: a session is created, tools run (two at
once, one of them reading the session from the store), the history is read and appended, on both
stores, with the model being the scripted upstream spoken to over real HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import Reply, ScriptedToolCall, ScriptedUpstream
from ..sse import parse_events, text_of

SLOW_CALLBACK_SECONDS = 0.05


class SlowCallbacks:
    """asyncio's slow-callback detector on the running loop, from `arm()` on."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.loop: asyncio.AbstractEventLoop | None = None
        self.saved = (False, 0.1)

    def arm(self) -> None:
        # Not the service's pause: a full collection of this test process's heap (the objects of
        # every test before it) can outlast the threshold. Late in one CI run a 0.29 s step of a
        # live turn was logged with no blocking call in it to find (the one found, a time zone's
        # first file read, now runs in a thread). Frozen, those objects are left out of
        # collections, which then scan this test's own.
        gc.collect()
        gc.freeze()
        self.loop = asyncio.get_running_loop()
        self.saved = (self.loop.get_debug(), self.loop.slow_callback_duration)
        self.loop.set_debug(True)
        self.loop.slow_callback_duration = SLOW_CALLBACK_SECONDS
        self.caplog.set_level(logging.WARNING, logger="asyncio")

    def disarm(self) -> None:
        gc.unfreeze()
        if self.loop is not None:
            self.loop.set_debug(self.saved[0])
            self.loop.slow_callback_duration = self.saved[1]

    def logged(self) -> list[str]:
        return [
            record.getMessage()
            for record in self.caplog.records
            if record.name == "asyncio" and record.getMessage().startswith("Executing")
        ]


@pytest.fixture
def slow_callbacks(caplog: pytest.LogCaptureFixture) -> Iterator[SlowCallbacks]:
    detector = SlowCallbacks(caplog)
    yield detector
    detector.disarm()


async def turn(client: httpx2.AsyncClient, prompt: str, session_id: str) -> list[dict[str, Any]]:
    response = await client.post("/stream", json={"prompt": prompt, "session_id": session_id})
    assert response.status_code == 200, response.text
    events = parse_events(response.text)
    assert events[-1]["type"] == "end", events[-1]
    return events


async def test_chat_turns_with_tools_and_a_session_never_block_the_event_loop(
    slow_callbacks: SlowCallbacks,
    upstream_settings: Callable[..., Settings],
    upstream: ScriptedUpstream,
    client_for: Any,
) -> None:
    upstream.script(
        Reply(chunks=["Warm."]),
        Reply(
            chunks=["Let me check. "],
            tool_calls=[
                ScriptedToolCall("get_current_time", '{"timezone": "Europe/Paris"}'),
                ScriptedToolCall("calculate", '{"expression": "6 * 7"}', id="call_2", index=1),
            ],
        ),
        Reply(chunks=["It is ", "noon, ", "and 6 × 7 = 42."]),
        Reply(chunks=[], tool_calls=[ScriptedToolCall("get_session_info", "{}")]),
        Reply(chunks=["This session ", "has history."]),
        Reply(chunks=["You asked ", "about the time."]),
    )
    async with client_for(upstream_settings()) as client:
        # armed from the first request on: the first turn of a process must not block either
        slow_callbacks.arm()
        warm = await client.post("/stream", json={"prompt": "hello"})
        assert parse_events(warm.text)[-1]["type"] == "end"
        created = await client.post("/session")
        assert created.status_code == 200
        session_id = created.json()["session_id"]

        first = await turn(client, "What time is it in Paris, and what is 6 * 7?", session_id)
        assert sorted(event["tool_name"] for event in first if event["type"] == "tool_result") == [
            "calculate",
            "get_current_time",
        ]
        assert text_of(first) == "Let me check. It is noon, and 6 × 7 = 42."
        second = await turn(client, "What do you know about this session?", session_id)
        assert [event["tool_name"] for event in second if event["type"] == "tool_result"] == ["get_session_info"]
        third = await turn(client, "What did I ask first?", session_id)
        assert text_of(third) == "You asked about the time."
        history = (await client.get(f"/session/{session_id}")).json()

    assert len(upstream.requests) == 6
    assert upstream.requests[-1]["messages"][1] == {
        "role": "user",
        "content": "What time is it in Paris, and what is 6 * 7?",
    }
    assert history["message_count"] >= 6
    assert slow_callbacks.logged() == []

"""The SSE response's sends: the body and the keep-alive share one socket, one message at a time.

Driven as an ASGI server drives it, with a `send` that stalls as a slow client's socket does
(uvicorn's send waits for the transport to drain): a keep-alive falls due during every stall.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from portfolio_backend.api.sse import EventStreamResponse
from portfolio_backend.chat import End, RoundStarted, TextDelta, ToolCalled, TurnEvent
from portfolio_backend.wire.seed_events import StreamEncoder

from ..sse import parse_events

KEEPALIVE = 0.005
# how long a stalled send waits for a second, overlapping send: 40 keep-alive periods
STALL = KEEPALIVE * 40


class SlowClient:
    """An ASGI `send` that stalls on each body message until another send arrives (or STALL passes),
    and records every send that overlaps another or follows the final one."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.overlapping = 0
        self.after_the_end = 0
        self._in_flight = 0
        self._arrived = asyncio.Event()
        self._ended = False
        self.keepalives = 0
        self.last_is_in_flight = asyncio.Event()
        self.keepalive_sent = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        if self._ended:
            self.after_the_end += 1
        if self._in_flight:
            self.overlapping += 1
        self._arrived.set()
        self._in_flight += 1
        try:
            self.messages.append(message)
            if b"keepalive" in message.get("body", b""):
                self.keepalives += 1
                self.keepalive_sent.set()
            if message["type"] == "http.response.body":
                self._ended = not message.get("more_body", False)
                if self._ended:
                    self.last_is_in_flight.set()
                self._arrived.clear()
                try:
                    async with asyncio.timeout(STALL):
                        await self._arrived.wait()
                except TimeoutError:
                    pass
        finally:
            self._in_flight -= 1

    async def receive(self) -> dict[str, Any]:
        await asyncio.Event().wait()  # the visitor stays
        raise AssertionError("unreachable")


async def deltas(count: int) -> AsyncIterator[TurnEvent]:
    for n in range(count):
        yield TextDelta(str(n))


def respond(events: AsyncIterator[TurnEvent]) -> EventStreamResponse:
    return EventStreamResponse(events, encoder=StreamEncoder(), headers={}, keepalive_seconds=KEEPALIVE)


def chunks(client: SlowClient) -> list[str]:
    return [
        event["content"]
        for message in client.messages
        if message["type"] == "http.response.body"
        for event in parse_events(message["body"].decode())
        if event["type"] == "chunk"
    ]


async def test_a_keepalive_never_interleaves_with_a_body_send_or_follows_the_last() -> None:
    client = SlowClient()
    response = respond(deltas(3))
    await response({"type": "http", "method": "POST", "path": "/stream"}, client.receive, client.send)
    assert client.overlapping == 0
    assert client.after_the_end == 0
    bodies = [message for message in client.messages if message["type"] == "http.response.body"]
    assert chunks(client) == ["0", "1", "2"]
    assert bodies[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert all(message["more_body"] for message in bodies[:-1])


async def test_an_event_the_format_writes_nothing_for_is_no_send() -> None:
    async def rounds_and_calls() -> AsyncIterator[TurnEvent]:
        yield RoundStarted()
        yield TextDelta("a")
        yield ToolCalled("call_1", "calculate", "{}")
        yield End()

    client = SlowClient()
    response = respond(rounds_and_calls())
    await response({"type": "http", "method": "POST", "path": "/stream"}, client.receive, client.send)
    bodies = [message["body"] for message in client.messages if message["type"] == "http.response.body"]
    assert len(bodies) == 3, "the chunk, the end, and the empty message that ends the body"
    assert all(bodies[:-1])


async def test_keepalives_still_flow_while_the_body_is_quiet() -> None:
    client = SlowClient()
    quiet = asyncio.Event()

    async def waits_for_keepalives() -> AsyncIterator[TurnEvent]:
        yield TextDelta("a")
        while client.keepalives < 2:
            client.keepalive_sent.clear()
            await client.keepalive_sent.wait()
        quiet.set()
        yield TextDelta("b")

    response = respond(waits_for_keepalives())
    await response({"type": "http", "method": "POST", "path": "/stream"}, client.receive, client.send)
    assert quiet.is_set()
    assert chunks(client) == ["a", "b"]
    assert client.overlapping == 0
    assert client.after_the_end == 0


async def test_a_shutdown_while_the_last_message_is_in_flight_sends_nothing_after_it() -> None:
    client = SlowClient()
    response = respond(deltas(2))
    relay = asyncio.create_task(
        response({"type": "http", "method": "POST", "path": "/stream"}, client.receive, client.send)
    )
    await client.last_is_in_flight.wait()
    relay.cancel()  # the server's grace period ends now
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    assert client.after_the_end == 0
    assert client.overlapping == 0


async def test_a_shutdown_mid_stream_ends_it_with_an_error_event() -> None:
    client = SlowClient()
    response = respond(deltas(5))
    first_chunk = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if b"chunk" in message.get("body", b""):
            first_chunk.set()
        await client.send(message)

    relay = asyncio.create_task(response({"type": "http", "method": "POST", "path": "/stream"}, client.receive, send))
    await first_chunk.wait()
    relay.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    last = client.messages[-1]
    assert last["more_body"] is False
    assert parse_events(last["body"].decode())[0]["type"] == "error"
    assert client.after_the_end == 0

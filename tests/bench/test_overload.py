"""The overload phase's reading of what it measured: where the service saturates, and how each
turn of the overload run is counted (admitted and lost, refused with Retry-After, other).

The counting is checked against a real HTTP server on a loopback socket: the load generator reads
a refusal's Retry-After from the bytes, and hangs up on an admitted stream that never ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.client import StreamResult, Target
from bench.overload import knee, outcome, rising, stream_within

REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
    b'content-length: 22\r\n\r\n{"error":"overloaded"}'
)
STALLED = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def test_the_knee_is_the_least_concurrency_within_5_percent_of_the_best_rate() -> None:
    steps = [(4, 200.0), (8, 390.0), (16, 500.0), (32, 510.0), (64, 480.0)]
    saturated = knee(steps)
    assert (saturated.concurrency, saturated.turns_per_s) == (16, 510.0)


def test_the_ladder_stops_once_a_step_adds_less_than_5_percent() -> None:
    assert rising([(4, 200.0)])
    assert rising([(4, 200.0), (8, 390.0)])
    assert not rising([(4, 200.0), (8, 390.0), (16, 400.0)])


def result(status: int, *, ok: bool = True, retry_after: str | None = None) -> StreamResult:
    r = StreamResult(started=10.0, status=status, retry_after=retry_after)
    r.headers_at = 10.002
    if status == 200:
        r.first_chunk_at = 10.1
    if ok:
        r.finished_at = 10.2 if status == 200 else 10.004
    else:
        r.error = "timed out after 30 s (0 chunks)"
    return r


def test_an_admitted_turn_that_did_not_finish_is_lost_and_refusals_are_timed() -> None:
    counted = outcome(
        [
            result(200),
            result(200, ok=False),
            result(503, retry_after="1"),
            result(503),
            StreamResult(started=10.0, error="connect: [Errno 111] Connection refused"),
        ]
    )
    assert counted["admitted"] == 2
    assert counted["admitted_lost"] == 1
    assert counted["admitted_lost_examples"] == ["timed out after 30 s (0 chunks)"]
    assert counted["refused"] == 2
    assert counted["refused_with_retry_after"] == 1
    assert counted["refusal_p99_ms"] == pytest.approx(4.0)
    assert counted["admitted_ttfc_p50_ms"] == pytest.approx(100.0)
    assert counted["other"] == 1


@pytest.fixture
async def server() -> AsyncIterator[int]:
    """Refuses `/refuse` like an overloaded service, starts `/stall`'s stream and sends nothing more."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(REFUSAL if head.startswith(b"POST /refuse") else STALLED)
        await writer.drain()
        await reader.read()  # until the client hangs up
        writer.close()

    listening = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield listening.sockets[0].getsockname()[1]
    listening.close()


async def test_a_refusal_is_read_with_its_retry_after_and_a_stalled_stream_is_lost(server: int) -> None:
    refused = await stream_within(Target("127.0.0.1", server, "/refuse", b"{}", b'{"type":"chunk"'), 5.0)
    assert (refused.status, refused.retry_after) == (503, "1")
    stalled = await stream_within(Target("127.0.0.1", server, "/stall", b"{}", b'{"type":"chunk"'), 0.2)
    assert stalled.status == 200
    assert not stalled.ok
    assert str(stalled.error).startswith("timed out")
    assert outcome([refused, stalled])["admitted_lost"] == 1

"""The load generator: raw HTTP/1.1 over asyncio protocols, so the client costs as little as possible.

Each stream is one connection: `connection_made` writes the whole request, `data_received` counts
event markers in the raw bytes as they arrive (no chunked-encoding decode, no JSON parse, no
coroutine wake-up per event) and stamps the first one. The same code reads the upstream directly
and the service, so whatever it costs is paid on both sides of the comparison; the "direct" rows
measure it (client plus upstream) on their own.

Markers: the upstream's text deltas carry `"content": "` (`json.dumps` default separators; its
role-only, usage and final events have none), the service's carry `{"type":"chunk"`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

UPSTREAM_CHUNK = b'"content": "'
SERVICE_CHUNK = b'{"type":"chunk"'
SERVICE_ERROR = b'{"type":"error"'
_END = b"\r\n0\r\n\r\n"  # the last chunk of a chunked HTTP/1.1 body


@dataclass(frozen=True, slots=True)
class Target:
    """One POST that answers with a chunked event stream, and the marker of a text chunk in it."""

    host: str
    port: int
    path: str
    body: bytes
    marker: bytes
    error_marker: bytes | None = None  # an in-stream error event, which still ends the body cleanly
    token: str = "sk-bench"  # the bearer token (the service and the upstream ignore it; a peer checks it)

    def request(self) -> bytes:
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nAccept: text/event-stream\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        ).encode() + self.body


def service_target(port: int, prompt: str = "Tell me about your work.", session_id: str | None = None) -> Target:
    payload: dict[str, Any] = {"prompt": prompt}
    if session_id is not None:
        payload["session_id"] = session_id
    return Target("127.0.0.1", port, "/stream", json.dumps(payload).encode(), SERVICE_CHUNK, SERVICE_ERROR)


def upstream_target(port: int, body: dict[str, Any]) -> Target:
    return Target("127.0.0.1", port, "/v1/chat/completions", json.dumps(body).encode(), UPSTREAM_CHUNK)


@dataclass(slots=True)
class StreamResult:
    started: float
    status: int = 0
    headers_at: float | None = None
    first_chunk_at: float | None = None
    finished_at: float | None = None
    chunks: int = 0
    error: str | None = None
    retry_after: str | None = None  # a refusal's Retry-After header

    @property
    def ttfc(self) -> float | None:
        return None if self.first_chunk_at is None else self.first_chunk_at - self.started

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200 and self.finished_at is not None


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, target: Target, result: StreamResult, done: asyncio.Future[None]) -> None:
        self.request = target.request()
        self.marker = target.marker
        self.error_marker = target.error_marker
        self.keep = max(len(target.marker), len(_END)) - 1
        self.result = result
        self.done = done
        self.head = b""
        self.tail = b""
        self.error_body = b""
        self.error_length = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        transport = self.transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        result = self.result
        if result.headers_at is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            result.status = int(self.head[9:12])
            result.headers_at = now
            head, data, self.head = self.head[:end].lower(), self.head[end + 4 :], b""
            if result.status != 200:
                length = head.partition(b"content-length:")[2].split(b"\r\n", 1)[0].strip()
                self.error_length = int(length) if length.isdigit() else 0
                retry = head.partition(b"\r\nretry-after:")
                if retry[1]:
                    result.retry_after = retry[2].split(b"\r\n", 1)[0].strip().decode()
        if result.status != 200:  # keep the error body for the report
            self.error_body += data
            if len(self.error_body) >= self.error_length:
                result.error = f"HTTP {result.status} {self.error_body[:160].decode(errors='replace')}"
                self._finish(now)
            return
        window = self.tail + data
        found = window.count(self.marker)
        if found:
            if result.first_chunk_at is None:
                result.first_chunk_at = now
            result.chunks += found
        elif self.error_marker is not None and self.error_marker in window and result.error is None:
            start = window.find(self.error_marker)
            result.error = "error event: " + window[start : window.find(b"\n", start)].decode(errors="replace")[:200]
        if window.endswith(_END):
            self._finish(now)
            return
        self.tail = window[-self.keep :]

    def _finish(self, now: float) -> None:
        if self.result.finished_at is None:
            self.result.finished_at = now
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if self.result.status not in (0, 200) and self.result.error is None:
                self.result.error = f"HTTP {self.result.status} {self.error_body[:160].decode(errors='replace')}"
            elif self.result.finished_at is None and self.result.error is None:
                self.result.error = f"connection lost ({exc or 'eof'}) after {self.result.chunks} chunks"
            self.done.set_result(None)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class OpenStream:
    """A stream in flight: `done` resolves at its end; `abort()` hangs up like a visitor who leaves."""

    def __init__(self, protocol: _StreamProtocol, done: asyncio.Future[None]) -> None:
        self.protocol = protocol
        self.done = done

    @property
    def result(self) -> StreamResult:
        return self.protocol.result

    def abort(self) -> None:
        self.protocol.abort()


async def open_stream(target: Target) -> OpenStream:
    loop = asyncio.get_running_loop()
    result = StreamResult(started=time.perf_counter())
    done: asyncio.Future[None] = loop.create_future()
    protocol = _StreamProtocol(target, result, done)
    try:
        await loop.create_connection(lambda: protocol, target.host, target.port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        done.set_result(None)
    return OpenStream(protocol, done)


async def stream_once(target: Target) -> StreamResult:
    stream = await open_stream(target)
    await stream.done
    return stream.result


@dataclass(slots=True)
class Burst:
    """N streams started together: wall time from the first start to the last byte of the last one."""

    concurrency: int
    wall: float
    results: list[StreamResult] = field(repr=False)
    client_cpu: float = 0.0  # CPU seconds of this process (the load generator) during the burst

    @property
    def failures(self) -> list[str]:
        return [r.error or f"HTTP {r.status}" for r in self.results if not r.ok]

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results)

    @property
    def ttfcs(self) -> list[float]:
        return [t for r in self.results if (t := r.ttfc) is not None]


async def burst(target: Target, concurrency: int) -> Burst:
    cpu = time.process_time()
    start = time.perf_counter()
    results = await asyncio.gather(*(stream_once(target) for _ in range(concurrency)))
    ends = [r.finished_at for r in results if r.finished_at is not None]
    wall = (max(ends) if ends else time.perf_counter()) - start
    return Burst(concurrency, wall, list(results), time.process_time() - cpu)


async def sequential(target: Target, count: int) -> list[StreamResult]:
    return [await stream_once(target) for _ in range(count)]


async def closed_loop(target: Target, workers: int, seconds: float) -> tuple[list[StreamResult], float]:
    """`workers` streams kept in flight for `seconds` (each starts a new one when its last ends)."""
    results: list[StreamResult] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            results.append(await stream_once(target))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return results, time.perf_counter() - start


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]

"""SIGTERM during a stream: in-flight turns finish within the grace period, else end with an error."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from .fixtures.service import ServiceProcess
from .fixtures.upstream import Reply, ScriptedUpstream


@pytest.fixture
def service_for(upstream: ScriptedUpstream, tmp_path: Path) -> Iterator[object]:
    started: list[ServiceProcess] = []

    def start(grace_seconds: int) -> ServiceProcess:
        """`python main.py` as an operator runs it, on the embedded store, against the scripted upstream."""
        env = {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": upstream.base_url,
            "OPENAI_MAX_RETRIES": "0",
            "DATABASE_PATH": str(tmp_path / "service.sqlite3"),
            "SHUTDOWN_GRACE_SECONDS": str(grace_seconds),
            "GLOBAL_DAILY_REQUESTS": "0",
            "LOG_LEVEL": os.environ.get("TEST_SERVICE_LOG_LEVEL", "WARNING"),
        }
        service = ServiceProcess("service", tmp_path, env)
        started.append(service)
        return service.start().wait_ready()

    yield start
    for service in started:
        service.stop()


async def turn_with_sigterm(service: ServiceProcess) -> tuple[list[dict[str, object]], str]:
    async with httpx2.AsyncClient(base_url=service.url, timeout=30) as client:
        session_id = (await client.post("/session")).json()["session_id"]
        events: list[dict[str, object]] = []
        async with client.stream("POST", "/stream", json={"prompt": "hi", "session_id": session_id}) as response:
            async for line in response.aiter_lines():
                if not line:
                    continue
                events.append(json.loads(line[6:]))
                if len(events) == 1:
                    service.process.send_signal(signal.SIGTERM)
    return events, session_id


async def test_a_stream_in_flight_at_sigterm_finishes_and_is_stored(
    upstream: ScriptedUpstream, service_for: object, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["one ", "two ", "three ", "four"], delay=0.2))
    service = service_for(10)  # type: ignore[operator]
    events, session_id = await turn_with_sigterm(service)
    assert [event["type"] for event in events] == ["chunk"] * 4 + ["end"]
    # uvicorn re-raises the signal once it has shut down, so the exit status says SIGTERM
    assert await asyncio.to_thread(service.process.wait, 20) == -signal.SIGTERM
    # the turn was stored whole before the process exited
    import sqlite3

    with sqlite3.connect(tmp_path / "service.sqlite3") as db:
        roles = [
            row[0] for row in db.execute("SELECT role FROM messages WHERE session_id = ? ORDER BY seq", (session_id,))
        ]
    assert roles == ["user", "assistant"]


async def test_a_stream_outliving_the_grace_period_ends_with_an_error_and_stores_nothing(
    upstream: ScriptedUpstream, service_for: object, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["one ", "two"], stall_after=1))
    service = service_for(1)  # type: ignore[operator]
    events, session_id = await turn_with_sigterm(service)
    assert [event["type"] for event in events] == ["chunk", "error"]
    assert "restarting" in str(events[-1]["error"])
    await asyncio.to_thread(service.process.wait, 20)
    import sqlite3

    with sqlite3.connect(tmp_path / "service.sqlite3") as db:
        count = db.execute("SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0]
    assert count == 0

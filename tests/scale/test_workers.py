"""`WEB_CONCURRENCY=2 python main.py`: worker processes on one port keep one quota, and stop together.

The operator's way to use every core of a host (docs/deployment.md). The workers share the default
embedded SQLite file, so nothing else needs setting up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from ..fixtures.processes import children
from ..fixtures.service import ServiceProcess
from ..sse import parse_events

pytestmark = pytest.mark.slow

LIMIT = 10
WORKERS = 2


def workers_of(pid: int) -> set[int]:
    """uvicorn's worker processes (multiprocessing spawns them; its resource tracker is a child too)."""
    return {child for child in children(pid) if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_workers(tmp_path: Path, word_delay: str) -> ServiceProcess:
    return (
        ServiceProcess(
            "workers",
            tmp_path,
            {
                "WEB_CONCURRENCY": str(WORKERS),
                "DEMO_WORD_DELAY": word_delay,
                "GLOBAL_DAILY_REQUESTS": "0",
                "RATE_LIMIT": f"{LIMIT}/day",
                "MAX_OPEN_STREAMS_PER_VISITOR": "100",
            },
        )
        .start()
        .wait_ready()
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    process = start_workers(tmp_path, word_delay="0")
    yield process
    process.stop()


@pytest.fixture
def slow_service(tmp_path: Path) -> Iterator[ServiceProcess]:
    """The demo model pausing between words, so a turn is still streaming when SIGTERM comes."""
    process = start_workers(tmp_path, word_delay="0.05")
    yield process
    process.stop()


async def test_workers_share_the_port_and_one_quota(service: ServiceProcess) -> None:
    assert service.process is not None
    assert len(workers_of(service.process.pid)) == WORKERS

    async with httpx2.AsyncClient(base_url=service.url, timeout=30) as client:
        responses = await asyncio.gather(*(client.post("/stream", json={"prompt": "Hi!"}) for _ in range(3 * LIMIT)))
        info = (await client.get("/rate-limit-info")).json()

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 2 * LIMIT
    assert all(parse_events(r.text)[-1]["type"] == "end" for r in responses if r.status_code == 200)
    assert info["current_requests"] == LIMIT


async def test_sigterm_stops_every_worker_process(service: ServiceProcess) -> None:
    assert service.process is not None
    workers = workers_of(service.process.pid)
    assert len(workers) == WORKERS

    service.process.terminate()
    await asyncio.to_thread(service.process.wait, 20)

    # uvicorn's supervisor waits for its workers before it exits: none is left serving or orphaned
    assert not [pid for pid in workers if alive(pid)]


async def test_a_stream_in_flight_at_sigterm_still_finishes_under_workers(slow_service: ServiceProcess) -> None:
    assert slow_service.process is not None
    events: list[dict[str, object]] = []
    async with (
        httpx2.AsyncClient(base_url=slow_service.url, timeout=30) as client,
        client.stream("POST", "/stream", json={"prompt": "Hi!"}) as response,
    ):
        async for line in response.aiter_lines():
            if not line:
                continue
            events.extend(parse_events(line))
            if len(events) == 1:  # the turn is under way in a worker: now stop the service
                slow_service.process.terminate()

    # the rest of the answer came after SIGTERM, from a worker finishing its turn before exiting
    assert len(events) > 2
    assert events[-1]["type"] == "end"
    await asyncio.to_thread(slow_service.process.wait, 20)  # and then every process exits

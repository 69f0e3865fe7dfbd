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
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from ..fixtures.processes import children
from ..fixtures.service import ServiceProcess
from ..sse import parse_events
from ..test_observability import metric

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


def start_workers(tmp_path: Path, word_delay: str, **env: str) -> ServiceProcess:
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
                **env,
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


def completed_turns_in(counter_file: Path) -> float:
    """One worker's count of completed turns, from the file it writes in multiprocess mode."""
    for family in MultiProcessCollector.merge([str(counter_file)]):
        for sample in family.samples:
            if sample.name == "portfolio_chat_turns_total" and sample.labels == {"outcome": "completed"}:
                return float(sample.value)
    return 0.0


async def test_one_scrape_counts_the_turns_of_every_worker(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    # a file an earlier run left behind: start-up must clear it, or its 1000 turns would be counted
    stale = MmapedDict(str(shared / "counter_999999.db"))
    key = mmap_key("portfolio_chat_turns", "portfolio_chat_turns_total", ["outcome"], ["completed"], "Chat turns")
    stale.write_value(key, 1000.0, 0.0)
    stale.close()

    service = start_workers(tmp_path, word_delay="0.01", PROMETHEUS_MULTIPROC_DIR=str(shared), RATE_LIMIT="1000/day")
    try:
        sent = 0
        # a connection per request (no keep-alive): each one goes to whichever worker accepts it
        no_reuse = httpx2.Limits(max_keepalive_connections=0)
        async with httpx2.AsyncClient(base_url=service.url, timeout=30, limits=no_reuse) as client:
            # concurrent turns, until each worker has served some (one may still be starting)
            for _ in range(20):
                responses = await asyncio.gather(*(client.post("/stream", json={"prompt": "Hi!"}) for _ in range(6)))
                assert all(response.status_code == 200 for response in responses)
                sent += len(responses)
                per_worker = [completed_turns_in(path) for path in shared.glob("counter_*.db")]
                if len([count for count in per_worker if count > 0]) == WORKERS:
                    break
            assert len([count for count in per_worker if count > 0]) == WORKERS, per_worker
            # a worker counts a request as it closes, just after the last byte, so scrape as a scraper
            # does until the last of them is in (one worker's view alone never gets there)
            deadline = asyncio.get_running_loop().time() + 15
            while True:
                text = (await client.get("/metrics")).text
                requests = metric(text, "portfolio_http_requests_total", method="POST", route="/stream", status="200")
                if requests >= sent or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
    finally:
        service.stop()

    assert requests == sent
    assert metric(text, "portfolio_chat_turns_total", outcome="completed") == sent
    assert metric(text, "portfolio_stream_duration_seconds_count") == sent

"""Two service processes on one store keep one quota and one session history.

Each process is `python main.py` as operators run it, on its own port, both with REDIS_URL set
to the same real redis-server (then to the same 3-master Redis Cluster, REDIS_CLUSTER=true, then
to one SQLite file, as several uvicorn workers on one host would share it).
Every request comes from 127.0.0.1, so both count one visitor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from ..fixtures.service import ServiceProcess
from ..fixtures.shared_store import KINDS, SharedStore, clients_of, services_on, shared_store
from ..sse import parse_events, text_of

pytestmark = pytest.mark.slow

LIMIT = 10


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStore]:
    """The one store both processes use."""
    yield from shared_store(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module")
def services(store: SharedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    """Process A and process B, started together and stopped at the end of the module."""
    env = {
        "DEMO_WORD_DELAY": "0",
        "GLOBAL_DAILY_REQUESTS": "0",
        "RATE_LIMIT": f"{LIMIT}/day",
        "SESSION_CREATE_LIMIT": "1000/hour",
        "MAX_OPEN_STREAMS_PER_VISITOR": "100",
    }
    yield from services_on(store, tmp_path_factory.mktemp("services"), ("service-a", "service-b"), env)


@pytest.fixture
async def clients(services: list[ServiceProcess], store: SharedStore) -> AsyncIterator[list[httpx2.AsyncClient]]:
    """A client per process, on a flushed store (a fresh quota and no sessions)."""
    store.flush()
    async with clients_of(services) as clients:
        yield clients


async def _stream(client: httpx2.AsyncClient, prompt: str, session_id: str | None = None) -> httpx2.Response:
    body = {"prompt": prompt} if session_id is None else {"prompt": prompt, "session_id": session_id}
    return await client.post("/stream", json=body)


async def test_forty_concurrent_streams_over_two_processes_give_exactly_the_limit(
    clients: list[httpx2.AsyncClient],
) -> None:
    responses = await asyncio.gather(*(_stream(clients[n % 2], "Hello!") for n in range(40)))
    infos = [(await client.get("/rate-limit-info")).json() for client in clients]

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 40 - LIMIT
    for response in responses:
        if response.status_code == 200:
            assert parse_events(response.text)[-1]["type"] == "end"
        else:
            assert response.json()["error"] == "rate_limited"
            assert response.headers["x-ratelimit-remaining"] == "0"
    # the successes counted on one shared counter, whichever process served them
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses if r.status_code == 200) == list(
        range(LIMIT)
    )
    assert [info["current_requests"] for info in infos] == [LIMIT, LIMIT]


async def test_a_session_continued_on_the_other_process_keeps_one_history(
    clients: list[httpx2.AsyncClient],
) -> None:
    a, b = clients
    created = await a.post("/session")
    assert created.status_code == 200
    session_id = created.json()["session_id"]
    first = await _stream(a, "My name is Ada", session_id)
    second = await _stream(b, "Do you remember me?", session_id)
    on_a = (await a.get(f"/session/{session_id}")).json()
    on_b = (await b.get(f"/session/{session_id}")).json()

    assert first.status_code == second.status_code == 200
    # B answered from the history A stored: the demo model repeats a name told earlier
    assert "your name is Ada" in text_of(parse_events(second.text))
    assert [(m["role"], m["content"]) for m in on_a["messages"] if m["role"] == "user"] == [
        ("user", "My name is Ada"),
        ("user", "Do you remember me?"),
    ]
    assert [m["role"] for m in on_a["messages"]] == ["user", "assistant", "user", "assistant"]
    assert on_a["message_count"] == 4
    assert on_a == on_b


async def test_both_processes_report_the_same_shared_quota(clients: list[httpx2.AsyncClient]) -> None:
    a, b = clients
    for client in (a, a, a, b, b):
        assert (await _stream(client, "Hello!")).status_code == 200
    info_a = (await a.get("/rate-limit-info")).json()
    info_b = (await b.get("/rate-limit-info")).json()

    assert (info_a["current_requests"], info_a["remaining"], info_a["limit"]) == (5, LIMIT - 5, LIMIT)
    for field in ("ip", "visitor", "current_requests", "limit", "remaining", "reset", "reset_at"):
        assert info_a[field] == info_b[field], field

"""Budgets hold across two service processes on one store (field note 14: limits that multiply
with replicas). 40 turns start at once, half on each process; the budgets must admit no more turns
than the arithmetic allows, and the account must add up exactly.

Each demo turn is alike: its first request reserves R estimated prompt tokens (the system prompt,
the tool specs and "Hello!"), and it records R + C (C: the demo's canned answer). A turn is admitted
only while what is recorded plus what is reserved is under the budget, so with every turn still
running, at most ceil(budget / R) are admitted; with every earlier turn already recorded, at least
floor(budget / (R + C)). Anything outside those bounds is a budget that multiplied.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from ..fixtures.service import ServiceProcess
from ..fixtures.shared_store import KINDS, SharedStore, clients_of, services_on, shared_store
from ..sse import parse_events

pytestmark = pytest.mark.slow

TOKEN = "scale-owner-token-123456"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
VISITOR_TOKENS = 4000
# offline-demo priced at $1 per 1,000 tokens: one demo turn costs about a dollar
PRICES = '{"offline-demo": {"input": 1000, "output": 1000}}'
DAILY_USD = 10


@pytest.fixture(scope="module", params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStore]:
    yield from shared_store(request.param, request, tmp_path_factory)


@pytest.fixture(scope="module")
def services(store: SharedStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    env = {
        "DEMO_WORD_DELAY": "0.01",  # turns overlap: each is still running while others are admitted
        "GLOBAL_DAILY_REQUESTS": "0",
        "RATE_LIMIT": "1000/day",
        "SESSION_CREATE_LIMIT": "1000/hour",
        "MAX_OPEN_STREAMS_PER_VISITOR": "100",
        "TRUSTED_PROXIES": "127.0.0.1/32",  # visitors named by X-Forwarded-For
        "VISITOR_DAILY_TOKENS": str(VISITOR_TOKENS),
        "DAILY_BUDGET_USD": str(DAILY_USD),
        "MODEL_PRICES": PRICES,
        "ADMIN_TOKEN": TOKEN,
        "KNOWLEDGE_DIR": "",  # no passages: every turn's prompt, so R, is the same
    }
    yield from services_on(store, tmp_path_factory.mktemp("budget-services"), ("budget-a", "budget-b"), env)


@pytest.fixture
async def clients(services: list[ServiceProcess], store: SharedStore) -> AsyncIterator[list[httpx2.AsyncClient]]:
    store.flush()
    async with clients_of(services, timeout=60) as clients:
        yield clients


async def _turn(client: httpx2.AsyncClient, visitor: str) -> httpx2.Response:
    return await client.post("/stream", json={"prompt": "Hello!"}, headers={"X-Forwarded-For": visitor})


async def _today(client: httpx2.AsyncClient, turns: int) -> dict[str, int]:
    """Today's account once it holds `turns` turns. A turn is recorded when its stream closes, just
    after the visitor has read its last event, so the account can trail the responses briefly."""
    for _ in range(200):  # polls a side effect of the other processes, up to ~10 s
        today = dict((await client.get("/admin/api/usage", params={"days": 1}, headers=ADMIN)).json()["days"][-1])
        if today["turns"] >= turns:
            return today
        await asyncio.sleep(0.05)
    return today


def _check_admitted(responses: list[httpx2.Response], today: dict[str, int], budget: float, cost: str) -> None:
    admitted = [response for response in responses if response.status_code == 200]
    refused = [response for response in responses if response.status_code == 429]
    assert len(admitted) + len(refused) == 40
    for response in admitted:
        assert parse_events(response.text)[-1]["type"] == "end"
    for response in refused:
        assert int(response.headers["retry-after"]) <= 86400
    # the account adds up exactly: every admitted turn recorded once, whichever process ran it
    assert today["turns"] == len(admitted)
    per_turn_prompt, rest = divmod(today["prompt_tokens"], len(admitted))
    assert rest == 0
    per_turn = today[cost] // len(admitted)
    assert today[cost] == per_turn * len(admitted)
    reserved = per_turn_prompt if cost == "tokens" else per_turn_prompt * 1000
    assert math.floor(budget / per_turn) <= len(admitted) <= math.ceil(budget / reserved)
    assert len(admitted) < 40  # the budget held


async def test_a_visitor_budget_holds_under_forty_concurrent_turns_on_two_processes(
    clients: list[httpx2.AsyncClient],
) -> None:
    responses = await asyncio.gather(*(_turn(clients[n % 2], "198.51.100.1") for n in range(40)))
    today = await _today(clients[0], sum(r.status_code == 200 for r in responses))
    _check_admitted(list(responses), today, VISITOR_TOKENS, "tokens")
    assert today["visitors"] == 1
    assert all("tokens" in r.json()["detail"] for r in responses if r.status_code == 429)


async def test_the_daily_budget_holds_under_forty_visitors_on_two_processes(
    clients: list[httpx2.AsyncClient],
) -> None:
    responses = await asyncio.gather(*(_turn(clients[n % 2], f"198.51.100.{n + 1}") for n in range(40)))
    today = await _today(clients[1], sum(r.status_code == 200 for r in responses))
    today["micro_usd"] = round(today.pop("cost_usd") * 1_000_000)  # type: ignore[arg-type]
    _check_admitted(list(responses), today, DAILY_USD * 1_000_000, "micro_usd")
    assert all("daily budget" in r.json()["detail"] for r in responses if r.status_code == 429)

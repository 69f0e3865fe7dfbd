"""Shared fixtures: a real redis-server, real SQLite files, a scripted upstream over HTTP, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from portfolio_backend.app import create_app
from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores, open_stores

from .fixtures.live_server import LiveServer
from .fixtures.redis_cluster import LocalRedisCluster
from .fixtures.redis_server import RedisServer
from .fixtures.upstream import ScriptedUpstream

ROOT = Path(__file__).resolve().parent.parent
STORES = ["sqlite", "redis", pytest.param("redis-cluster", marks=pytest.mark.slow)]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """A real 3-master Redis Cluster from local redis-server processes, started once (about 2 s)."""
    cluster = LocalRedisCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def upstream(upstream_server: ScriptedUpstream) -> ScriptedUpstream:
    """The scripted upstream, emptied of scripts and records for this test."""
    upstream_server.reset()
    return upstream_server


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_env(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings that select the store under test: a fresh SQLite file, or a flushed real Redis or Redis Cluster."""
    if store_kind == "redis-cluster":
        cluster: LocalRedisCluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        return {"redis_url": cluster.url, "redis_cluster": True}
    if store_kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.flush()
        return {"redis_url": server.url}
    return {"database_path": tmp_path / "store.sqlite3"}


@pytest.fixture
async def stores(store_env: dict[str, Any]) -> AsyncIterator[Stores]:
    """The stores on each backend (the contract suites run against every one), opened as the app opens them."""
    instance = await connect(store_env)
    yield instance
    await instance.close()


async def connect(store_env: dict[str, Any]) -> Stores:
    """A new connection to the backend under test, as another process would open it."""
    return await open_stores(Settings(_env_file=None, **store_env))  # type: ignore[call-arg]


@pytest.fixture
def make_settings(store_env: dict[str, Any], tmp_path: Path) -> Callable[..., Settings]:
    """Settings for the store under test; the demo model unless a test points it at the upstream.
    The shipped example knowledge (data/knowledge), indexed in this test's own file."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "system_prompt_file": ROOT / "data" / "system_prompt.md",
            "knowledge_dir": ROOT / "data" / "knowledge",
            "knowledge_index_path": tmp_path / "knowledge.sqlite3",
            "global_daily_requests": 0,
            "demo_word_delay": 0,
            **store_env,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def upstream_settings(make_settings: Callable[..., Settings], upstream: ScriptedUpstream) -> Callable[..., Settings]:
    """Settings whose model is the scripted upstream, through the real openai SDK."""

    def build(**overrides: Any) -> Settings:
        values = {
            "openai_api_key": "sk-test-secret-key",
            "openai_base_url": upstream.base_url,
            "openai_max_retries": 0,
            **overrides,
        }
        return make_settings(**values)

    return build


async def _client(app: FastAPI, client_ip: str) -> AsyncIterator[httpx2.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx2.ASGITransport(app=manager.app, client=(client_ip, 50000))
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def client_for() -> Callable[..., Any]:
    """`async with client_for(settings, ip=...) as client`: the app in-process, seen from `ip`."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def open_client(settings: Settings, ip: str = "203.0.113.7") -> AsyncIterator[httpx2.AsyncClient]:
        async for client in _client(create_app(settings), ip):
            yield client

    return open_client


@pytest.fixture
async def client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx2.AsyncClient]:
    """The app on the store under test with the offline demo model."""
    async for instance in _client(create_app(make_settings()), "203.0.113.7"):
        yield instance


@pytest.fixture
def live_server_for() -> Callable[[Settings], LiveServer]:
    """`with live_server_for(settings) as server`: the app on a real socket."""
    return lambda settings: LiveServer(create_app(settings))

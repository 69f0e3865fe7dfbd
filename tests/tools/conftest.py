"""Fixtures for the tool tests: settings, a real HTTP client, the fake outside service, contexts.

The stores come from tests/conftest.py (`store`, over SQLite and a real Redis). Tools that never
touch a store get a real SQLite one on a temporary file (`plain_stores`), so they run once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings
from portfolio_backend.store import Stores, open_stores
from portfolio_backend.tools import Tool, ToolContext, ToolRegistry
from portfolio_backend.tools import default_tools as build_default_tools

from ..fixtures.fake_http import FakeHTTP

MakeSettings = Callable[..., Settings]


@pytest.fixture
def tool_settings() -> MakeSettings:
    """Settings with every optional tool service off unless a test turns it on."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "searxng_url": None,
            "tavily_api_key": None,
            "reminder_webhook_url": None,
            "notify_webhook_url": None,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    """A client like the app's: no redirects followed."""
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(10.0, connect=5.0), follow_redirects=False) as client:
        yield client


@pytest.fixture
async def fake_http() -> AsyncIterator[FakeHTTP]:
    service = await FakeHTTP().start()
    yield service
    await service.close()


@pytest.fixture
async def plain_stores(tmp_path: Path) -> AsyncIterator[Stores]:
    stores = await open_stores(Settings(_env_file=None, database_path=tmp_path / "tools.sqlite3"))  # type: ignore[call-arg]
    yield stores
    await stores.close()


class ToolBench:
    """A registry of the default tools and a context to call them in, as the chat turn does."""

    def __init__(
        self, settings: Settings, stores: Stores, http: httpx2.AsyncClient, tools: list[Tool[Any]] | None = None
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.http = http
        self.registry = ToolRegistry(build_default_tools() if tools is None else tools, settings)

    def ctx(self, session_id: str | None = "session-a", visitor: str = "visitor-1") -> ToolContext:
        return ToolContext(self.settings, self.stores, self.http, visitor, session_id)

    async def call(
        self, name: str, arguments: dict[str, Any], *, session_id: str | None = "session-a", visitor: str = "visitor-1"
    ) -> tuple[bool, str]:
        result = await self.registry.call(name, arguments, self.ctx(session_id, visitor))
        return result.ok, result.result


@pytest.fixture
def bench_for(http: httpx2.AsyncClient) -> Callable[[Settings, Stores], ToolBench]:
    return lambda settings, stores: ToolBench(settings, stores, http)


@pytest.fixture
def bench(tool_settings: MakeSettings, plain_stores: Stores, http: httpx2.AsyncClient) -> ToolBench:
    """The default tools with nothing optional configured, on a SQLite store."""
    return ToolBench(tool_settings(), plain_stores, http)

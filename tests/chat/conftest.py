"""A ChatService as the app builds it: the scripted upstream through the real openai SDK, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from portfolio_backend.chat import ChatService
from portfolio_backend.llm import provider_from_settings
from portfolio_backend.settings import Settings
from portfolio_backend.store import open_stores
from portfolio_backend.tools import registry_from_settings

from ..conftest import ROOT
from ..fixtures.upstream import ScriptedUpstream


@pytest.fixture
async def chat(upstream: ScriptedUpstream, tmp_path: Path) -> AsyncIterator[ChatService]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "store.sqlite3",
        system_prompt_file=ROOT / "data" / "system_prompt.md",
        openai_api_key="sk-test-secret-key",
        openai_base_url=upstream.base_url,
        openai_max_retries=0,
    )
    stores = await open_stores(settings)
    llm = provider_from_settings(settings)
    async with httpx2.AsyncClient() as http:
        yield ChatService(
            settings=settings,
            llm=llm,
            tools=registry_from_settings(settings),
            stores=stores,
            http=http,
            system_prompt="You are a test.",
        )
    await llm.close()
    await stores.close()

"""Fixtures the HTTP tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..fixtures.fake_http import Answer, FakeHTTP


@pytest.fixture
async def notify() -> AsyncIterator[FakeHTTP]:
    """The owner's webhook (LEADS_WEBHOOK_URL and the like) as a fake receiver at `/notify`."""
    service = await FakeHTTP().start()
    service.on("POST", "/notify", Answer())
    yield service
    await service.close()

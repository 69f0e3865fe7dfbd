"""The streaming path stays pure ASGI: nothing wraps or buffers the response body, which would hold back SSE chunks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx2
import pytest
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware

from portfolio_backend.app import create_app
from portfolio_backend.logs import JsonFormatter
from portfolio_backend.settings import Settings


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_no_body_wrapping_middleware_is_installed(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cors_origins="https://alex.dev"))
    classes = [middleware.cls for middleware in app.user_middleware]
    assert classes  # the check below means something only if there is middleware at all
    for cls in classes:
        assert isinstance(cls, type)
        assert not issubclass(cls, BaseHTTPMiddleware | GZipMiddleware), cls


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_the_access_log_names_the_route_never_a_session_id(
    client: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = (await client.post("/session")).json()["session_id"]
    caplog.set_level(logging.INFO, logger="portfolio_backend.access")
    await client.get(f"/session/{session_id}")
    await client.get(f"/session/{session_id}/reminders")
    await client.delete(f"/session/{session_id}")
    await client.get(f"/session/{session_id}")  # a 404 is logged too
    access = [record for record in caplog.records if record.name == "portfolio_backend.access"]
    # what the JSON formatter writes: the message and every extra field
    written = [JsonFormatter().format(record) for record in access]
    assert len(written) == 4
    assert not [line for line in written if session_id in line]
    routes = [json.loads(line)["message"] for line in written]
    assert routes == [
        "GET /session/{session_id} 200",
        "GET /session/{session_id}/reminders 200",
        "DELETE /session/{session_id} 200",
        "GET /session/{session_id} 404",
    ]

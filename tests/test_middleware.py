"""The streaming path stays pure ASGI: nothing wraps or buffers the response body, which would hold back SSE chunks."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware

from portfolio_backend.app import create_app
from portfolio_backend.json_depth import JSON_MAX_DEPTH
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


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
async def test_a_body_nested_past_the_bound_is_a_json_422_before_anything_parses_it(client: httpx2.AsyncClient) -> None:
    def tool_test(depth: int, expression: str = "2 + 2") -> bytes:
        # an unknown field, ignored once parsed: the body object is the first level, its arrays the rest
        nested = "[" * (depth - 1) + "]" * (depth - 1)
        return f'{{"tool_name": "calculate", "arguments": {{"expression": "{expression}"}}, "x": {nested}}}'.encode()

    json_type = {"content-type": "application/json"}
    at_bound = await client.post("/tools/test", content=tool_test(JSON_MAX_DEPTH), headers=json_type)
    past = await client.post("/tools/test", content=tool_test(JSON_MAX_DEPTH + 1), headers=json_type)
    # brackets inside a string are text, not nesting
    in_a_string = await client.post("/tools/test", content=tool_test(2, "[" * 40 + "1" + "]" * 40), headers=json_type)

    async def in_chunks() -> AsyncIterator[bytes]:  # the bound holds however the bytes arrive
        body = tool_test(JSON_MAX_DEPTH + 1)
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    chunked = await client.post("/tools/test", content=in_chunks(), headers=json_type)

    assert at_bound.status_code == 200
    assert at_bound.json()["result"] == "Result: 2 + 2 = 4"
    assert in_a_string.status_code == 200
    for refused in (past, chunked):
        assert refused.status_code == 422
        assert refused.json() == {
            "error": "validation_error",
            "detail": f"Request body nests too deep: at most {JSON_MAX_DEPTH} levels of arrays and objects.",
        }

"""GET /, /health and the orchestrator probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from portfolio_backend.settings import Settings

from ..fixtures.upstream import free_port


async def test_root_describes_the_service(client: httpx2.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert body["status"] == "ok"
    assert body["model_provider"] == "demo"
    assert body["rate_limit"] == "10/day"


async def test_health_reports_storage_and_the_demo_model(client: httpx2.AsyncClient, store_kind: str) -> None:
    response = await client.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    backend = store_kind.removesuffix("-cluster")
    assert body["storage"]["backend"] == backend
    assert body["storage"]["status"] == "connected"
    # the seed's own words, which monitors written against it compare with
    assert body["redis"] == ("healthy" if backend == "redis" else "not configured")
    assert body["model_provider"] == "demo"
    assert body["demo_mode"] is True


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)  # the settings name their own redis
async def test_health_says_redis_is_unhealthy_with_the_reason_as_the_seed_did(
    make_settings: Callable[..., Settings], client_for: Any
) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    async with client_for(make_settings(redis_url=nothing_listens)) as client:
        response = await client.get("/health")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unhealthy"
    assert body["redis"].startswith("unhealthy: ")
    assert body["redis"] == f"unhealthy: {body['storage']['detail']}"
    assert body["failed"] == ["redis"]


async def test_health_names_the_real_provider_when_a_key_is_set(
    upstream_settings: Callable[..., Settings], client_for: Any
) -> None:
    async with client_for(upstream_settings()) as client:
        body = (await client.get("/health")).json()
    assert body["model_provider"] == "openai"
    assert body["demo_mode"] is False
    assert "sk-test" not in str(body)


async def test_liveness_and_readiness(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "alive"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_docs_are_served_and_can_be_turned_off(make_settings: Callable[..., Settings], client_for: Any) -> None:
    async with client_for(make_settings()) as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/redoc")).status_code == 200
        assert "/stream" in (await client.get("/openapi.json")).json()["paths"]
    async with client_for(make_settings(docs_enabled=False)) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404


async def test_unknown_routes_and_methods_are_json(client: httpx2.AsyncClient) -> None:
    missing = await client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = await client.get("/stream")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


async def test_security_headers_are_on_every_response(client: httpx2.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_an_unwritable_database_path_stops_start_up_with_a_message_naming_it(
    make_settings: Callable[..., Any], tmp_path: Any
) -> None:
    from asgi_lifespan import LifespanManager

    from portfolio_backend.app import create_app
    from portfolio_backend.errors import StartupError

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = create_app(make_settings(database_path=blocker / "db.sqlite3", redis_url=None))
    with pytest.raises(StartupError, match="DATABASE_PATH"):
        async with LifespanManager(app):
            pass


async def test_a_missing_system_prompt_file_stops_start_up_with_a_message_naming_it(
    make_settings: Callable[..., Any], tmp_path: Any
) -> None:
    from asgi_lifespan import LifespanManager

    from portfolio_backend.app import create_app
    from portfolio_backend.errors import StartupError

    app = create_app(make_settings(system_prompt_file=tmp_path / "missing.md"))
    with pytest.raises(StartupError, match="SYSTEM_PROMPT_FILE"):
        async with LifespanManager(app):
            pass

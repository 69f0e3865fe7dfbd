"""Schemathesis over the OpenAPI schema: no request the schema allows may cause a 5xx."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from portfolio_backend.settings import Settings

from .fixtures.live_server import LiveServer

GENEROUS = {"rate_limit": "100000/day", "session_create_limit": "100000/day", "tools_test_limit": "100000/day"}


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_no_request_the_schema_allows_causes_a_server_error(
    make_settings: Callable[..., Settings], live_server_for: Callable[[Settings], LiveServer]
) -> None:
    failures: list[str] = []
    with live_server_for(make_settings(**GENEROUS)) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10

        for operation in operations:

            @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def no_server_error(case: schemathesis.Case) -> None:
                response = case.call(base_url=server.url, timeout=30)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                    )
                assert "Traceback" not in response.text

            no_server_error()
    assert failures == []

"""The streaming path stays pure ASGI: nothing wraps or buffers the response body, which would hold back SSE chunks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.gzip import GZipMiddleware

from portfolio_backend.app import create_app
from portfolio_backend.settings import Settings


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_no_body_wrapping_middleware_is_installed(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cors_origins="https://alex.dev"))
    classes = [middleware.cls for middleware in app.user_middleware]
    assert classes  # the check below means something only if there is middleware at all
    for cls in classes:
        assert isinstance(cls, type)
        assert not issubclass(cls, BaseHTTPMiddleware | GZipMiddleware), cls

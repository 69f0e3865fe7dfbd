"""Fixtures for the deployment checks; the helpers live beside this file, one module per job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..fixtures.redis_server import RedisServer, redis_installed
from .compose import load_compose
from .dockerfile import Dockerfile, parse_dockerfile
from .files import COMPOSE_DEV, COMPOSE_PROD, DOCKERFILE


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="session")
def compose_dev() -> dict[str, Any]:
    return load_compose(COMPOSE_DEV)


@pytest.fixture(scope="session")
def compose_prod() -> dict[str, Any]:
    return load_compose(COMPOSE_PROD)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if not redis_installed():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()

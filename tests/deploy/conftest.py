"""Fixtures for the deployment checks; the helpers live beside this file, one module per job."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..fixtures.redis_server import RedisServer, redis_installed
from .compose import load_compose
from .docker import BUILD_BASES, Docker, find_docker
from .dockerfile import Dockerfile, parse_dockerfile
from .files import BUILD_SCRIPT, COMPOSE_DEV, COMPOSE_PROD, DOCKERFILE, REPO


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


@pytest.fixture(scope="session")
def docker_engine() -> Docker:
    """The Docker CLI and a reachable engine, or a skip that says why there is none."""
    found = find_docker()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def image(docker_engine: Docker) -> Iterator[str]:
    """The image, built from this working tree by ./docker-build.sh as a user builds it (the layer
    cache makes a rebuild with unchanged dependencies take seconds), under a name of this run's own
    (IMAGE_NAME), so that test runs from several checkouts at once never run each other's image.
    Built on the host's network: the build reaches PyPI, and no bridge network is needed."""
    docker_engine.require_images(*BUILD_BASES)
    name = f"portfoliobackend-test-{uuid.uuid4().hex[:10]}"
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--network", "host"],
        cwd=REPO,
        env={**os.environ, "IMAGE_NAME": name},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"docker-build.sh failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    yield f"{name}:latest"
    docker_engine("image", "rm", f"{name}:latest", check=False)  # the layers stay cached

"""Fixtures for the deployment checks; the helpers live in deploy_helpers.py beside this file."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Make `import deploy_helpers` work whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_helpers import (
    COMPOSE_DEV,
    COMPOSE_PROD,
    DOCKERFILE,
    Dockerfile,
    find_tool,
    free_port,
    load_compose,
    parse_dockerfile,
    stop,
    wait_until,
)


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
    redis_server = find_tool("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    workdir = tmp_path / "redis"
    workdir.mkdir()
    proc = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    try:
        wait_until(up, 15, "redis-server", proc=proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)

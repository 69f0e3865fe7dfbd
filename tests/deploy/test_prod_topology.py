"""docker-compose.prod.yml's topology without Docker: one redis-server, two app replicas started
with the image's command and the prod file's app environment, and nginx with the prod balancer
config in front, all on loopback. Visitors come from 127.0.0.2 through the balancer. The
engine-free counterpart of test_stacks.py, which brings the real stack up where Docker answers.

What it shows: one port serves both replicas; a session made on one is read on the other; the
chat quota is one quota across replicas; the balancer's X-Forwarded-For is believed (the app
sees the visitor, not nginx) and a visitor's own X-Forwarded-For is not; SSE streams through;
/metrics is not served by the balancer, and a replica serves it to METRICS_TOKEN only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..fixtures.processes import free_port, stop
from .compose import environment_of, load_compose
from .dockerfile import Dockerfile
from .files import APP_SERVICE, COMPOSE_PROD, NGINX_CONF, REPO
from .image_command import Server, image_layout, launch, server_log_on_failure, wait_live
from .nginx import nginx_or_skip, start_nginx
from .raw_http import CLIENT, raw_get, raw_post

pytestmark = pytest.mark.slow

RATE = 3  # chat turns per visitor per day (a day, so no window boundary falls inside the test)
SCRAPE_TOKEN = "topology-scrape-token"  # what .env gives the prod file, which requires one


@pytest.fixture(scope="module", autouse=True)
def _app_must_import() -> None:
    if not (REPO / "main.py").exists():
        pytest.skip("main.py does not exist yet")
    probe = subprocess.run(
        [sys.executable, "-c", "import portfolio_backend.app"], cwd=REPO, capture_output=True, timeout=60
    )
    if probe.returncode != 0:
        pytest.skip("the app does not import yet")


@dataclass
class Topology:
    port: int
    replicas: list[Server]


@pytest.fixture
def topology(dockerfile: Dockerfile, tmp_path: Path, redis_url: str) -> Iterator[Topology]:
    nginx_or_skip()  # before starting anything
    prod_env = environment_of(load_compose(COMPOSE_PROD, {"METRICS_TOKEN": SCRAPE_TOKEN})["services"][APP_SERVICE])
    replicas: list[Server] = []
    nginx = None
    try:
        for name in ("replica-1", "replica-2"):
            layout = image_layout(dockerfile, tmp_path / name)
            env = {
                **prod_env,
                # Docker's names and networks, mapped onto loopback
                "HOST": "127.0.0.1",
                "PORT": layout.env["PORT"],
                "REDIS_URL": redis_url,
                "TRUSTED_PROXIES": "127.0.0.1/32",  # the balancer connects from here
                "RATE_LIMIT": f"{RATE}/day",
            }
            replicas.append(launch(layout, extra_env=env))  # both start at once
        for server in replicas:
            wait_live(server)
        workdir = tmp_path / "lb"
        workdir.mkdir()
        port = free_port()
        nginx = start_nginx(NGINX_CONF.read_text(), workdir, port, [server.port for server in replicas])
        yield Topology(port, replicas)
    finally:
        if nginx is not None:
            stop(nginx)
        for server in replicas:
            server.stop()


def _served(server: Server, needle: str) -> int:
    return server.log_text().count(needle)


def test_one_port_two_replicas_one_redis(topology: Topology) -> None:
    with server_log_on_failure(*topology.replicas):
        _one_port_two_replicas_one_redis(topology)


def _one_port_two_replicas_one_redis(topology: Topology) -> None:
    port = topology.port
    status, info = raw_get(port, "/rate-limit-info", "X-Forwarded-For: 203.0.113.9\r\n")
    assert status == 200
    assert info["ip"] == CLIENT, "the app should see the visitor the balancer reports, not a spoof"
    assert info["limit"] == RATE

    status, head, body = raw_post(port, "/session")
    assert status == 200, body
    session_id = json.loads(body)["session_id"]
    for _ in range(4):
        status, seen = raw_get(port, f"/session/{session_id}")
        assert status == 200, "a session made on one replica must be readable on the other"
        assert seen["session_id"] == session_id
    assert all(_served(server, "GET /session/") >= 1 for server in topology.replicas)

    for turn in range(RATE):
        status, head, body = raw_post(port, "/stream", {"prompt": f"Hello {turn}", "session_id": session_id})
        assert status == 200, body
        assert b"text/event-stream" in head.lower()
        events = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]
        assert events[-1]["type"] == "end", events[-3:]
    assert all(_served(server, "POST /stream") >= 1 for server in topology.replicas), (
        "round robin should have sent turns to both replicas"
    )
    status, _, body = raw_post(port, "/stream", {"prompt": "one more"}, headers="X-Forwarded-For: 198.51.100.7\r\n")
    assert status == 429, f"the quota must be shared by the replicas (and not reset by a spoof): {body!r}"

    # The metrics: never through the balancer; on a replica, to the scraper's token only.
    scraper = f"Authorization: Bearer {SCRAPE_TOKEN}\r\n"
    assert raw_get(port, "/metrics", scraper)[0] == 404
    assert raw_get(topology.replicas[0].port, "/metrics")[0] == 401
    assert raw_get(topology.replicas[0].port, "/metrics", scraper)[0] == 200

    # A replica reached directly (not through the balancer) believes no visitor's header.
    status, info = raw_get(topology.replicas[0].port, "/rate-limit-info", "X-Forwarded-For: 203.0.113.9\r\n")
    assert status == 200
    assert info["ip"] == CLIENT
    assert info["remaining"] == 0

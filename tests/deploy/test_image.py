"""The image, built by ./docker-build.sh and run by a real Docker engine, as docker-compose.prod.yml
runs it: a read-only root filesystem, a tmpfs on /tmp, a volume on /data (the embedded SQLite store).

Each container runs on the host's network stack and listens on a free loopback port, so the tests
talk to it on 127.0.0.1 only. The offline demo model answers the turns.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..fixtures.processes import free_port, wait_until
from ..sse import parse_events, text_of
from .docker import Docker
from .dockerfile import Dockerfile, exec_form
from .raw_http import raw_get, raw_post

pytestmark = [pytest.mark.docker, pytest.mark.slow]

GRACE_SECONDS = 15  # docker-compose.prod.yml's stop_grace_period


@dataclass
class Container:
    docker: Docker
    name: str
    volume: str
    port: int

    def logs(self) -> str:
        result = self.docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def state(self) -> dict[str, object]:
        return dict(self.docker.inspect(self.name)["State"])

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if self.state().get("Status") == "exited":
                raise AssertionError(f"the container exited:\n{self.logs()[-3000:]}")
            return raw_get(self.port, "/health/ready")[0] == 200

        try:
            wait_until(ready, f"container {self.name}", timeout)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{self.logs()[-3000:]}") from None

    def stop(self) -> tuple[int, float]:
        """`docker stop` with the production grace period: the exit code and the seconds it took."""
        started = time.monotonic()
        self.docker("stop", "--time", str(GRACE_SECONDS), self.name, timeout=GRACE_SECONDS + 60)
        elapsed = time.monotonic() - started
        return int(self.state()["ExitCode"]), elapsed  # type: ignore[call-overload]


def run_container(docker: Docker, image: str, volume: str) -> Container:
    """`docker run` with the production file's hardening, on the host network, health probed every second."""
    name = f"pbtest-{uuid.uuid4().hex[:10]}"
    port = free_port()
    docker(
        "run",
        "--detach",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp:size=64m,mode=1777",
        "--volume",
        f"{volume}:/data",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges:true",
        "--env",
        "HOST=127.0.0.1",
        "--env",
        f"PORT={port}",
        "--env",
        "DEMO_WORD_DELAY=0",
        "--env",
        "GLOBAL_DAILY_REQUESTS=0",
        # the image's HEALTHCHECK command, probed every second instead of every 30 s
        "--health-interval",
        "1s",
        "--health-start-period",
        "60s",
        image,
    )
    container = Container(docker, name, volume, port)
    container.wait_ready()
    return container


@pytest.fixture
def volume(docker_engine: Docker) -> Iterator[str]:
    name = f"pbtest-data-{uuid.uuid4().hex[:10]}"
    docker_engine("volume", "create", name)
    yield name
    docker_engine("volume", "rm", "--force", name, check=False)


@pytest.fixture
def container(docker_engine: Docker, image: str, volume: str) -> Iterator[Container]:
    running = run_container(docker_engine, image, volume)
    yield running
    docker_engine("rm", "--force", "--volumes", running.name, check=False)


def turn(port: int, prompt: str, session_id: str | None = None) -> list[dict[str, object]]:
    body: dict[str, object] = {"prompt": prompt}
    if session_id:
        body["session_id"] = session_id
    status, head, raw = raw_post(port, "/stream", body)
    assert status == 200, raw
    assert b"text/event-stream" in head.lower()
    return parse_events(raw.decode())


def test_health_and_a_streamed_turn(container: Container) -> None:
    status, health = raw_get(container.port, "/health")
    assert status == 200, health
    assert health["storage"]["backend"] == "sqlite"  # type: ignore[index]
    events = turn(container.port, "Hello, who are you?")
    assert [event["type"] for event in events][-1] == "end", events[-3:]
    assert len([event for event in events if event["type"] == "chunk"]) > 1, "the answer should stream in pieces"
    assert text_of(events).strip()


def test_runs_as_the_fixed_non_root_uid_on_a_read_only_root(
    container: Container, docker_engine: Docker, dockerfile: Dockerfile
) -> None:
    pid = container.state()["Pid"]
    uids = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:"))
    assert uids.split()[1:] == ["10001"] * 4, f"the server process runs as {uids}"
    assert docker_engine("exec", container.name, "id", "-u").stdout.strip() == "10001"

    refused = docker_engine("exec", container.name, "touch", "/app/probe", check=False)
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    assert docker_engine("exec", container.name, "touch", "/tmp/probe", check=False).returncode == 0
    assert docker_engine("exec", container.name, "test", "-s", "/data/portfolio.sqlite3", check=False).returncode == 0


def test_the_images_healthcheck_reports_healthy(container: Container, dockerfile: Dockerfile) -> None:
    config = container.docker.inspect(container.name)["Config"]["Healthcheck"]
    check = dockerfile.final.last("HEALTHCHECK")
    assert check is not None
    assert config["Test"] == ["CMD", *(exec_form(check) or [])], "the probe should be the image's own"

    def healthy() -> bool:
        health = container.state()["Health"]
        assert isinstance(health, dict)
        assert health["Status"] != "unhealthy", health
        return health["Status"] == "healthy"

    wait_until(healthy, "the HEALTHCHECK", 60, interval=0.5)


def test_a_session_outlives_a_restart_and_docker_stop_is_a_clean_exit(
    docker_engine: Docker, image: str, volume: str
) -> None:
    container = run_container(docker_engine, image, volume)
    try:
        status, _, raw = raw_post(container.port, "/session")
        assert status == 200, raw
        session_id = json.loads(raw)["session_id"]
        assert turn(container.port, "Remember me", session_id)[-1]["type"] == "end"

        code, seconds = container.stop()
        logs = container.logs()
        assert code == 0, logs[-3000:]
        assert seconds < GRACE_SECONDS, f"docker stop took {seconds:.1f} s: SIGTERM was not handled"
        assert "Application shutdown complete" in logs, logs[-3000:]

        docker_engine("start", container.name)
        container.wait_ready()
        status, seen = raw_get(container.port, f"/session/{session_id}")
        assert status == 200, seen
        assert seen["message_count"] == 2, "the session should be on the /data volume"
    finally:
        docker_engine("rm", "--force", container.name, check=False)

    # a new container (a new image version, say) on the same volume keeps the conversation too
    replacement = run_container(docker_engine, image, volume)
    try:
        assert turn(replacement.port, "And again", session_id)[-1]["type"] == "end"
        status, seen = raw_get(replacement.port, f"/session/{session_id}")
        assert status == 200, seen
        assert seen["message_count"] == 4
        code, _ = replacement.stop()
        assert code == 0, replacement.logs()[-3000:]
    finally:
        docker_engine("rm", "--force", replacement.name, check=False)

"""docker-compose.yml and docker-compose.prod.yml: the Compose schema, the real Compose parser
when installed, and what each file promises (health checks, limits, read-only, AOF, replicas)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .compose import environment_of
from .files import APP_SERVICE, COMPOSE_DEV, COMPOSE_PROD, NGINX_CONF, REPO, SECRET_NAME
from .tools import compose_command, find_tool

FILES = [pytest.param(COMPOSE_DEV, id="dev"), pytest.param(COMPOSE_PROD, id="prod")]


@pytest.mark.parametrize("path", FILES)
def test_matches_the_compose_spec_schema(path: Path) -> None:
    checker = find_tool("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed (it vendors the compose-spec schema)")
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_config(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = _run_compose_config(path, {"METRICS_TOKEN": "scrape-token"} if env is None else env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _run_compose_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        pytest.skip("no Compose v2.24+ CLI (.ci/run installs the Docker plugin; no Docker engine is needed)")
    # A clean environment: only the defaults written in the file and `env` apply, no local .env is read.
    return subprocess.run(
        [
            *command,
            "--project-directory",
            str(REPO),
            "--env-file",
            "/dev/null",
            "-f",
            str(path),
            "config",
            "--format",
            "json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
    )


@pytest.mark.parametrize("path", FILES)
def test_compose_cli_accepts_the_file(path: Path) -> None:
    config = _compose_config(path)
    assert APP_SERVICE in config["services"]


def test_compose_cli_resolves_the_prod_topology() -> None:
    config = _compose_config(COMPOSE_PROD)
    app = config["services"][APP_SERVICE]
    assert app["deploy"]["replicas"] >= 2
    assert app["read_only"] is True
    assert app["environment"]["TRUSTED_PROXIES"] == config["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    published = [port for service in config["services"].values() for port in service.get("ports", [])]
    assert len(published) == 1
    assert published[0]["target"] == 8080


# --------------------------------------------------------------------------------------------
# both files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["compose_dev", "compose_prod"])
def test_app_and_redis_are_health_checked_and_ordered(fixture: str, request: pytest.FixtureRequest) -> None:
    compose = request.getfixturevalue(fixture)
    services = compose["services"]
    app, redis = services[APP_SERVICE], services["redis"]
    assert redis["image"].startswith("redis:7")
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert app["healthcheck"]["test"] == ["CMD", "python", "/app/healthcheck.py"]
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    env = environment_of(app)
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["HOST"] == "0.0.0.0"
    assert env["DATABASE_PATH"] == "/data/portfolio.sqlite3", "a relative path from .env would be read-only"
    assert app["build"]["context"] == "."
    assert app["image"] == "portfoliobackend:latest"


@pytest.mark.parametrize("fixture", ["compose_dev", "compose_prod"])
def test_secrets_come_from_an_optional_env_file_only(fixture: str, request: pytest.FixtureRequest) -> None:
    compose = request.getfixturevalue(fixture)
    app = compose["services"][APP_SERVICE]
    assert app["env_file"] == [{"path": ".env", "required": False}]
    for service in compose["services"].values():
        for name, value in environment_of(service).items():
            assert not (SECRET_NAME.search(name) and value), f"{name} has a value written in the file"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            assert ".env" not in Path(source).name, "the .env file must not be mounted"


def test_dev_publishes_port_8000(compose_dev: dict[str, Any]) -> None:
    assert compose_dev["services"][APP_SERVICE]["ports"] == ["8000:8000"]
    assert "ports" not in compose_dev["services"]["redis"]


# --------------------------------------------------------------------------------------------
# production
# --------------------------------------------------------------------------------------------


def _memory_bytes(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = str(text).strip().lower().rstrip("b")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def test_prod_every_service_is_limited_read_only_and_restarted(compose_prod: dict[str, Any]) -> None:
    for name, service in compose_prod["services"].items():
        assert service.get("restart") in ("always", "unless-stopped"), name
        assert service.get("read_only") is True, f"{name} should run with a read-only root"
        tmpfs = [entry.split(":")[0] for entry in service.get("tmpfs", [])]
        assert "/tmp" in tmpfs, f"{name} needs a tmpfs /tmp"
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0, name
        assert _memory_bytes(limits["memory"]) > 0, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert "container_name" not in service, "container_name prevents replicas"


def test_prod_runs_two_replicas_that_never_publish_a_port(compose_prod: dict[str, Any]) -> None:
    app = compose_prod["services"][APP_SERVICE]
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app, "replicas are reached through the load balancer only"
    assert app["cap_drop"] == ["ALL"]
    assert app["stop_grace_period"], "in-flight streams need time to finish on SIGTERM"


def test_prod_redis_persists_with_aof_on_a_volume(compose_prod: dict[str, Any]) -> None:
    redis = compose_prod["services"]["redis"]
    command = redis["command"]
    command = command if isinstance(command, list) else command.split()
    assert command[command.index("--appendonly") + 1] == "yes"
    volumes = [volume.split(":") for volume in redis["volumes"]]
    assert any(source in compose_prod["volumes"] and target == "/data" for source, target, *_ in volumes)
    assert "ports" not in redis
    assert redis["networks"] == ["backend"]
    assert compose_prod["networks"]["backend"]["internal"] is True
    memory = _memory_bytes(command[command.index("--maxmemory") + 1])
    assert memory < _memory_bytes(redis["deploy"]["resources"]["limits"]["memory"])


def test_prod_one_port_through_the_load_balancer(compose_prod: dict[str, Any]) -> None:
    services = compose_prod["services"]
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"lb"}
    lb = services["lb"]
    assert lb["ports"] == ["8000:8080"]
    assert lb["image"].startswith("nginx:")
    assert "alpine" in lb["image"]
    mounts = [volume.split(":") for volume in lb["volumes"]]
    assert ["./deploy/nginx/nginx.conf", "/etc/nginx/nginx.conf", "ro"] in mounts
    assert (REPO / "deploy" / "nginx" / "nginx.conf") == NGINX_CONF
    assert NGINX_CONF.exists()
    assert lb["depends_on"][APP_SERVICE]["condition"] == "service_healthy"
    assert lb["networks"] == ["edge"]
    assert set(services[APP_SERVICE]["networks"]) == {"edge", "backend"}


def test_prod_trusts_forwarded_headers_from_the_pinned_edge_subnet_only(compose_prod: dict[str, Any]) -> None:
    subnet = compose_prod["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    network = ipaddress.ip_network(subnet)
    assert network.is_private
    env = environment_of(compose_prod["services"][APP_SERVICE])
    assert [ipaddress.ip_network(item) for item in env["TRUSTED_PROXIES"].split(",")] == [network]


def test_prod_metrics_need_a_token_that_comes_from_the_env_file() -> None:
    """The prod stack never serves its tokens and spend to anyone: it does not start without METRICS_TOKEN."""
    from .compose import load_compose

    raw = environment_of(load_compose(COMPOSE_PROD, {"METRICS_TOKEN": "from-dot-env"})["services"][APP_SERVICE])
    assert raw["METRICS_TOKEN"] == "from-dot-env"
    refused = _run_compose_config(COMPOSE_PROD, {})
    assert refused.returncode != 0
    assert "METRICS_TOKEN" in refused.stderr
    config = _compose_config(COMPOSE_PROD, {"METRICS_TOKEN": "from-dot-env"})
    assert config["services"][APP_SERVICE]["environment"]["METRICS_TOKEN"] == "from-dot-env"


def test_prod_subnet_can_be_changed_in_one_place() -> None:
    from .compose import load_compose

    compose = load_compose(COMPOSE_PROD, {"EDGE_SUBNET": "10.99.0.0/24", "PORTFOLIO_PORT": "9000"})
    assert compose["networks"]["edge"]["ipam"]["config"][0]["subnet"] == "10.99.0.0/24"
    assert environment_of(compose["services"][APP_SERVICE])["TRUSTED_PROXIES"] == "10.99.0.0/24"
    assert compose["services"]["lb"]["ports"] == ["9000:8080"]

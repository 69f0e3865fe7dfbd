"""A Docker engine for the image and Compose checks: the CLI, the engine it reaches, Compose v2.

Everything here talks to the engine through the `docker` CLI (the one a user runs), with a timeout
on every call. Containers use the host's network stack only (`--network host`, `network_mode:
host`), so the tests reach them on loopback and never on a bridge network's private addresses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest

from .files import REPO

# What the Dockerfile and the Compose files name (ARG defaults and `image:`).
BUILD_BASES = ("python:3.11-slim", "ghcr.io/astral-sh/uv:0.13.9")
STACK_IMAGES = ("redis:7-alpine", "nginx:1.28-alpine")


@dataclass
class Docker:
    cli: str
    client_version: str
    server_version: str

    def __call__(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.cli, *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited with {result.returncode}:\n{result.stderr[-3000:]}")
        return result

    def inspect(self, name: str) -> dict[str, Any]:
        data = json.loads(self("inspect", name).stdout)
        assert isinstance(data, list)
        assert len(data) == 1, data
        return dict(data[0])

    def missing_images(self, *names: str) -> list[str]:
        return [name for name in names if self("image", "inspect", name, check=False).returncode != 0]

    def require_images(self, *names: str) -> None:
        """Skip unless `names` are in the engine's image store: the tests never pull anything."""
        missing = self.missing_images(*names)
        if missing:
            pytest.skip(
                f"base images not present locally: {', '.join(missing)} (.ci/run makes offline stand-ins "
                "with ../shared/docker/standins.sh; with Docker Hub at hand, `docker pull` them)"
            )


def find_docker() -> Docker | str:
    """The Docker CLI with a reachable engine, or why there is none."""
    cli = shutil.which("docker")
    if cli is None:
        return "no docker CLI on PATH (Debian: apt-get install docker.io; .ci/run does)"
    try:
        out = subprocess.run(
            [cli, "version", "--format", "{{json .}}"], capture_output=True, text=True, timeout=30, cwd=REPO
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the docker CLI did not answer: {exc}"
    try:
        info = json.loads(out.stdout.strip().splitlines()[0]) if out.stdout.strip() else {}
    except ValueError:
        info = {}
    server = (info.get("Server") or {}).get("Version")
    if out.returncode != 0 or not server:
        reason = (out.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker engine reachable ({reason}); .ci/run starts dockerd"
    return Docker(cli, (info.get("Client") or {}).get("Version", "?"), server)
